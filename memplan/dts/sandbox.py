"""Running the system C preprocessor where only the include roots exist (Linux namespaces).

With ``--include-root`` every read must stay under the roots, cpp's included. Which files cpp
opens is decided by its own ``#if`` evaluation, which a walk ahead of it cannot always predict
(``__INCLUDE_LEVEL__``, ``defined`` produced by a macro, ``-7 % 2``, binary literals ...). So
the confined cpp runs in a private user and mount namespace whose file system holds only:

* each include root, bind-mounted read-only, ``nodev`` and ``nosuid`` at its own (resolved) path;
* the preprocessor's own program files (the driver, ``cc1``, their shared libraries and the
  loader's cache), each file mounted alone at its path;
* empty directories and copies of the symlinks along the paths memplan passes to cpp (the
  current directory, the include directories, the main file), so the same names resolve the
  same way.

Everything else, ``/dev`` and ``/proc`` included, does not exist there: an include (absolute,
climbing out with ``..``, through a symlink pointing out, found by ``#include_next`` or computed
by a macro) of a file outside the roots fails with "No such file or directory" whether or not
the file exists outside. The namespace is set up in the child between ``fork`` and ``exec``
(no helper program, no privilege: an unprivileged user namespace); where the system does not
allow one, :class:`Unavailable` says why and memplan does not run cpp at all.

Devices inside the roots cannot be opened there (``nodev``: "Permission denied"), sockets never
can ("No such device or address"), and each FIFO found in the roots is covered by a socket
(bind-mounted over it), so an include of one fails at once instead of waiting for a writer.
The roots are listed for that (:func:`special_files`, a bounded walk remembered per root and
checked against the folders' change times); a root that cannot be fully listed (a folder
memplan may not read, more entries than ``MEMPLAN_ROOT_ENTRIES``, a ``/proc``-like file
system mounted inside it) makes the confined run :class:`Unavailable`.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
from collections.abc import Callable, Iterable, Sequence

__all__ = ["Unavailable", "View", "plan_view"]

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_RDONLY = 0x1
_MS_NOSUID = 0x2
_MS_NODEV = 0x4
_MS_REMOUNT = 0x20
_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_PRIVATE = 0x40000
_MOUNT_ATTR_RDONLY = 0x1
_MOUNT_ATTR_NOSUID = 0x2
_MOUNT_ATTR_NODEV = 0x4
_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
#: mount_setattr(2): the same number on every architecture (added after the tables were unified)
_SYS_MOUNT_SETATTR = 442
#: Symlinks followed along one path before giving up (the kernel's limit).
_MAX_HOPS = 40
#: Files the dynamic loader reads besides the libraries ``ldd`` names.
_LOADER_FILES = ("/etc/ld.so.cache",)
#: Where the socket laid over each FIFO lives in the view (a name no include finds by accident).
_REFUSER = "/.memplan-refused-fifo"
#: Most FIFOs covered in one view (each is a mount; the kernel allows 100,000 by default).
_MAX_COVERED = 10_000
#: File systems whose files may block or never end (or that hold magic links to pipes): a root
#: with one mounted inside it is not confined (the walk cannot vouch for them).
_PSEUDO_FS = frozenset((
    "proc", "sysfs", "debugfs", "tracefs", "devtmpfs", "devpts", "mqueue", "cgroup", "cgroup2",
    "securityfs", "bpf", "pstore", "configfs", "fusectl", "hugetlbfs", "binfmt_misc", "efivarfs",
    "rpc_pipefs", "nsfs", "selinuxfs",
))


class Unavailable(Exception):
    """The confined preprocessor cannot run here; ``reason`` says why (for a diagnostic)."""

    def __init__(self, reason: str, *, lasting: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        #: True when no later run can succeed either (the system forbids the namespaces)
        self.lasting = lasting


#: Why the namespaces cannot be made on this system, once a run found out.
_REFUSED: list[str] = []
#: The program files of each preprocessor (by resolved path), once found.
_TOOLCHAIN: dict[str, tuple[str, ...]] = {}


class View:
    """What the confined preprocessor sees: the operations that build its file system (in a
    fresh tmpfs, in this order), and the directory it starts in."""

    def __init__(self, ops: Sequence[tuple[str, str, str]], cwd: str) -> None:
        self.ops = tuple(ops)
        self.cwd = cwd

    def preexec(self, base: str, memory: int, report: int) -> Callable[[], None]:
        """The function the child runs before ``exec``: enter new namespaces, build the view on
        a tmpfs at ``base``, ``chroot`` into it, limit the address space to ``memory``. What
        fails is written to the file descriptor ``report`` before the exception is raised."""
        import ctypes
        import resource

        libc = ctypes.CDLL(None, use_errno=True)
        unshare, mount = libc.unshare, libc.mount
        mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        uid, gid = os.getuid(), os.getgid()
        ops, cwd = self.ops, self.cwd

        def check(result: int, what: str) -> None:
            if result != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"{what}: {os.strerror(err)}")

        def write(path: str, text: str) -> None:
            with open(path, "w") as fh:
                fh.write(text)

        # a struct mount_attr for mount_setattr(2): attr_set, attr_clr, propagation, userns_fd
        sealing = _MOUNT_ATTR_RDONLY | _MOUNT_ATTR_NOSUID | _MOUNT_ATTR_NODEV
        sealed_tree = (ctypes.c_uint64 * 4)(sealing, 0, 0, 0)

        def bind(src: str, dest: str, flags: int) -> None:
            if mount(src.encode(), dest.encode(), None, _MS_BIND, None) != 0:
                if ctypes.get_errno() != errno.EINVAL:
                    check(-1, f"bind-mount {src}")
                # other file systems are mounted below src (locked in a user namespace: it can
                # only be bound with them); every one of them is made read-only and device-free
                check(mount(src.encode(), dest.encode(), None, _MS_BIND | _MS_REC, None), f"bind-mount {src}")
                check(libc.syscall(_SYS_MOUNT_SETATTR, _AT_FDCWD, dest.encode(), _AT_RECURSIVE,
                                   sealed_tree, ctypes.sizeof(sealed_tree)), f"seal the mounts below {src}")
            # read-only, no devices, no set-uid; a mount whose other flags are locked keeps them
            ro = _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | flags
            if mount(None, dest.encode(), None, ro, None) != 0:
                extra = _statvfs_flags(src)
                check(mount(None, dest.encode(), None, ro | extra, None), f"remount {src} read-only")

        import socket

        def lay_refuser(dest: str) -> None:
            # a socket: open(2) of it fails with ENXIO for everyone, root included
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.bind(dest)

        def setup() -> None:  # pragma: no cover - runs in the child (its effects are tested)
            stage = "namespace"
            try:
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
                check(unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "unshare(user, mount namespaces)")
                write("/proc/self/setgroups", "deny")
                write("/proc/self/uid_map", f"{uid} {uid} 1")
                write("/proc/self/gid_map", f"{gid} {gid} 1")
                check(mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "make mounts private")
                check(mount(b"memplan", base.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, b"mode=0755"),
                      "mount a tmpfs")
                stage = "view"
                # the skeleton and the mount points first, then the tmpfs made read-only (its own
                # superblock), then the bind mounts over it, each made read-only by itself
                for kind, path, arg in ops:
                    dest = base + path
                    if kind == "link":
                        if not os.path.lexists(dest):
                            os.symlink(arg, dest)
                    elif kind == "file":
                        with open(dest, "ab"):
                            pass
                    elif kind in ("dir", "root"):
                        os.makedirs(dest, exist_ok=True)
                covers = [path for kind, path, _arg in ops if kind == "cover"]
                if covers:
                    lay_refuser(base + _REFUSER)
                sealed = _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV
                check(mount(None, base.encode(), None, sealed, None), "remount the view read-only")
                for kind, path, _arg in ops:
                    if kind in ("file", "root"):
                        bind(path, base + path.rstrip("/"), _MS_NODEV)
                refuser = (base + _REFUSER).encode()
                for path in covers:  # over the roots' mounts: each FIFO becomes an unopenable socket
                    check(mount(refuser, (base + path).encode(), None, _MS_BIND, None),
                          f"cover the FIFO {path}")
                os.chroot(base)
                os.chdir(cwd)
            except BaseException as exc:
                os.write(report, f"{stage}:{exc}".encode("utf-8", "replace"))
                raise

        return setup


def _statvfs_flags(path: str) -> int:
    """The mount flags of ``path``'s file system that a bind mount must keep (locked flags)."""
    try:
        f = os.statvfs(path).f_flag
    except OSError:
        return 0
    names = (("ST_NOEXEC", 0x8), ("ST_NOATIME", 0x400), ("ST_NODIRATIME", 0x800), ("ST_RELATIME", 0x200000))
    out = 0
    for name, flag in names:
        if f & getattr(os, name, 0):
            out |= flag
    return out


