"""The benchmarks: emotion-edge against `fer`, face detectors on real photos, crop rules.

Run from the repository root as `python -m benchmarks [--only SECTION ...]` (see --help).
Kept out of the wheel: they measure the package, they are not part of it.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
