"""Synthetic test clips: moving pictures with flash frames and a click track aligned to them.

Used by the tests and the demo. A flash is a white frame; at the same instant the audio has a
short click, so that audio/video sync can be measured after any processing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream


def picture(width: int, height: int, index: int, t: float) -> np.ndarray:
    """A moving colour pattern with a bar that encodes the frame index (bit per block)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 127 + 100 * np.sin(x / 17.0 + t * 3.0)
    g = 127 + 100 * np.sin(y / 13.0 - t * 2.0)
    b = 127 + 100 * np.sin((x + y) / 29.0 + t)
    image = np.stack([r, g, b], axis=2).clip(0, 255).astype(np.uint8)
    # A dark square moving left to right: motion that can be seen and measured.
    size = max(4, min(width, height) // 6)
    cx = int((t * 0.25 % 1.0) * max(1, width - size))
    image[height // 3 : height // 3 + size, cx : cx + size] = 20
    return image


def click_track(duration: float, flashes: Sequence[float], rate: int = 48000) -> np.ndarray:
    """Mono float32 audio: a quiet tone with a loud 5 ms click at every flash time."""
    n = int(round(duration * rate))
    t = np.arange(n, dtype=np.float32) / rate
    audio = 0.05 * np.sin(2 * np.pi * 220 * t)
    click = int(0.005 * rate)
    for f in flashes:
        i = int(round(f * rate))
        audio[i : i + click] = 0.9
    return audio.astype(np.float32)


@dataclass(frozen=True)
class ClipSpec:
    """What ``make_clip`` writes; its fields are ``make_clip``'s keyword options.

    variable_rate: frame intervals alternate between 1x and 2x the nominal interval.
    alpha: frames carry an alpha channel (a transparent left half), for codecs that keep it.
    options: the video encoder's options; container_options: the muxer's
    (``{"movflags": "+faststart"}`` puts an MP4's index at the front).
    """

    width: int = 320
    height: int = 240
    rate: Fraction | str | int = Fraction(30000, 1001)
    duration: float = 3.0
    flashes: Sequence[float] = (0.5, 1.5, 2.5)
    audio: bool = True
    audio_codec: str | None = None
    audio_rate: int = 48000
    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    rotation: int = 0
    variable_rate: bool = False
    alpha: bool = False
    options: dict | None = None
    container_options: dict | None = None


def make_clip(
    path: str | os.PathLike, spec: ClipSpec | None = None, **options: Any
) -> list[Fraction]:
    """Write a test clip; returns the exact presentation time of every frame written.

    The options are ClipSpec's fields, given as keywords (``make_clip(path, width=64, rate=25)``),
    as a spec, or both (keywords override the spec's fields).
    """
    spec = replace(spec or ClipSpec(), **options)
    rate = Fraction(spec.rate)
    tick = 1 / rate
    time_base = Fraction(1, 90000) if spec.variable_rate else tick
    out = av.open(str(path), "w", options=dict(spec.container_options or {}))
    stream = _video_stream(out, spec, rate, time_base)
    audio_stream = None
    if spec.audio:
        name = spec.audio_codec or ("libopus" if str(path).endswith(".webm") else "aac")
        audio_stream = out.add_stream(name, rate=spec.audio_rate)
        if not isinstance(audio_stream, AudioStream):
            raise ValueError(f"{name} is not an audio encoder")
        audio_stream.codec_context.layout = "mono"

    times, flashed, end = _write_frames(out, stream, spec, tick, time_base)
    if audio_stream is not None:
        samples = click_track(float(end), flashed, spec.audio_rate)
        _write_audio(out, audio_stream, samples, spec.audio_rate)
    out.close()
    return times


def _video_stream(
    out: OutputContainer, spec: ClipSpec, rate: Fraction, time_base: Fraction
) -> VideoStream:
    stream = out.add_stream(spec.codec, rate=rate)
    if not isinstance(stream, VideoStream):
        raise ValueError(f"{spec.codec} is not a video encoder")
    stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, spec.pix_fmt
    stream.codec_context.time_base = time_base
    stream.time_base = time_base
    if spec.options:
        stream.codec_context.options = spec.options
    if spec.rotation:
        stream.set_display_rotation(spec.rotation)
    return stream


def _write_frames(
    out: OutputContainer, stream: VideoStream, spec: ClipSpec, tick: Fraction, time_base: Fraction
) -> tuple[list[Fraction], list[float], Fraction]:
    """Encode the frames; returns their times, the flash frames' times and the clip's end."""
    width, height = spec.width, spec.height
    times: list[Fraction] = []
    t = Fraction(0)
    index = 0
    pending = sorted(spec.flashes)
    flashed: list[float] = []  # the exact times of the flash frames, where the clicks go
    while t < spec.duration:
        image = picture(width, height, index, float(t))
        if pending and t >= pending[0]:
            image[:] = 255
            flashed.append(float(t))
            pending.pop(0)
        fmt = "rgb24"
        if spec.alpha:
            a = np.full((height, width, 1), 255, np.uint8)
            a[:, : width // 2] = 0
            image = np.concatenate([image, a], axis=2)
            fmt = "rgba"
        frame = av.VideoFrame.from_ndarray(image, format=fmt)
        frame = frame.reformat(format=spec.pix_fmt)
        frame.pts = round(t / time_base)
        frame.time_base = time_base
        for packet in stream.encode(frame):
            out.mux(packet)
        times.append(t)
        step = tick * (2 if spec.variable_rate and index % 2 else 1)
        t += step
        index += 1
    for packet in stream.encode(None):
        out.mux(packet)
    return times, flashed, t


def _write_audio(out: OutputContainer, stream: AudioStream, samples: np.ndarray, rate: int) -> None:
    cc = stream.codec_context
    size = cc.frame_size or 1024
    fmt = cc.format.name
    pts = 0
    for start in range(0, len(samples), size):
        chunk = samples[start : start + size]
        if len(chunk) < size and cc.frame_size:
            chunk = np.pad(chunk, (0, size - len(chunk)))
        frame = av.AudioFrame.from_ndarray(
            chunk[None, :].astype(np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = rate
        frame.pts = pts
        frame.time_base = Fraction(1, rate)
        pts += len(chunk)
        if fmt != "fltp":
            frame = av.AudioResampler(format=fmt, layout="mono", rate=rate).resample(frame)[0]
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


def flash_times(path: str | os.PathLike, threshold: float = 230.0) -> list[float]:
    """Times (seconds from the first frame) of frames that are almost entirely white."""
    container = av.open(str(path))
    stream = container.streams.video[0]
    first = None
    found = []
    for frame in container.decode(stream):
        t = _seconds(frame.pts, frame.time_base)
        first = t if first is None else first
        gray = frame.to_ndarray(format="gray")
        if float(gray.mean()) > threshold:
            found.append(t - first)
    container.close()
    # A flash may last several frames after retiming: keep the first of each run.
    runs = []
    for t in found:
        if not runs or t - runs[-1][-1] > 0.2:
            runs.append([t])
        else:
            runs[-1].append(t)
    return [r[0] for r in runs]


def click_times(path: str | os.PathLike, threshold: float = 0.5) -> list[float]:
    """Times (seconds from the first video frame) where the audio jumps above the threshold."""
    container = av.open(str(path))
    video_start = 0.0
    if container.streams.video:
        vs = container.streams.video[0]
        if vs.start_time is not None:
            video_start = _seconds(vs.start_time, vs.time_base)
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="flt", layout="mono")
    chunks = []
    start = None
    rate = stream.codec_context.sample_rate
    for frame in container.decode(stream):
        if start is None:
            start = _seconds(frame.pts, frame.time_base) if frame.pts is not None else 0.0
        for out in resampler.resample(frame):
            chunks.append(out.to_ndarray().reshape(-1))
    container.close()
    if not chunks or start is None:
        return []
    samples = np.abs(np.concatenate(chunks))
    above = samples > threshold
    times = []
    last = -1.0
    for i in np.flatnonzero(above):
        t = start + i / rate - video_start
        if t - last > 0.2:
            times.append(t)
        last = t
    return times


def _seconds(ticks: int | None, time_base: Fraction | None) -> float:
    """A timestamp in seconds; decoded frames and demuxed streams always carry both parts."""
    if ticks is None or time_base is None:
        raise ValueError("a frame or stream without a timestamp")
    return float(ticks * time_base)
