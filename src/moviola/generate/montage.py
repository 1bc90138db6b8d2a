"""A montage: moments of several clips cut on the beats (or bars) of a music track, which
becomes the soundtrack.

1. **Music.** Beats by :func:`moviola.generate.beats.detect_beats`; for ``cuts="bar"`` the
   downbeats by :func:`moviola.generate.bars.find_bars` (4/4). A track in which no beat is
   found gets a steady 120 BPM grid from 0 s, with a warning. The cut times are the beats (bar
   lines) after 0 and before the end; the output's time 0 is the music's first sample.
2. **Footage.** Each clip's shots by the fast shot detector (:mod:`moviola.analysis.shots`)
   and its activity: the mean absolute difference of consecutive grey 64 x 36 thumbnails,
   per frame. Dissolve and fade frames at a shot's start are left out of it.
3. **Cut points, frame-exact.** The output runs at ``fps`` (default the first clip's rate, an
   exact Fraction). A cut at music time ``t`` lands on output frame ``floor(t * fps + 1/2)``:
   the frame whose start is nearest the beat (never more than half a frame away). Segment
   ``k`` fills output frames ``c_k .. c_{k+1} - 1``; cuts that round to the same frame merge.
4. **Segment choice.** Shots longer than :data:`PIECE` s (or twice the longest segment) are
   cut into equal pieces; each clip's shots (pieces) in a seeded order, the clips' spread
   evenly over each round (a clip with twice the pieces comes twice as often). A segment takes the next one at least as long as itself
   (the one before it is skipped when another fits), and from it the most active stretch of
   the segment's length (the largest sum of activity inside it). Every piece is used once
   before any is used again; one used again gives a stretch that overlaps none it gave
   before, when one fits. A stretch never crosses a shot boundary: when no shot is as long as
   a segment, the longest one is shown from its start and its last frame held.
5. **Rendering, streamed.** Output frame ``j`` of segment ``k`` shows the source frame on
   screen at ``s_k + (j - c_k) / fps`` (``s_k``: the time of the stretch's first frame), i.e.
   the last decoded frame whose time is not after it. Each stretch is decoded on its own
   (a :class:`VideoReader` seeking to it), letterboxed to the output size (black bars) and
   written. The music is the audio, trimmed to the length, with a :data:`FADE` s fade-out in
   :data:`FADE_STEPS` steps of gain.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.generate.bars import find_bars, steady_grid
from moviola.media.frame import Frame, StreamInfo, contain
from moviola.media.time import parse_rate

log = logging.getLogger("moviola")

CUTS = ("beat", "bar")
FALLBACK_BPM = 120.0
FADE, FADE_STEPS = Fraction(3, 4), 15
THUMB = (64, 36)
#: Seconds: shots longer than this take turns in pieces (at least twice the longest segment).
PIECE = Fraction(4)


# --- the music -----------------------------------------------------------------------------------


@dataclass
class Music:
    path: str
    stream: int
    start: Fraction  # the audio stream's start (source time of the music's first sample)
    duration: float
    beats: np.ndarray
    bpm: float
    cuts: np.ndarray  # the beat or bar times cut on
    bar_phase: int | None = None
    fallback: bool = False


def analyse_music(path: str | os.PathLike, cuts: str = "beat") -> Music:
    """The beats (and bars) of ``path``'s first audio stream."""
    from moviola.generate.beats import detect_beats
    from moviola.media.probe import probe

    if cuts not in CUTS:
        raise MoviolaError(f"unknown --cuts '{cuts}'; choose {' or '.join(CUTS)}")
    info = probe(path)
    if not info.audio:
        raise MoviolaError(f"{path} has no audio stream: --music needs one")
    audio = info.audio[0]
    duration = float(audio.duration or info.duration or 0)
    try:
        beats = detect_beats(path, stream_index=audio.index)
        found = len(beats.times) >= 2
    except MoviolaError:
        beats, found = None, False
    if beats is None or not found:
        log.warning(
            f"no beat found in {Path(path).name}: cutting on a steady {FALLBACK_BPM:g} BPM grid"
        )
        times = steady_grid(duration, FALLBACK_BPM)
        bars = times[::4] if cuts == "bar" else times
        return Music(
            str(path),
            audio.index,
            audio.start_time,
            duration,
            times,
            FALLBACK_BPM,
            bars,
            0 if cuts == "bar" else None,
            True,
        )
    duration = max(duration, beats.duration) if duration <= 0 else duration
    if cuts == "bar":
        bars = find_bars(path, beats, stream_index=audio.index)
        return Music(
            str(path),
            audio.index,
            beats.start,
            duration,
            beats.times,
            beats.bpm,
            bars.times,
            bars.phase,
        )
    return Music(str(path), audio.index, beats.start, duration, beats.times, beats.bpm, beats.times)


