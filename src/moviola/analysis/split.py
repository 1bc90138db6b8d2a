"""Split a video into one file per shot.

A shot is stream copied (its packets as they are: instant, lossless) when its packets can be
cut out of the stream on their own: the shot starts on a keyframe, and the packets from that
keyframe up to the next shot's first frame, in decode order, are exactly the shot's frames (no
B-frame of the shot refers past the cut, no leading picture refers back before it). Every
other shot is decoded and re-encoded, in one streamed pass over the source, with its audio cut
at the shot's first frame; each part then holds exactly the shot's frames.

    from moviola.analysis.split import split
    parts = split("edit.mp4", shots, "parts/")   # [SplitPart(path, shot, frames, mode, audio)]
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av

from moviola.analysis.export import atomic_path, check_shots
from moviola.analysis.model import Shot, ShotList
from moviola.errors import MoviolaError
from moviola.media.audio import COPYABLE, AudioSource
from moviola.media.frame import Frame
from moviola.media.probe import open_input, probe
from moviola.media.reader import VideoReader
from moviola.media.timeline import Timeline
from moviola.media.writer import VideoWriter, resolve_target

log = logging.getLogger("moviola")

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
# Video codecs each container takes by stream copy (others are re-encoded).
_VIDEO_COPYABLE = {
    "mp4": {"h264", "hevc", "av1", "vp9", "mpeg4", "mpeg2video", "mjpeg"},
    "mov": {"h264", "hevc", "prores", "mpeg4", "mpeg2video", "mjpeg", "png", "dnxhd"},
    "matroska": None,
    "webm": {"vp8", "vp9", "av1"},
    "avi": {"mpeg4", "h264", "mjpeg", "ffv1", "msmpeg4v3", "mpeg2video"},
}


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


@dataclass
class FrameTable:
    """The video packets of a file, read without decoding: presentation timestamps in decode
    order and which are keyframes. ``rank[i]`` is the frame number of the i-th packet."""

    pts: list[int]
    keyframe: list[bool]
    rank: list[int]
    time_base: Fraction

    @property
    def frames(self) -> int:
        return len(self.pts)

    def sorted_pts(self) -> list[int]:
        return sorted(self.pts)


def frame_table(path: str | os.PathLike, stream_index: int | None = None) -> FrameTable | None:
    """The video packets of ``path`` (demuxed only). None when timestamps are missing or
    repeated, as in AVI with packed B-frames: then frame numbers cannot be told from packets."""
    with open_input(path) as container:
        stream = (
            container.streams.video[0] if stream_index is None else container.streams[stream_index]
        )
        pts: list[int] = []
        keys: list[bool] = []
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if packet.pts is None:
                    return None
                pts.append(packet.pts)
                keys.append(bool(packet.is_keyframe))
        except av.FFmpegError:
            return None
        tb = Fraction(stream.time_base)
    if len(set(pts)) != len(pts):
        return None
    order = {p: i for i, p in enumerate(sorted(pts))}
    return FrameTable(pts=pts, keyframe=keys, rank=[order[p] for p in pts], time_base=tb)


def keyframes(path: str | os.PathLike) -> list[int]:
    """Frame numbers of the keyframes (from packet flags, no decoding); [] when unknown."""
    table = frame_table(path)
    if table is None:
        return []
    return sorted(r for r, k in zip(table.rank, table.keyframe, strict=True) if k)


def copy_range(table: FrameTable, shot: Shot) -> tuple[int, int] | None:
    """The decode-order packet range [first, last) that holds exactly the shot's frames, with
    a keyframe first; None when the shot cannot be cut out by stream copy."""
    if shot.end_frame >= table.frames:
        return None
    by_rank = {r: i for i, r in enumerate(table.rank)}
    first = by_rank.get(shot.start_frame)
    if first is None or not table.keyframe[first]:
        return None
    last = by_rank[shot.end_frame + 1] if shot.end_frame + 1 < table.frames else table.frames
    if last <= first:
        return None
    ranks = table.rank[first:last]
    if len(ranks) != shot.frames or min(ranks) != shot.start_frame or max(ranks) != shot.end_frame:
        return None
    return first, last


def part_paths(
    source: str | os.PathLike, shots: ShotList, folder: str | os.PathLike, ext: str | None = None
) -> list[Path]:
    source = Path(source)
    if ext is None:
        ext = source.suffix.lower() if source.suffix.lower() in VIDEO_EXTENSIONS else ".mkv"
    elif not ext.startswith("."):
        ext = "." + ext
    return [Path(folder) / f"{source.stem}-shot{s.index:03d}{ext}" for s in shots.shots]


def split(
    source: str | os.PathLike,
    shots: ShotList,
    folder: str | os.PathLike,
    *,
    reencode: bool = False,
    ext: str | None = None,
    codec: str | None = None,
    crf: int | None = None,
    preset: str | None = None,
    audio: bool = True,
    progress: Callable[[SplitPart], None] | None = None,
) -> list[SplitPart]:
    """Write one file per shot into ``folder``: ``<stem>-shot001<ext>``, ... Stream copy where
    the shot can be cut out of the packets as they are (unless ``reencode``), else decoded and
    re-encoded; the audio is carried in both cases. Returns the parts in shot order."""
    source = Path(source)
    if not shots.shots:
        raise MoviolaError("the shot list is empty: nothing to split")
    check_shots(shots)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise MoviolaError(f"output is a file, not a folder: {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    paths = part_paths(source, shots, folder, ext)
    for p in paths:
        resolve_target(p, codec)  # a bad extension or codec fails before any work
    info = probe(source)
    if not info.video:
        raise MoviolaError(f"input has no video stream: {source}")
    video = info.video[0]
    audio_info = info.audio[0] if (audio and info.audio) else None

    modes: list[str] = ["re-encode"] * len(shots.shots)
    ranges: list[tuple[int, int] | None] = [None] * len(shots.shots)
    table = None if reencode or codec else frame_table(source, video.index)
    if table is not None and table.frames != shots.frames:
        log.info(
            "%s: %d packets but %d frames in the shot list: every shot re-encoded",
            source,
            table.frames,
            shots.frames,
        )
        table = None
    if table is not None:
        muxer = resolve_target(paths[0]).muxer
        vok = _VIDEO_COPYABLE.get(muxer, set())
        aok = COPYABLE.get(muxer, set())
        container_ok = (vok is None or video.codec in vok) and (
            audio_info is None or aok is None or audio_info.codec in aok
        )
        if container_ok:
            for i, shot in enumerate(shots.shots):
                ranges[i] = copy_range(table, shot)
                if ranges[i] is not None:
                    modes[i] = "copy"

    parts: list[SplitPart | None] = [None] * len(shots.shots)
    sorted_pts = table.sorted_pts() if table is not None else []
    for i, shot in enumerate(shots.shots):
        if modes[i] != "copy":
            continue
        try:
            first, last = ranges[i]
            start_pts = sorted_pts[shot.start_frame]
            end_pts = sorted_pts[shot.end_frame + 1] if shot.end_frame + 1 < table.frames else None
            has_audio = _copy_part(
                source,
                paths[i],
                video.index,
                audio_info,
                last - first,
                start_pts,
                end_pts,
                table.time_base,
            )
        except (av.FFmpegError, MoviolaError, ValueError) as exc:
            log.info("stream copy of shot %d failed (%s): re-encoded", shot.index, exc)
            modes[i] = "re-encode"
            continue
        parts[i] = SplitPart(paths[i], shot.index, shot.frames, "copy", has_audio)
        if progress:
            progress(parts[i])

    todo = [i for i, m in enumerate(modes) if m == "re-encode"]
    if todo:
        for part in _reencode(source, shots, paths, todo, audio_info, codec, crf, preset):
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


def _copy_part(
    source: Path,
    target: Path,
    vindex: int,
    audio_info,
    count: int,
    start_pts: int,
    end_pts: int | None,
    vtb: Fraction,
) -> bool:
    """Remux ``count`` video packets from the keyframe at ``start_pts`` (and the audio packets
    of the same time span) into ``target``, times shifted so the shot starts at 0."""
    t0 = start_pts * vtb
    t1 = end_pts * vtb if end_pts is not None else None
    with contextlib.ExitStack() as stack:
        vin = stack.enter_context(open_input(source))
        vstream = vin.streams[vindex]
        vin.seek(start_pts, stream=vstream, backward=True, any_frame=False)
        ain = astream = None
        if audio_info is not None:
            ain = stack.enter_context(open_input(source))
            astream = ain.streams[audio_info.index]
        with atomic_path(target) as tmp:
            out = av.open(str(tmp), "w", format=resolve_target(target).muxer)
            try:
                ov = out.add_stream_from_template(vstream)
                oa = out.add_stream_from_template(astream) if astream is not None else None
                streams = [_video_packets(vin, vstream, ov, count, start_pts)]
                if oa is not None:
                    streams.append(_audio_packets(ain, astream, oa, t0, t1))
                written = {"v": 0, "a": 0}
                for _, _, kind, packet in heapq.merge(*streams):
                    out.mux(packet)
                    written[kind] += 1
                if written["v"] != count:
                    raise MoviolaError(f"expected {count} video packets, copied {written['v']}")
            finally:
                out.close()
    return audio_info is not None and written["a"] > 0


def _video_packets(container, stream, out_stream, count: int, start_pts: int) -> Iterator[tuple]:
    tb = Fraction(stream.time_base)
    taken = 0
    started = False
    for packet in container.demux(stream):
        if packet.size == 0 or packet.pts is None:
            continue
        if not started:
            if packet.pts != start_pts:
                continue
            started = True
        dts = packet.dts if packet.dts is not None else packet.pts
        packet.pts -= start_pts
        packet.dts = dts - start_pts
        packet.stream = out_stream
        yield (packet.dts * tb, taken, "v", packet)
        taken += 1
        if taken == count:
            return


def _audio_packets(
    container, stream, out_stream, t0: Fraction, t1: Fraction | None
) -> Iterator[tuple]:
    """Audio packets whose middle lies in [t0, t1), shifted by t0 (cut to the nearest packet:
    within half a packet, about 10 ms for AAC). The packet before t0 goes first, at a negative
    time, so the decoder is primed (AAC, MP3, AC-3 frames overlap their neighbours); the
    container's edit list (MP4, MOV) keeps it from being heard."""
    tb = Fraction(stream.time_base)
    container.seek(max(0, int((t0 - 2) / tb)), stream=stream, backward=True)
    shift = round(t0 / tb)
    preroll = not stream.codec_context.name.startswith("pcm_")
    previous = None
    n = 0
    for packet in container.demux(stream):
        if packet.size == 0 or packet.pts is None:
            continue
        mid = (packet.pts + (packet.duration or 0) / 2) * tb
        if mid < t0:
            previous = packet
            continue
        if t1 is not None and mid >= t1:
            return
        batch = [packet]
        if n == 0 and preroll and previous is not None:
            batch.insert(0, previous)
        for p in batch:
            dts = p.dts if p.dts is not None else p.pts
            p.pts -= shift
            p.dts = dts - shift
            p.stream = out_stream
            yield (p.pts * tb, n, "a", p)
            n += 1


