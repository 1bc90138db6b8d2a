"""fps: convert to a constant frame rate by dropping or repeating frames (exact rates)."""

from __future__ import annotations

from fractions import Fraction

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo
from moviola.pipeline import Effect, Param, register


@register
class Fps(Effect):
    name = "fps"
    summary = ("Convert to a constant frame rate by dropping or repeating frames; exact for "
               "NTSC rates (30000/1001, 29.97 and 'ntsc' mean the same). The duration is kept.")
    timing = "retime"
    params = (Param("rate", "rate", None, "target frame rate, e.g. 25, 30000/1001, 59.94"),)

    def validate(self) -> None:
        if self.rate is None:
            raise MoviolaError("fps: give rate (e.g. rate=30000/1001)")

    def configure(self, info: StreamInfo) -> StreamInfo:
        self._tick = 1 / self.rate
        self._half = self._tick / 2
        self._k = 0
        self._held: Frame | None = None
        frames = round(info.duration * self.rate) if info.duration is not None else None
        return info.evolve(rate=self.rate, time_base=self._tick, variable_rate=False,
                           frames=frames)

    def _tick_frame(self, frame: Frame) -> Frame:
        t = self._k * self._tick
        self._k += 1
        return Frame(frame.image, t, self._tick, frame.index, frame.meta)

    def process(self, frame: Frame) -> list[Frame]:
        """Each output tick shows the input frame nearest to it in time (ties: the earlier)."""
        out = []
        held = self._held
        if held is not None:
            while self._k * self._tick < frame.time:
                t = self._k * self._tick
                out.append(self._tick_frame(held if t - held.time <= frame.time - t else frame))
        self._held = frame
        return out

    def flush(self) -> list[Frame]:
        """The last frame fills the ticks up to the clip's end (rounded to the nearest tick)."""
        held, self._held = self._held, None
        out = []
        if held is not None:
            while self._k * self._tick + self._half < held.end:
                out.append(self._tick_frame(held))
        return out