def refused() -> str | None:
    """Why this system does not allow the namespaces (found by an earlier run), if it does not."""
    return _REFUSED[0] if _REFUSED else None


def note_failure(report: str) -> Unavailable:
    """The :class:`Unavailable` for what a child reported (``stage:reason``); a refusal of the
    namespaces themselves is remembered for later runs."""
    stage, _, reason = report.partition(":")
    if stage == "namespace":
        why = f"this system does not let memplan make an unprivileged user and mount namespace ({reason})"
        if not _REFUSED:
            _REFUSED.append(why)
        return Unavailable(why, lasting=True)
    return Unavailable(f"cannot build the preprocessor's confined view ({reason or 'unknown failure'})")


def plan_view(exe: str, roots: Sequence[str], paths: Iterable[str]) -> View:
    """The view for running ``exe`` (a resolved path) confined to ``roots`` (resolved
    directories); ``paths`` are the names cpp is given (relative to the current directory or
    absolute), whose symlinks are copied. Raises :class:`Unavailable` when this system cannot
    confine (no namespaces, or a preprocessor memplan cannot list the files of)."""
    if _REFUSED:
        raise Unavailable(_REFUSED[0], lasting=True)
    if not os.path.exists("/proc/self/uid_map"):
        raise Unavailable("this system has no user namespaces (/proc/self/uid_map is missing)", lasting=True)
    try:
        cwd = os.getcwd()
    except OSError as err:
        raise Unavailable(f"the current directory is gone ({err.strerror})") from None
    ops: dict[tuple[str, str, str], None] = {}
    for path in (cwd, *paths):
        _mirror(os.path.join(cwd, path), roots, ops)
    for file in (*_program_files(exe), *_LOADER_FILES):
        if os.path.isfile(file):
            real = _mirror(file, roots, ops)
            if real is not None and not _under(real, roots):
                ops[("file", real, "")] = None
    order = {"dir": 0, "link": 1, "file": 2, "root": 3, "cover": 4}
    for root in roots:
        ops[("root", root, "")] = None
    for fifo in special_files(roots):
        ops[("cover", fifo, "")] = None
    # the skeleton first, then the single files, then the roots over them, then the FIFOs' covers
    return View(sorted(ops, key=lambda op: order[op[0]]), cwd)


