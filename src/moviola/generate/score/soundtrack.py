"""The pass-through effect that gives a re-encoded video a new sound (used by ``score`` only where
the output container cannot take the picture by stream copy; not a registered effect)."""

from __future__ import annotations

from moviola.media.frame import Frame
from moviola.media.timeline import Timeline
from moviola.pipeline import Effect, Param


class Soundtrack(Effect):
    name = "soundtrack"
    summary = "replace the sound with an audio file (the picture unchanged)"
    params = (Param("path", str, None, "the new sound"),)
    context_frames = 0
    path: str

    def map_timeline(self, timeline: Timeline) -> Timeline:
        return timeline.replaced(self.path)

    def process(self, frame: Frame) -> Frame:
        return frame
