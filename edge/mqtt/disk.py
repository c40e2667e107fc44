"""What a full or read-only SD card looks like from user space, found by trying."""

from __future__ import annotations

import errno
import os
from pathlib import Path

_FAULTS = {errno.EROFS: "read-only", errno.ENOSPC: "disk full", errno.EDQUOT: "disk full",
           errno.EIO: "I/O error"}


def disk_fault(folder: Path) -> str | None:
    """What the filesystem holding `folder` refuses right now ("disk full", "read-only",
    "I/O error"), found by writing a probe file; None if a write works. Not statvfs: an
    ext4 card that the kernel remounted read-only after an error still says rw there."""
    probe = folder / ".spool-probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0" * 4096)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as e:
        return _FAULTS.get(e.errno or 0)
    return None

