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

    def _emit_until(self, limit: Fraction) -> list[Frame]:
        """Output ticks whose nearest input frame is the held one (tick + half < limit)."""
        out = []
        held = self._held
        while self._k * self._tick + self._half < limit:
            out.append(Frame(held.image, self._k * self._tick, self._tick, held.index, held.meta))
            self._k += 1
        return out

    def process(self, frame: Frame) -> list[Frame]:
        out = self._emit_until(frame.time) if self._held is not None else []
        self._held = frame
        return out

    def flush(self) -> list[Frame]:
        if self._held is None:
            return []
        out = self._emit_until(self._held.end)
        self._held = None
        return out