def _reencode(
    source: Path,
    shots: ShotList,
    paths: list[Path],
    todo: list[int],
    audio_info,
    codec,
    crf,
    preset,
) -> Iterator[SplitPart]:
    """One streamed decode of the source; each shot in ``todo`` is encoded to its own file
    from its first decoded frame to its last, with its audio cut along the same span."""
    wanted = {shots.shots[i].start_frame: i for i in todo}
    last_wanted = max(shots.shots[i].end_frame for i in todo)
    reader = VideoReader(source)
    writer: VideoWriter | None = None
    current: int | None = None
    t0 = Fraction(0)
    written = 0
    try:
        base = reader.stream_info
        for n, frame in enumerate(reader):
            if current is None and n in wanted:
                current = wanted[n]
                shot = shots.shots[current]
                t0 = frame.time
                length = shot.duration if shot.duration > 0 else shot.frames / shots.rate
                audio_source = None
                if audio_info is not None:
                    audio_source = AudioSource(
                        str(source),
                        audio_info.index,
                        reader.origin,
                        Timeline(start=t0, end=t0 + length),
                    )
                info = replace(base, frames=shot.frames, duration=length)
                writer = VideoWriter(
                    paths[current], info, codec=codec, crf=crf, preset=preset, audio=audio_source
                )
                written = 0
            if current is not None:
                writer.write(Frame(frame.image, frame.time - t0, frame.duration, written))
                written += 1
                shot = shots.shots[current]
                if n == shot.end_frame:
                    has_audio = writer.audio_mode is not None
                    path = writer.close()
                    writer = None
                    yield SplitPart(path, shot.index, written, "re-encode", has_audio)
                    current = None
            if n >= last_wanted:
                break
        if writer is not None:  # the video ended inside a shot
            shot = shots.shots[current]
            has_audio = writer.audio_mode is not None
            path = writer.close()
            writer = None
            log.warning(
                "shot %d ends past the video's last frame: %d of %d frames written",
                shot.index,
                written,
                shot.frames,
            )
            yield SplitPart(path, shot.index, written, "re-encode", has_audio)
    finally:
        if writer is not None:
            writer.abort()
        reader.close()
