"""A small real-footage edit with known shots, for the export and split tests.

Segments of samples/vtest.avi and samples/Megamind.avi, scaled to one size, cut together at
30000/1001 fps as H.264 (keyframes only where asked), with a click track whose clicks fall on
the cuts. Returns the exact ShotList of what was written.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2

from moviola.analysis.model import Shot, ShotList
from moviola.media import VideoReader
from moviola.media.synth import click_track


def make_edit(
    path: Path,
    segments: list[tuple[Path, int, int]],
    *,
    size=(320, 240),
    rate=Fraction(30000, 1001),
    keyframes_at_cuts: bool | set[int] = True,
    audio: bool = True,
    bframes: int = 2,
) -> ShotList:
    """segments: (file, first frame, frame count). keyframes_at_cuts: an IDR frame starts each
    segment (True) or the segments numbered in the set; else the only keyframe is frame 0 (no
    scene-cut detection, long GOP)."""
    out = av.open(str(path), "w")
    stream = out.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
    stream.codec_context.time_base = 1 / rate
    stream.codec_context.options = {
        "x264-params": f"keyint=10000:min-keyint=10000:scenecut=0:bframes={bframes}"
        ":log-level=error",
        "forced-idr": "1",
        "preset": "ultrafast",
    }
    astream = None
    if audio:
        astream = out.add_stream("aac", rate=48000)
        astream.codec_context.layout = "mono"
    shots = []
    index = 0
    for n, (source, first, count) in enumerate(segments):
        start = index
        with VideoReader(source) as reader:
            for k, frame in enumerate(reader):
                if k < first:
                    continue
                if k >= first + count:
                    break
                image = cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
                vf = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
                vf.pts = index
                vf.time_base = 1 / rate
                if k == first and (keyframes_at_cuts is True or n in (keyframes_at_cuts or ())):
                    vf.pict_type = av.video.frame.PictureType.I
                for packet in stream.encode(vf):
                    out.mux(packet)
                index += 1
        shots.append(
            Shot(
                index=n + 1,
                start_frame=start,
                end_frame=index - 1,
                start=start / rate,
                end=index / rate,
                transition="start" if n == 0 else "cut",
            )
        )
    for packet in stream.encode(None):
        out.mux(packet)
    if astream is not None:
        cuts = [float(s.start) for s in shots[1:]]
        samples = click_track(float(index / rate), cuts)
        size_ = astream.codec_context.frame_size or 1024
        pts = 0
        for s in range(0, len(samples), size_):
            chunk = samples[s : s + size_]
            if len(chunk) < size_:
                chunk = __import__("numpy").pad(chunk, (0, size_ - len(chunk)))
            af = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            af.sample_rate = 48000
            af.pts = pts
            af.time_base = Fraction(1, 48000)
            pts += len(chunk)
            for packet in astream.encode(af):
                out.mux(packet)
        for packet in astream.encode(None):
            out.mux(packet)
    out.close()
    return ShotList(
        source=str(path),
        rate=Fraction(rate),
        width=size[0],
        height=size[1],
        frames=index,
        shots=shots,
        detector="known",
        audio=audio,
    )
