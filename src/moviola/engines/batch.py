"""Many files through one chain: every video in a folder, one output each."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from moviola.errors import MoviolaError
from moviola.media.formats import VIDEO_EXTENSIONS
from moviola.media.probe import probe
from moviola.media.writer import CONTAINERS
from moviola.pipeline.effect import Effect
from moviola.pipeline.runner import RunResult

log = logging.getLogger("moviola")


@dataclass
class BatchItem:
    source: Path
    output: Path
    result: RunResult | None = None
    error: str | None = None
    skipped: bool = False


def videos(folder: str | Path, *, recursive: bool = False) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise MoviolaError(f"not a folder: {folder}")
    pattern = "**/*" if recursive else "*"
    return sorted(
        p
        for p in folder.glob(pattern)
        if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS and not p.name.startswith(".")
    )


def output_for(source: Path, folder: Path, outdir: Path, suffix: str | None) -> Path:
    ext = suffix or (source.suffix.lower() if source.suffix.lower() in CONTAINERS else ".mp4")
    if not ext.startswith("."):
        ext = "." + ext
    return outdir / source.relative_to(folder).with_suffix(ext)


def batch(
    folder: str | Path,
    outdir: str | Path,
    make_effects: Callable[[], list[Effect]],
    run: Callable[..., RunResult],
    *,
    suffix: str | None = None,
    recursive: bool = False,
    overwrite: bool = False,
    **options,
) -> Iterator[BatchItem]:
    """Run a fresh chain from ``make_effects()`` over every video in ``folder`` with ``run``
    (an engine's run function), writing into ``outdir``. A file that fails is reported and the
    batch goes on; finished outputs are skipped when the batch is run again."""
    folder, outdir = Path(folder), Path(outdir)
    files = videos(folder, recursive=recursive)
    if not files:
        raise MoviolaError(f"no video files in {folder}")
    outdir.mkdir(parents=True, exist_ok=True)
    for source in files:
        target = output_for(source, folder, outdir, suffix)
        item = BatchItem(source, target)
        if target.exists() and not overwrite:
            item.skipped = True
            yield item
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            probe(source)
            item.result = run(source, target, make_effects(), **options)
        except MoviolaError as exc:
            item.error = str(exc)
        yield item
