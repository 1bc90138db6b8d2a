"""A chunked job: plan, render the chunks (on some executor), checkpoint each finished chunk,
stitch. Rerunning a job that stopped (crash, Ctrl-C, a lost machine) renders only the chunks
that are missing.

The checkpoint is a folder beside the output, ``.NAME.moviola-job/``, holding the finished chunk
files and ``manifest.json`` (the job's identity and, per chunk, its frame count and sha256). It
is removed once the output is complete. A job whose source, effects or settings changed does not
reuse old chunks.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from moviola.engines import chunks as chunking
from moviola.engines.stitch import audio_source, stitch
from moviola.errors import MoviolaError
from moviola.media import provenance
from moviola.media.atomic import write_bytes, write_text
from moviola.media.reader import VideoReader
from moviola.media.subtitles import subtitle_source
from moviola.media.time import parse_time
from moviola.media.timeline import Timeline
from moviola.media.writer import same_file
from moviola.pipeline.effect import Effect
from moviola.pipeline.options import RunOptions
from moviola.pipeline.runner import Chain, Progress, RunResult, output_tags

log = logging.getLogger("moviola")

# An executor renders chunks and yields (chunk, file bytes or path, ChunkResult) as they finish.
Executor = Callable[..., Iterable[tuple[chunking.Chunk, bytes | Path, chunking.ChunkResult]]]


@dataclass
class JobInfo:
    chunks: int
    reused: int
    rendered: int
    exact: bool  # chunked output equals a single run's (effects with settling state: False)


def job_folder(output: str | Path) -> Path:
    output = Path(output)
    return output.parent / f".{output.name}.moviola-job"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _identity(
    source: Path, effects: list[Effect], settings: chunking.Settings, plan: list[chunking.Chunk]
) -> str:
    st = source.stat()
    text = json.dumps(
        {
            "source": str(source.resolve()),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "effects": [repr(e) for e in effects],
            "settings": repr(settings),
            "plan": [[str(c.start), str(c.end)] for c in plan],
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


class Checkpoint:
    """The job folder and its manifest; every update is written atomically."""

    def __init__(self, folder: Path, identity: str) -> None:
        self.folder = folder
        self.path = folder / "manifest.json"
        self._lock = threading.Lock()
        data = None
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text())
            except (OSError, ValueError):
                data = None
        if data is None or data.get("identity") != identity:
            if folder.exists():
                shutil.rmtree(folder)
            data = {"identity": identity, "chunks": {}}
        folder.mkdir(parents=True, exist_ok=True)
        self.data = data
        self._save()

    def file(self, index: int, suffix: str) -> Path:
        return self.folder / f"chunk_{index:05d}{suffix}"

    def done(self, index: int, suffix: str) -> dict | None:
        """The record of a finished chunk whose file is intact, else None."""
        rec = self.data["chunks"].get(str(index))
        path = self.file(index, suffix)
        if rec is None or not path.exists() or _sha256(path) != rec["sha256"]:
            return None
        return rec

    def record(self, index: int, suffix: str, result: chunking.ChunkResult) -> None:
        path = self.file(index, suffix)
        with self._lock:
            self.data["chunks"][str(index)] = {
                "sha256": _sha256(path),
                "frames_in": result.frames_in,
                "frames_out": result.frames_out,
                "shift": str(result.shift),
                "seconds": round(result.seconds, 3),
            }
            self._save()

    def _save(self) -> None:
        write_text(self.path, json.dumps(self.data, indent=1))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def run_chunked(
    source: str | Path,
    output: str | Path,
    effects: list[Effect],
    executor: Executor,
    options: RunOptions | None = None,
    *,
    chunk_seconds: float = 10.0,
    **changes: Any,
) -> tuple[RunResult, JobInfo]:
    """Render ``effects`` over ``source`` chunk by chunk on ``executor`` and join the chunks.

    ``options`` as for pipeline.run (``cancel`` and ``queue_size`` do not apply to chunks)."""
    opts = RunOptions.of(options, **changes)
    start, end, codec, dtype = opts.start, opts.end, opts.codec, opts.dtype
    audio, progress = opts.audio, opts.progress
    source = Path(source)
    if same_file(source, output):
        raise MoviolaError(f"output is the input file: {output} (choose another name)")
    suffix = chunking.suffix_of(output, codec)
    chunking.check_chunkable(effects, suffix)
    start_t = parse_time(start) or Fraction(0)
    end_t = parse_time(end)
    with VideoReader(source, start=start, end=end, dtype=dtype) as reader:
        info0 = reader.stream_info
        origin = reader.origin
        audio_index = reader.info.audio[0].index if reader.info.audio else None
        tags = dict(reader.info.tags)
        media_info = reader.info
    metadata = {**output_tags(tags, effects), **(opts.metadata or {})}
    provenance.prepare(metadata)  # a bad signing certificate fails before any work
    plan = chunking.plan(source, seconds=chunk_seconds, start=start_t, end=end_t)
    settings = chunking.Settings(
        suffix, info0.rate, codec, opts.crf, opts.preset, dtype, opts.strict
    )
    checkpoint = Checkpoint(job_folder(output), _identity(source, effects, settings, plan))
    todo, results = [], {}
    for chunk in plan:
        rec = checkpoint.done(chunk.index, suffix)
        if rec is not None:
            results[chunk.index] = chunking.ChunkResult(
                chunk.index,
                rec["frames_in"],
                rec["frames_out"],
                Fraction(rec["shift"]),
                rec["seconds"],
            )
        else:
            todo.append(chunk)
    reused = len(results)
    if reused:
        log.info("resuming: %d of %d chunks already rendered", reused, len(plan))
    started = time.monotonic()
    total = info0.frames
    done_frames = sum(r.frames_out for r in results.values())
    for chunk, payload, result in executor(source, effects, todo, settings):
        path = checkpoint.file(chunk.index, suffix)
        if isinstance(payload, bytes):
            write_bytes(path, payload)
        elif Path(payload) != path:
            shutil.move(str(payload), path)
        checkpoint.record(chunk.index, suffix, result)
        results[chunk.index] = result
        done_frames += result.frames_out
        if progress is not None:
            progress(Progress(done_frames, total, time.monotonic() - started))
    # chunk times are source times; the output starts at --start, as a single run's does
    parts = [(checkpoint.file(c.index, suffix), results[c.index].shift - start_t) for c in plan]
    timeline = Chain(effects).timeline(Timeline(start=start_t, end=end_t))  # timing: unchanged
    src_audio = audio_source(source, origin, audio_index, timeline) if audio else None
    path, audio_state = stitch(
        parts,
        output,
        audio=src_audio,
        subtitles=subtitle_source(str(source), media_info, origin, timeline),
        metadata=metadata,
    )
    provenance.sign_tagged(path, metadata, ingredient=source)  # synthetic outputs: C2PA
    if audio_index is not None and not audio:
        audio_state = "dropped"
    checkpoint.remove()
    seconds = time.monotonic() - started
    frames_out = sum(r.frames_out for r in results.values())
    if progress is not None:
        progress(Progress(frames_out, frames_out, seconds, done=True))
    with VideoReader(path) as check:
        out_info = check.stream_info
    exact = chunking.context(effects)[2]
    result = RunResult(
        output=path,
        frames_in=sum(r.frames_in for r in results.values()),
        frames_out=frames_out,
        skipped=0,
        seconds=seconds,
        info=out_info,
        timeline=Timeline(start=start_t, end=end_t),
        audio=audio_state,
        effects=[repr(e) for e in effects],
    )
    return result, JobInfo(len(plan), reused, len(plan) - reused, exact)


def local_executor(source, effects, todo, settings):
    """Render chunks one after another in this process (the reference for the other
    executors, and what tests use without a cluster)."""
    for chunk in todo:
        payload, result = render_to_bytes(source, effects, chunk, settings)
        yield chunk, payload, result


def render_to_bytes(source, effects, chunk, settings) -> tuple[bytes, chunking.ChunkResult]:
    """Render one chunk into a temporary file and return its bytes (what a remote worker
    sends back, so that workers need no shared output folder)."""
    with tempfile.TemporaryDirectory(prefix="moviola-chunk-") as folder:
        out = Path(folder) / f"chunk{settings.suffix}"
        result = chunking.render(source, copy.deepcopy(effects), chunk, out, settings)
        return out.read_bytes(), result
