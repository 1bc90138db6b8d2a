"""Split a video into one file per shot.

A shot is stream copied (its packets as they are: instant, lossless) when its packets can be
cut out of the stream on their own: the shot starts on a keyframe, and the packets from that
keyframe up to the next shot's first frame, in decode order, are exactly the shot's frames (no
B-frame of the shot refers past the cut, no leading picture refers back before it). Every
other shot is decoded and re-encoded, in one streamed pass over the source, with its audio cut
at the shot's first frame; each part then holds exactly the shot's frames.

    from moviola.analysis.split import split
    parts = split("edit.mp4", shots, "parts/")   # [SplitPart(path, shot, frames, mode, audio)]

Which shots can be stream copied, and the copy itself, are in ``stream_copy``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av.error

from moviola.analysis.export import check_shots
from moviola.analysis.model import Shot, ShotList
from moviola.analysis.stream_copy import (
    FrameTable,
    copy_part,
    copy_range,
    frame_table,
    keyframes,
)
from moviola.errors import MoviolaError
from moviola.media.audio import COPYABLE, AudioSource
from moviola.media.frame import Frame
from moviola.media.probe import probe
from moviola.media.reader import VideoReader
from moviola.media.remux import VIDEO_COPYABLE
from moviola.media.timeline import Timeline
from moviola.media.writer import VideoWriter, resolve_target

log = logging.getLogger("moviola")

__all__ = [
    "FrameTable",
    "SplitOptions",
    "SplitPart",
    "copy_range",
    "frame_table",
    "keyframes",
    "part_paths",
    "split",
]

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")


@dataclass
class SplitPart:
    path: Path
    shot: int  # the shot's index
    frames: int
    mode: str  # "copy" (packets as they are) or "re-encode"
    audio: bool

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "shot": self.shot,
            "frames": self.frames,
            "mode": self.mode,
            "audio": self.audio,
        }


def part_paths(
    source: str | os.PathLike, shots: ShotList, folder: str | os.PathLike, ext: str | None = None
) -> list[Path]:
    source = Path(source)
    if ext is None:
        ext = source.suffix.lower() if source.suffix.lower() in VIDEO_EXTENSIONS else ".mkv"
    elif not ext.startswith("."):
        ext = "." + ext
    return [Path(folder) / f"{source.stem}-shot{s.index:03d}{ext}" for s in shots.shots]


@dataclass(frozen=True)
class SplitOptions:
    """How ``split`` writes the parts.

    reencode: decode and re-encode every shot (no stream copy).
    ext:      the parts' extension (default: the source's, or .mkv when it is not a video one).
    codec, crf, preset: the encoder of re-encoded parts (a codec also turns stream copy off).
    audio:    carry the audio over.
    """

    reencode: bool = False
    ext: str | None = None
    codec: str | None = None
    crf: int | None = None
    preset: str | None = None
    audio: bool = True

    @classmethod
    def of(cls, options: SplitOptions | None = None, **changes: Any) -> SplitOptions:
        """``options`` (or the defaults) with ``changes`` applied; unknown names are an error."""
        unknown = set(changes) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"split: unknown option {', '.join(sorted(unknown))}")
        return replace(options or cls(), **changes)


@dataclass
class _Plan:
    """Which shots are stream copied (their packet ranges) and which re-encoded."""

    table: FrameTable | None
    ranges: list[tuple[int, int] | None]
    sorted_pts: list[int] = field(default_factory=list)  # the table's, in frame order

    def copied(self) -> list[int]:
        return [i for i, r in enumerate(self.ranges) if r is not None]


def split(
    source: str | os.PathLike,
    shots: ShotList,
    folder: str | os.PathLike,
    options: SplitOptions | None = None,
    *,
    progress: Callable[[SplitPart], None] | None = None,
    **changes: Any,
) -> list[SplitPart]:
    """Write one file per shot into ``folder``: ``<stem>-shot001<ext>``, ... Stream copy where
    the shot can be cut out of the packets as they are (unless ``reencode``), else decoded and
    re-encoded; the audio is carried in both cases. Returns the parts in shot order.
    ``options`` (a :class:`SplitOptions`) or keyword arguments named like its fields set how."""
    opts = SplitOptions.of(options, **changes)
    source = Path(source)
    if not shots.shots:
        raise MoviolaError("the shot list is empty: nothing to split")
    check_shots(shots)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise MoviolaError(f"output is a file, not a folder: {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    paths = part_paths(source, shots, folder, opts.ext)
    for p in paths:
        resolve_target(p, opts.codec)  # a bad extension or codec fails before any work
    info = probe(source)
    if not info.video:
        raise MoviolaError(f"input has no video stream: {source}")
    video = info.video[0]
    audio_info = info.audio[0] if (opts.audio and info.audio) else None

    plan = _plan(source, shots, paths[0], opts, video, audio_info)
    parts: list[SplitPart | None] = [None] * len(shots.shots)
    for i in plan.copied():
        copied = _try_copy(source, shots.shots[i], paths[i], i, plan, video.index, audio_info)
        parts[i] = copied
        if copied is not None and progress:
            progress(copied)
    todo = [i for i, p in enumerate(parts) if p is None]
    if todo:
        for part in _reencode(source, shots, paths, todo, audio_info, opts):
            parts[next(i for i in todo if shots.shots[i].index == part.shot)] = part
            if progress:
                progress(part)
    missing = [shots.shots[i].index for i, p in enumerate(parts) if p is None]
    if missing:
        log.warning(
            "shot(s) %s start past the end of %s: not written (is the shot list of this video?)",
            ", ".join(map(str, missing)),
            source.name,
        )
    return [p for p in parts if p is not None]


def _plan(
    source: Path, shots: ShotList, first_part: Path, opts: SplitOptions, video, audio_info
) -> _Plan:
    """Which shots can be stream copied: none when asked to re-encode or to use a codec, when
    the packets do not match the shot list, or when the parts' container cannot take the
    source's codecs; else those whose packets stand alone (``copy_range``)."""
    no_copy = _Plan(None, [None] * len(shots.shots))
    table = None if opts.reencode or opts.codec else frame_table(source, video.index)
    if table is None:
        return no_copy
    if table.frames != shots.frames:
        log.info(
            "%s: %d packets but %d frames in the shot list: every shot re-encoded",
            source,
            table.frames,
            shots.frames,
        )
        return no_copy
    muxer = resolve_target(first_part).muxer
    vok = VIDEO_COPYABLE.get(muxer, set())
    aok = COPYABLE.get(muxer, set())
    container_ok = (vok is None or video.codec in vok) and (
        audio_info is None or aok is None or audio_info.codec in aok
    )
    if not container_ok:
        return _Plan(table, [None] * len(shots.shots))
    ranges = [copy_range(table, shot) for shot in shots.shots]
    return _Plan(table, ranges, table.sorted_pts())


