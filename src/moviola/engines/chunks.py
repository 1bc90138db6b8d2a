"""Splitting a job into chunks at keyframes and rendering one chunk.

A chunk is a span [start, end) of clip time that begins on a keyframe of the source. Rendering it
decodes a little before and after the span (``Effect.context_frames`` and
``Effect.lookahead_frames``), runs the chain on absolute clip times, and keeps the output frames
whose times fall in the span, so that chunks laid end to end give the frames of one long run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from moviola.errors import MoviolaError
from moviola.media.frame import Frame
from moviola.media.reader import VideoReader
from moviola.media.time import parse_time
from moviola.media.timeline import Timeline
from moviola.media.writer import VideoWriter, resolve_target
from moviola.pipeline.effect import Effect
from moviola.pipeline.runner import Chain

# Effects whose state never settles exactly (recurrent networks) get this much warm-up.
WARMUP_FRAMES = 48


@dataclass(frozen=True)
class Chunk:
    index: int
    start: Fraction  # clip time of the chunk's first input frame (a keyframe)
    end: Fraction | None  # clip time where the next chunk begins; None: to the end


@dataclass(frozen=True)
class Settings:
    """How chunks are encoded: the same for every chunk, so they can be joined without
    re-encoding."""

    suffix: str  # the output's extension: chunks use the same container and codec
    rate: Fraction = Fraction(25)  # the source's nominal frame rate: context frames to seconds
    codec: str | None = None
    crf: int | None = None
    preset: str | None = None
    dtype: str = "uint8"
    strict: bool = False


@dataclass(frozen=True)
class ChunkResult:
    index: int
    frames_in: int
    frames_out: int
    shift: Fraction  # add to the chunk file's times to place them on the output timeline
    seconds: float


def keyframe_times(path: str | Path) -> tuple[list[Fraction], Fraction]:
    """Clip times of the video's keyframes (demuxed, not decoded) and the clip's duration."""
    with VideoReader(path) as reader:
        origin = reader.origin
        index = reader.video.index
        duration = reader.video.duration
    times = []
    with av.open(str(path)) as container:
        stream = container.streams[index]
        assert stream.time_base is not None  # set for every demuxed stream
        tb = Fraction(stream.time_base)
        last = Fraction(0)
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            t = packet.pts * tb - origin
            last = max(last, t + (packet.duration or 0) * tb)
            if packet.is_keyframe:
                times.append(t)
    return sorted(set(times)), duration if duration is not None else last


def plan(path: str | Path, *, seconds: float = 10.0, start=None, end=None) -> list[Chunk]:
    """Chunks of about ``seconds`` each, cut at keyframes, covering [start, end)."""
    if seconds <= 0:
        raise MoviolaError("chunk length must be positive")
    start = parse_time(start) or Fraction(0)
    end = parse_time(end)
    keys, _duration = keyframe_times(path)
    bounds = [start]
    target = start + Fraction(seconds)
    for t in keys:
        if end is not None and t >= end:
            break
        if t >= target and t > bounds[-1]:
            bounds.append(t)
            target = t + Fraction(seconds)
    ends = bounds[1:] + [end]
    return [Chunk(i, a, b) for i, (a, b) in enumerate(zip(bounds, ends, strict=True))]


def context(effects: Sequence[Effect] | Sequence[type[Effect]]) -> tuple[int, int, bool]:
    """(frames before, frames after, exact) that chunk edges need for ``effects`` (instances,
    or their classes: what they declare)."""
    before, after, exact = 0, 0, True
    for effect in effects:
        need = effect.context_frames
        if need is None:
            exact = False
            need = WARMUP_FRAMES
        before += need
        after += effect.lookahead_frames
    return before, after, exact


def check_chunkable(effects: list[Effect], suffix: str) -> None:
    """Raise MoviolaError when this job cannot be cut into chunks and joined again."""
    for effect in effects:
        problem = effect.chunk_problem()
        if problem:
            raise MoviolaError(
                f"{effect.name} cannot run in chunks ({problem}): use the local engine"
            )
    timeline = Chain(effects).timeline(Timeline())
    if not timeline.is_identity:
        names = ", ".join(e.name for e in effects)
        raise MoviolaError(
            f"these effects change the clip's timing ({names}): chunked engines need effects "
            "that keep it; run them with the local engine"
        )
    if suffix.lower() in (".gif", ".webp", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ""):
        raise MoviolaError(
            f"chunked engines write video files (.mp4 .mov .mkv .webm .avi), not {suffix or 'a folder'}"
        )


def render(
    source: str | Path,
    effects: list[Effect],
    chunk: Chunk,
    output: str | Path,
    settings: Settings,
    *,
    on_frame: Callable[[], None] | None = None,
) -> ChunkResult:
    """Render one chunk into ``output`` (same container and codec as the final file)."""
    import time

    started = time.monotonic()
    before, after, _exact = context(effects)
    tick = 1 / settings.rate
    read_start = max(Fraction(0), chunk.start - (before + Fraction(1, 2)) * tick)
    read_end = chunk.end + (after + Fraction(1, 2)) * tick if chunk.end is not None else None
    if before == 0:
        read_start = chunk.start
    reader = VideoReader(
        source, start=read_start, end=read_end, dtype=settings.dtype, strict=settings.strict
    )
    chain = Chain(effects)
    writer = None
    frames_in = frames_out = 0
    try:
        offset = reader.start
        info = reader.stream_info
        if info.duration is not None:
            info = info.evolve(duration=info.duration + offset, frames=None)
        out_info = chain.configure(info)
        shift: Fraction | None = None  # the first kept frame's time: chunks start at 0
        writer = out = VideoWriter(
            output, out_info, codec=settings.codec, crf=settings.crf, preset=settings.preset
        )

        def keep(frames: Iterable[Frame]) -> None:
            nonlocal frames_out, shift
            for frame in frames:
                if frame.time < chunk.start or (chunk.end is not None and frame.time >= chunk.end):
                    continue
                if shift is None:
                    shift = _shift(frame.time, settings.suffix)
                out.write(
                    Frame(frame.image, frame.time - shift, frame.duration, frame.index, frame.meta)
                )
                frames_out += 1
                if on_frame is not None:
                    on_frame()

        for frame in reader:
            frames_in += 1
            frame.time += offset
            keep(chain.push([frame]))
        keep(chain.finish())
        if frames_out == 0 or shift is None:
            raise MoviolaError(f"chunk {chunk.index} produced no frames")
        writer.close()
        writer = None
    finally:
        if writer is not None:
            writer.abort()
        chain.close()
        reader.close()
    return ChunkResult(chunk.index, frames_in, frames_out, shift, time.monotonic() - started)


# Containers that store milliseconds: a chunk's times are shifted by whole milliseconds, so that
# rounding them there and back gives the times a single run's muxer writes.
_MILLISECOND_CONTAINERS = (".mkv", ".webm")


def _shift(first: Fraction, suffix: str) -> Fraction:
    """How far a chunk file's times are moved back: to 0 at its first frame (MP4 and MOV then
    need no edit list), or to the whole millisecond before it in Matroska."""
    if suffix.lower() in _MILLISECOND_CONTAINERS:
        return Fraction(math.floor(first * 1000), 1000)
    return first


def suffix_of(output: str | Path, codec: str | None) -> str:
    target = resolve_target(output, codec)
    return target.path.suffix if target.sequence_pattern is None else ""
