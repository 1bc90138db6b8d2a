"""speed: change the playback speed; the audio's tempo follows with its pitch kept."""

from __future__ import annotations

from fractions import Fraction

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo
from moviola.media.timeline import Timeline
from moviola.pipeline import Effect, Param, parse_fraction, register


@register
class Speed(Effect):
    name = "speed"
    context_frames = 0  # each frame on its own
    summary = (
        "Play faster or slower (2 = twice as fast). Every frame is kept and retimed; "
        "chain fps to get a standard rate. Audio tempo changes, pitch is kept."
    )
    timing = "retime"
    params = (
        Param(
            "factor",
            parse_fraction,
            None,
            "speed factor: 2 = twice as fast, 0.5 = half speed",
            min=0.01,
            max=100,
        ),
        Param(
            "audio",
            str,
            "tempo",
            "tempo (time-stretch, pitch kept) or drop",
            choices=("tempo", "drop"),
        ),
    )
    factor: Fraction  # required: validate() refuses None
    audio: str

    def validate(self) -> None:
        if self.factor is None:
            raise MoviolaError("speed: give factor (e.g. factor=2)")

    def configure(self, info: StreamInfo) -> StreamInfo:
        f = self.factor
        return info.evolve(
            rate=info.rate * f,
            time_base=info.time_base / f,
            duration=info.duration / f if info.duration is not None else None,
        )

    def map_timeline(self, timeline: Timeline) -> Timeline:
        timeline = timeline.sped(self.factor)
        return timeline.without_audio() if self.audio == "drop" else timeline

    def process(self, frame: Frame) -> Frame:
        frame.time /= self.factor
        frame.duration /= self.factor
        return frame
