"""Shot boundary detection: hard cuts, dissolves and fades, frame-exact, streaming.

Two detectors, one result (:class:`moviola.analysis.model.ShotList`):

``transnetv2`` (default)
    TransNetV2 (MIT; model store entry ``transnetv2``, run with ONNX Runtime). Frames are
    decoded straight to 48 x 27 RGB and fed in windows of 100 frames that advance by 50: each
    window's middle 50 frames get predictions, the 25 frames on either side are context (the
    first and last frame of the video are repeated to pad the ends). The network gives every
    frame two probabilities: ``single``, that the frame is a transition's centre (the last
    frame before a hard cut), and ``many``, that it is part of a transition. A run of frames
    whose probability passes the threshold is one transition: one or two frames long it is a
    hard cut (the new shot starts after the frame where ``single`` peaks), longer it is gradual
    and spans the frames of the run.
``fast``
    Classical (:mod:`moviola.vision.cuts`): colour histogram and luma differences of small
    frames with a threshold that adapts to the footage's own motion for hard cuts, and a
    twin-comparison test for gradual transitions (a run of moderate changes that add up to a
    shot change, whose middle frames are a mix of the frames before and after it).

A gradual transition is a ``fade`` when a frame of it (or a frame between two transitions) is
uniformly black or white, else a ``dissolve``. The shot it leads into starts at the transition's
first frame and records its length (``transition_frames``), as an EDL dissolve does.

Memory does not grow with the video's length: frames are decoded small, the model sees one
window at a time and the boundaries are decided as the predictions arrive, holding only the
frames of an open transition.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from moviola.analysis.model import Shot, ShotList
from moviola.errors import MoviolaError
from moviola.media.reader import VideoReader

METHODS = ("transnetv2", "fast")
#: TransNetV2's input frame size (width, height), window and context frames on each side.
NET_SIZE = (48, 27)
WINDOW, CONTEXT = 100, 25
STEP = WINDOW - 2 * CONTEXT
#: Default probability threshold for TransNetV2 (its authors' choice).
NET_THRESHOLD = 0.5
#: A transition of more than this many frames is gradual.
CUT_FRAMES = 2
#: A frame is blank (the dark or bright middle of a fade) when its luma varies less than this
#: (standard deviation, 0..255) and its mean is under BLACK or over WHITE.
BLANK_STD, BLACK, WHITE = 12.0, 40.0, 215.0

Progress = Callable[..., None]


@dataclass
class Boundary:
    """A transition into a new shot: frames ``first`` .. ``first + frames - 1`` (a hard cut
    has ``frames`` 0 and the new shot starts at ``first``)."""

    first: int
    frames: int
    kind: str  # cut, dissolve, fade
    score: float = 1.0


# --- decoding ------------------------------------------------------------------------------------


class _SmallReader(VideoReader):
    """VideoReader whose frames are tuples of small RGB images (one per requested size),
    scaled by the decoder's own scaler straight from YUV: no full-size RGB frame is made."""

    def __init__(self, path, sizes: list[tuple[int, int]], **kw) -> None:
        super().__init__(path, **kw)
        self.sizes = sizes
        self._format = "rgb24"

    def _to_array(self, frame):  # type: ignore[override]
        c = self.color
        out = []
        for w, h in self.sizes:
            if self.rotation in (90, 270):
                w, h = h, w
            img = frame.to_ndarray(
                format="rgb24",
                width=w,
                height=h,
                interpolation="BICUBIC",
                src_colorspace=c.swscale_space,
                src_color_range=c.swscale_range,
            )
            if self.rotation:
                img = np.ascontiguousarray(np.rot90(img, self.rotation // 90))
            out.append(img)
        return tuple(out)


def _open(path: str | Path, sizes, start, end) -> _SmallReader:
    p = Path(path)
    if not p.exists():
        raise MoviolaError(f"input not found: {path}")
    if p.is_dir():
        raise MoviolaError(f"input is a folder, not a video file: {path}")
    return _SmallReader(p, sizes, start=start, end=end)


def luma_stats(rgb: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of a small RGB frame's luma (BT.601 weights, 0..255)."""
    y = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return float(y.mean()), float(y.std())


def is_blank(mean: float, std: float) -> bool:
    """Black or white and nearly uniform: the middle of a fade."""
    return std < BLANK_STD and (mean < BLACK or mean > WHITE)


# --- TransNetV2 ----------------------------------------------------------------------------------


class NetStream:
    """Feeds 48x27 frames to TransNetV2 window by window; yields (single, many) per frame in
    order, ``CONTEXT + STEP`` frames behind the input at most."""

    def __init__(self, session, batch: int = 1) -> None:
        self.session = session
        self.batch = max(1, batch)
        self.pending: list[np.ndarray] = []  # padded input not yet fully predicted
        self.received = 0
        self.emitted = 0

    def push(self, frame: np.ndarray) -> Iterator[tuple[float, float]]:
        if self.received == 0:
            self.pending = [frame] * CONTEXT
        self.pending.append(frame)
        self.received += 1
        if len(self.pending) >= WINDOW + STEP * (self.batch - 1):
            yield from self._run(self.batch)

    def finish(self) -> Iterator[tuple[float, float]]:
        while self.emitted < self.received:
            need = WINDOW - len(self.pending)
            if need > 0:
                self.pending.extend([self.pending[-1]] * need)
            yield from self._run(1)

    def _run(self, count: int) -> Iterator[tuple[float, float]]:
        windows = np.stack(
            [np.stack(self.pending[k * STEP : k * STEP + WINDOW]) for k in range(count)]
        )
        out = self.session.run({"frames": windows})
        single, many = out["single"], out["many"]
        del self.pending[: STEP * count]
        for k in range(count):
            for i in range(CONTEXT, CONTEXT + STEP):
                if self.emitted >= self.received:
                    return
                self.emitted += 1
                yield float(single[k, i]), float(many[k, i])


class NetSegmenter:
    """Turns TransNetV2's per-frame probabilities into boundaries, as they arrive.

    A transition is a run of frames where ``single`` or ``many`` passes the threshold, whose
    ``single`` peak passes it. Up to CUT_FRAMES frames long, it is a hard cut after the peak
    frame; longer, a gradual transition over the run.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.run: list[tuple[int, float, float]] = []  # (frame, single, many) of an open run

    def push(self, index: int, single: float, many: float) -> Boundary | None:
        if single > self.threshold or many > self.threshold:
            self.run.append((index, single, many))
            return None
        return self.close()

    def close(self) -> Boundary | None:
        run, self.run = self.run, []
        if not run:
            return None
        peak = max(run, key=lambda r: r[1])
        if peak[1] <= self.threshold:
            return None
        # frames of the run that are confidently part of the transition
        core = [r for r in run if r[2] > self.threshold] or [peak]
        first, last = core[0][0], core[-1][0]
        if last - first + 1 <= CUT_FRAMES:
            return Boundary(peak[0] + 1, 0, "cut", peak[1])
        return Boundary(first, last - first + 1, "dissolve", peak[1])


# --- common --------------------------------------------------------------------------------------


class _Assembler:
    """Boundaries (in order) -> the final list, with fades found and measured.

    Keeps the luma statistics of recent frames (a bounded window). A boundary near a blank
    (black or white, uniform) frame is a fade: its span grows over the blank frames and the
    ramps on either side (frames that darken towards the blank, or brighten after it), and a
    boundary that overlaps or touches the previous one through blank frames joins it (fade out,
    black, fade in: one transition).
    """

    RAMP = 1.02  # a ramp frame is this much closer to the blank level than its neighbour
    MAX_RAMP = 60

    def __init__(self, keep: int = 320) -> None:
        self.stats: deque[tuple[int, float, float]] = deque(maxlen=keep)  # frame, mean, std
        self.boundaries: list[Boundary] = []
        self.blank_runs: deque[tuple[int, int]] = deque()  # closed runs of blank frames
        self._run_start: int | None = None

    def frame(self, index: int, rgb: np.ndarray) -> None:
        mean, std = luma_stats(rgb)
        self.stats.append((index, mean, std))
        if is_blank(mean, std):
            if self._run_start is None:
                self._run_start = index
        elif self._run_start is not None:
            self.blank_runs.append((self._run_start, index - 1))
            self._run_start = None

    def flush_blank(self, before: int) -> None:
        """Add the blank runs that end before frame ``before`` as fades, when frames darken
        into them or brighten out of them (a blank run with hard edges is left to the
        detector: it may be a black shot)."""
        while self.blank_runs and self.blank_runs[0][1] < before:
            r0, r1 = self.blank_runs.popleft()
            span = self._fade_span(r0, r1)
            if span is not None and span != (r0, r1):
                self.add(Boundary(r0, r1 - r0 + 1, "fade", 0.5))

    def _lookup(self) -> dict[int, tuple[float, float]]:
        return {i: (m, sd) for i, m, sd in self.stats}

    def _fade_span(self, first: int, last: int) -> tuple[int, int] | None:
        """The whole fade around a transition spanning first..last, or None if no blank frame
        is near it."""
        st = self._lookup()
        near = [i for i in range(first - 4, last + 5) if i in st and is_blank(*st[i])]
        if not near:
            return None
        white = st[near[0]][0] > 128

        def q(i: int) -> float:  # distance from the blank level
            m, sd = st[i]
            return (255.0 - m if white else m) + sd

        def is_b(i: int) -> bool:
            return i in st and is_blank(*st[i])

        r0 = r1 = near[0]
        while is_b(r0 - 1):
            r0 -= 1
        while is_b(r1 + 1):
            r1 += 1
        j = r0
        while j - 1 in st and r0 - j < self.MAX_RAMP and q(j - 1) > q(j) * self.RAMP + 0.3:
            j -= 1
        start = j + 1 if j < r0 else r0
        k = r1
        while k + 1 in st and k - r1 < self.MAX_RAMP and q(k + 1) > q(k) * self.RAMP + 0.3:
            k += 1
        end = k - 1 if k > r1 else r1
        return min(first, start), max(last, end)

    def add(self, b: Boundary) -> None:
        last = b.first + max(b.frames, 1) - 1
        fade = self._fade_span(b.first if b.frames else b.first - 1, last)
        if fade is not None:
            b.first, last = fade
            b.frames, b.kind = last - b.first + 1, "fade"
        prev = self.boundaries[-1] if self.boundaries else None
        if prev is not None:
            prev_last = prev.first + max(prev.frames, 1) - 1
            touching = b.first == prev_last + 1 and "fade" in (b.kind, prev.kind)
            if b.first <= prev_last or touching:
                # overlapping, or touching through a fade: one transition
                first = min(prev.first, b.first)
                prev.frames = max(last, prev_last) - first + 1
                prev.first = first
                if b.kind == "fade":
                    prev.kind = "fade"
                elif prev.kind == "cut":
                    prev.kind = b.kind
                prev.score = max(prev.score, b.score)
                return
        self.boundaries.append(b)


def _shots(boundaries: list[Boundary], first: int, last: int, rate: Fraction) -> list[Shot]:
    """Shots from frame ``first`` to ``last`` split at the boundaries; times are frame numbers
    over the nominal rate."""
    starts = [(first, "start", 0)]
    for b in boundaries:
        if first < b.first <= last:
            starts.append((b.first, b.kind, b.frames))
    shots = []
    for k, (s, kind, frames) in enumerate(starts):
        e = starts[k + 1][0] - 1 if k + 1 < len(starts) else last
        shots.append(
            Shot(
                index=k,
                start_frame=s,
                end_frame=e,
                start=Fraction(s) / rate,
                end=Fraction(e + 1) / rate,
                transition=kind,
                transition_frames=frames,
            )
        )
    return shots


def _file_frame(reader: VideoReader, time: Fraction, rate: Fraction) -> int:
    """The frame number in the whole file of the frame at ``time`` in the reader's range:
    0 without ``start``; else counted at the nominal rate from the file's first video frame
    (whose timestamp is read from the first packets, as some files start at 1 tick)."""
    if reader.start <= 0:
        return 0
    import av

    first = None
    with av.open(reader.path) as c:
        stream = c.streams.video[0]
        tb = Fraction(stream.time_base or 0)
        for k, packet in enumerate(c.demux(stream)):
            if packet.pts is not None and tb:
                t = packet.pts * tb
                first = t if first is None else min(first, t)
            if k >= 16:
                break
    first = reader.origin if first is None else first
    return max(0, round((reader.origin + reader.start + time - first) * rate))


def detect_shots(
    path: str | Path,
    *,
    method: str = "transnetv2",
    start=None,
    end=None,
    progress: Progress | None = None,
    threshold: float | None = None,
) -> ShotList:
    """The shots of a video file, by TransNetV2 (``method="transnetv2"``) or the classical
    detector (``"fast"``). ``start``/``end`` limit the range (seconds or timecodes); frame
    numbers stay those of the file. ``threshold``: TransNetV2's probability (default 0.5) or
    the fast detector's sensitivity (see :mod:`moviola.vision.cuts`; lower finds more).
    ``progress`` is called with :class:`moviola.pipeline.Progress` events."""
    if method not in METHODS:
        raise MoviolaError(f"unknown shot detector '{method}'; choose {', '.join(METHODS)}")
    if threshold is not None and not 0 < threshold < 1:
        raise MoviolaError(f"--threshold must be between 0 and 1 (got {threshold})")
    from moviola.pipeline import Progress as Event

    if method == "transnetv2":
        from moviola.models.runtime import open_session

        session = open_session("transnetv2")
        sizes = [NET_SIZE]
    else:
        from moviola.vision import cuts

        sizes = [NET_SIZE, cuts.SIZE]
    reader = _open(path, sizes, start, end)
    info = reader.stream_info
    rate = reader.video.rate
    offset = 0  # file frame number of the first frame in range (set when it is decoded)
    assembler = _Assembler()
    t0 = time.monotonic()
    count = 0
    last_report = t0

    def report(done: bool = False) -> None:
        nonlocal last_report
        now = time.monotonic()
        if progress is not None and (done or now - last_report > 0.25):
            last_report = now
            progress(Event(frames=count, total=info.frames, elapsed=now - t0, done=done))

    with reader:
        if method == "transnetv2":
            stream = NetStream(session)
            seg = NetSegmenter(NET_THRESHOLD if threshold is None else threshold)

            def consume(preds) -> None:
                nonlocal emitted
                for single, many in preds:
                    assembler.flush_blank(offset + emitted)
                    b = seg.push(offset + emitted, single, many)
                    emitted += 1
                    if b is not None:
                        assembler.add(b)

            emitted = 0
            for frame in reader:
                if count == 0:
                    offset = _file_frame(reader, frame.time, rate)
                small = frame.image[0]
                assembler.frame(offset + count, small)
                count += 1
                consume(stream.push(small))
                report()
            consume(stream.finish())
            b = seg.close()
            if b is not None:
                assembler.add(b)
            assembler.flush_blank(offset + count)
        else:
            detector = cuts.CutDetector(sensitivity=threshold)
            for frame in reader:
                if count == 0:
                    offset = _file_frame(reader, frame.time, rate)
                small, thumb = frame.image
                assembler.frame(offset + count, small)
                for b in detector.push(offset + count, thumb):
                    assembler.add(Boundary(b.first, b.frames, b.kind, b.score))
                count += 1
                report()
            for b in detector.finish():
                assembler.add(Boundary(b.first, b.frames, b.kind, b.score))
        report(done=True)
    if count == 0:
        raise MoviolaError(f"no video frames in the requested range of {path}")
    shots = _shots(assembler.boundaries, offset, offset + count - 1, rate)
    return ShotList(
        source=str(path),
        rate=rate,
        width=info.width,
        height=info.height,
        frames=offset + count,
        shots=shots,
        detector=method,
        audio=bool(reader.info.audio),
    )
