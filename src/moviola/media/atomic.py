"""Outputs that appear whole or not at all.

Every file moviola writes for a user (videos, exports, JSON, checkpoints, model files) is written
to a temporary name beside the target and renamed over it when complete, so a crash, a cancel or
an error never leaves a half-written output and never touches the input.

Permissions: a new output gets what the umask gives any new file (0644 under umask 022, folders
0755); an output that replaces a file keeps that file's mode. An output path that is a symbolic
link is followed: the file it points to is written (beside it, then renamed) and the link stays.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path


def final_path(target: str | os.PathLike) -> Path:
    """Where ``target`` is really written: the file a symbolic link points to (the link is
    kept), else ``target`` itself."""
    target = Path(target)
    if target.is_symlink():
        return Path(os.path.realpath(target))
    return target


def make_temp(
    target: str | os.PathLike,
    *,
    suffix: str | None = None,
    prefix: str | None = None,
    directory: bool = False,
) -> Path:
    """Create an empty temporary file (or folder) beside ``target``'s real place, named
    ``.STEM.XXXXXXXX.part.EXT`` by default; its mode follows the umask (as any new file's)."""
    target = final_path(target)
    parent = target.parent if str(target.parent) else Path(".")
    ending = f".part{target.suffix}" if suffix is None else suffix
    start = f".{target.stem}." if prefix is None else prefix
    for _ in range(100):
        tmp = parent / f"{start}{secrets.token_hex(4)}{ending}"
        try:
            if directory:
                tmp.mkdir(0o777)  # the umask applies, as to any new folder
            else:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"no free temporary name beside {target}")


def commit(tmp: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Move the finished temporary ``tmp`` into place as ``target``: over a symbolic link's
    file (the link stays), keeping the mode of a file it replaces; an existing folder is
    replaced by a folder. Returns the path written."""
    tmp, final = Path(tmp), final_path(target)
    with contextlib.suppress(FileNotFoundError):
        os.chmod(tmp, final.stat().st_mode & 0o7777)
    if tmp.is_dir() and final.is_dir():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


@contextlib.contextmanager
def atomic_output(
    target: str | os.PathLike, *, suffix: str | None = None, directory: bool = False
) -> Iterator[Path]:
    """A temporary path beside ``target``; renamed to ``target`` when the block ends normally,
    removed when it raises.

    ``suffix`` is the temporary name's ending (by default ``.part`` plus the target's own suffix,
    so that writers that pick a format by extension still see it); ``directory`` makes the
    temporary a folder (PNG sequences).
    """
    tmp = make_temp(target, suffix=suffix, directory=directory)
    try:
        yield tmp
        commit(tmp, target)
    except BaseException:
        discard(tmp)
        raise


def discard(path: str | os.PathLike) -> None:
    """Remove a temporary file or folder if it is still there."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    with atomic_output(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    return write_bytes(target, text.encode("utf-8"))