#: Per root: (the folders listed, each with its inode, change and modification times; the FIFOs found).
_SCANNED: dict[str, tuple[tuple[tuple[str, int, int, int], ...], tuple[str, ...]]] = {}


def special_files(roots: Sequence[str]) -> tuple[str, ...]:
    """The FIFOs under ``roots`` (resolved directories), found by listing every folder (symlinks
    not followed; file systems mounted below included, as the view shows them). A root's answer
    is kept while none of its folders changed (inode, ctime and mtime: adding, removing or
    renaming an entry changes its folder's, and ctime cannot be set back). Raises
    :class:`Unavailable` when a root cannot be listed completely and cheaply."""
    _check_mounts(roots)
    from memplan.dts import limits

    budget = limits.value(limits.ROOT_ENTRIES)
    found: list[str] = []
    for root in roots:
        if any(other != root and _under(root, [other]) for other in roots):
            continue  # listed with the root it lies in
        known = _SCANNED.get(root)
        if known is None or not _unchanged(known[0]):
            known = _scan(root, budget)
            if len(_SCANNED) >= 16:
                _SCANNED.clear()
            _SCANNED[root] = known
        found.extend(known[1])
    if len(found) > _MAX_COVERED:
        raise Unavailable(f"the include roots hold {len(found)} FIFOs, more than the {_MAX_COVERED} "
                          "memplan covers for the confined cpp")
    return tuple(found)


def _unchanged(dirs: Sequence[tuple[str, int, int, int]]) -> bool:
    for path, ino, ctime, mtime in dirs:
        try:
            st = os.lstat(path)
        except OSError:
            return False
        if (st.st_ino, st.st_ctime_ns, st.st_mtime_ns) != (ino, ctime, mtime):
            return False
    return True


def _scan(root: str, budget: int) -> tuple[tuple[tuple[str, int, int, int], ...], tuple[str, ...]]:
    from memplan.dts import limits

    dirs: list[tuple[str, int, int, int]] = []
    fifos: list[str] = []
    todo = [root]
    seen = 0
    while todo:
        folder = todo.pop()
        try:
            st = os.lstat(folder)
            dirs.append((folder, st.st_ino, st.st_ctime_ns, st.st_mtime_ns))
            with os.scandir(folder) as entries:
                for entry in entries:
                    seen += 1
                    if seen > budget:
                        raise Unavailable(limits.exceeded(
                            f"the include root {root} holds too many entries to check it for FIFOs",
                            limits.ROOT_ENTRIES))
                    if entry.is_dir(follow_symlinks=False):
                        todo.append(entry.path)
                    elif (not entry.is_file(follow_symlinks=False) and not entry.is_symlink()
                          and stat.S_ISFIFO(entry.stat(follow_symlinks=False).st_mode)):
                        fifos.append(entry.path)
        except OSError as err:
            raise Unavailable(f"cannot list {folder} inside the include roots to check it for FIFOs "
                              f"({err.strerror or err})") from None
    return tuple(dirs), tuple(sorted(fifos))


