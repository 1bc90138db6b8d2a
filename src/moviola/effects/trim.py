"""trim: keep a time range of the clip, frame-exact; the audio is cut to match."""

from __future__ import annotations

from fractions import Fraction

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo
from moviola.media.timeline import Timeline
from moviola.pipeline import Effect, Param, parse_time, register


@register
class Trim(Effect):
    name = "trim"
    context_frames = 0  # each frame on its own
    summary = "Keep the frames whose time lies in [start, end); audio is cut to match."
    timing = "retime"
    params = (
        Param("start", parse_time, "0", "first time kept (seconds or HH:MM:SS.mmm)"),
        Param("end", parse_time, None, "time where the clip ends (not included)"),
        Param("duration", parse_time, None, "length to keep, instead of end"),
    )
    start: Fraction
    end: Fraction | None
    duration: Fraction | None

    def validate(self) -> None:
        if self.end is not None and self.duration is not None:
            raise MoviolaError("trim: give end or duration, not both")
        if self.duration is not None and self.duration <= 0:
            raise MoviolaError("trim: duration must be positive")
        if self.end is not None and self.end <= self.start:
            raise MoviolaError("trim: end must be after start")

    @property
    def stop(self) -> Fraction | None:
        """Where the kept range ends: ``end``, or ``start + duration``."""
        if self.duration is not None:
            return self.start + self.duration
        return self.end

    def configure(self, info: StreamInfo) -> StreamInfo:
        duration = frames = None
        if info.duration is not None:
            stop = min(info.duration, self.stop) if self.stop else info.duration
            duration = max(Fraction(0), stop - self.start)
            if info.frames and info.duration:
                frames = max(1, round(info.frames * duration / info.duration))
        return info.evolve(duration=duration, frames=frames)

    def map_timeline(self, timeline: Timeline) -> Timeline:
        return timeline.trimmed(self.start, self.stop)

    def process(self, frame: Frame) -> list[Frame]:
        if frame.time < self.start or (self.stop is not None and frame.time >= self.stop):
            return []
        frame.time -= self.start
        if self.stop is not None:
            frame.duration = min(frame.duration, self.stop - self.start - frame.time)
        return [frame]
