"""English text as it should be read aloud, split into the pieces a voice speaks one at a time.

Numbers, money, percentages, ordinals, years, dates, times and the common abbreviations are
written out in words (num2words does the number words) before phonemes are made: espeak-ng
alone reads "1905" as "one thousand nine hundred and five", "$12.50" as "dollar twelve point
five zero" and "Dr." as "D R". Then the text is cut into paragraphs (blank lines) and sentences
(., ! and ? before a capital or the end, never after an abbreviation), so a long script is
spoken and written one sentence at a time, with a longer pause between paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from moviola.errors import MoviolaError

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_ABBR = {m[:3].lower(): m for m in MONTHS} | {"sept": "September"}

# Said the same wherever they stand. "St." is Saint before a capitalised name, else Street.
ABBREVIATIONS = {
    "mr.": "Mister",
    "mrs.": "Missus",
    "ms.": "Miz",
    "dr.": "Doctor",
    "prof.": "Professor",
    "sr.": "Senior",
    "jr.": "Junior",
    "vs.": "versus",
    "etc.": "et cetera",
    "e.g.": "for example",
    "i.e.": "that is",
    "approx.": "approximately",
    "no.": "number",
    "ave.": "Avenue",
    "rd.": "Road",
    "mt.": "Mount",
    "ft.": "feet",
    "km": "kilometres",
    "kg": "kilograms",
    "mph": "miles per hour",
}
_CURRENCIES = {"$": ("dollar", "cent"), "£": ("pound", "penny"), "€": ("euro", "cent")}
_PLURAL = {"penny": "pence"}


@dataclass(frozen=True)
class Sentence:
    """One piece to speak; ``paragraph_end`` when a blank line follows it."""

    text: str
    paragraph_end: bool = False


def _words(n: int | float, **kw) -> str:
    from num2words import num2words

    return num2words(n, lang="en", **kw).replace(",", "")


def _unit(name: str, n: int) -> str:
    if n == 1:
        return name
    return _PLURAL.get(name, name + "s")


def _money(m: re.Match) -> str:
    whole_name, cent_name = _CURRENCIES[m.group(1)]
    whole = int(m.group(2).replace(",", ""))
    scale = {"k": " thousand", "m": " million", "bn": " billion", "b": " billion"}
    scale |= {"million": " million", "billion": " billion"}
    scale = scale.get((m.group(4) or "").lower(), "")
    cents = int((m.group(3) or "0").ljust(2, "0")[:2])
    if scale:
        amount = _words(float(f"{whole}.{m.group(3)}")) if m.group(3) else _words(whole)
        return f"{amount}{scale} {_unit(whole_name, 2)}"
    said = f"{_words(whole)} {_unit(whole_name, whole)}"
    if cents:
        said += f" and {_words(cents)} {_unit(cent_name, cents)}"
    return said


def _year(y: int) -> str:
    return _words(y, to="year") if 1100 <= y <= 2099 else _words(y)


def _month_name(token: str) -> str | None:
    t = token.lower().rstrip(".")
    return _MONTH_ABBR.get(t if t == "sept" else t[:3]) if t[:3] in _MONTH_ABBR else None


def _time(m: re.Match) -> str:
    hour, minute = int(m.group(1)), int(m.group(2))
    said = _words(hour)
    if minute == 0:
        said += " o'clock" if not m.group(3) else ""
    elif minute < 10:
        said += f" oh {_words(minute)}"
    else:
        said += f" {_words(minute)}"
    if m.group(3):
        said += " " + " ".join(m.group(3).lower().replace(".", ""))
        said += "." if m.group(3).endswith(".") else ""  # a.m. ending the sentence
    return said


def _number(m: re.Match) -> str:
    text = m.group(0)
    sign = "minus " if text.startswith("-") else ""
    text = text.lstrip("-")
    if "." in text:
        whole, frac = text.replace(",", "").split(".")
        return f"{sign}{_words(int(whole))} point {' '.join(_words(int(d)) for d in frac)}"
    n = int(text.replace(",", ""))
    if "," not in text and 1100 <= n <= 2099 and not sign:
        return _year(n)  # a bare four-digit number from 1100 to 2099 is most often a year
    return sign + _words(n)


_MONEY = re.compile(r"([$£€])(\d[\d,]*)(?:\.(\d{1,2}))?(?:\s?(k|m|bn|b|million|billion)\b)?", re.I)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?%")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})(?:\s*([ap]\.m\.|[ap]m\b))?", re.IGNORECASE)
_DATE = re.compile(
    r"\b((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?)\s+(\d{1,2})"
    r"(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b"
)
_NUMERIC_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DECADE = re.compile(r"\b(1[1-9]|20)(\d)0s\b")
_NUMBER = re.compile(r"-?\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b|-?\b\d+(?:\.\d+)?\b")
_RANGE = re.compile(r"\b(\d+)\s?[-–]\s?(\d+)\b")
_ABBR = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(a) for a in ABBREVIATIONS) + r")(?=\W|$)", re.IGNORECASE
)
_SAINT = re.compile(r"\bSt\.(?=\s+[A-Z])")
_STREET = re.compile(r"\bSt\.")


def _decade(m: re.Match) -> str:
    words = _year(int(m.group(1) + m.group(2) + "0"))
    return (words[:-1] + "ies") if words.endswith("y") else words + "s"


def normalize(text: str) -> str:
    """``text`` with numbers, money, dates, times and abbreviations written out in words."""
    text = text.replace("\u2019", "'").replace("&", " and ")
    text = _NUMERIC_DATE.sub(
        lambda m: (
            f"{MONTHS[int(m.group(2)) - 1]} {_words(int(m.group(3)), to='ordinal')}, "
            f"{_year(int(m.group(1)))}"
            if 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31
            else m.group(0)
        ),
        text,
    )
    text = _DATE.sub(lambda m: _date_words(m), text)
    text = _MONEY.sub(_money, text)
    text = _PERCENT.sub(lambda m: f"{_number_words(m.group(1))} percent", text)
    text = _TIME.sub(_time, text)
    text = _ORDINAL.sub(lambda m: _words(int(m.group(1)), to="ordinal"), text)
    text = _DECADE.sub(_decade, text)
    text = _RANGE.sub(lambda m: f"{m.group(1)} to {m.group(2)}", text)
    text = _SAINT.sub("Saint", text)
    text = _STREET.sub("Street", text)
    text = _ABBR.sub(lambda m: ABBREVIATIONS[m.group(1).lower()], text)
    text = _NUMBER.sub(_number, text)
    return re.sub(r"[ \t]+", " ", text)


def _number_words(text: str) -> str:
    return _number(re.match(r".*", text))  # type: ignore[arg-type]


def _date_words(m: re.Match) -> str:
    month = _month_name(m.group(1))
    if month is None or not 1 <= int(m.group(2)) <= 31:
        return m.group(0)
    out = f"{month} {_words(int(m.group(2)), to='ordinal')}"
    if m.group(3):
        out += f", {_year(int(m.group(3)))}"
    return out


_SPLIT = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=[\"'“(]*[A-Z0-9])")


def sentences(text: str) -> Iterator[Sentence]:
    """The sentences of ``text`` in order (already normalised), paragraph ends marked."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    for paragraph in paragraphs:
        flat = " ".join(paragraph.split())
        parts = [s.strip() for s in _SPLIT.split(normalize(flat)) if s.strip()]
        for i, s in enumerate(parts):
            yield Sentence(s, paragraph_end=i == len(parts) - 1)


def check_speakable(text: str) -> None:
    """One clear error for text with nothing to say (empty, or only symbols)."""
    if not text.strip():
        raise MoviolaError("nothing to say: the text is empty")
    if not re.search(r"[^\W_]", text):
        raise MoviolaError(f"nothing to say: {text.strip()[:40]!r} has no letters or digits")
