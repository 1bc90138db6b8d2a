"""Keep some stretches of a clip and join them: a cut list rendered, frame-exact, in sync.

Used by ``moviola cut`` (silences, fillers, text-based editing). The stretches to keep are
given in seconds; each is snapped to whole frames (a frame is kept when its middle lies in a
stretch), so picture and sound are cut at the same instants: a frame's start. The video is
decoded and re-encoded (kept frames keep their own durations, so variable frame rate stays
variable); the audio is cut at the same instants with an equal-power-free linear crossfade of
``crossfade`` seconds centred on each join, taken from the source beyond each cut, so the
joined sound is exactly as long as the joined picture and every cut is click-free. Audio is
streamed through a float WAV beside the output; memory holds one decoded frame of each stream.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import numpy as np

from moviola.errors import MoviolaError

Span = tuple[Fraction, Fraction]


@dataclass(frozen=True)
class Cut:
    """Kept stretches snapped to frames: times (from the first frame) and frame numbers."""

    spans: list[Span]
    frames: list[tuple[int, int]]  # first and last frame of each span (inclusive)
    duration: Fraction  # of the source
    rate: Fraction

    @property
    def kept(self) -> Fraction:
        return sum((b - a for a, b in self.spans), Fraction(0))

    def cues(self, cues: list) -> list:
        """Subtitle cues of the source in the output: each kept part of a cue, moved along."""
        from moviola.media.subtitles import Cue

        out = []
        done = Fraction(0)
        for a, b in self.spans:
            for c in cues:
                lo, hi = max(c.start, a), min(c.end, b)
                if hi > lo:
                    out.append(Cue(done + lo - a, done + hi - a, c.text, c.speaker))
            done += b - a
        return sorted(out, key=lambda c: c.start)

    def to_output(self, t: Fraction) -> Fraction | None:
        """Where source time ``t`` lands in the output (None: cut out)."""
        done = Fraction(0)
        for a, b in self.spans:
            if a <= t < b:
                return done + t - a
            done += b - a
        return None


def frame_times(path: str | os.PathLike) -> tuple[list[Fraction], Fraction]:
    """Start times of the video frames (from the first, by demuxing, no decoding) and the
    time the last one ends."""
    import av
    from av.error import FFmpegError

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MoviolaError(f"{path} has no video stream")
            stream = container.streams.video[0]
            tb = Fraction(stream.time_base or Fraction(1, 90000))
            pts = sorted(
                {int(p.pts) for p in container.demux(stream) if p.pts is not None and p.size}
            )
            rate = Fraction(stream.average_rate or stream.base_rate or 25)
    except FFmpegError as e:
        raise MoviolaError(f"cannot read {path}: {e}") from None
    if not pts:
        raise MoviolaError(f"no video frames in {path}")
    times = [(p - pts[0]) * tb for p in pts]
    last = times[-1] + (times[-1] - times[-2] if len(times) > 1 else 1 / rate)
    return times, last


def snap(spans: Sequence[tuple[float, float]], times: Sequence[Fraction], end: Fraction) -> Cut:
    """Snap stretches (seconds) to whole frames, merged and in order."""
    if not times:
        raise MoviolaError("no frames to cut")
    keep = [False] * len(times)
    ordered = sorted((float(a), float(b)) for a, b in spans if b > a)
    for i, t in enumerate(times):
        nxt = times[i + 1] if i + 1 < len(times) else end
        mid = float(t + nxt) / 2
        keep[i] = any(a <= mid < b for a, b in ordered)
    out: list[Span] = []
    frames: list[tuple[int, int]] = []
    for i, k in enumerate(keep):
        if not k:
            continue
        nxt = times[i + 1] if i + 1 < len(times) else end
        if frames and frames[-1][1] == i - 1:
            frames[-1] = (frames[-1][0], i)
            out[-1] = (out[-1][0], nxt)
        else:
            frames.append((i, i))
            out.append((times[i], nxt))
    rate = Fraction(len(times)) / end if end > 0 else Fraction(25)
    return Cut(out, frames, end, rate)


def _audio_chunks(path: str, origin: Fraction) -> Iterator[tuple[Fraction, np.ndarray, int]]:
    """(start time from the video origin, samples x channels float32, rate) per decoded frame."""
    import av
    from av.error import FFmpegError

    with av.open(path) as container:
        stream = container.streams.audio[0]
        resampler = None
        next_t: Fraction | None = None
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except FFmpegError:
                continue
            for frame in decoded:
                frame = cast(av.AudioFrame, frame)
                if resampler is None:
                    resampler = av.AudioResampler(
                        format="flt", layout=frame.layout.name, rate=frame.sample_rate
                    )
                t = (
                    Fraction(frame.pts) * Fraction(frame.time_base) - origin
                    if frame.pts is not None and frame.time_base is not None
                    else next_t or Fraction(0)
                )
                for out in resampler.resample(frame):
                    data = out.to_ndarray().reshape(-1, len(out.layout.channels))
                    yield t, data.astype(np.float32, copy=False), out.sample_rate
                    t += Fraction(len(data), out.sample_rate)
                    next_t = t


def _write_audio(src: str, cut: Cut, origin: Fraction, wav: Path, crossfade: float) -> bool:
    """The kept audio, crossfaded at each join, to a float WAV (False when none was decoded)."""
    import av

    out = None
    stream = None
    try:
        buf = np.zeros((0, 0), np.float32)
        buf_at = 0  # output sample of buf[0]
        for t, data, rate in _audio_chunks(src, origin):
            if out is None:
                out = av.open(str(wav), "w", format="wav")
                stream = out.add_stream("pcm_f32le", rate=rate, layout=_layout(data.shape[1]))
                buf = np.zeros((0, data.shape[1]), np.float32)
            buf, buf_at = _place(buf, buf_at, t, data, rate, cut, crossfade)
            ready = _safe_until(t, rate, cut, crossfade) - buf_at
            if ready > 0:
                _encode(out, stream, buf[:ready], rate, buf_at)
                buf, buf_at = buf[ready:], buf_at + ready
        if out is not None and stream is not None:
            total = int(round(cut.kept * (stream.sample_rate or 1)))
            _encode(out, stream, buf[: max(total - buf_at, 0)], stream.sample_rate or 1, buf_at)
            for packet in stream.encode(None):
                out.mux(packet)
    finally:
        if out is not None:
            out.close()
    return out is not None


def _layout(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")


def _gain(s: np.ndarray, a: float, b: float, h: float, first: bool, last: bool) -> np.ndarray:
    g = np.ones(len(s), np.float32)
    if h > 0:
        if not first:
            g = np.minimum(g, np.clip((s - (a - h)) / (2 * h), 0, 1))
        if not last:
            g = np.minimum(g, np.clip(((b + h) - s) / (2 * h), 0, 1))
    return g


def _place(buf, buf_at, t, data, rate, cut: Cut, crossfade):
    """Overlap-add the parts of one decoded chunk that some kept span (with its fade
    margins) needs into the output buffer."""
    h = crossfade / 2
    s = float(t) + np.arange(len(data)) / rate  # source time of each sample
    done = 0.0
    n = len(cut.spans)
    for k, (a, b) in enumerate(cut.spans):
        a, b = float(a), float(b)
        lo = a - (h if k else 0.0)
        hi = b + (h if k < n - 1 else 0.0)
        sel = (s >= lo) & (s < hi)
        if sel.any():
            idx = np.nonzero(sel)[0]
            pos = np.round((done + s[idx] - a) * rate).astype(np.int64) - buf_at
            pos = np.clip(pos, 0, None)
            need = int(pos.max()) + 1
            if need > len(buf):
                buf = np.concatenate([buf, np.zeros((need - len(buf), buf.shape[1]), np.float32)])
            g = _gain(s[idx], a, b, h, k == 0, k == n - 1)
            np.add.at(buf, pos, data[idx] * g[:, None])
        done += b - a
    return buf, buf_at


def _safe_until(t: Fraction, rate: int, cut: Cut, crossfade: float) -> int:
    """Output samples no later source audio can still add to."""
    src = float(t) - crossfade
    done = 0.0
    for a, b in cut.spans:
        a, b = float(a), float(b)
        if src < a:
            return int((done - crossfade) * rate)
        if src < b:
            return int((done + src - a) * rate)
        done += b - a
    return int(done * rate)


def _encode(out, stream, samples: np.ndarray, rate: int, at: int) -> None:
    import av

    if not len(samples):
        return
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(samples.reshape(1, -1)), format="flt", layout=stream.layout.name
    )
    frame.sample_rate = rate
    frame.pts = at
    frame.time_base = Fraction(1, rate)
    for packet in stream.encode(frame):
        out.mux(packet)


def splice(
    src: str | os.PathLike,
    cut: Cut,
    dst: str | os.PathLike,
    *,
    crossfade: float = 0.02,
    progress=None,
    codec: str | None = None,
    crf: int | None = None,
) -> Path:
    """Render ``cut`` of ``src`` to ``dst`` (video re-encoded, audio crossfaded, in sync)."""
    from moviola.media.audio import AudioSource
    from moviola.media.probe import probe
    from moviola.media.reader import VideoReader
    from moviola.media.writer import VideoWriter

    if not cut.spans:
        raise MoviolaError("nothing would be left: the cut keeps no frame")
    from moviola.media.subtitles import SubtitleSource

    info = probe(src)
    origin = info.video[0].start_time if info.video else Fraction(0)
    streams = tuple((s.index, s.codec, s.language) for s in info.subtitles)
    subtitles = SubtitleSource(str(src), streams, origin, None, cut.cues) if streams else None
    target = Path(dst)
    wav = target.with_name(f".{target.name}.moviola-cut-audio.wav")
    try:
        has_audio = bool(info.audio) and _write_audio(str(src), cut, origin, wav, crossfade)
        audio = AudioSource(str(wav), 0, Fraction(0)) if has_audio else None
        with VideoReader(src) as reader:
            stream_info = reader.stream_info
            frames = sum(b - a + 1 for a, b in cut.frames)
            writer = VideoWriter(
                dst,
                stream_info.evolve(frames=frames, duration=cut.kept),
                audio=audio,
                subtitles=subtitles,
                codec=codec,
                crf=crf,
            )
            try:
                written = 0
                for frame in reader:
                    at = cut.to_output(frame.time)
                    if at is None:
                        continue
                    frame.time = at
                    writer.write(frame)
                    written += 1
                    if progress:
                        progress(written, frames)
                if written == 0:
                    raise MoviolaError("nothing would be left: the cut keeps no frame")
                return writer.close()
            except BaseException:
                writer.abort()
                raise
    finally:
        with contextlib.suppress(OSError):
            wav.unlink()
