"""The options of one run: what to read, how to encode, what to report.

One object carries them through every layer (``pipeline.run``, ``engines.run``, the chunked
engine, ``Clip.save``, the CLI and the studio), so a new option is added once, here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from typing import Any


@dataclass
class Progress:
    """A progress event: frames written so far, rate and estimated time left."""

    frames: int
    total: int | None
    elapsed: float
    done: bool = False

    @property
    def fps(self) -> float:
        return self.frames / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        if not self.total or not self.frames or self.done:
            return None
        return max(0.0, (self.total - self.frames) / self.fps) if self.fps else None

    @property
    def fraction(self) -> float | None:
        if self.done:
            return 1.0
        return min(1.0, self.frames / self.total) if self.total else None


@dataclass(frozen=True)
class RunOptions:
    """How to run a chain over a clip.

    start, end:   process only [start, end) of the input (seconds, "HH:MM:SS.mmm", Fraction).
    codec, crf, preset: the encoder (None: the container's default, crf 18, preset medium).
    audio:        carry the audio over (copied when untouched, re-encoded when retimed).
    strict:       fail on undecodable frames instead of skipping them with a warning.
    dtype:        "uint8", "uint16" (``--deep``) or "float32": what effects receive.
    metadata:     container tags to add.
    progress:     called with :class:`Progress` events.
    cancel:       set it to stop the run (nothing is written).
    queue_size:   frames held between decode, compute and encode.
    """

    start: str | float | Fraction | None = None
    end: str | float | Fraction | None = None
    codec: str | None = None
    crf: int | None = None
    preset: str | None = None
    audio: bool = True
    strict: bool = False
    dtype: str = "uint8"
    metadata: dict[str, str] | None = None
    progress: Callable[[Progress], None] | None = None
    cancel: threading.Event | None = None
    queue_size: int = 8

    @classmethod
    def of(cls, options: RunOptions | None = None, **changes: Any) -> RunOptions:
        """``options`` (or the defaults) with ``changes`` applied; unknown names are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown run option(s): {', '.join(unknown)}")
        return replace(options or cls(), **changes)