def cut_frames(times: Sequence[float] | np.ndarray, frames: int, fps: Fraction) -> list[int]:
    """Output frame numbers of the cuts at ``times`` (seconds): the frame whose start is
    nearest each, those strictly inside (0, frames), once each."""
    f = float(fps)
    out = {int(np.floor(float(t) * f + 0.5)) for t in times}
    return sorted(c for c in out if 0 < c < frames)


# --- the footage ---------------------------------------------------------------------------------


@dataclass
class Clip:
    path: str
    rate: Fraction
    width: int
    height: int
    times: list[Fraction]  # every frame's time
    activity: np.ndarray  # change into each frame (0 for the first)
    shots: list[tuple[int, int]]  # first and last frame of each usable shot (inclusive)
    brightness: np.ndarray = field(default_factory=lambda: np.zeros(0))  # mean grey, 0..1
    cuts: list[int] = field(default_factory=list)  # first frame of each shot begun by a hard cut

    @property
    def duration(self) -> Fraction:
        return self.end_of(len(self.times) - 1) if self.times else Fraction(0)

    def end_of(self, frame: int) -> Fraction:
        """The time just after ``frame`` (the next frame's, or one nominal frame later)."""
        if frame + 1 < len(self.times):
            return self.times[frame + 1]
        return self.times[frame] + 1 / self.rate


