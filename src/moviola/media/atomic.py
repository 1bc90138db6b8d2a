"""Outputs that appear whole or not at all.

Every file moviola writes for a user (videos, exports, JSON, checkpoints, model files) is written
to a temporary name beside the target and renamed over it when complete, so a crash, a cancel or
an error never leaves a half-written output and never touches the input.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


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
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    ending = f".part{target.suffix}" if suffix is None else suffix
    prefix = f".{target.stem}."
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=ending, dir=parent))
    else:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=ending, dir=parent)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        if directory and target.is_dir():
            shutil.rmtree(target)
        os.replace(tmp, target)
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
