"""`emotion-train convert` under the name users know: see `trainer/convert_cli.py`.

    python scripts/convert_tflite.py --model runs/<name>/model.keras --out models/<name>
"""

from __future__ import annotations

import sys

from trainer.cli import main

if __name__ == "__main__":
    sys.exit(main(["convert", *sys.argv[1:]]))
