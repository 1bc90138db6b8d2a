"""Subtitles as timed text: cues, SRT and WebVTT files, line breaking for reading, retiming.

A :class:`Cue` is a stretch of time (exact seconds) and its text. ``read_subtitles`` parses
SRT and WebVTT (what editors and players exchange; ASS/SSA dialogue lines too), strictly: a
malformed file raises one MoviolaError naming the file and the line, never half a result.
``wrap_text`` breaks a cue's text into balanced lines of at most 42 characters, two lines at
most (the usual broadcast and streaming rule); ``split_for_reading`` turns a cue too long for
that into consecutive cues, at word times when they are known. ``retime`` maps cues through a
:class:`~moviola.media.timeline.Timeline` (trim and speed).

Written here rather than taken from a package: pysrt and webvtt-py each read one format, with
their own cue types and lenient parsing that lets malformed times through; what is needed is a
few dozen lines over exact Fractions with line-numbered errors.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from moviola.errors import MoviolaError

MAX_BYTES = 20 * 2**20  # a subtitle file larger than this is refused (a film's is ~100 kB)
WIDTH, LINES = 42, 2


@dataclass(frozen=True)
class Cue:
    """Text shown from ``start`` to ``end`` (seconds, exact); ``text`` may hold line breaks."""

    start: Fraction
    end: Fraction
    text: str
    speaker: str | None = None


# --- reading -------------------------------------------------------------------------------------

_TIME = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})$")
_ARROW = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)(?:\s+.*)?$")
_TAG = re.compile(r"<[^>]*>")
_VOICE = re.compile(r"<v(?:\.[^ >]*)?\s+([^>]+)>")


def parse_time(text: str) -> Fraction | None:
    """``HH:MM:SS,mmm`` / ``MM:SS.mmm`` -> seconds, or None when it is not a time."""
    m = _TIME.match(text.strip())
    if not m:
        return None
    h, mnt, sec, frac = m.groups()
    if int(mnt) > 59 or int(sec) > 59:
        return None
    whole = (int(h or 0) * 60 + int(mnt)) * 60 + int(sec)
    return whole + Fraction(int(frac), 10 ** len(frac))


def _lines(path: Path) -> list[str]:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise MoviolaError(f"{path.name} is {size // 2**20} MiB: too large for a subtitle file")
        data = path.read_bytes()
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


def _times(path: Path, n: int, line: str) -> tuple[Fraction, Fraction]:
    m = _ARROW.match(line)
    if not m:
        raise _fail(path, n, f"expected 'START --> END', found {line.strip()[:60]!r}")
    start, end = parse_time(m.group(1)), parse_time(m.group(2))
    for raw, value in ((m.group(1), start), (m.group(2), end)):
        if value is None:
            raise _fail(path, n, f"bad time {raw[:30]!r}")
    assert start is not None and end is not None
    if end < start:
        raise _fail(path, n, f"the cue ends ({m.group(2)}) before it starts ({m.group(1)})")
    return start, end


def _clean(text: str) -> tuple[str, str | None]:
    """Markup removed; a WebVTT voice tag (<v Name>) gives the speaker."""
    m = _VOICE.search(text)
    speaker = m.group(1).strip() if m else None
    text = _TAG.sub("", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", " ")
    return text.replace("&amp;", "&").strip(), speaker


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
        text, speaker = _clean("\n".join(block[k + 1 :]))
        cues.append(Cue(start, end, text, speaker))
    return cues


def parse_vtt(lines: list[str], path: Path) -> list[Cue]:
    if not lines or not lines[0].startswith("WEBVTT"):
        raise _fail(path, 1, "a WebVTT file starts with 'WEBVTT'")
    cues = []
    blocks = list(_blocks(lines, 1))
    for n, block in blocks:
        head = block[0].strip()
        if head.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in head:
            continue
        k = 0 if "-->" in block[0] else 1  # an optional cue identifier first
        if k >= len(block) or "-->" not in block[k]:
            raise _fail(path, n, f"expected 'START --> END', found {head[:60]!r}")
        start, end = _times(path, n + k, block[k])
        text, speaker = _clean("\n".join(block[k + 1 :]))
        cues.append(Cue(start, end, text, speaker))
    return cues


def _ass_time(text: str) -> Fraction | None:
    m = re.fullmatch(r"(\d+):(\d{2}):(\d{2})\.(\d{2})", text.strip())
    if not m:
        return None
    h, mnt, sec, cs = (int(x) for x in m.groups())
    return (h * 60 + mnt) * 60 + sec + Fraction(cs, 100)


def parse_ass(lines: list[str], path: Path) -> list[Cue]:
    """The Dialogue lines of an ASS/SSA file (override tags removed, \\N as a line break)."""
    fields: list[str] = []
    cues = []
    for n, line in enumerate(lines, 1):
        if line.startswith("Format:") and not fields:
            fields = [f.strip().lower() for f in line[7:].split(",")]
        elif line.startswith("Dialogue:"):
            if "start" not in fields or "text" not in fields:
                raise _fail(path, n, "a Dialogue line before the Events Format line")
            parts = line[9:].split(",", len(fields) - 1)
            if len(parts) != len(fields):
                raise _fail(path, n, f"expected {len(fields)} fields")
            start = _ass_time(parts[fields.index("start")])
            end = _ass_time(parts[fields.index("end")])
            if start is None or end is None or end < start:
                raise _fail(path, n, "bad Start or End time")
            text = re.sub(r"\{[^}]*\}", "", parts[fields.index("text")])
            text = text.replace("\\N", "\n").replace("\\n", "\n").strip()
            name = parts[fields.index("name")].strip() if "name" in fields else ""
            cues.append(Cue(start, end, text, name or None))
    return cues


def read_subtitles(path: str | os.PathLike) -> list[Cue]:
    """The cues of an .srt, .vtt, .ass or .ssa file, in time order."""
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


def format_srt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{c.text.strip()}\n"
        for i, c in enumerate(cues, 1)
    ]
    return "\n".join(blocks)


def format_vtt(cues: Sequence[Cue]) -> str:
    def body(c: Cue) -> str:
        text = c.text.strip().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f"<v {c.speaker}>{text}" if c.speaker else text

    blocks = [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{body(c)}\n" for c in cues]
    return "WEBVTT\n\n" + "\n".join(blocks)


def write_subtitles(cues: Sequence[Cue], path: str | os.PathLike) -> Path:
    """Write .srt or .vtt, atomically."""
    from moviola.media.atomic import write_text

    suffix = Path(path).suffix.lower()
    if suffix == ".srt":
        return write_text(path, format_srt(cues))
    if suffix == ".vtt":
        return write_text(path, format_vtt(cues))
    raise MoviolaError(f"cannot write subtitles as {Path(path).name}: use .srt or .vtt")


# --- reading comfort -----------------------------------------------------------------------------


def wrap_text(text: str, width: int = WIDTH, max_lines: int = LINES) -> list[str]:
    """Lines of at most ``width`` characters (a longer word stands alone), as balanced as
    possible; more than ``max_lines`` lines only when the text cannot fit in fewer."""
    words = text.split()
    if not words:
        return []
    lines: list[str] = []
    for word in words:  # greedy fill gives the fewest lines
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) == 2:  # balance two lines: the break that makes them most equal
        best = None
        for k in range(1, len(words)):
            a, b = " ".join(words[:k]), " ".join(words[k:])
            if len(a) <= width and len(b) <= width:
                score = abs(len(a) - len(b))
                if best is None or score < best[0]:
                    best = (score, [a, b])
        if best:
            lines = best[1]
    return lines


def split_for_reading(
    cues: Sequence[Cue],
    width: int = WIDTH,
    max_lines: int = LINES,
    words: Sequence[tuple[Fraction, Fraction, str]] | None = None,
) -> list[Cue]:
    """Cues whose text fits ``max_lines`` lines of ``width``: a longer cue is cut into
    consecutive cues at word boundaries, timed by the words' own times when ``words`` are given
    (else in proportion to characters)."""
    out: list[Cue] = []
    for cue in cues:
        # words keep their leading space (Whisper's tokens: " disposed", "-sposed" goes on)
        tokens = [(w[0], w[1], w[2]) for w in (words or []) if w[2].strip()]
        if not tokens:
            tokens = _spread(cue)
        if tokens and not tokens[0][2].startswith(" "):
            tokens[0] = (tokens[0][0], tokens[0][1], " " + tokens[0][2])
        groups: list[list[tuple[Fraction, Fraction, str]]] = [[]]
        for tok in tokens:
            trial = "".join(t[2] for t in [*groups[-1], tok])
            joins = tok[2].startswith(" ")
            if groups[-1] and joins and len(wrap_text(trial, width, max_lines)) > max_lines:
                groups.append([])
            groups[-1].append(tok)
        groups = [g for g in groups if g]
        for i, group in enumerate(groups):
            start = cue.start if i == 0 else max(group[0][0], out[-1].end)
            end = cue.end if i == len(groups) - 1 else max(group[-1][1], start)
            text = "\n".join(wrap_text("".join(t[2] for t in group), width, max_lines))
            out.append(Cue(start, end, text, cue.speaker))
    return out


def _spread(cue: Cue) -> list[tuple[Fraction, Fraction, str]]:
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


def retime(cues: Sequence[Cue], timeline) -> list[Cue]:
    """Cues in the output's time: those outside what the timeline keeps are dropped, those
    across its edges clipped (``timeline`` maps source to output: trim and speed)."""
    start = timeline.start
    end = timeline.end
    out = []
    for c in cues:
        a, b = max(c.start, start), c.end if end is None else min(c.end, end)
        if b <= a:
            continue
        out.append(Cue(timeline.to_output(a), timeline.to_output(b), c.text, c.speaker))
    return out


# --- subtitle tracks in containers ---------------------------------------------------------------

#: The text subtitle codec each container takes.
TRACK_CODECS = {".mp4": "mov_text", ".m4v": "mov_text", ".mov": "mov_text", ".mkv": "subrip",
                ".webm": "webvtt"}  # fmt: skip
#: Text subtitle codecs that can be read back as cues.
TEXT_CODECS = ("subrip", "srt", "mov_text", "webvtt", "ass", "ssa", "text")
# The encoders of text subtitles will not open without an ASS header (FFmpeg converts every text
# subtitle through ASS); the packets themselves are built here, so this is all they need.
_ASS_HEADER = (
    b"[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n[V4+ Styles]\n"
    b"Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
    b"BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
    b"BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
    b"Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0"
    b"\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, "
    b"Text\n"
)
CUE_TICK = _MS = Fraction(1, 1000)  # the time base of the subtitle tracks written here


def track_codec(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in TRACK_CODECS:
        raise MoviolaError(
            f"{Path(path).name}: subtitle tracks go in .mp4, .mov, .m4v, .mkv or .webm "
            "(or burn them in with --burn)"
        )
    return TRACK_CODECS[suffix]


def add_track(container, codec: str, language: str | None = None, title: str | None = None):
    """A text subtitle stream (mov_text, subrip or webvtt) in an output container."""
    stream = container.add_stream(codec)
    stream.time_base = _MS
    stream.codec_context.subtitle_header = _ASS_HEADER
    if language:
        stream.metadata["language"] = language
    if title:
        stream.metadata["title"] = title
    return stream


def cue_packets(stream, codec: str, cues: Sequence[Cue], offset: Fraction = Fraction(0)):
    """One packet per cue, in the stream's time base (ms), ``offset`` added to each time."""
    import struct

    import av

    packets = []
    for c in cues:
        text = c.text.strip()
        if codec == "webvtt" and c.speaker:
            text = f"<v {c.speaker}>{text}"
        data = text.encode("utf-8")
        if codec == "mov_text":
            data = struct.pack(">H", len(data)) + data
        packet = av.Packet(data)
        packet.pts = packet.dts = round((c.start + offset) / _MS)
        packet.duration = max(1, round((c.end - c.start) / _MS))
        packet.time_base = _MS
        packet.stream = stream
        packets.append(packet)
    return sorted(packets, key=lambda p: p.pts or 0)


