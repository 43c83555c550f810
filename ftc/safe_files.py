"""Open only regular files, read them with a limit, and say plainly why a path is unusable.

A path in a recipe or on the command line may name a FIFO (open blocks forever),
a device (/dev/zero reads without end), a directory, a symlink loop, a name
longer than the system allows, or `~nosuchuser`.  Everything here turns those
into a `FileProblem` with a one-line reason instead of a hang or a traceback.
Files are opened with O_NONBLOCK and checked with fstat, so a path swapped for
a FIFO between a check and the open still cannot block.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))
_REASONS = {errno.ENOENT: "not found", errno.ENOTDIR: "not found (a parent is not a directory)",
            errno.ENAMETOOLONG: "the path is too long for this system",
            errno.ELOOP: "symlink loop", errno.EACCES: "permission denied",
            errno.EPERM: "permission denied"}


class FileProblem(Exception):
    """Why a path cannot be read, in words fit for a diagnostic (`reason`)."""

    def __init__(self, reason: str, missing: bool = False, too_big: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.missing = missing  # the path does not exist (callers may allow that)
        self.too_big = too_big  # over the caller's size limit


def kind_of(mode: int) -> str:
    """'a regular file', 'a FIFO (named pipe)', 'a character device', ..."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def reason_of(exc: OSError) -> str:
    return _REASONS.get(exc.errno or 0, exc.strerror or str(exc))


def expand(path: str | Path) -> Path:
    """`~` and `~user` expanded; FileProblem when the user does not exist."""
    text = os.fspath(path)
    if "\0" in text:
        raise FileProblem("the path contains a NUL byte")
    if text.startswith("~"):
        expanded = os.path.expanduser(text)
        if expanded.startswith("~"):
            user = text[1:].split("/", 1)[0]
            raise FileProblem(f"cannot expand ~{user}: no such user" if user
                              else "cannot expand ~: no home directory")
        text = expanded
    return Path(text)


def _limit(name: str, default: int) -> int:
    try:
        return os.pathconf("/", name)
    except (OSError, ValueError, AttributeError):
        return default


NAME_MAX = _limit("PC_NAME_MAX", 255)
PATH_MAX = _limit("PC_PATH_MAX", 4096)


def check_length(path: str | Path) -> None:
    """FileProblem when no file could ever have this name (too long, whether it exists or not)."""
    raw = os.fsencode(path)
    if len(raw) >= PATH_MAX or any(len(part) > NAME_MAX for part in raw.split(b"/")):
        raise FileProblem("the path is too long for this system")


def stat_path(path: str | Path) -> os.stat_result:
    """os.stat (following links) with every failure as a FileProblem."""
    try:
        check_length(expand(path))
        return os.stat(expand(path))
    except ValueError:
        raise FileProblem("the path contains a NUL byte") from None
    except OSError as exc:
        missing = exc.errno in (errno.ENOENT, errno.ENOTDIR)
        raise FileProblem(reason_of(exc), missing=missing) from None


def check_regular(path: str | Path) -> os.stat_result:
    """stat_path, and a FileProblem unless the path is a regular file."""
    st = stat_path(path)
    if not stat.S_ISREG(st.st_mode):
        raise FileProblem(f"is {kind_of(st.st_mode)}, not a regular file")
    return st


def open_regular(path: str | Path):
    """A binary file object for a regular file (for streaming reads of any size)."""
    try:
        check_length(expand(path))
        fd = os.open(expand(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except ValueError:
        raise FileProblem("the path contains a NUL byte") from None
    except OSError as exc:
        missing = exc.errno in (errno.ENOENT, errno.ENOTDIR)
        raise FileProblem(reason_of(exc), missing=missing) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileProblem(f"is {kind_of(st.st_mode)}, not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes, without ever blocking."""
    with open_regular(path) as fh:
        try:
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                raise FileProblem(f"{what} is {size:,} bytes; the limit is {limit:,}",
                                  too_big=True)
            data = fh.read(limit + 1)  # the size can change after fstat
        except OSError as exc:
            raise FileProblem(reason_of(exc)) from None
    if len(data) > limit:
        raise FileProblem(f"{what} is over the {limit:,}-byte limit", too_big=True)
    return data
