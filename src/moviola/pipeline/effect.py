"""The Effect interface and its declared parameters.

An effect declares its parameters once (name, type, default, range or choices, help); the CLI
options, the studio's forms and the docs are generated from those declarations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo
from moviola.media.timeline import Timeline

# Common frame-rate names and the NTSC rates written as decimals.
_RATE_NAMES = {"ntsc": Fraction(30000, 1001), "pal": Fraction(25), "film": Fraction(24),
               "ntsc-film": Fraction(24000, 1001)}


def parse_rate(text: str | float | Fraction) -> Fraction:
    """A frame rate as an exact fraction: "30000/1001", "29.97" (read as 30000/1001), "25"."""
    if isinstance(text, Fraction):
        value = text
    else:
        raw = str(text).strip().lower()
        if raw in _RATE_NAMES:
            return _RATE_NAMES[raw]
        try:
            value = Fraction(raw)
        except (ValueError, ZeroDivisionError):
            raise MoviolaError(f"not a frame rate: {text!r} (e.g. 25, 30000/1001, 29.97)") from None
        if "." in raw and "/" not in raw:
            # 23.976, 29.97, 59.94, 119.88 mean the NTSC rates N*1000/1001.
            ntsc = Fraction(round(value * Fraction(1001, 1000)) * 1000, 1001)
            if ntsc.denominator == 1001 and abs(ntsc - value) < Fraction(1, 100):
                value = ntsc
    if value <= 0:
        raise MoviolaError(f"frame rate must be positive: {text!r}")
    return value


def parse_fraction(text: str | float | Fraction) -> Fraction:
    if isinstance(text, Fraction):
        return text
    try:
        return Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise MoviolaError(f"not a number: {text!r}") from None


def parse_bool(text: str | bool) -> bool:
    if isinstance(text, bool):
        return text
    raw = str(text).strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise MoviolaError(f"not a yes/no value: {text!r}")


def parse_path(text: str) -> str:
    """A path to an existing file or folder (``~`` expanded)."""
    import os

    path = os.path.expanduser(str(text).strip())
    if not os.path.exists(path):
        raise MoviolaError(f"no such file: {text}")
    return path


def parse_color(text: str) -> tuple[int, int, int]:
    """"#RRGGBB", "RRGGBB" or a few names to an RGB tuple."""
    names = {"black": "000000", "white": "ffffff", "green": "00b140", "blue": "0047bb",
             "gray": "808080", "grey": "808080", "red": "ff0000"}
    raw = names.get(str(text).strip().lower(), str(text).strip().lstrip("#"))
    if not re.fullmatch(r"[0-9a-fA-F]{6}", raw):
        raise MoviolaError(f"not a color: {text!r} (use #RRGGBB or black, white, green, blue)")
    return tuple(int(raw[i:i + 2], 16) for i in (0, 2, 4))


PARSERS: dict[str, Callable[[Any], Any]] = {
    "int": lambda v: int(v) if isinstance(v, int) else int(str(v).strip()),
    "float": lambda v: float(v),
    "str": str,
    "bool": parse_bool,
    "rate": parse_rate,
    "fraction": parse_fraction,
    "time": None,  # set below (media.reader.parse_time), kept lazy to avoid a heavy import here
    "color": parse_color,
    "path": parse_path,  # an existing file; the studio offers a file picker
}


@dataclass(frozen=True)
class Param:
    """One declared parameter of an effect."""

    name: str
    type: str  # one of PARSERS
    default: Any = None
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: Sequence[str] | None = None
    multiple: bool = False  # repeatable (--reference A --reference B): the value is a tuple

    def parse(self, value: Any) -> Any:
        """Convert and check a value (string from the CLI, or a Python value)."""
        if value is None:
            return None
        if self.multiple:
            items = value if isinstance(value, list | tuple) else [value]
            return tuple(self._parse_one(item) for item in items)
        return self._parse_one(value)

    def _parse_one(self, value: Any) -> Any:
        parser = PARSERS[self.type]
        if parser is None:
            from moviola.media.reader import parse_time

            parser = parse_time
        try:
            result = parser(value)
        except MoviolaError as exc:
            raise MoviolaError(f"{self.name}: {exc}") from None
        except (ValueError, TypeError):
            raise MoviolaError(f"{self.name}: expected {self.type}, got {value!r}") from None
        if self.choices is not None and result not in self.choices:
            raise MoviolaError(f"{self.name}: {value!r} is not one of {', '.join(self.choices)}")
        if self.min is not None and result < self.min:
            raise MoviolaError(f"{self.name}: {value} is below the minimum {self.min}")
        if self.max is not None and result > self.max:
            raise MoviolaError(f"{self.name}: {value} is above the maximum {self.max}")
        return result

    def describe(self) -> dict:
        out = {"name": self.name, "type": self.type, "default": _plain(self.default),
               "help": self.help}
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        if self.choices is not None:
            out["choices"] = list(self.choices)
        if self.multiple:
            out["multiple"] = True
        return out


def _plain(value):
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}" if value.denominator != 1 else int(value)
    return value


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
    kind: ClassVar[str] = "classical"  # "classical" or "model": what produces the result
    # Cross-frame state, for chunked engines (moviola.engines): how many frames before a chunk's
    # first frame make its output equal a single run's. 0: each frame on its own. None: unknown
    # or never settling exactly (recurrent state, temporal smoothing): chunks then get a warm-up
    # (engines.chunks.WARMUP_FRAMES) and the result is close to, not equal to, a single run.
    context_frames: ClassVar[int | None] = None
    lookahead_frames: ClassVar[int] = 0  # frames after a chunk's end that its last outputs need

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
        return {"name": cls.name, "summary": cls.summary, "kind": cls.kind,
                "timing": cls.timing, "params": [p.describe() for p in cls.params]}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_plain(v)!r}" for k, v in self.options.items() if v is not None)
        return f"{self.name}({args})"
