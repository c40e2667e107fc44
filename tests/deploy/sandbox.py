"""Run a command under the unit's system-call filter and write-xor-execute lock, without
systemd: `python tests/deploy/sandbox.py UNIT -- COMMAND...`.

Reproduces, for the process and all its children, what these lines of the unit enforce:
`NoNewPrivileges=yes`, `MemoryDenyWriteExecute=yes` (the kernel's `PR_SET_MDWE`, which
systemd uses itself where the kernel has it) and `SystemCallFilter=` allow and deny lists
with `SystemCallErrorNumber=EPERM` (a seccomp filter loaded through libseccomp, the library
systemd uses, with the groups expanded by `systemd-analyze syscall-filter`). The device
allow-list, address families and mount namespaces are not reproduced.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import subprocess
import sys
from pathlib import Path

PR_SET_NO_NEW_PRIVS = 38
PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1
SCMP_ACT_ALLOW = 0x7FFF0000
NR_SCMP_ERROR = -1


def scmp_act_errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


def syscall_groups() -> dict[str, list[str]]:
    """Every `@group` and its items (names and nested groups), from one
    `systemd-analyze syscall-filter` listing."""
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True,
                         check=True).stdout
    groups: dict[str, list[str]] = {}
    current: list[str] = []
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif line.startswith("    ") and not line.strip().startswith("#"):
            current.append(line.strip())
    return groups


def expand(item: str, groups: dict[str, list[str]]) -> set[str]:
    """Syscall names of a `@group` (nested groups expanded) or of a plain name."""
    if not item.startswith("@"):
        return {item}
    return set().union(*(expand(child, groups) for child in groups[item]))


def unit_allow_list(unit_text: str) -> set[str]:
    """The syscalls the unit's SystemCallFilter= lines allow (an allow list, then denials)."""
    allowed: set[str] = set()
    groups = syscall_groups()
    for line in unit_text.splitlines():
        if not line.startswith("SystemCallFilter="):
            continue
        value = line.split("=", 1)[1].strip()
        is_denial = value.startswith("~")
        names = set().union(*(expand(g, groups) for g in value.lstrip("~").split()))
        allowed = allowed - names if is_denial else allowed | names
    return allowed


def lock_down(allowed: set[str]) -> None:
    """No new privileges, no W+X memory, and EPERM for every syscall not in `allowed`."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE) (needs Linux 6.3 or newer)")
    seccomp = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2")
    seccomp.seccomp_init.restype = ctypes.c_void_p
    seccomp.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    seccomp.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                         ctypes.c_uint]
    seccomp.seccomp_load.argtypes = [ctypes.c_void_p]
    ctx = seccomp.seccomp_init(scmp_act_errno(errno.EPERM))
    for name in sorted(allowed):
        number = seccomp.seccomp_syscall_resolve_name(name.encode())
        if number != NR_SCMP_ERROR:  # names of other architectures do not resolve here
            seccomp.seccomp_rule_add(ctx, SCMP_ACT_ALLOW, number, 0)
    if seccomp.seccomp_load(ctx) != 0:
        raise OSError("seccomp_load failed")


def main(argv: list[str]) -> None:
    unit, separator, *command = argv
    assert separator == "--" and command, __doc__
    lock_down(unit_allow_list(Path(unit).read_text()))
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
