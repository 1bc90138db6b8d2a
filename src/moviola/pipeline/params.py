"""Declared parameters: one ``Param`` per option of an effect.

A parameter names its parser (a type such as ``int`` or a function such as ``parse_rate``), its
default, range or choices and, where a front end must treat its value specially, a ``kind``:

- ``"path"``: the value is a file (the studio offers a picker and confines it to its folders);
- ``"path-or-keyword"``: a keyword, a colour or a file (matte's background);
- ``"keyframes"``: ``FRAME=IMAGE`` items whose image part is a file (stylize's keyframes).

The CLI options, the studio's forms and the docs are generated from these declarations; no front
end knows an effect's syntax.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from moviola.errors import MoviolaError
from moviola.media.time import parse_fraction, parse_rate, parse_time

KINDS = ("path", "path-or-keyword", "keyframes")


def parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise ValueError(value)
        return int(value)
    return int(str(value).strip())


def parse_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(value)
    result = float(value)
    if not math.isfinite(result):
        raise MoviolaError(f"not a finite number: {value!r}")
    return result


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
    path = os.path.expanduser(str(text).strip())
    if not os.path.exists(path):
        raise MoviolaError(f"no such file: {shown(text, 300)}")
    return path


_COLOR_NAMES = {
    "black": "000000",
    "white": "ffffff",
    "green": "00b140",
    "blue": "0047bb",
    "gray": "808080",
    "grey": "808080",
    "red": "ff0000",
}


def parse_color(text: str) -> tuple[int, int, int]:
    """ "#RRGGBB", "RRGGBB" or a few names to an RGB tuple."""
    raw = _COLOR_NAMES.get(str(text).strip().lower(), str(text).strip().lstrip("#"))
    if not re.fullmatch(r"[0-9a-fA-F]{6}", raw):
        raise MoviolaError(f"not a color: {text!r} (use #RRGGBB or black, white, green, blue)")
    return int(raw[0:2], 16), int(raw[2:4], 16), int(raw[4:6], 16)


def _text(value: Any) -> str:
    return str(value)


# What a parser is called in descriptions (``moviola effects --json``, the studio's forms).
_NAMES: dict[Callable[[Any], Any], str] = {
    int: "int",
    parse_int: "int",
    float: "float",
    parse_float: "float",
    str: "str",
    _text: "str",
    bool: "bool",
    parse_bool: "bool",
    parse_rate: "rate",
    parse_fraction: "fraction",
    parse_time: "time",
    parse_color: "color",
    parse_path: "path",
}
_BY_NAME: dict[str, Callable[[Any], Any]] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "rate": parse_rate,
    "fraction": parse_fraction,
    "time": parse_time,
    "color": parse_color,
    "path": parse_path,
}
# The builtin types stand for the strict parsers (bool("no") is True; float("nan") is a number).
_STRICT: dict[Callable[[Any], Any], Callable[[Any], Any]] = {
    int: parse_int,
    float: parse_float,
    bool: parse_bool,
    str: _text,
}


@dataclass(frozen=True)
class Param:
    """One declared parameter of an effect.

    ``type`` converts a value given as text (CLI, spec strings, the studio) or as a Python value;
    ``int``, ``float``, ``bool`` and ``str`` mean strict parsers (finite numbers, yes/no words).
    """

    name: str
    type: Callable[[Any], Any]  # (a type name such as "int" is also taken)
    default: Any = None
    help: str = ""
    min: float | Fraction | None = None
    max: float | Fraction | None = None
    choices: Sequence[str] | None = None
    multiple: bool = False  # repeatable (--reference A --reference B): the value is a tuple
    max_items: int = 64  # the most values a repeatable parameter takes
    kind: str | None = None  # how front ends treat the value: one of KINDS, or None

    def __post_init__(self) -> None:
        if isinstance(self.type, str):  # the older spelling, Param("width", "int"), still taken
            if self.type not in _BY_NAME:
                raise TypeError(f"Param {self.name!r}: unknown type {self.type!r}")
            object.__setattr__(self, "type", _BY_NAME[self.type])
        if not callable(self.type):
            raise TypeError(f"Param {self.name!r}: type must be a type or a parser function")
        if self.kind is not None and self.kind not in KINDS:
            raise TypeError(f"Param {self.name!r}: kind must be one of {', '.join(KINDS)}")

    @property
    def type_name(self) -> str:
        return _NAMES.get(self.type, getattr(self.type, "__name__", "value"))

    @property
    def is_path(self) -> bool:
        """Whether the value is, or may be, a file a front end must resolve and confine."""
        return self.kind is not None or self.type is parse_path

    def parse(self, value: Any) -> Any:
        """Convert and check a value (string from the CLI, or a Python value)."""
        if value is None:
            return None
        if self.multiple:
            items = value if isinstance(value, list | tuple) else [value]
            if len(items) > self.max_items:
                raise MoviolaError(
                    f"{self.name}: {len(items)} values given; it takes at most {self.max_items}"
                )
            return tuple(self._parse_one(item) for item in items)
        return self._parse_one(value)

    def _parse_one(self, value: Any) -> Any:
        parser = _STRICT.get(self.type, self.type)
        try:
            result = parser(value)
        except MoviolaError as exc:
            raise MoviolaError(f"{self.name}: {exc}") from None
        except (ValueError, TypeError, OverflowError):
            raise MoviolaError(
                f"{self.name}: expected {self.type_name}, got {shown(value)}"
            ) from None
        if self.choices is not None and result not in self.choices:
            raise MoviolaError(
                f"{self.name}: {shown(value)} is not one of {', '.join(self.choices)}"
            )
        if self.min is not None and result < self.min:
            raise MoviolaError(f"{self.name}: {shown(value)} is below the minimum {self.min}")
        if self.max is not None and result > self.max:
            raise MoviolaError(f"{self.name}: {shown(value)} is above the maximum {self.max}")
        return result

    def text(self, value: Any) -> str | list[str] | None:
        """A parsed value back as the text ``parse`` takes (spec strings, forms, job records):
        fractions as "n/d", colours as "#rrggbb", yes/no as "true"/"false"; a list for a
        repeatable parameter."""
        if value is None:
            return None
        if self.multiple:
            return [str(self._text_one(v)) for v in value]
        return self._text_one(value)

    def _text_one(self, value: Any) -> str:
        if self.type is parse_color and isinstance(value, tuple):
            return "#" + "".join(f"{int(c):02x}" for c in value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(plain(value))

    def describe(self) -> dict:
        out = {
            "name": self.name,
            "type": self.type_name,
            "default": plain(self.default),
            "help": self.help,
        }
        if self.min is not None:
            out["min"] = plain(self.min)
        if self.max is not None:
            out["max"] = plain(self.max)
        if self.choices is not None:
            out["choices"] = list(self.choices)
        if self.multiple:
            out["multiple"] = True
        if self.kind is not None:
            out["kind"] = self.kind
        return out


def shown(value: Any, limit: int = 60) -> str:
    """A value as a one-line message shows it: numbers as they are, other values quoted (so
    that a line break stays visible as \\n), long ones cut."""
    plain_text = isinstance(value, str) and value.isprintable() and value.strip() == value != ""
    text = str(value) if plain_text or isinstance(value, int | float | Fraction) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def plain(value: Any) -> Any:
    """A value as JSON can hold it (fractions as "n/d" text or whole numbers)."""
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}" if value.denominator != 1 else int(value)
    return value
