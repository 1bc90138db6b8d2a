"""fps: convert to a constant frame rate by dropping or repeating frames (exact rates)."""

from __future__ import annotations

from fractions import Fraction

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo
from moviola.pipeline import Effect, Param, parse_rate, register


@register
class Fps(Effect):
    name = "fps"
    summary = (
        "Convert to a constant frame rate by dropping or repeating frames; exact for "
        "NTSC rates (30000/1001, 29.97 and 'ntsc' mean the same). The duration is kept."
    )
    timing = "retime"
    context_frames = 1
    lookahead_frames = 1
    params = (
        Param(
            "rate",
            parse_rate,
            None,
            "target frame rate, e.g. 25, 30000/1001, 59.94",
            min=Fraction(1, 1000),
            max=1000,
        ),
    )
    rate: Fraction  # required: validate() refuses None

    def validate(self) -> None:
        if self.rate is None:
            raise MoviolaError("fps: give rate (e.g. rate=30000/1001)")

    def configure(self, info: StreamInfo) -> StreamInfo:
        self._tick = 1 / self.rate
        self._half = self._tick / 2
        self._k = 0
        self._held: Frame | None = None  # the latest frame received
        self._prev: Frame | None = None  # the one before it
        frames = round(info.duration * self.rate) if info.duration is not None else None
        return info.evolve(rate=self.rate, time_base=self._tick, variable_rate=False, frames=frames)

    def _emit(self, limit: Fraction) -> list[Frame]:
        """Finish the ticks that no frame before ``limit`` can still claim.

        A tick shows the frame nearest to it in time among the frames that start no later than
        half a tick after it (ties: the earlier). Input times are thus rounded to the nearest
        tick, as FFmpeg's fps filter does, but when several frames round to one tick the
        nearest wins rather than the last.
        """
        out = []
        a, b = self._prev, self._held
        while self._k * self._tick + self._half < limit:
            t = self._k * self._tick
            assert b is not None  # ticks are only finished once a frame was received
            pick = a if a is not None and t - a.time <= b.time - t else b
            out.append(Frame(pick.image, t, self._tick, pick.index, pick.meta))
            self._k += 1
        return out

    def process(self, frame: Frame) -> list[Frame]:
        out = self._emit(frame.time) if self._held is not None else []
        self._prev, self._held = self._held, frame
        return out

    def flush(self) -> list[Frame]:
        """The last frame fills the ticks up to the clip's end (rounded to the nearest tick)."""
        out = self._emit(self._held.end) if self._held is not None else []
        self._prev = self._held = None
        return out
