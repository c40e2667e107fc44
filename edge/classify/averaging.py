"""Test-time averaging: the views of one face whose scores the classifier averages.

`none` is the face itself (1 invoke); `flip` adds its mirror image (2); `crops` adds, for
the face and its mirror, the four 3-pixel shifts up, down, left and right (10 invokes), the
multi-crop averaging that the published FER2013 models use. The trainer scores its models
through this same function, so the sidecar's accuracy per averaging is what the edge gets.
"""

from __future__ import annotations

import numpy as np

from edge.model_contract import AVERAGINGS, Averaging

__all__ = ["AVERAGINGS", "Averaging", "invokes", "views"]

SHIFT_PX = 3
_SHIFTS = ((0, 0), (-SHIFT_PX, 0), (SHIFT_PX, 0), (0, -SHIFT_PX), (0, SHIFT_PX))


def invokes(averaging: str) -> int:
    return {"none": 1, "flip": 2, "crops": 2 * len(_SHIFTS)}[averaging]


def views(faces: np.ndarray, averaging: str) -> list[np.ndarray]:
    """The views of a batch of faces (n, height, width[, channels]), each the same shape.

    A shifted view keeps the face's size: the edge pixels are repeated where it moved in,
    as in the 48x48 FER2013 faces, which have no pixels beyond their border.
    """
    if averaging not in AVERAGINGS:
        raise ValueError(f"averaging {averaging!r} is not one of {AVERAGINGS}")
    mirrored = faces[:, :, ::-1]
    if averaging == "none":
        return [faces]
    if averaging == "flip":
        return [faces, mirrored]
    return [_shift(f, dy, dx) for f in (faces, mirrored) for dy, dx in _SHIFTS]


def _shift(faces: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The faces moved by (dy, dx) pixels, the border repeated into the gap."""
    if dy == dx == 0:
        return faces
    pad = [(0, 0), (SHIFT_PX, SHIFT_PX), (SHIFT_PX, SHIFT_PX)] + [(0, 0)] * (faces.ndim - 3)
    padded = np.pad(faces, pad, mode="edge")
    height, width = faces.shape[1:3]
    top, left = SHIFT_PX - dy, SHIFT_PX - dx
    return np.ascontiguousarray(padded[:, top:top + height, left:left + width])