def decode_track(path: str | os.PathLike, index: int, origin: Fraction | None = None) -> list[Cue]:
    """The cues of a text subtitle stream of a media file, times from ``origin`` (seconds in
    the file's own time; default: the file's start)."""
    import av
    from av.error import FFmpegError

    cues = []
    try:
        with av.open(str(path)) as container:
            if origin is None:
                origin = Fraction(container.start_time or 0, 1_000_000)
            stream = container.streams[index]
            for packet in container.demux(stream):
                if packet.pts is None or packet.time_base is None or not packet.size:
                    continue
                start = packet.pts * Fraction(packet.time_base) - origin
                end = start + (packet.duration or 0) * Fraction(packet.time_base)
                text = _packet_text(bytes(packet), stream.codec_context.name)
                if text:
                    cleaned, speaker = _clean(text)
                    cues.append(Cue(start, end, cleaned, speaker))
    except FFmpegError as e:
        raise MoviolaError(f"cannot read the subtitles of {path}: {e}") from None
    return cues


def _packet_text(data: bytes, codec: str) -> str:
    if codec == "mov_text":
        n = int.from_bytes(data[:2], "big") if len(data) >= 2 else 0
        data = data[2 : 2 + n]
    text = data.decode("utf-8", errors="replace")
    if codec in (
        "ass",
        "ssa",
    ):  # ReadOrder, Layer, Style, Name, MarginL, MarginR, MarginV, Effect, Text
        text = re.sub(r"\{[^}]*\}", "", text.split(",", 8)[-1]).replace("\\N", "\n")
    return text.strip()


