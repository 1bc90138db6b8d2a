"""How the output's time maps to the source's time: the audio follows this map."""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction


@dataclass(frozen=True)
class Timeline:
    """An affine map from output time to source time, with a window.

    Any chain of trims and speed changes composes into one such map: the output at time ``t``
    shows the source at ``start + t * speed``, and the output ends at source time ``end``.
    Times are exact seconds relative to the clip's origin (its first video frame).
    """

    start: Fraction = Fraction(0)
    end: Fraction | None = None
    speed: Fraction = Fraction(1)
    audio: str = "keep"  # "keep": follow the map (tempo-changed, pitch kept); "drop": no audio

    @property
    def is_identity(self) -> bool:
        return self.start == 0 and self.end is None and self.speed == 1

    def trimmed(self, start: Fraction | None, end: Fraction | None) -> Timeline:
        """Keep output times [start, end) of this timeline."""
        start = start or Fraction(0)
        new_start = self.start + start * self.speed
        new_end = self.start + end * self.speed if end is not None else None
        if self.end is not None:
            new_end = self.end if new_end is None else min(new_end, self.end)
        return replace(self, start=new_start, end=new_end)

    def sped(self, factor: Fraction) -> Timeline:
        """Play ``factor`` times faster (2 = twice as fast, half as long)."""
        return replace(self, speed=self.speed * Fraction(factor))

    def without_audio(self) -> Timeline:
        return replace(self, audio="drop")

    def to_output(self, source_time: Fraction) -> Fraction:
        return (source_time - self.start) / self.speed
