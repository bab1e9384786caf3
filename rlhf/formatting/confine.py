"""Kernel-enforced limits for the child that runs user code, applied between ``fork`` and ``exec``.

Rlimits bound memory; a scrubbed environment keeps ``HF_TOKEN`` out. What those cannot stop, Linux can:

- **Landlock** (Linux 5.13+, any user, root included): the child may write only inside its own temporary folder
  (and the staging folder of its output); it may not connect or bind TCP sockets (ABI 4+), nor signal processes
  outside its sandbox (ABI 6+).
- **capabilities** (root only): all dropped, so the child cannot read the ``/proc/<pid>/environ`` or memory of
  the app or trainer that started it (they are non-dumpable, see :mod:`rlhf.security`), nor signal them.
- **seccomp**: no new processes (``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD``), so a fork bomb fails
  with ``PermissionError`` at its first fork; threads still work (pyarrow uses them).

Everything is prepared in the parent (:func:`prepare`), so the child only makes a handful of syscalls, which is
all that is safe between ``fork`` and ``exec``. Where the kernel lacks a feature it is skipped, and
:func:`protections` says what this machine enforces (the README lists what each one does and does not cover).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys
from dataclasses import dataclass, field

# -- syscall and constant numbers (linux/landlock.h, linux/seccomp.h, linux/filter.h, linux/audit.h) ----------

SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
CAPABILITY_VERSION_3, LAST_CAPABILITY = 0x20080522, 63

FS_WRITE_FILE = 1 << 1
FS_WRITES = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) \
    | (1 << 12)  # write, remove dir/file, make char/dir/reg/sock/fifo/block/sym
FS_REFER, FS_TRUNCATE = 1 << 13, 1 << 14  # ABI 2, ABI 3
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6

# Per architecture: (AUDIT_ARCH_*, process-creating syscalls to refuse, clone, clone3)
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(platform.machine(), -1)
ARCHES = {"x86_64": (0xC000003E, (57, 58), 56, 435), "aarch64": (0xC00000B7, (), 220, 435)}
CLONE_THREAD = 0x00010000
X32_SYSCALL_BIT = 0x40000000
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_JSET_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x45, 0x06


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where there is none (not Linux, too old, or switched off)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                                  ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


def _seccomp_program() -> bytes | None:
    """A BPF filter refusing process creation (EPERM) and clone3 (ENOSYS, so libc falls back to clone, whose
    flags a filter can read); None on architectures this module does not know."""
    arch = ARCHES.get(platform.machine())
    if arch is None:
        return None
    audit_arch, forks, clone, clone3 = arch
    # (opcode, jump-if-true label, jump-if-false label, k); labels are resolved to relative offsets below.
    code: list[tuple[int, str | None, str | None, int]] = [
        (BPF_LD_W_ABS, None, None, 4),  # seccomp_data.arch
        (BPF_JEQ_K, None, "allow", audit_arch),  # another ABI's numbers: not ours to judge
        (BPF_LD_W_ABS, None, None, 0),  # seccomp_data.nr
    ]
    if platform.machine() == "x86_64":
        code.append((BPF_JGE_K, "eperm", None, X32_SYSCALL_BIT))  # the x32 ABI would bypass the numbers below
    code += [(BPF_JEQ_K, "eperm", None, nr) for nr in forks]
    code += [(BPF_JEQ_K, "enosys", None, clone3), (BPF_JEQ_K, "clone", None, clone)]
    labels = {"allow": len(code), "clone": len(code) + 1, "eperm": len(code) + 4, "enosys": len(code) + 5}
    code += [
        (BPF_RET_K, None, None, SECCOMP_RET_ALLOW),
        (BPF_LD_W_ABS, None, None, 16),  # low 32 bits of args[0]: clone's flags (little-endian)
        (BPF_JSET_K, "allow-thread", "eperm", CLONE_THREAD),  # a thread is fine, a process is not
        (BPF_RET_K, None, None, SECCOMP_RET_ALLOW),
        (BPF_RET_K, None, None, SECCOMP_RET_ERRNO | errno.EPERM),
        (BPF_RET_K, None, None, SECCOMP_RET_ERRNO | errno.ENOSYS),
    ]
    labels["allow-thread"] = labels["clone"] + 2

    def offset(index: int, label: str | None) -> int:
        return 0 if label is None else labels[label] - index - 1

    return b"".join(struct.pack("=HBBI", op, offset(i, jt), offset(i, jf), k)
                    for i, (op, jt, jf, k) in enumerate(code))


@dataclass
class Confinement:
    """What a child will get, prepared in the parent; :meth:`apply` runs in the child before ``exec``."""

    ruleset_fd: int = -1
    seccomp: bytes | None = None
    drop_capabilities: bool = False
    applied: list[str] = field(default_factory=list)

    def apply(self) -> None:
        libc = _libc()
        if self.drop_capabilities:
            _drop_capabilities(libc)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return
        if self.ruleset_fd >= 0:
            libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(self.ruleset_fd), ctypes.c_uint32(0))
        if self.seccomp is not None:
            buffer = ctypes.create_string_buffer(self.seccomp, len(self.seccomp))
            program = _SockFprog(len(self.seccomp) // 8, ctypes.cast(buffer, ctypes.c_void_p))
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0)

    def close(self) -> None:
        if self.ruleset_fd >= 0:
            os.close(self.ruleset_fd)
            self.ruleset_fd = -1


def _drop_capabilities(libc) -> None:
    """Root without its capabilities: no CAP_SYS_PTRACE to read a non-dumpable app's ``/proc/<pid>/environ``,
    no CAP_KILL, no CAP_DAC_OVERRIDE. The bounding set goes first, so ``exec`` cannot hand them back."""
    for capability in range(LAST_CAPABILITY + 1):
        libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # EINVAL past the kernel's last one: harmless
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = struct.pack("=Ii", CAPABILITY_VERSION_3, 0)
    data = bytes(24)  # two {effective, permitted, inheritable} sets, all empty
    libc.syscall(SYS_CAPSET, ctypes.c_char_p(header), ctypes.c_char_p(data))


def prepare(writable: list[str]) -> Confinement:
    """A confinement letting the child write only under ``writable`` (folders), plus ``/dev/null``."""
    linux = sys.platform.startswith("linux")
    confinement = Confinement(seccomp=_seccomp_program() if linux else None,
                              drop_capabilities=linux and os.geteuid() == 0)
    if confinement.drop_capabilities:
        confinement.applied.append("root without capabilities")
    if confinement.seccomp is not None:
        confinement.applied.append("no new processes (seccomp)")
    abi = landlock_abi()
    if abi < 1:
        return confinement
    fs = FS_WRITES | (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0)
    net = (NET_BIND_TCP | NET_CONNECT_TCP) if abi >= 4 else 0
    scoped = (SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if abi >= 6 else 0
    fields = [fs] + ([net] if abi >= 4 else []) + ([scoped] if abi >= 6 else [])
    attr = struct.pack(f"={len(fields)}Q", *fields)
    libc = _libc()
    fd = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.c_char_p(attr), ctypes.c_size_t(len(attr)),
                      ctypes.c_uint32(0))
    if fd < 0:
        return confinement
    rules = [(path, fs) for path in writable] + [("/dev/null", FS_WRITE_FILE | (FS_TRUNCATE if abi >= 3 else 0))]
    for path, access in rules:
        try:
            parent = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            rule = _PathBeneath(access, parent)
            libc.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
                         ctypes.byref(rule), ctypes.c_uint32(0))
        finally:
            os.close(parent)
    confinement.ruleset_fd = int(fd)
    confinement.applied.append("writes only to its temporary folder (Landlock)")
    if net:
        confinement.applied.append("no TCP connections (Landlock)")
    if scoped:
        confinement.applied.append("no signals to other processes (Landlock)")
    return confinement


def protections() -> list[str]:
    """What a sandboxed child gets on this machine, in words."""
    confinement = prepare([])
    confinement.close()
    return confinement.applied