def mux_subtitles(
    src: str | os.PathLike,
    cues: Sequence[Cue],
    dst: str | os.PathLike,
    *,
    language: str | None = "eng",
    title: str | None = None,
) -> Path:
    """Copy every stream of ``src`` (nothing re-encoded) and add ``cues`` as a subtitle track,
    written atomically to ``dst``. Cue times count from the start of ``src``."""
    import av
    from av.error import FFmpegError

    from moviola.media.atomic import commit, discard, make_temp

    codec = track_codec(dst)
    tmp = make_temp(dst)
    try:
        with av.open(str(src)) as inp, av.open(str(tmp), "w", format=_format(dst)) as out:
            maps = {}
            for s in inp.streams:
                if s.type not in ("video", "audio", "subtitle"):
                    continue
                try:
                    maps[s.index] = out.add_stream_from_template(s)
                except ValueError as e:
                    raise MoviolaError(
                        f"{Path(dst).name} cannot hold {s.type} stream #{s.index} "
                        f"({s.codec_context.name}) without re-encoding: {e}"
                    ) from None
            track = add_track(out, codec, language, title)
            origin = Fraction(inp.start_time or 0, 1_000_000)
            pending = cue_packets(track, codec, cues, origin)
            for packet in inp.demux(*[inp.streams[i] for i in maps]):
                if packet.dts is None:
                    continue
                now = packet.dts * Fraction(packet.time_base or _MS)
                while pending and (pending[0].pts or 0) * _MS <= now:
                    out.mux(pending.pop(0))
                packet.stream = maps[packet.stream.index]
                out.mux(packet)
            for packet in pending:
                out.mux(packet)
    except FFmpegError as e:
        discard(tmp)
        raise MoviolaError(f"cannot add subtitles to {Path(dst).name}: {e}") from None
    except BaseException:
        discard(tmp)
        raise
    return commit(tmp, dst)


