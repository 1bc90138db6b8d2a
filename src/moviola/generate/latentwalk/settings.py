"""The options of a latent walk, as the command line and the API give them, and their checks.

:class:`WalkSettings` takes what a user writes (text or numbers, None for "the default for this
walk"); :meth:`WalkSettings.validated` checks it and resolves the defaults into
:class:`CheckedSettings`, which the planner and renderer read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from moviola.errors import MoviolaError
from moviola.generate.latentwalk.paths import EASES, INTERPS
from moviola.media.time import parse_rate

PATHS = ("random", "loop", "seeds")
DEFAULT_SECONDS = 8.0
DEFAULT_FPS = Fraction(24)
DEFAULT_EVERY = 2.0
DEFAULT_UPSCALE = "realesr-animevideov3"


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"640x480"`` -> (640, 480); ``"512"`` -> (512, 512)."""
    if text is None:
        return None
    raw = str(text).lower().replace(" ", "")
    parts = raw.split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise MoviolaError(f"size must be WIDTHxHEIGHT or one number, not {text!r}") from None
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or min(values) < 2 or max(values) > 8192:
        raise MoviolaError(f"size must be WIDTHxHEIGHT between 2 and 8192, not {text!r}")
    return values[0], values[1]


def parse_seeds(text: str | Sequence[int] | None) -> list[int]:
    if text is None:
        return []
    if isinstance(text, str):
        items = [s for s in text.replace(" ", "").split(",") if s]
    else:
        items = list(text)
    try:
        seeds = [int(s) for s in items]
    except (TypeError, ValueError):
        raise MoviolaError(f"seeds must be whole numbers separated by commas: {text!r}") from None
    if any(s < 0 for s in seeds):
        raise MoviolaError("seeds must not be negative")
    return seeds


@dataclass(frozen=True)
class CheckedSettings:
    """A walk's settings once checked: defaults resolved, text parsed (see WalkSettings)."""

    model: str | None
    model_range: str | None
    path: str
    seeds: list[int]
    loop: bool
    interp: str
    ease: str
    seconds: float | None
    fps: Fraction
    size: tuple[int, int] | None
    upscale: str | None
    audio: str | None
    bpm: float | None
    beats_per_key: int
    every: float
    seed: int
    batch: int

    @property
    def closed(self) -> bool:
        return self.path == "loop" or self.loop


@dataclass
class WalkSettings:
    """Everything a latent walk takes (the CLI's options)."""

    model: str | None = None
    model_range: str | None = None
    path: str | None = None  # None: "seeds" when seeds are given, else "random"
    seeds: Sequence[int] | str | None = None
    loop: bool = False  # close a random or seeds path
    interp: str | None = None  # None: slerp for seeds, spline otherwise
    ease: str | None = None  # None: pulse with audio, else none
    seconds: float | None = None
    fps: Fraction | str | float = DEFAULT_FPS
    size: tuple[int, int] | str | None = None
    upscale: str | None = None  # an upscale model name (or "lanczos"); None: no upscale effect
    audio: str | None = None
    bpm: float | None = None
    beats_per_key: int = 1
    every: float = DEFAULT_EVERY
    seed: int = 0
    batch: int = 16

    def validated(self) -> CheckedSettings:
        """These settings checked (MoviolaError with one line for the first problem), with the
        defaults that depend on other settings resolved."""
        path, seeds = self._path()
        interp, ease = self._motion(path)
        fps, seconds, size = self._timing()
        if not 1 <= int(self.batch) <= 1024:
            raise MoviolaError(f"batch must be between 1 and 1024: {self.batch}")
        if not 0.1 <= float(self.every) <= 600:
            raise MoviolaError(f"every must be between 0.1 and 600 seconds: {self.every}")
        if int(self.beats_per_key) < 1:
            raise MoviolaError("beats per keyframe must be at least 1")
        self._check_sources()
        return CheckedSettings(
            model=self.model,
            model_range=self.model_range,
            path=path,
            seeds=seeds,
            loop=bool(self.loop),
            interp=interp,
            ease=ease,
            seconds=seconds,
            fps=fps,
            size=size,
            upscale=self.upscale,
            audio=self.audio,
            bpm=self.bpm,
            beats_per_key=int(self.beats_per_key),
            every=float(self.every),
            seed=int(self.seed),
            batch=int(self.batch),
        )

    def _path(self) -> tuple[str, list[int]]:
        seeds = parse_seeds(self.seeds)
        path = self.path if self.path is not None else ("seeds" if seeds else "random")
        if path not in PATHS:
            raise MoviolaError(f"path must be one of {', '.join(PATHS)}, not {path!r}")
        if path == "seeds":
            if not seeds:
                raise MoviolaError("path seeds needs --seeds, e.g. --seeds 1,7,42")
            if len(seeds) < 2:
                raise MoviolaError("give at least two seeds to walk between")
        elif seeds:
            raise MoviolaError(f"--seeds is for path seeds, not {path}")
        return path, seeds

    def _motion(self, path: str) -> tuple[str, str]:
        interp = self.interp
        if interp is None:
            interp = "slerp" if path == "seeds" else "spline"
        if interp not in INTERPS:
            raise MoviolaError(f"interp must be one of {', '.join(INTERPS)}, not {interp!r}")
        ease = self.ease
        if ease is None:
            ease = "pulse" if self.audio else "none"
        if ease not in EASES:
            raise MoviolaError(f"ease must be one of {', '.join(EASES)}, not {ease!r}")
        return interp, ease

    def _timing(self) -> tuple[Fraction, float | None, tuple[int, int] | None]:
        fps = parse_rate(self.fps)
        if fps > 240:
            raise MoviolaError(f"fps must be at most 240, not {fps}")
        seconds = None
        if self.seconds is not None:
            seconds = float(self.seconds)
            if not 0 < seconds <= 3600:
                raise MoviolaError(f"seconds must be more than 0 and at most 3600: {seconds}")
        size = parse_size(self.size) if isinstance(self.size, str) else self.size
        return fps, seconds, size

    def _check_sources(self) -> None:
        if self.bpm is not None and not self.audio:
            raise MoviolaError("--bpm needs --audio")
        if self.audio is not None and not Path(os.path.expanduser(self.audio)).is_file():
            raise MoviolaError(f"audio file not found: {self.audio}")
        if self.upscale is not None:
            from moviola.pipeline import registry

            choices = next(p.choices for p in registry.get("upscale").params if p.name == "model")
            if choices is None or self.upscale not in choices:
                raise MoviolaError(
                    f"upscale model must be one of {', '.join(choices or ())}, not {self.upscale!r}"
                )
