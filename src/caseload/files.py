"""Where caseload writes a file of its own (``export``, ``backup``): what the target is,
how it is written, and the partial files a write leaves while it runs.

* A new path or an existing regular file is written atomically: into a partial file
  beside it, renamed into place when complete. An existing regular file is replaced
  only when the user gave ``--overwrite``; otherwise the rename cannot replace a file
  that appeared meanwhile (a hard link claims the name, or fails).
* A character device, a FIFO or a terminal (``/dev/null``, ``/dev/stdout``, a named
  pipe), and any path through ``/dev`` or ``/proc`` (an open file descriptor), is
  written straight: renaming a regular file over it would replace the device for
  everyone on the machine.
* Anything else that exists (a folder, a socket, a block device) is refused.

Partial files are named ``.NAME.caseload-KIND-PID.part`` (KIND ``export`` or
``backup``, PID the writing process) and held under an exclusive ``flock`` while
written. A write killed outright (SIGKILL, power loss) leaves one behind; the next
write into that folder removes every one of ours whose lock is free (its writer is
gone) and says so.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from caseload.errors import InputError

PARTIAL = re.compile(r"^\..+\.caseload-(export|backup)-(\d+)\.part$")
STREAM_ROOTS = ("/dev/", "/proc/")


@dataclass(frozen=True)
class Target:
    """A checked output path: ``path`` as given, ``real`` the file a rename replaces,
    ``stream`` when it is written straight (a device, FIFO or terminal)."""

    path: Path
    real: Path
    stream: bool = False
    exists: bool = False


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def output_target(raw: str, *, option: str, overwrite: bool) -> Target:
    """Check where ``raw`` (what the user gave for ``option``) points; InputError (exit
    2) for a blank name, a folder or other non-file, a missing folder, or an existing
    regular file without ``overwrite``."""
    if not raw.strip():
        raise InputError(f"{option} needs a file name; '{raw}' is blank.")
    path = Path(raw).expanduser()
    absolute = os.path.abspath(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InputError(f"Cannot use {path}: {exc.strerror}.") from None
    if info is None:
        if not path.parent.is_dir():
            raise InputError(f"There is no folder {path.parent} to write {path.name} in.")
        return Target(path, path.parent.resolve() / path.name)
    if stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
        return Target(path, path, stream=True, exists=True)
    if absolute.startswith(STREAM_ROOTS) and stat.S_ISREG(info.st_mode):
        # e.g. /dev/stdout redirected to a file: the open descriptor, never renamed over
        return Target(path, path, stream=True, exists=True)
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path} is {_kind(info.st_mode)}; give a file name.")
    if not overwrite:
        raise InputError(f"{path} already exists; give --overwrite to replace it, or another name.")
    return Target(path, path.resolve(), exists=True)


def open_stream(target: Target, *, encoding: str) -> IO[str]:
    """Open a device, FIFO or terminal for writing, straight (no partial file, no
    rename). A FIFO waits here for its reader."""
    try:
        # Append: on a device or FIFO it is the same; on /dev/stdout redirected with >>
        # it keeps what the file held.
        return open(target.path, "a", encoding=encoding, newline="")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"Cannot write {target.path}: {exc.strerror}.") from None


def partial_path(real: Path, kind: str) -> Path:
    return real.with_name(f".{real.name}.caseload-{kind}-{os.getpid()}.part")


def claim_partial(real: Path, kind: str) -> tuple[Path, int]:
    """Create this process's partial file beside ``real`` and lock it; returns its path
    and an open descriptor (the lock lasts while it is open)."""
    path = partial_path(real, kind)
    for _ in range(5):
        try:
            fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        except OSError as exc:
            raise InputError(f"Cannot write in {real.parent}: {exc.strerror}.") from None
        _lock(fd, block=True)
        try:  # another run's clean-up may have taken it in the instant before the lock
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return path, fd
        except FileNotFoundError:
            pass
        os.close(fd)
    raise InputError(
        f"Cannot write in {real.parent}: the partial file {path.name} keeps vanishing."
    )


def _lock(fd: int, *, block: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # no flock (not POSIX): stale files are then left for the user
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def remove_stale_partials(folder: Path) -> list[Path]:
    """Remove the partial files of ours in ``folder`` whose writer is gone (their lock
    is free); returns what was removed. Other people's files, and ours still being
    written, are left alone."""
    removed: list[Path] = []
    try:
        names = [entry.name for entry in os.scandir(folder) if PARTIAL.match(entry.name)]
    except OSError:
        return removed
    for name in names:
        path = folder / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            mine = stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()
            if mine and _lock(fd, block=False):
                path.unlink()
                removed.append(path)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def place(partial: Path, target: Target, *, overwrite: bool) -> None:
    """Rename the complete partial file into place. Without ``overwrite`` the name is
    claimed with a hard link, which fails if a file appeared there meanwhile."""
    if overwrite:
        os.replace(partial, target.real)
        return
    try:
        os.link(partial, target.real)
    except FileExistsError:
        raise InputError(
            f"{target.path} appeared while it was written; give --overwrite to replace it, "
            "or another name."
        ) from None
    except OSError:  # a file system without hard links: the check made before must do
        if target.real.exists():
            raise InputError(
                f"{target.path} already exists; give --overwrite to replace it, or another name."
            ) from None
        os.replace(partial, target.real)
        return
    partial.unlink()


def default_names(folder: Path, stem: str, suffix: str) -> Iterator[Path]:
    """``folder/stem+suffix``, then ``stem_02``, ``stem_03`` ...: a default name that
    is taken gets the next, and the names still sort by time (``_`` after ``.``)."""
    yield folder / f"{stem}{suffix}"
    for number in range(2, 10_000):
        yield folder / f"{stem}_{number:02d}{suffix}"


def place_under_default_name(partial: Path, folder: Path, stem: str, suffix: str) -> Path:
    """Rename the complete partial file to the first free default name; never replaces
    a file, even one another export made in the same second."""
    for candidate in default_names(folder, stem, suffix):
        if candidate.exists() or candidate.is_symlink():
            continue
        try:
            place(partial, Target(candidate, candidate), overwrite=False)
        except InputError:
            continue  # taken meanwhile: the next name
        return candidate
    raise InputError(f"Every default name {stem}*{suffix} in {folder} is taken; give --output.")
