"""Previews that begin where a longer run would be: effects with cross-frame state (RVM's
recurrent state, temporal smoothing) are given the frames just before the preview's range
first, and what those frames make is dropped, so a preview's first frames look as they do in a
run of the whole clip (not half-transparent ghosts from an empty state).

How many frames each effect needs is its declaration (``Effect.context_frames``, the same the
chunked engines use: :func:`moviola.engines.chunks.context`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

from moviola.engines.chunks import context
from moviola.media.frame import Frame, StreamInfo
from moviola.media.reader import VideoReader
from moviola.media.timeline import Timeline
from moviola.pipeline.effect import Effect
from moviola.pipeline.runner import Chain

log = logging.getLogger("moviola")


class WarmedUp(Effect):
    """The effects of a chain, run as one: ``configure`` also pushes the ``frames`` frames
    before ``start`` of ``source`` through them (times before 0), and frames out before 0 are
    dropped. Only for chains that keep timing (every effect's ``timing`` is "same")."""

    name = "warm-up"

    def __init__(self, effects: list[Effect], source: str | Path, start: float, frames: int):
        self.effects, self.source, self.start, self.frames = effects, source, start, frames
        self.kind = "model" if any(e.kind == "model" for e in effects) else "classical"
        self.chain = Chain(effects)
        self.warmed = 0

    def configure(self, info: StreamInfo) -> StreamInfo:
        out = self.chain.configure(info)
        begin = warmup_begin(self.start, self.frames, info.rate)
        if begin >= Fraction(self.start):
            return out
        with VideoReader(self.source, start=begin, end=self.start) as reader:
            shift = reader.start - Fraction(self.start)
            for frame in reader:
                frame.time += shift
                self.warmed += 1
                for _ in self.chain.push([frame]):
                    pass
        log.debug("warm-up: %d frames before %.3f s", self.warmed, self.start)
        return out

    def map_timeline(self, timeline: Timeline) -> Timeline:
        return self.chain.timeline(timeline)

    def tags(self) -> dict[str, str]:
        tags: dict[str, str] = {}
        for effect in self.effects:
            tags.update(effect.tags())
        return tags

    def process_batch(self, frames: list[Frame]) -> Iterable[Frame]:
        return [f for f in self.chain.push(frames) if f.time >= 0]

    def flush(self) -> Iterable[Frame]:
        return [f for f in self.chain.finish() if f.time >= 0]

    def close(self) -> None:
        self.chain.close()

    def __repr__(self) -> str:
        return " + ".join(repr(e) for e in self.effects)


def warmup_frames(effects: Sequence[Effect] | Sequence[type[Effect]]) -> int:
    """How many frames before a preview's start go through ``effects`` (instances or their
    classes) first: 0 for a chain that changes timing or keeps no state across frames."""
    classes = [e if isinstance(e, type) else type(e) for e in effects]
    if any(c.timing != "same" for c in classes):
        return 0
    return max(0, context(classes)[0])


def warmup_begin(start: float | Fraction, frames: int, rate: Fraction) -> Fraction:
    """Where the reading starts for a preview from ``start`` with ``frames`` warm-up frames at
    ``rate``: half a frame more, so that exactly ``frames`` frames lie before ``start``."""
    return max(Fraction(0), Fraction(start) - (frames + Fraction(1, 2)) / rate)


def warmed(effects: list[Effect], source: str | Path, start: float | None) -> list[Effect]:
    """``effects`` as one WarmedUp effect when a preview from ``start`` (> 0) needs warm-up
    frames; else ``effects`` unchanged."""
    before = warmup_frames(effects) if start else 0
    if not start or before <= 0:
        return effects
    warm: list[Effect] = [WarmedUp(effects, source, start, before)]
    return warm