def analyse_clip(path: str | os.PathLike) -> Clip:
    """Shots (fast detector) and per-frame activity of a clip; one frame's thumbnail in memory."""
    from moviola.analysis.shots import detect_shots
    from moviola.media.probe import probe
    from moviola.media.reader import VideoReader

    info = probe(path)
    if not info.video:
        raise MoviolaError(f"{path} has no video stream: montage clips must be videos")
    times: list[Fraction] = []
    activity: list[float] = []
    brightness: list[float] = []
    prev = None
    size = (0, 0)
    with VideoReader(path, alpha=False) as reader:
        rate = reader.video.rate
        for frame in reader:
            grey = cv2.cvtColor(
                cv2.resize(frame.image, THUMB, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY
            ).astype(np.float32)
            if prev is None:
                size = (frame.width, frame.height)  # after rotation
            activity.append(0.0 if prev is None else float(np.abs(grey - prev).mean()))
            brightness.append(float(grey.mean()) / 255)
            prev = grey
            times.append(frame.time)
    if not times:
        raise MoviolaError(f"{path} has no video frames")
    shots = detect_shots(str(path), method="fast").shots
    n = len(times)
    usable = []
    for s in shots:
        first = min(n - 1, s.start_frame + s.transition_frames)
        last = min(n - 1, s.end_frame)
        if last >= first:
            usable.append((first, last))
    cuts = [s.start_frame for s in shots if s.transition == "cut" and 0 < s.start_frame < n]
    return Clip(
        str(path),
        rate,
        size[0],
        size[1],
        times,
        np.asarray(activity),
        usable,
        np.asarray(brightness),
        cuts,
    )


@dataclass(frozen=True)
class Stretch:
    clip: int
    shot: int
    first: int  # frame number in the clip
    start: Fraction  # its time
    frames: int  # output frames it fills
    limit: int  # the last frame it may show (its shot's or piece's last)
    held: bool = False  # the shot is shorter: its last frame is held


def _windows(clip: Clip, first: int, last: int, length: Fraction) -> list[tuple[int, float]]:
    """(start frame, activity) of every stretch of ``length`` s inside frames first..last."""
    end = clip.end_of(last)
    act = clip.activity
    out = []
    for i in range(first, last + 1):
        if clip.times[i] + length > end:
            break
        j = i + 1  # activity inside: changes into frames i+1 .. those that start before the end
        while j <= last and clip.times[j] < clip.times[i] + length:
            j += 1
        out.append((i, float(act[i + 1 : j].sum())))
    return out


def pieces(clip: Clip, piece: Fraction) -> list[tuple[int, int, int]]:
    """(shot, first, last) of the clip's shots, those longer than ``piece`` seconds cut into
    equal pieces of at least ``piece`` s: the units that take turns."""
    out = []
    for k, (first, last) in enumerate(clip.shots):
        count = max(1, int((clip.end_of(last) - clip.times[first]) / piece))
        n = last - first + 1
        edges = [first + (i * n) // count for i in range(count + 1)]
        out += [(k, a, b - 1) for a, b in zip(edges, edges[1:], strict=False) if b > a]
    return out


@dataclass
class _Chooser:
    clips: list[Clip]
    rng: np.random.Generator
    piece: Fraction
    units: list[list[tuple[int, int, int]]] = field(default_factory=list)  # per clip
    queue: list[tuple[int, int]] = field(default_factory=list)  # (clip, unit) left this round
    used: dict[tuple[int, int], list[tuple[Fraction, Fraction]]] = field(default_factory=dict)
    last: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self.units = [pieces(c, self.piece) for c in self.clips]

    def _round(self) -> list[tuple[int, int]]:
        """Every unit once: each clip's in a seeded order, the clips' spread evenly over the
        round (a clip with twice the units comes twice as often)."""
        placed = []
        for c, units in enumerate(self.units):
            phase = float(self.rng.random())
            for k, u in enumerate(self.rng.permutation(len(units))):
                placed.append(((k + phase) / len(units), c, int(u)))
        return [(c, u) for _, c, u in sorted(placed)]

    def _span(self, key: tuple[int, int]) -> Fraction:
        clip = self.clips[key[0]]
        _, first, last = self.units[key[0]][key[1]]
        return clip.end_of(last) - clip.times[first]

    def _pick(self, length: Fraction) -> tuple[int, int] | None:
        fits = [k for k in self.queue if self._span(k) >= length]
        if not fits:
            return None
        return next((k for k in fits if k != self.last), fits[0])

    def take(self, frames: int, fps: Fraction) -> Stretch:
        length = Fraction(frames) / fps
        key = self._pick(length)
        if key is None:
            self.queue = self._round()
            key = self._pick(length)
        if key is None:  # no unit is as long as the segment: the longest, its last frame held
            key = max(
                ((c, u) for c, units in enumerate(self.units) for u in range(len(units))),
                key=self._span,
            )
            clip = self.clips[key[0]]
            shot, first, last = self.units[key[0]][key[1]]
            self.last = key
            return Stretch(key[0], shot, first, clip.times[first], frames, last, held=True)
        self.queue.remove(key)
        self.last = key
        clip = self.clips[key[0]]
        shot, first, last = self.units[key[0]][key[1]]
        windows = _windows(clip, first, last, length)
        taken = self.used.setdefault(key, [])
        free = [
            w
            for w in windows
            if all(clip.times[w[0]] + length <= a or clip.times[w[0]] >= b for a, b in taken)
        ]
        start, _ = max(free or windows, key=lambda w: w[1])
        taken.append((clip.times[start], clip.times[start] + length))
        return Stretch(key[0], shot, start, clip.times[start], frames, last)


def choose_stretches(
    clips: list[Clip], segments: Sequence[int], fps: Fraction, seed: int = 0
) -> list[Stretch]:
    """A stretch for each segment (its length in output frames): see the module notes, 4.
    Shots longer than :data:`PIECE` s (or twice the longest segment) take turns in pieces."""
    longest = Fraction(max(segments, default=1)) / fps
    chooser = _Chooser(clips, np.random.default_rng(seed), max(PIECE, 2 * longest))
    return [chooser.take(n, fps) for n in segments]


# --- rendering -----------------------------------------------------------------------------------


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` fitted inside ``size`` (w, h), aspect kept, on black."""
    if (image.shape[1], image.shape[0]) == size:
        return image
    fitted, (x, y) = contain(image, size)
    canvas = np.zeros((size[1], size[0], image.shape[2]), image.dtype)
    canvas[y : y + fitted.shape[0], x : x + fitted.shape[1]] = fitted
    return canvas


def stretch_frames(clip: Clip, stretch: Stretch, fps: Fraction):
    """The stretch's source images for its output frames, decoded on demand (see the module
    notes, 5)."""
    from moviola.media.reader import VideoReader

    end = min(
        clip.end_of(stretch.limit), stretch.start + Fraction(stretch.frames) / fps + 2 / clip.rate
    )
    shown = None
    with VideoReader(clip.path, start=stretch.start, end=end, alpha=False) as reader:
        frames = iter(reader)
        pending = next(frames, None)
        origin = stretch.start if pending is None else pending.time
        for m in range(stretch.frames):
            target = origin + Fraction(m) / fps
            while pending is not None and pending.time <= target:
                shown, pending = pending, next(frames, None)
            if shown is None:
                raise MoviolaError(f"no frame of {clip.path} at {float(stretch.start):.3f} s")
            yield shown.image


@dataclass
class MontageResult:
    output: Path
    frames: int
    width: int
    height: int
    fps: Fraction
    length: float  # seconds of output
    elapsed: float  # wall-clock seconds of the render (analysis not included)
    analysis: float  # wall-clock seconds analysing music and clips
    bpm: float
    cut_times: list[float]  # the beat / bar times cut on (inside the output)
    cuts: list[int]  # output frame numbers where a new segment starts (after 0)
    stretches: list[Stretch]
    fallback: bool
    bar_phase: int | None
    audio: str | None

    @property
    def speed(self) -> float:
        return self.frames / self.elapsed if self.elapsed > 0 else 0.0


def _fade(length: Fraction):
    from moviola.media.timeline import Gain

    fade = min(FADE, length / 4)
    step = fade / FADE_STEPS
    begin = length - fade
    return tuple(
        Gain(
            begin + i * step,
            begin + (i + 1) * step,
            float(20 * np.log10(1 - (i + 0.5) / FADE_STEPS)),
        )
        for i in range(FADE_STEPS)
    )


def render(  # noqa: PLR0913 - the command's options
    clips: Sequence[str | os.PathLike],
    music: str | os.PathLike,
    output: str | os.PathLike,
    *,
    cuts: str = "beat",
    length: float | None = None,
    size: tuple[int, int] | None = None,
    fps: str | Fraction | None = None,
    seed: int = 0,
    codec: str | None = None,
    crf: int | None = None,
    progress: Callable | None = None,
) -> MontageResult:
    """Cut ``clips`` on the beats (``cuts="bar"``: bar lines) of ``music`` into ``output``."""
    from moviola.media import AudioSource, Timeline, VideoWriter
    from moviola.pipeline import Progress

    if cuts not in CUTS:
        raise MoviolaError(f"unknown --cuts '{cuts}'; choose {' or '.join(CUTS)}")
    if not clips:
        raise MoviolaError("montage needs at least one clip")
    if length is not None and length <= 0:
        raise MoviolaError(f"--length must be positive, not {length:g}")
    t0 = time.monotonic()
    analysed = [analyse_clip(c) for c in clips]
    song = analyse_music(music, cuts)
    beat = Fraction(60) / Fraction(song.bpm).limit_denominator(1000)
    for c in analysed:
        if c.duration < beat:
            raise MoviolaError(
                f"{c.path} is {float(c.duration):.2f} s long, shorter than a beat "
                f"({float(beat):.2f} s at {song.bpm:.0f} BPM)"
            )
    rate = parse_rate(fps) if fps is not None else analysed[0].rate
    width, height = size or (analysed[0].width, analysed[0].height)
    footage = sum(
        (c.end_of(last) - c.times[first] for c in analysed for first, last in c.shots), Fraction(0)
    )
    seconds = min(Fraction(song.duration), footage)
    if length is not None:
        if length > seconds:
            log.warning(
                f"--length {length:g} s is longer than the music or the footage: "
                f"{float(seconds):.2f} s"
            )
        seconds = min(seconds, Fraction(length))
    frames = int(seconds * rate)
    if frames < 1:
        raise MoviolaError("the montage would be empty: give a longer --length or music")
    marks = cut_frames(song.cuts, frames, rate)
    bounds = [0, *marks, frames]
    segments = [b - a for a, b in zip(bounds, bounds[1:], strict=False)]
    stretches = choose_stretches(analysed, segments, rate, seed)
    analysis = time.monotonic() - t0

    end = Fraction(frames) / rate
    audio = AudioSource(song.path, song.stream, song.start, Timeline(end=end, gains=_fade(end)))
    info = StreamInfo(
        width=width, height=height, rate=rate, time_base=1 / rate, frames=frames, duration=end
    )
    writer = VideoWriter(
        output,
        info,
        codec=codec,
        crf=crf,
        audio=audio,
        metadata={"comment": f"moviola montage: cuts on {cuts}s, seed {seed}"},
    )
    started = time.monotonic()
    j = 0
    try:
        for stretch in stretches:
            for image in stretch_frames(analysed[stretch.clip], stretch, rate):
                frame = letterbox(image[..., :3], (width, height))
                writer.write(Frame(frame, Fraction(j) / rate, 1 / rate, j))
                j += 1
            if progress is not None:
                progress(Progress(j, frames, time.monotonic() - started))
        path = writer.close()
    except BaseException:
        writer.abort()
        raise
    elapsed = time.monotonic() - started
    if progress is not None:
        progress(Progress(frames, frames, elapsed, done=True))
    inside = [float(t) for t in song.cuts if 0 < t * rate < frames]
    return MontageResult(
        path,
        frames,
        width,
        height,
        rate,
        float(end),
        elapsed,
        analysis,
        song.bpm,
        inside,
        marks,
        stretches,
        song.fallback,
        song.bar_phase,
        writer.audio_mode,
    )
