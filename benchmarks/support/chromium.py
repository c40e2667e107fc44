"""Headless Chromium (Debian's `chromium` package) for the page tests and the docs'
screenshot: `--dump-dom` gives the DOM after the page's scripts ran, `--screenshot` a PNG.

`--virtual-time-budget` lets the page's timers run that many virtual milliseconds; time
stands still while a fetch is in flight, so the page polls the real daemon all along.
`--no-sandbox`: CI runs as root, where Chromium's sandbox refuses to start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome")
HELP = "install Debian's chromium package (apt-get install chromium); .ci/run does"


def chromium_binary() -> str | None:
    return next((found for name in NAMES if (found := shutil.which(name))), None)


def _run(args: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    binary = chromium_binary()
    if binary is None:
        raise RuntimeError(f"no Chromium: {HELP}")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [binary, "--headless", "--no-sandbox", "--disable-gpu",
                   "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                   "--disable-background-networking", f"--user-data-dir={profile}", *args]
        env = {**os.environ, "HOME": profile}  # its crash reporter writes below HOME
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                              env=env, check=False)


def dump_dom(url: str, *, budget_ms: int = 20_000, timeout_s: float = 60.0) -> str:
    """The page's DOM once `budget_ms` of its virtual time has passed."""
    done = _run([f"--virtual-time-budget={budget_ms}", "--dump-dom", url], timeout_s)
    if done.returncode != 0 or not done.stdout:
        raise RuntimeError(f"chromium exited with {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def screenshot(url: str, path: Path, *, width: int, height: int, budget_ms: int = 20_000,
               timeout_s: float = 60.0) -> Path:
    """A PNG of the page at width x height CSS pixels."""
    done = _run([f"--virtual-time-budget={budget_ms}", "--hide-scrollbars",
                 f"--window-size={width},{height}", f"--screenshot={path}", url], timeout_s)
    if done.returncode != 0 or not path.exists():
        raise RuntimeError(f"chromium exited with {done.returncode}: {done.stderr[-2000:]}")
    return path
