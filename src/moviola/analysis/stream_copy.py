"""Stream copy of a shot: the video packets of a file read without decoding (frame numbers,
keyframes), whether a shot's packets stand alone, and the remux of those packets (with the
audio packets of the same span) into a file of their own."""

from __future__ import annotations

import contextlib
import heapq
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import av.error

from moviola.analysis.model import Shot
from moviola.analysis.output import atomic_path
from moviola.errors import MoviolaError
from moviola.media.probe import open_input
from moviola.media.writer import resolve_target


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
        except av.error.FFmpegError:
            return None
        if stream.time_base is None:
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


def copy_part(
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


def _shift(packet: av.Packet, shift: int, out_stream) -> None:
    """Move a demuxed packet ``shift`` ticks earlier (its dts taken from its pts when it has
    none) and into ``out_stream``."""
    pts = cast(int, packet.pts)
    dts = packet.dts if packet.dts is not None else pts
    packet.pts = pts - shift
    packet.dts = dts - shift
    packet.stream = out_stream


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
        _shift(packet, start_pts, out_stream)
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
            _shift(p, shift, out_stream)
            yield (p.pts * tb, n, "a", p)
            n += 1
