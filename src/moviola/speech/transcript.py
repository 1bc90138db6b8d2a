"""A transcript: timed segments of text with their words (and speakers), and its file formats.

``.json`` holds everything (segments with start, end, text, speaker, and words with start, end,
probability, speaker); ``.srt`` and ``.vtt`` are subtitles cut for reading (42 characters a line,
two lines at most, split at word times); ``.txt`` is the plain text, one segment a line (with its
speaker when there are several). Times are seconds from the start of the media.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError

FORMATS = (".json", ".srt", ".vtt", ".txt")


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float
    speaker: str | None = None


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    speaker: str | None = None


@dataclass
class Transcript:
    segments: list[Segment]
    language: str
    model: str
    duration: float  # seconds of audio heard
    speakers: list[str] = field(default_factory=list)
    language_probability: float | None = None

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments).strip()

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        try:
            segments = [
                Segment(
                    start=float(s["start"]),
                    end=float(s["end"]),
                    text=str(s["text"]),
                    speaker=s.get("speaker"),
                    words=[Word(**w) for w in s.get("words", [])],
                )
                for s in data["segments"]
            ]
            return cls(
                segments=segments,
                language=str(data.get("language", "")),
                model=str(data.get("model", "")),
                duration=float(data.get("duration", 0.0)),
                speakers=list(data.get("speakers", [])),
                language_probability=data.get("language_probability"),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise MoviolaError(f"not a moviola transcript: {type(e).__name__}: {e}") from None

    def cues(self, width: int = 42, max_lines: int = 2, labels: bool = True) -> list[Any]:
        """Subtitle cues cut for reading (at word times where a segment is too long); with
        several speakers, ``labels`` starts each with its speaker ("[S1] ...")."""
        from moviola.media.subtitles import Cue, split_for_reading

        out = []
        label = labels and len(self.speakers) > 1
        for s in self.segments:
            text = f"[{s.speaker}] {s.text}" if s.speaker and label else s.text
            cue = Cue(_frac(s.start), _frac(s.end), text, s.speaker)
            words = [(_frac(w.start), _frac(w.end), w.text) for w in s.words]
            if words and s.speaker and label:  # the label goes with the first word
                words[0] = (words[0][0], words[0][1], f" [{s.speaker}] {words[0][2].lstrip()}")
            out += split_for_reading([cue], width=width, max_lines=max_lines, words=words or None)
        return out

    def format(self, suffix: str) -> str:
        if suffix == ".json":
            return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        if suffix == ".txt":
            lines = [
                f"{s.speaker}: {s.text}" if s.speaker and len(self.speakers) > 1 else s.text
                for s in self.segments
            ]
            return "\n".join(lines) + ("\n" if lines else "")
        from moviola.media.subtitles import format_srt, format_vtt

        if suffix == ".srt":
            return format_srt(self.cues())
        if suffix == ".vtt":
            return format_vtt(self.cues(labels=False))  # WebVTT says who speaks: <v S1>
        raise MoviolaError(f"unknown transcript format {suffix!r}: use {', '.join(FORMATS)}")


def normalize_word(word: str) -> str:
    """A word as compared when matching what is said: lower case, letters, digits and
    apostrophes only ("Cold-hearted," -> "coldhearted")."""
    return re.sub(r"[^a-z0-9']", "", word.lower())


def words_of(text: str) -> list[str]:
    """The normalised words of a text (empty ones dropped)."""
    return [w for w in (normalize_word(t) for t in text.split()) if w]


def _frac(seconds: float) -> Fraction:
    return Fraction(round(seconds * 1000), 1000)


def load_transcript(path: str | os.PathLike) -> Transcript:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MoviolaError(f"cannot read transcript {p}: {e}") from None
    if not isinstance(data, dict):
        raise MoviolaError(f"{p} is not a moviola transcript (no segments)")
    return Transcript.from_dict(data)


def word_edits(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Word-level edit distance (substitutions, insertions, deletions): the numerator of WER."""
    d = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(hyp) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (ref[i - 1] != hyp[j - 1]))
    return d[len(hyp)]
