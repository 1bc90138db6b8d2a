"""Subtitle cues as text: SRT, WebVTT and ASS files read and written, lines broken for reading,
cues retimed along a :class:`~moviola.media.timeline.Timeline`.

A :class:`Cue` is a stretch of time (exact seconds) and its text. ``read_subtitles`` parses SRT
and WebVTT (what editors and players exchange; ASS/SSA dialogue lines too), strictly: a
malformed file raises one MoviolaError naming the file and the line, never half a result. Every
pattern here runs in time linear in its input, and files over 20 MiB are refused, so a hostile
file costs seconds at most. ``wrap_text`` breaks a cue's text into balanced lines of at most 42
characters, two lines at most (the usual broadcast and streaming rule); ``split_for_reading``
turns a cue too long for that into consecutive cues, at word times when they are known.
Subtitle *tracks* in media files are in ``media/subtitles.py``, which re-exports all of this.

Written here rather than taken from a package: pysrt and webvtt-py each read one format, with
their own cue types and lenient parsing that lets malformed times through; what is needed is a
few dozen lines over exact Fractions with line-numbered errors.
"""

from __future__ import annotations

import bisect
import html
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from moviola.errors import MoviolaError
from moviola.media.timeline import Timeline

MAX_BYTES = 20 * 2**20  # a subtitle file larger than this is refused (a film's is ~100 kB)
MAX_CUES = 200_000  # ~100 hours of dialogue; 20 MiB of tiny cues would be 700,000 (300 MB)
WIDTH, LINES = 42, 2

#: A word with its times, as ``split_for_reading`` takes them: (start, end, text).
Word = tuple[Fraction, Fraction, str]


@dataclass(frozen=True, slots=True)
class Cue:
    """Text shown from ``start`` to ``end`` (seconds, exact); ``text`` may hold line breaks."""

    start: Fraction
    end: Fraction
    text: str
    speaker: str | None = None


# --- reading -------------------------------------------------------------------------------------

# No pattern below can backtrack over more than one tag or one line: linear time on any input.
_TIME = re.compile(r"(?:(\d{1,6}):)?(\d{1,2}):(\d{2})[,.](\d{1,3})")
_TAG = re.compile(r"<(?:/?[A-Za-z][^<>\n]*|\d[\d:.]*)>")  # <i>, </b>, <c.x>, <v Ann>, <00:01.000>
_VOICE = re.compile(r"<v(?:\.[^\s<>]*)?\s+([^\s<>][^<>\n]*)>")
_ASS_TAG = re.compile(r"\{[^{}\n]*\}")  # {\an8}, {\i1}: ASS override blocks (also seen in SRT)


def parse_time(text: str) -> Fraction | None:
    """``HH:MM:SS,mmm`` / ``MM:SS.mmm`` -> seconds, or None when it is not a time."""
    m = _TIME.fullmatch(text.strip())
    if not m:
        return None
    h, mnt, sec, frac = m.groups()
    if int(mnt) > 59 or int(sec) > 59:
        return None
    scale = 10 ** len(frac)
    return Fraction((((int(h or 0) * 60 + int(mnt)) * 60 + int(sec)) * scale + int(frac)), scale)


