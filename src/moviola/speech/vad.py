"""Voice activity detection with Silero VAD (ONNX), streamed: where in a recording people speak.

The model scores each 32 ms frame (512 samples at 16 kHz, with the previous 64 samples as
context and a recurrent state carried from frame to frame) with the probability that it holds
speech. :class:`SpeechDetector` turns those scores into speech regions with hysteresis: a region
opens when a frame reaches ``threshold`` and closes after ``min_silence`` seconds below
``threshold - 0.15``; regions shorter than ``min_speech`` are dropped, regions longer than
``max_speech`` are cut at their least speech-like frame, and each is padded by ``pad`` seconds
(never past its neighbours). It is fed any number of samples at a time and
yields each region as soon as it is closed, so an hour of audio is scanned in constant memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

RATE = 16000
FRAME = 512
CONTEXT = 64
MODEL_ID = "silero-vad"


@dataclass(frozen=True)
class Region:
    """A stretch of speech, in samples at 16 kHz from the start of the audio."""

    start: int
    end: int

    @property
    def seconds(self) -> tuple[float, float]:
        return self.start / RATE, self.end / RATE


class SileroVAD:
    """Frame-by-frame speech probabilities (the model's recurrent state is kept between calls)."""

    def __init__(self, model_path: str | None = None) -> None:
        from moviola import models

        self._sess = models.open_session(models.ensure(MODEL_ID, model_path))
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT, np.float32)

    def frame(self, samples: np.ndarray) -> float:
        """The speech probability of one 512-sample frame (16 kHz mono float32)."""
        x = np.concatenate([self._context, samples.astype(np.float32, copy=False)])[None, :]
        out = self._sess.run({"input": x, "state": self._state, "sr": np.array(RATE, np.int64)})
        self._state = np.asarray(out["stateN"], np.float32)
        self._context = x[0, -CONTEXT:]
        return float(np.asarray(out["output"]).reshape(-1)[0])


class SpeechDetector:
    """Speech regions from a stream of samples (hysteresis over Silero's frame scores)."""

    def __init__(
        self,
        vad: SileroVAD | None = None,
        *,
        threshold: float = 0.5,
        min_speech: float = 0.25,
        min_silence: float = 0.3,
        pad: float = 0.1,
        max_speech: float = 25.0,
    ) -> None:
        self.vad = vad or SileroVAD()
        self.threshold = threshold
        self.off = max(threshold - 0.15, 0.01)
        self.min_speech = int(min_speech * RATE)
        self.min_silence = int(min_silence * RATE)
        self.pad = int(pad * RATE)
        self.max_speech = int(max_speech * RATE)
        self._recent: list[tuple[int, float]] = []  # (frame end, probability) in the open region
        self.probabilities: list[float] = []
        self._pending = np.zeros(0, np.float32)
        self._pos = 0  # samples scored so far
        self._start: int | None = None  # open region's first speech sample
        self._last_speech = 0  # end of the last frame at or above the threshold
        self._held: Region | None = None  # closed region waiting for its right padding
        self._prev_end = 0  # end of the last region given out (padding stops there)

    def feed(self, samples: np.ndarray, keep_probabilities: bool = False) -> Iterator[Region]:
        """Score ``samples`` (appended to what came before); yield the regions that closed."""
        buf = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        n = len(buf) // FRAME * FRAME
        for i in range(0, n, FRAME):
            p = self.vad.frame(buf[i : i + FRAME])
            if keep_probabilities:
                self.probabilities.append(p)
            yield from self._step(p)
        self._pending = buf[n:].copy()

    def _step(self, p: float) -> Iterator[Region]:
        frame_start, self._pos = self._pos, self._pos + FRAME
        if self._held is not None and frame_start >= self._held.end + self.pad:
            yield self._release(self._pos)
        if self._start is not None:
            self._recent.append((self._pos, p))
        if p >= self.threshold:
            if self._start is None:
                self._start = frame_start
                self._recent = []
            self._last_speech = self._pos
            if self._pos - self._start >= self.max_speech:
                yield from self._split()
        elif (
            self._start is not None
            and p < self.off
            and self._pos - self._last_speech >= self.min_silence
        ):
            yield from self._close()

    def _split(self) -> Iterator[Region]:
        """Cut an over-long region at its least speech-like frame in the last quarter."""
        assert self._start is not None
        late = [
            (p, end) for end, p in self._recent if end - self._start >= self.max_speech * 3 // 4
        ]
        cut = min(late)[1] if late else self._pos
        self._last_speech = cut
        yield from self._close()
        self._start = cut
        self._last_speech = self._pos
        self._recent = [(end, p) for end, p in self._recent if end > cut]

    def keep_from(self) -> int:
        """The first sample a later region can still include (what came before may be dropped)."""
        starts = [self._pos - self.pad - FRAME]
        if self._start is not None:
            starts.append(self._start - self.pad)
        if self._held is not None:
            starts.append(self._held.start - self.pad)
        return max(0, self._prev_end, min(starts))

    def _close(self) -> Iterator[Region]:
        start, end = self._start, self._last_speech
        self._start = None
        if start is None or end - start < self.min_speech:
            return
        if self._held is not None:
            yield self._release(start)
        self._held = Region(start, end)

    def _release(self, next_start: int) -> Region:
        held = self._held
        assert held is not None
        self._held = None
        start = max(held.start - self.pad, self._prev_end, 0)
        end = min(held.end + self.pad, max(next_start, held.end))
        self._prev_end = end
        return Region(start, end)

    def finish(self) -> Iterator[Region]:
        """Flush: score the last partial frame and close the open region."""
        if len(self._pending):
            tail = np.zeros(FRAME, np.float32)
            tail[: len(self._pending)] = self._pending
            self._pending = np.zeros(0, np.float32)
            yield from self.feed(tail)
        if self._start is not None:
            self._last_speech = max(self._last_speech, self._start)
            yield from self._close()
        if self._held is not None:
            yield self._release(self._pos)