def _format(path: str | os.PathLike) -> str | None:
    return {".mkv": "matroska", ".webm": "webm", ".m4v": "mp4", ".mov": "mov"}.get(
        Path(path).suffix.lower()
    )


@dataclass(frozen=True)
class SubtitleSource:
    """The source's subtitle streams to carry into an output, along the clip's timeline
    (``origin``: source time of the clip's time 0, as for :class:`~moviola.media.audio.AudioSource`)."""

    path: str
    streams: tuple[tuple[int, str, str | None], ...]  # (index, codec, language)
    origin: Fraction
    timeline: object  # a moviola.media.timeline.Timeline
    remap: Callable[[list[Cue]], list[Cue]] | None = None  # instead of the timeline (cut lists)

    def tracks(self) -> list[tuple[list[Cue], str | None]]:
        """Each text stream's cues in output time, with its language; image subtitles
        (DVD, PGS) are not text and are left out."""
        out = []
        for index, codec, language in self.streams:
            if codec in TEXT_CODECS:
                cues = decode_track(self.path, index, self.origin)
                mapped = self.remap(cues) if self.remap else retime(cues, self.timeline)
                out.append((mapped, language))
        return out


def subtitle_source(path: str, info, origin: Fraction, timeline) -> SubtitleSource | None:
    """The SubtitleSource of a probed file (None when it has no subtitle stream)."""
    streams = tuple((s.index, s.codec, s.language) for s in info.subtitles)
    return SubtitleSource(path, streams, origin, timeline) if streams else None
