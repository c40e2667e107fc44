"""Files shipped inside the package (models, their sidecars and licences, the bench photo).

Found through `importlib.resources`, so a plain `pip install` (wheel, not editable) has
them too; nothing here is downloaded at run time.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path


def asset_path(name: str) -> Path:
    """The path of a shipped file, e.g. `asset_path("yunet/face_detection_yunet_2023mar.onnx")`.

    Wheels install as plain files, so `as_file` returns the real path without a copy.
    """
    with as_file(files(__package__).joinpath(name)) as path:
        return Path(path)