def _try_copy(
    source: Path, shot: Shot, path: Path, position: int, plan: _Plan, vindex: int, audio_info
) -> SplitPart | None:
    """The shot (at ``position`` in the list) stream copied into ``path``; None when that
    fails (it is re-encoded then)."""
    table = plan.table
    span = plan.ranges[position]
    if table is None or span is None:
        return None
    first, last = span
    sorted_pts = plan.sorted_pts
    start_pts = sorted_pts[shot.start_frame]
    end_pts = sorted_pts[shot.end_frame + 1] if shot.end_frame + 1 < table.frames else None
    try:
        has_audio = copy_part(
            source, path, vindex, audio_info, last - first, start_pts, end_pts, table.time_base
        )
    except (av.error.FFmpegError, MoviolaError, ValueError) as exc:
        log.info("stream copy of shot %d failed (%s): re-encoded", shot.index, exc)
        return None
    return SplitPart(path, shot.index, shot.frames, "copy", has_audio)


@dataclass
class _OpenPart:
    """A shot being re-encoded: its writer, and its first frame's time in the source."""

    shot: Shot
    writer: VideoWriter
    t0: Fraction
    written: int = 0

    def write(self, frame: Frame) -> None:
        self.writer.write(Frame(frame.image, frame.time - self.t0, frame.duration, self.written))
        self.written += 1

    def close(self) -> SplitPart:
        has_audio = self.writer.audio_mode is not None
        path = self.writer.close()
        return SplitPart(path, self.shot.index, self.written, "re-encode", has_audio)


def _open_part(
    source: Path,
    rate: Fraction,
    shot: Shot,
    path: Path,
    reader: VideoReader,
    first: Frame,
    audio_info,
    opts: SplitOptions,
) -> _OpenPart:
    """A writer for ``shot`` whose first frame is ``first``, with the audio of the same span."""
    t0 = first.time
    length = shot.duration if shot.duration > 0 else shot.frames / rate
    audio_source = None
    if audio_info is not None:
        audio_source = AudioSource(
            str(source), audio_info.index, reader.origin, Timeline(start=t0, end=t0 + length)
        )
    info = replace(reader.stream_info, frames=shot.frames, duration=length)
    writer = VideoWriter(
        path, info, codec=opts.codec, crf=opts.crf, preset=opts.preset, audio=audio_source
    )
    return _OpenPart(shot, writer, t0)


def _reencode(
    source: Path,
    shots: ShotList,
    paths: list[Path],
    todo: list[int],
    audio_info,
    opts: SplitOptions,
) -> Iterator[SplitPart]:
    """One streamed decode of the source; each shot in ``todo`` is encoded to its own file
    from its first decoded frame to its last, with its audio cut along the same span."""
    wanted = {shots.shots[i].start_frame: i for i in todo}
    last_wanted = max(shots.shots[i].end_frame for i in todo)
    reader = VideoReader(source)
    part: _OpenPart | None = None
    try:
        for n, frame in enumerate(reader):
            if part is None and n in wanted:
                i = wanted[n]
                shot = shots.shots[i]
                part = _open_part(
                    source, shots.rate, shot, paths[i], reader, frame, audio_info, opts
                )
            if part is not None:
                part.write(frame)
                if n == part.shot.end_frame:
                    done = part.close()
                    part = None
                    yield done
            if n >= last_wanted:
                break
        if part is not None:  # the video ended inside a shot
            shot = part.shot
            done = part.close()
            part = None
            log.warning(
                "shot %d ends past the video's last frame: %d of %d frames written",
                shot.index,
                done.frames,
                shot.frames,
            )
            yield done
    finally:
        if part is not None:
            part.writer.abort()
        reader.close()
