"""Keep native libraries' banners out of user output.

LiteRT prints `INFO: Created TensorFlow Lite XNNPACK delegate for CPU.` from C++ straight to
file descriptor 2 when an interpreter allocates its tensors; no environment variable or
Python API turns it off (TF_CPP_MIN_LOG_LEVEL does not), and it would land in every
command's stderr, the installer's output and the journal.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

LITERT_BANNERS = ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",)


@contextmanager
def dropping_banners(banners: tuple[str, ...] = LITERT_BANNERS) -> Iterator[None]:
    """Capture fd 2 while the block runs, then pass on every line but the `banners`.

    Anything else written meanwhile (a native error message, another thread's log line)
    still reaches stderr, only after the block. Where fd 2 cannot be duplicated (closed),
    the block runs as it is.
    """
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode(errors="replace").splitlines(True)
                    if line.strip() not in banners]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
