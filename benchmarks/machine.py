"""The machine a benchmark ran on, for the line above each section `--write-docs` writes."""

from __future__ import annotations

import os
from pathlib import Path

# What decides the speed here: LiteRT's int8 kernels (XNNPACK: AVX2, VNNI, AMX; Arm dot
# product and i8mm) and TensorFlow's bf16 training (AVX-512 BF16, AMX).
UNITS = ("avx2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8",
         "amx_bf16", "asimddp", "i8mm")


def cpu_units(flags: set[str] | None = None) -> list[str]:
    """The UNITS this CPU has, from /proc/cpuinfo (`flags` on x86, `Features` on Arm)."""
    return [unit for unit in UNITS if unit in (_flags() if flags is None else flags)]


def _flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def describe() -> str:
    """'2 cores of AMD EPYC (x86_64) with avx2, avx512f; load average 1.7 at the start'."""
    from edge.classify.golden import cpu_name

    units = ", ".join(cpu_units()) or "none of AVX2, AVX-512, AMX or the Arm dot product"
    return (f"{os.cpu_count()} cores of {cpu_name()} with {units}; load average "
            f"{os.getloadavg()[0]:.1f} at the start")
