"""captions: subtitles burned into the picture (``moviola subtitle --burn`` uses it)."""

from __future__ import annotations

import bisect
import itertools
from fractions import Fraction

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo
from moviola.media.subtitles import Cue, read_subtitles, split_for_reading
from moviola.media.timeline import Timeline
from moviola.pipeline import Effect, Param, parse_color, register
from moviola.pipeline.params import parse_path
from moviola.vision.captions import CaptionStyle, draw_caption


@register
class Captions(Effect):
    name = "captions"
    context_frames = 0
    summary = (
        "Burn subtitles (.srt, .vtt, .ass) into the picture: readable type, safe margins, "
        "42 characters a line, two lines at most."
    )
    params = (
        Param(
            "subtitles", parse_path, None, "subtitle file: .srt, .vtt or .ass (required)", kind="path"
        ),
        Param("size", float, 0.05, "text height, a fraction of the picture's height", min=0.01, max=0.3),
        Param("position", str, "bottom", "bottom or top", choices=("bottom", "top")),
        Param("style", str, "outline", "outline (text with a dark edge) or box", choices=("outline", "box")),
        Param("color", parse_color, "white", "text color"),
        Param("margin", float, 0.05, "safe area kept clear, a fraction of width and height", min=0, max=0.3),
        Param("font", parse_path, None, "a .ttf or .otf font (default DejaVu Sans Bold)", kind="path"),
    )  # fmt: skip
    subtitles: str | None
    size: float
    position: str
    style: str
    color: tuple[int, int, int]
    margin: float
    font: str | None

    def validate(self) -> None:
        if not self.subtitles:
            raise MoviolaError("captions: give the subtitle file (--subtitles FILE.srt)")

    def configure(self, info: StreamInfo) -> StreamInfo:
        assert self.subtitles is not None  # validate()
        # a cue longer than two lines of 42 characters is shown as consecutive parts
        self._cues: list[Cue] = split_for_reading(read_subtitles(self.subtitles))
        self._starts = [c.start for c in self._cues]
        self._reach = list(itertools.accumulate((c.end for c in self._cues), max))
        self._style = CaptionStyle(
            size=self.size,
            position=self.position,
            style=self.style,
            color=tuple(self.color),  # type: ignore[arg-type]
            margin=self.margin,
            font=self.font,
        )
        return info

    def map_timeline(self, timeline: Timeline) -> Timeline:
        # The cues are timed in the source; frames arrive timed from the start of what is made
        # (after --start, trim or speed before this effect): keep the map back to the source.
        self._timeline = timeline
        return timeline

    def showing(self, t: Fraction) -> list[Cue]:
        """The cues on screen at ``t``, each in [start, end), earliest first."""
        j = bisect.bisect_right(self._starts, t) - 1
        shown = []
        while j >= 0 and self._reach[j] > t:  # no cue at or before j ends after t: stop
            if t < self._cues[j].end:
                shown.append(self._cues[j])
            j -= 1
        return shown[::-1]

    def process(self, frame: Frame) -> Frame:
        timeline = getattr(self, "_timeline", None)
        cues = self.showing(timeline.source_time(frame.time) if timeline else frame.time)
        if not cues:
            return frame
        text = "\n".join(c.text for c in cues)  # overlapping cues stacked, each its own lines
        return frame.with_image(draw_caption(frame.image, text, self._style))
