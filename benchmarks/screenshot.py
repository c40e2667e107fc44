"""The page's screenshots in docs/: the real daemon on the demo photos, the shipped model, a
private mosquitto, and headless Chromium at a phone's and a laptop's width.

    .venv/bin/python -m benchmarks.screenshot [--out-dir docs]

Writes http-page-phone.png (412 px wide) and http-page.png (1100 px).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.support.broker import free_port, private_broker, wait_for_port
from benchmarks.support.chromium import screenshot

from . import REPO

TOKEN = "screenshot-token-0123456789"
SIZES = {"http-page-phone.png": (412, 1000), "http-page.png": (1100, 760)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.screenshot")
    parser.add_argument("--out-dir", type=Path, default=REPO / "docs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="page-shot-") as tmp:
        work = Path(tmp)
        (work / "images").mkdir()
        shutil.copy(REPO / "scripts" / "demo_images" / "1-astronaut.jpg", work / "images")
        (work / "token").write_text(TOKEN)
        (work / "broker").mkdir()
        port = free_port()
        with private_broker(work / "broker") as broker:
            (work / "config.toml").write_text(
                f'device_id = "kitchen-pi"\n[source]\nkind = "images"\n'
                f'path = "{work / "images"}"\n[trigger]\ninterval_s = 0.5\n'
                f'[trigger.button]\nis_enabled = false\n[mqtt]\nhost = "{broker.host}"\n'
                f'port = {broker.port}\n[mqtt.spool]\npath = "{work / "spool.db"}"\n'
                f'[http]\nis_enabled = true\nport = {port}\ntoken_file = "{work / "token"}"\n')
            daemon = subprocess.Popen(
                [sys.executable, "-m", "edge", "run", "--config", str(work / "config.toml")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
            try:
                wait_for_port(port, timeout_s=60)
                time.sleep(3)  # a few results for the table: wall time is what it shows
                for name, (width, height) in SIZES.items():
                    path = screenshot(f"http://127.0.0.1:{port}/#token={TOKEN}",
                                      args.out_dir / name, width=width, height=height)
                    print(path)
            finally:
                daemon.terminate()
                daemon.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