def _lines(path: Path) -> list[str]:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise MoviolaError(
                f"{path.name} is {size / 2**20:.0f} MiB: too large for a subtitle file "
                f"(at most {MAX_BYTES // 2**20} MiB)"
            )
        data = path.read_bytes()[: MAX_BYTES + 1]  # it may have grown since stat()
    except OSError as e:
        raise MoviolaError(f"cannot read {path}: {e.strerror or e}") from None
    if b"\x00" in data[:4096]:
        raise MoviolaError(f"{path.name} line 1: not a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise MoviolaError(f"{path.name} line {line}: not UTF-8 text") from None
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _fail(path: Path, line: int, what: str) -> MoviolaError:
    return MoviolaError(f"{path.name} line {line}: {what}")


def _room(cues: list[Cue], path: Path, line: int) -> None:
    if len(cues) >= MAX_CUES:
        raise _fail(path, line, f"more than {MAX_CUES} cues: too many for a subtitle file")


def _times(path: Path, n: int, line: str) -> tuple[Fraction, Fraction]:
    """START --> END [settings] on line ``n``."""
    left, arrow, right = line.partition("-->")
    ends = right.split(None, 1)
    if not arrow or len(left.split()) != 1 or not ends:
        raise _fail(path, n, f"expected 'START --> END', found {line.strip()[:60]!r}")
    raw_start, raw_end = left.strip(), ends[0]
    start, end = parse_time(raw_start), parse_time(raw_end)
    if start is None:
        raise _fail(path, n, f"bad time {raw_start[:30]!r}")
    if end is None:
        raise _fail(path, n, f"bad time {raw_end[:30]!r}")
    if end < start:
        raise _fail(path, n, f"the cue ends ({raw_end}) before it starts ({raw_start})")
    return start, end


def clean_text(text: str, entities: bool = False) -> tuple[str, str | None]:
    """Markup removed (HTML-like tags, ASS override blocks; with ``entities``, WebVTT's
    ``&amp;`` and the like decoded); a WebVTT voice tag (<v Name>) gives the speaker."""
    m = _VOICE.search(text)
    speaker = m.group(1).strip() if m else None
    text = _ASS_TAG.sub("", _TAG.sub("", text))
    if entities:
        text = html.unescape(text)
    return text.strip(), speaker or None


def _blocks(lines: list[str], first: int = 0) -> Iterable[tuple[int, list[str]]]:
    """Blank-line separated blocks: (line number of the block's first line, its lines)."""
    block: list[str] = []
    start = first
    for i in range(first, len(lines)):
        if lines[i].strip():
            if not block:
                start = i
            block.append(lines[i])
        elif block:
            yield start + 1, block
            block = []
    if block:
        yield start + 1, block


def parse_srt(lines: list[str], path: Path) -> list[Cue]:
    cues = []
    for n, block in _blocks(lines):
        k = 0
        if "-->" not in block[0]:
            if not block[0].strip().isdigit():
                raise _fail(path, n, f"expected a cue number, found {block[0].strip()[:60]!r}")
            k = 1
        if k >= len(block):
            raise _fail(path, n, "a cue number with no times")
        start, end = _times(path, n + k, block[k])
        _room(cues, path, n)
        text, speaker = clean_text("\n".join(block[k + 1 :]))
        cues.append(Cue(start, end, text, speaker))
    return cues


def parse_vtt(lines: list[str], path: Path) -> list[Cue]:
    head = lines[0] if lines else ""
    if not head.startswith("WEBVTT") or head[6:7] not in ("", " ", "\t"):
        raise _fail(path, 1, "a WebVTT file starts with 'WEBVTT'")
    body = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    cues = []
    for n, block in _blocks(lines, body):  # the header (WEBVTT and its lines) skipped
        first = block[0].strip()
        if first.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in first:
            continue
        k = 0 if "-->" in block[0] else 1  # an optional cue identifier first
        if k >= len(block) or "-->" not in block[k]:
            raise _fail(path, n, f"expected 'START --> END', found {first[:60]!r}")
        start, end = _times(path, n + k, block[k])
        _room(cues, path, n)
        text, speaker = clean_text("\n".join(block[k + 1 :]), entities=True)
        cues.append(Cue(start, end, text, speaker))
    return cues


def _ass_time(text: str) -> Fraction | None:
    m = re.fullmatch(r"(\d{1,6}):(\d{2}):(\d{2})\.(\d{2})", text.strip())
    if not m:
        return None
    h, mnt, sec, cs = (int(x) for x in m.groups())
    return (h * 60 + mnt) * 60 + sec + Fraction(cs, 100)


def ass_text(text: str) -> str:
    """An ASS Text field as plain text: override blocks removed, \\N and \\n as line breaks."""
    text = _ASS_TAG.sub("", text).replace("\\N", "\n").replace("\\n", "\n")
    return text.replace("\\h", "\u00a0").strip()


def parse_ass(lines: list[str], path: Path) -> list[Cue]:
    """The Dialogue lines of an ASS/SSA file (override tags removed, \\N as a line break)."""
    fields: list[str] = []
    section = ""
    cues = []
    for n, line in enumerate(lines, 1):
        if line.startswith("["):
            section = line.strip().lower()
        elif line.startswith("Format:") and section == "[events]":
            fields = [f.strip().lower() for f in line[7:].split(",")]
        elif line.startswith("Dialogue:"):
            if "start" not in fields or "end" not in fields or "text" not in fields:
                raise _fail(path, n, "a Dialogue line before the [Events] Format line")
            parts = line[9:].split(",", len(fields) - 1)
            if len(parts) != len(fields):
                raise _fail(path, n, f"expected {len(fields)} fields, found {len(parts)}")
            start = _ass_time(parts[fields.index("start")])
            end = _ass_time(parts[fields.index("end")])
            if start is None or end is None:
                raise _fail(path, n, "bad Start or End time (H:MM:SS.cc)")
            if end < start:
                raise _fail(path, n, "the line ends before it starts")
            name = parts[fields.index("name")].strip() if "name" in fields else ""
            _room(cues, path, n)
            cues.append(Cue(start, end, ass_text(parts[fields.index("text")]), name or None))
    return cues


def read_subtitles(path: str | os.PathLike) -> list[Cue]:
    """The cues of an .srt, .vtt, .ass or .ssa file, in time order.

    Raises MoviolaError naming the file and line of the first malformed thing.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    parsers = {".srt": parse_srt, ".vtt": parse_vtt, ".ass": parse_ass, ".ssa": parse_ass}
    if suffix not in parsers:
        raise MoviolaError(f"cannot read subtitles from {p.name}: use .srt, .vtt, .ass or .ssa")
    cues = parsers[suffix](_lines(p), p)
    return sorted(cues, key=lambda c: (c.start, c.end))


# --- writing -------------------------------------------------------------------------------------


def _stamp(t: Fraction, sep: str) -> str:
    ms = max(0, round(t * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _body(text: str) -> str:
    """A cue's text without blank lines (a blank line would end the cue)."""
    return "\n".join(line for line in text.strip().split("\n") if line.strip())


def format_srt(cues: Sequence[Cue]) -> str:
    """SRT text: numbered cues, times in milliseconds."""
    blocks = [
        f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{_body(c.text)}\n"
        for i, c in enumerate(cues, 1)
    ]
    return "\n".join(blocks)


def vtt_payload(cue: Cue) -> str:
    """A cue's text as WebVTT writes it: escaped, with a voice tag for its speaker."""
    text = html.escape(_body(cue.text), quote=False)
    return f"<v {html.escape(cue.speaker, quote=False)}>{text}" if cue.speaker else text


def format_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text: the header, then each cue (with ``<v Speaker>`` where it has one)."""
    blocks = [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{vtt_payload(c)}\n" for c in cues]
    return "WEBVTT\n\n" + "\n".join(blocks)


def write_srt(cues: Sequence[Cue], path: str | os.PathLike) -> Path:
    """Write an .srt file atomically (temporary file, then rename)."""
    from moviola.media.atomic import write_text

    return write_text(path, format_srt(cues))


def write_vtt(cues: Sequence[Cue], path: str | os.PathLike) -> Path:
    """Write a WebVTT file atomically (temporary file, then rename)."""
    from moviola.media.atomic import write_text

    return write_text(path, format_vtt(cues))


def write_subtitles(cues: Sequence[Cue], path: str | os.PathLike) -> Path:
    """Write .srt or .vtt (by the extension), atomically."""
    suffix = Path(path).suffix.lower()
    if suffix == ".srt":
        return write_srt(cues, path)
    if suffix == ".vtt":
        return write_vtt(cues, path)
    raise MoviolaError(f"cannot write subtitles as {Path(path).name}: use .srt or .vtt")


# --- reading comfort -----------------------------------------------------------------------------


_CLAUSE_END = frozenset(".,;:!?")


def _greedy(words: Sequence[str], width: int) -> list[list[str]]:
    """Words filled into lines of at most ``width`` (a longer word alone): the fewest lines."""
    lines: list[list[str]] = []
    used = 0
    for word in words:
        if lines and used + 1 + len(word) <= width:
            lines[-1].append(word)
            used += 1 + len(word)
        else:
            lines.append([word])
            used = len(word)
    return lines


def wrap_text(text: str, width: int = WIDTH, max_lines: int = LINES) -> list[str]:
    """Lines of at most ``width`` characters, broken at spaces (a longer word stands alone),
    as few as possible and as even as possible. More than ``max_lines`` lines only when the
    text cannot fit in fewer: no word is ever dropped (``split_for_reading`` makes a cue fit by
    splitting it)."""
    words = text.split()
    lines = _greedy(words, width)
    n = len(lines)
    if n > 1 and n * len(words) ** 2 <= 100_000:  # a few cues' worth: even them out
        return _balanced(words, n, width)
    return [" ".join(line) for line in lines]


def _balanced(words: list[str], n: int, width: int) -> list[str]:
    """``words`` in ``n`` lines of at most ``width`` (a longer word alone), the sum of squared
    line lengths least (the most even), less ``2 * width`` for each line that ends a clause
    (a break after punctuation reads better, if not more than ~width/6 off centre); of equal
    ones, the one whose upper lines are shorter (the subtitle pyramid)."""
    m = len(words)
    ends = [0]
    for w in words:
        ends.append(ends[-1] + len(w) + 1)

    def length(i: int, j: int) -> int:  # words[i:j] joined by spaces
        return ends[j] - ends[i] - 1

    # best[k][j]: the best way to set words[:j] in k lines, as (cost, starts of its lines)
    none: tuple[float, tuple[int, ...]] = (float("inf"), ())
    best: list[list[tuple[float, tuple[int, ...]]]] = [[none] * (m + 1) for _ in range(n + 1)]
    best[0][0] = (0.0, ())
    for k in range(1, n + 1):
        for j in range(k, m + 1):
            for i in range(k - 1, j):
                cost, starts = best[k - 1][i]
                if cost == none[0] or (j - i > 1 and length(i, j) > width):
                    continue
                clause = j < m and words[j - 1][-1] in _CLAUSE_END
                cand = (cost + length(i, j) ** 2 - 2 * width * clause, (*starts, i))
                best[k][j] = min(best[k][j], cand)  # equal cost: earlier breaks win
    starts = [*best[n][m][1], m]
    return [" ".join(words[a:b]) for a, b in zip(starts, starts[1:], strict=False)]


def split_for_reading(
    cues: Sequence[Cue],
    width: int = WIDTH,
    max_lines: int = LINES,
    words: Sequence[Word] | None = None,
) -> list[Cue]:
    """Cues whose text fits ``max_lines`` lines of ``width``: a longer cue is cut into
    consecutive cues at word boundaries, timed by the words' own times when ``words`` are given
    (each word goes to the cue in which it starts), else in proportion to characters. A word
    whose text does not start with a space continues the previous one (Whisper's tokens)."""
    starts = [c.start for c in cues]
    given: list[list[Word]] = [[] for _ in cues]
    for w in words or ():
        if w[2].strip() and cues:
            given[max(0, bisect.bisect_right(starts, w[0]) - 1)].append(w)
    out: list[Cue] = []
    for cue, tokens in zip(cues, given, strict=True):
        tokens = list(tokens) or _spread(cue)
        if tokens and not tokens[0][2].startswith(" "):
            tokens[0] = (tokens[0][0], tokens[0][1], " " + tokens[0][2])
        groups = _fill(tokens, width, max_lines)
        for i, group in enumerate(groups):
            start = cue.start if i == 0 else max(group[0][0], out[-1].end)
            end = cue.end if i == len(groups) - 1 else max(min(group[-1][1], cue.end), start)
            text = "\n".join(wrap_text("".join(t[2] for t in group), width, max_lines))
            out.append(Cue(start, end, text, cue.speaker))
    return out


def _fits(tokens: Sequence[Word], width: int, max_lines: int) -> bool:
    return len(_greedy("".join(t[2] for t in tokens).split(), width)) <= max_lines


def _fill(tokens: list[Word], width: int, max_lines: int) -> list[list[Word]]:
    """Tokens in groups that each fit ``max_lines`` lines; a full group gives the words after
    its last clause end (in its second half) to the next, so that cues end where phrases do."""
    groups: list[list[Word]] = [[]]
    for tok in tokens:
        group = groups[-1]
        if group and tok[2].startswith(" ") and not _fits([*group, tok], width, max_lines):
            ends = [k for k in range(len(group) // 2, len(group) - 1) if _ends_clause(group[k])]
            tail = group[ends[-1] + 1 :] if ends else []
            if tail and tail[0][2].startswith(" ") and _fits([*tail, tok], width, max_lines):
                del group[len(group) - len(tail) :]
            else:
                tail = []
            groups.append(tail)
        groups[-1].append(tok)
    return [g for g in groups if g]


def _ends_clause(word: Word) -> bool:
    text = word[2].rstrip()
    return bool(text) and text[-1] in _CLAUSE_END


def _spread(cue: Cue) -> list[Word]:
    """A cue's words with times in proportion to their characters."""
    words = cue.text.split()
    total = sum(len(w) + 1 for w in words) or 1
    span = cue.end - cue.start
    out, at = [], cue.start
    for w in words:
        nxt = at + span * (len(w) + 1) / total
        out.append((at, nxt, " " + w))
        at = nxt
    return out


def retime(cues: Sequence[Cue], timeline: Timeline) -> list[Cue]:
    """Cues in the output's time: those outside what the timeline keeps are dropped, those
    across its edges clipped (``timeline`` maps source to output: trim and speed)."""
    out = []
    for c in cues:
        a = max(c.start, timeline.start)
        b = c.end if timeline.end is None else min(c.end, timeline.end)
        if b <= a:
            continue
        out.append(Cue(timeline.to_output(a), timeline.to_output(b), c.text, c.speaker))
    return out
