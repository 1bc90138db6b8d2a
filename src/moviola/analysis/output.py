"""Files the analyses write (shot lists, exports, split parts): the target checked first, then
written whole or not at all (moviola.media.atomic)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from moviola.errors import MoviolaError
from moviola.media.atomic import atomic_output


def check_output_file(target: str | os.PathLike) -> Path:
    """``target`` as a Path, when it can be a file: not a folder, in a folder that exists."""
    target = Path(target)
    if target.is_dir():
        raise MoviolaError(f"output is a folder: {target} (give a file name)")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise MoviolaError(f"output folder does not exist: {folder}")
    return target


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``target`` (same extension); renamed to ``target`` when the
    block ends without error, removed otherwise."""
    with atomic_output(check_output_file(target)) as tmp:
        yield tmp


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` through a temporary file and a rename."""
    target = Path(target)
    try:
        with atomic_path(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise MoviolaError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target
