"""The Effect interface and its declared parameters.

An effect declares its parameters once (name, type, default, range or choices, help); the CLI
options, the studio's forms and the docs are generated from those declarations.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo
from moviola.media.timeline import Timeline
from moviola.pipeline.params import Param, plain


class Effect:
    """Base class of every effect.

    Subclasses declare ``name``, ``summary`` and ``params`` and override ``process`` (one frame)
    or ``process_batch`` (``batch_size`` frames at a time). An effect that adds, drops or retimes
    frames sets ``timing = "retime"``, sets the new frames' times itself, and, when it changes the
    clip's timeline (trims or changes speed), overrides ``map_timeline`` so that the audio follows.

    Life cycle per stream: ``configure(info)`` (setup; returns the output StreamInfo), then
    ``process_batch`` for each batch, ``flush()`` at the end of the stream for frames still held,
    and ``close()`` (teardown), which is called even when the run fails.

    Frames may share their image arrays (``fps`` repeats a frame by reference): an effect
    returns new arrays (``frame.with_image(new)``) and never writes into ``frame.image``.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    batch_size: ClassVar[int] = 1
    timing: ClassVar[str] = "same"  # "same": one frame out per frame in, same time; or "retime"
    # "classical" or "model": what produces the result with the default parameters; an instance
    # whose parameters choose the other (recolor --subject runs a matte model) says so in
    # mode_kind(), a pure function of its parameters.
    kind: str = "classical"
    # Cross-frame state, for chunked engines (moviola.engines): how many frames before a chunk's
    # first frame make its output equal a single run's. 0: each frame on its own. None: unknown
    # or never settling exactly (recurrent state, temporal smoothing): chunks then get a warm-up
    # (engines.chunks.WARMUP_FRAMES) and the result is close to, not equal to, a single run.
    context_frames: ClassVar[int | None] = None
    lookahead_frames: ClassVar[int] = 0  # frames after a chunk's end that its last outputs need
    # Another way to write the command line: (PARAM, OPTION) lets `moviola NAME VALUE --OPTION
    # VIDEO` stand for `moviola NAME VIDEO --PARAM VALUE` (puppet: ("portrait", "driver")).
    positional: ClassVar[tuple[str, str] | None] = None

    def __init__(self, **values: Any) -> None:
        known = {p.name: p for p in self.params}
        for key in values:
            if key not in known:
                raise MoviolaError(
                    f"{self.name}: unknown parameter {key!r}; it takes "
                    f"{', '.join(known) or 'no parameters'}"
                )
        for param in self.params:
            value = values.get(param.name, param.default)
            setattr(self, param.name, param.parse(value) if value is not None else None)
        self.validate()
        mode = self.mode_kind()
        if mode != type(self).kind:
            self.kind = mode

    def mode_kind(self) -> str:
        """What produces the result for these parameters ("classical" or "model")."""
        return type(self).kind

    def validate(self) -> None:
        """Check combinations of parameters; raise MoviolaError with one clear line."""

    @property
    def options(self) -> dict[str, Any]:
        return {p.name: getattr(self, p.name) for p in self.params}

    def configure(self, info: StreamInfo) -> StreamInfo:
        return info

    def map_timeline(self, timeline: Timeline) -> Timeline:
        return timeline

    def chunk_problem(self) -> str | None:
        """Why this effect cannot run in independent chunks (engines/), or None when it can
        (with ``context_frames`` of warm-up). Effects whose result depends on the whole clip
        (a keyframe carried through it, statistics of its first frames) say so here."""
        return None

    def tags(self) -> dict[str, str]:
        """Container metadata the output must carry (e.g. a synthetic-content label)."""
        return {}

    def process(self, frame: Frame) -> Frame | Iterable[Frame]:
        raise NotImplementedError

    def process_batch(self, frames: list[Frame]) -> Iterable[Frame]:
        """Frames out for a batch in: a list, or a generator to stream many frames out of
        few (the chain consumes it lazily)."""
        for frame in frames:
            result = self.process(frame)
            if isinstance(result, Frame):
                yield result
            else:
                yield from result

    def flush(self) -> Iterable[Frame]:
        return []

    def close(self) -> None:
        """Release what configure() took."""

    @classmethod
    def describe(cls) -> dict:
        return {
            "name": cls.name,
            "summary": cls.summary,
            "kind": cls.kind,
            "timing": cls.timing,
            "params": [p.describe() for p in cls.params],
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={plain(v)!r}" for k, v in self.options.items() if v is not None)
        return f"{self.name}({args})"
