"""Exact time from text: times, frame rates and fractions as ``Fraction``s.

Every parameter, option and file that names a time or a rate goes through these three parsers,
so "29.97" means 30000/1001 everywhere and a timecode is read the same way by every front end.
"""

from __future__ import annotations

import re
from fractions import Fraction

from moviola.errors import MoviolaError

# Common frame-rate names and the NTSC rates written as decimals.
_RATE_NAMES = {
    "ntsc": Fraction(30000, 1001),
    "pal": Fraction(25),
    "film": Fraction(24),
    "ntsc-film": Fraction(24000, 1001),
}


# The latest time a user may name: a year, in seconds. Later times are typing mistakes, and in
# a stream's ticks they would overflow the 64-bit timestamps FFmpeg seeks with.
MAX_TIME = Fraction(366 * 24 * 3600)


def parse_time(value: str | float | Fraction | None) -> Fraction | None:
    """Seconds ("12.5", "1001/30000") or a timecode ("01:02:03.5", "02:03") to an exact Fraction.

    Negative times and times past :data:`MAX_TIME` (a year) raise MoviolaError."""
    if value is None or value == "":
        return None
    if isinstance(value, Fraction):
        result = value
    elif isinstance(value, int | float):
        result = _finite(Fraction(str(value)) if _is_finite(value) else None, value, "time")
    else:
        text = str(value).strip()
        try:
            if ":" in text:
                parts = text.split(":")
                if len(parts) > 3:
                    raise ValueError
                seconds = Fraction(0)
                for part in parts:
                    seconds = seconds * 60 + exact(part)
                result = seconds
            else:
                result = exact(text)
        except (ValueError, ZeroDivisionError):
            raise MoviolaError(
                f"not a time: {value!r} (use seconds like 12.5 or a timecode like 00:01:02.5)"
            ) from None
    if result < 0:
        raise MoviolaError(f"time must not be negative: {value!r}")
    if result > MAX_TIME:
        raise MoviolaError(f"time out of range: {value!r} (at most {MAX_TIME} s, a year)")
    return result


def parse_rate(text: str | float | Fraction) -> Fraction:
    """A frame rate as an exact fraction: "30000/1001", "29.97" (read as 30000/1001), "25"."""
    if isinstance(text, Fraction):
        value = text
    else:
        raw = str(text).strip().lower()
        if raw in _RATE_NAMES:
            return _RATE_NAMES[raw]
        try:
            value = exact(raw)
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
    """Any exact number: "3/2", "1.5", 2."""
    if isinstance(text, Fraction):
        return text
    try:
        return exact(str(text))
    except (ValueError, ZeroDivisionError):
        raise MoviolaError(f"not a number: {text!r}") from None


_EXPONENT = re.compile(r"[eE]\s*([+-]?\d+)")


def exact(text: str) -> Fraction:
    """``Fraction(text)``, but refusing (ValueError) text longer than 100 characters or with an
    exponent past 400: ``Fraction("1e999999999")`` would compute for minutes."""
    text = text.strip()
    if len(text) > 100:
        raise ValueError("too long")
    exponent = _EXPONENT.search(text)
    if exponent and abs(int(exponent.group(1))) > 400:
        raise ValueError("exponent too large")
    return Fraction(text)


def _is_finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))


def _finite(result: Fraction | None, value: object, what: str) -> Fraction:
    if result is None:
        raise MoviolaError(f"not a {what}: {value!r}")
    return result