def _check_mounts(roots: Sequence[str]) -> None:
    """Refuse roots with a ``/proc``-like file system mounted inside them (or lying in one)."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as fh:
            table = fh.read()
    except OSError:
        return  # no mount table: nothing is known to be mounted below the roots
    for line in table.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        if len(fields) <= sep + 1 or len(fields) < 5:
            continue
        fstype = fields[sep + 1].split(".")[0]
        if fstype not in _PSEUDO_FS:
            continue
        point = _unescape(fields[4])
        for root in roots:
            if _under(point, [root]) or _under(root, [point]):
                raise Unavailable(f"a {fstype} file system is mounted at {point}, inside the include "
                                  f"root {root} (its files may block or never end)")


def _unescape(field: str) -> str:
    """A mountinfo path field with its octal escapes (``\\040`` for a space) decoded."""
    import re

    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _mirror(path: str, roots: Sequence[str], ops: dict[tuple[str, str, str], None]) -> str | None:
    """Record the directories and symlinks along ``path`` (absolute) as ``dir``/``link``
    operations, following each symlink as the kernel does; stop inside a root (the root's mount
    shows the rest). Returns the resolved path when it exists."""
    todo = [p for p in reversed(path.split("/")) if p]
    cur = "/"
    hops = 0
    while todo:
        name = todo.pop()
        if name == ".":
            continue
        if name == "..":
            cur = os.path.dirname(cur)  # cur holds no symlink: a lexical step up is the real one
            continue
        nxt = os.path.join(cur, name)
        if _under(nxt, roots):
            return os.path.realpath(os.path.join(nxt, *reversed(todo)))
        try:
            st = os.lstat(nxt)
        except OSError:
            return None
        if stat.S_ISLNK(st.st_mode):
            hops += 1
            if hops > _MAX_HOPS:
                return None
            target = os.readlink(nxt)
            ops[("link", nxt, target)] = None
            todo.extend(p for p in reversed(target.split("/")) if p)
            if target.startswith("/"):
                cur = "/"
            continue
        if stat.S_ISDIR(st.st_mode):
            ops[("dir", nxt, "")] = None
            cur = nxt
            continue
        return nxt if not todo else None
    return cur


def _program_files(exe: str) -> tuple[str, ...]:
    """The driver ``exe``, the ``cc1`` it runs and the shared libraries both load."""
    if exe in _TOOLCHAIN:
        return _TOOLCHAIN[exe]
    try:
        with open(exe, "rb") as fh:
            magic = fh.read(4)
    except OSError as err:
        raise Unavailable(f"cannot read {exe}: {err.strerror}") from None
    if magic != b"\x7fELF":
        raise Unavailable(f"{exe} is not a program memplan can confine (a script?)")
    files = [exe]
    cc1 = _output([exe, "-print-prog-name=cc1"])[1].strip()
    if os.path.isabs(cc1) and os.path.isfile(cc1):
        files.append(os.path.normpath(cc1))
    for program in list(files):
        files.extend(_libraries(program))
    found = tuple(dict.fromkeys(files))
    _TOOLCHAIN[exe] = found
    return found


def _libraries(program: str) -> list[str]:
    """The shared libraries ``program`` loads (from ``ldd``), the loader included."""
    status, out, err = _output(["ldd", program])
    if status != 0:
        if "not a dynamic executable" in out + err:
            return []
        raise Unavailable(f"ldd {program} failed (exit status {status}) listing the preprocessor's libraries")
    libs: list[str] = []
    for line in out.splitlines():
        words = line.split()
        if "=>" in words:
            i = words.index("=>")
            if i + 1 < len(words) and words[i + 1].startswith("/"):
                libs.append(words[i + 1])
        elif words and words[0].startswith("/"):
            libs.append(words[0])
    return libs


def _output(cmd: list[str]) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of a short helper run (``ldd``, ``cpp -print-prog-name``)."""
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False,
                              env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.TimeoutExpired) as err:
        raise Unavailable(f"cannot run {cmd[0]} to list the preprocessor's files ({err})") from None
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
