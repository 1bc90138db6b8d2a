"""The Python API: a clip, the effects applied to it, and where it is saved.

    import moviola
    result = (moviola.open("in.mp4", start=2, end=10)
              .apply("resize", width=1280)
              .apply("fps", rate="30000/1001")
              .save("out.mp4"))

Clips are immutable: ``apply`` returns a new clip. Nothing is decoded until ``save`` or
``frames``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import moviola.effects  # noqa: F401  (registers the built-in effects and plugins)
from moviola.media.frame import Frame
from moviola.media.probe import MediaInfo, probe
from moviola.media.timeline import Timeline
from moviola.pipeline import registry
from moviola.pipeline.effect import Effect
from moviola.pipeline.options import RunOptions
from moviola.pipeline.runner import Chain, RunResult, open_reader


@dataclass(frozen=True)
class Clip:
    path: str
    start: Any = None
    end: Any = None
    steps: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = field(default=())

    @cached_property
    def info(self) -> MediaInfo:
        return probe(self.path)

    def apply(self, effect: str, **params: Any) -> Clip:
        """A new clip with one more effect (by name, with its parameters) at the end."""
        registry.create(effect, **params)  # check the name and parameters now
        return Clip(
            self.path, self.start, self.end, self.steps + ((effect, tuple(sorted(params.items()))),)
        )

    def trim(self, start=None, end=None) -> Clip:
        """A new clip reading only [start, end) of the source (seconds or timecodes)."""
        return Clip(self.path, start, end, self.steps)

    def effects(self) -> list[Effect]:
        """Fresh effect instances for one run."""
        return [registry.create(name, **dict(params)) for name, params in self.steps]

    def frames(self, *, dtype: str = "uint8") -> Iterator[Frame]:
        """The processed frames, in this thread (no encoding)."""
        reader = open_reader(self.path, start=self.start, end=self.end, dtype=dtype)
        chain = Chain(self.effects())
        try:
            chain.configure(reader.stream_info)
            # as the runner does: effects learn the timeline (captions map frames to the source)
            chain.timeline(Timeline(start=reader.start, end=reader.end))
            yield from chain.run(reader)
        finally:
            chain.close()
            reader.close()

    def save(
        self,
        output: str | os.PathLike,
        options: RunOptions | None = None,
        *,
        engine: str = "local",
        address: str | None = None,
        workers: int | None = None,
        chunk_seconds: float = 10.0,
        **changes: Any,
    ) -> RunResult:
        """Run the effects and write ``output`` (format from its extension).

        ``options`` (a :class:`moviola.pipeline.RunOptions`) or its fields as keywords
        (``codec``, ``crf``, ``preset``, ``audio``, ``strict``, ``dtype``, ``progress``,
        ``metadata``, ``cancel``) say how. ``engine="ray"`` renders chunks on a Ray cluster
        (``address``, ``workers``, ``chunk_seconds``); see moviola.engines.run.
        """
        opts = RunOptions.of(options, start=self.start, end=self.end, **changes)
        from moviola import engines

        return engines.run(
            self.path,
            os.fspath(output),
            self.effects(),
            opts,
            engine=engine,
            address=address,
            workers=workers,
            chunk_seconds=chunk_seconds,
        )


def open(path: str | os.PathLike, *, start=None, end=None) -> Clip:  # noqa: A001 - API name
    """A clip of a media file (optionally only [start, end) of it)."""
    return Clip(str(Path(path)), start, end)
