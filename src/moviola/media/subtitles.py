"""Subtitles: cues (re-exported from ``media/cues.py``: files, line breaking, retiming) and
subtitle tracks in media files, read as cues, added without re-encoding, carried through effects.

A track's format follows its container: mov_text in MP4/MOV/M4V, SubRip in Matroska, WebVTT in
WebM. FFmpeg's text subtitle encoders go through ASS and would drop our exact times to its
centiseconds, so the packets are built here (one per cue, in milliseconds) and muxed by PyAV;
the encoders are only opened for their stream parameters. Image subtitles (DVD, PGS) are not
text: they are copied where the container takes them, else left out with a warning.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from moviola.errors import MoviolaError
from moviola.media.cues import (
    LINES,
    MAX_BYTES,
    WIDTH,
    Cue,
    Word,
    ass_text,
    clean_text,
    format_srt,
    format_vtt,
    parse_time,
    read_subtitles,
    retime,
    split_for_reading,
    vtt_payload,
    wrap_text,
    write_srt,
    write_subtitles,
    write_vtt,
)
from moviola.media.timeline import Timeline

__all__ = [
    "CUE_TICK",
    "LINES",
    "MAX_BYTES",
    "TEXT_CODECS",
    "TRACK_CODECS",
    "WIDTH",
    "Cue",
    "SubtitleSource",
    "Word",
    "add_track",
    "cue_packets",
    "decode_track",
    "format_srt",
    "format_vtt",
    "mux_due",
    "mux_subtitles",
    "parse_time",
    "read_subtitles",
    "read_tracks",
    "retime",
    "split_for_reading",
    "subtitle_source",
    "track_codec",
    "wrap_text",
    "write_srt",
    "write_subtitles",
    "write_vtt",
]

log = logging.getLogger("moviola")

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
_MOV_TEXT_MAX = 0xFFFF  # mov_text's length field is 16 bits


def track_codec(path: str | os.PathLike) -> str:
    """The subtitle codec of ``path``'s container (MoviolaError where it takes none)."""
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


def _payload(cue: Cue, codec: str) -> bytes:
    if codec == "webvtt":
        return vtt_payload(cue).encode("utf-8")
    data = cue.text.strip().encode("utf-8")
    if codec == "mov_text":
        data = data[:_MOV_TEXT_MAX].decode("utf-8", errors="ignore").encode("utf-8")
        data = struct.pack(">H", len(data)) + data
    return data


def cue_packets(stream, codec: str, cues: Sequence[Cue], offset: Fraction = Fraction(0)):
    """One packet per cue, in the stream's time base (ms), ``offset`` added to each time."""
    import av

    packets = []
    for c in cues:
        packet = av.Packet(_payload(c, codec))
        packet.pts = packet.dts = round((c.start + offset) / _MS)
        packet.duration = max(1, round((c.end - c.start) / _MS))
        packet.time_base = _MS
        packet.stream = stream
        packets.append(packet)
    return sorted(packets, key=lambda p: p.pts or 0)


def _packet_cue(packet, codec: str, origin: Fraction) -> Cue | None:
    """The cue a text subtitle packet holds, its times less ``origin`` (None: empty)."""
    if packet.pts is None or packet.time_base is None or not packet.size:
        return None
    tb = Fraction(packet.time_base)
    start = packet.pts * tb - origin
    data = bytes(packet)
    if codec == "mov_text":
        data = data[2 : 2 + int.from_bytes(data[:2], "big")] if len(data) >= 2 else b""
    text = data.decode("utf-8", errors="replace")
    name = None
    if codec in ("ass", "ssa"):  # ReadOrder, Layer, Style, Name, MarginL, MarginR, MarginV, ...
        fields = text.split(",", 8)
        name = fields[3].strip() if len(fields) == 9 else None
        text = ass_text(fields[-1])
    text, speaker = clean_text(text, entities=codec == "webvtt")
    if not text:
        return None
    return Cue(start, start + (packet.duration or 0) * tb, text, speaker or name or None)


def decode_track(path: str | os.PathLike, index: int, origin: Fraction | None = None) -> list[Cue]:
    """The cues of text subtitle stream ``index`` of a media file, times from ``origin``
    (seconds in the file's own time; default: the file's start), in time order."""
    import av
    from av.error import FFmpegError

    cues = []
    try:
        with av.open(str(path)) as container:
            if origin is None:
                origin = Fraction(container.start_time or 0, 1_000_000)
            stream = container.streams[index]
            codec = stream.codec_context.name
            for packet in container.demux(stream):
                cue = _packet_cue(packet, codec, origin)
                if cue is not None:
                    cues.append(cue)
    except FFmpegError as e:
        raise MoviolaError(f"cannot read the subtitles of {Path(path).name}: {e}") from None
    return sorted(cues, key=lambda c: (c.start, c.end))


def read_tracks(path: str | os.PathLike) -> list[tuple[int, str | None, list[Cue]]]:
    """Each text subtitle stream of a media file as (stream index, language, cues), times
    from its first video frame (the clip's time 0 for moviola's effects)."""
    from moviola.media.probe import probe

    info = probe(path)
    origin = info.video[0].start_time if info.video else info.start_time
    return [
        (s.index, s.language, decode_track(path, s.index, origin))
        for s in info.subtitles
        if s.codec in TEXT_CODECS
    ]


def _format(path: str | os.PathLike) -> str | None:
    return {".mkv": "matroska", ".webm": "webm", ".m4v": "mp4", ".mov": "mov"}.get(
        Path(path).suffix.lower()
    )


def _copy_stream(out, stream, dst: Path):
    """``stream`` added to ``out`` as it is (nothing re-encoded), with its language and title."""
    try:
        copy = out.add_stream_from_template(stream)
    except ValueError:
        hint = (
            "WebM takes only VP8/VP9/AV1 video and Vorbis/Opus audio: use .mkv"
            if dst.suffix.lower() == ".webm"
            else "use .mkv, which takes any codec"
        )
        raise MoviolaError(
            f"{dst.name} cannot hold {stream.type} stream #{stream.index} "
            f"({stream.codec_context.name}) without re-encoding: {hint}"
        ) from None
    language, title = _labels(stream)
    if language:
        copy.metadata["language"] = language
    if title:
        copy.metadata["title"] = title
    return copy


def _labels(stream) -> tuple[str | None, str | None]:
    """A stream's language and title (MP4 keeps the title as "name")."""
    meta = stream.metadata
    return meta.get("language"), meta.get("title") or meta.get("name")


def _map_streams(inp, out, dst: Path, codec: str) -> tuple[dict, dict]:
    """Output streams for ``inp``'s: copied as they are, or (text subtitles in another format
    than ``codec``) converted packet by packet. Returns {index: copy}, {index: (track, codec)}."""
    copied, converted = {}, {}
    for s in inp.streams:
        name = s.codec_context.name if s.codec_context else ""
        if s.type in ("video", "audio") or (s.type == "subtitle" and name == codec):
            copied[s.index] = _copy_stream(out, s, dst)
        elif s.type == "subtitle" and name in TEXT_CODECS:
            track = add_track(out, codec, *_labels(s))
            converted[s.index] = (track, name)
        elif s.type == "subtitle":
            try:
                copied[s.index] = _copy_stream(out, s, dst)
            except MoviolaError:
                log.warning("%s cannot hold the %s subtitles of stream #%d: left out", dst.name,
                            name, s.index)  # fmt: skip
    return copied, converted


def mux_subtitles(
    src: str | os.PathLike,
    cues: Sequence[Cue],
    dst: str | os.PathLike,
    *,
    language: str | None = "eng",
    title: str | None = None,
) -> Path:
    """Copy every stream of ``src`` (nothing re-encoded) and add ``cues`` as a subtitle track,
    written atomically to ``dst``. Cue times count from the start of ``src``. Text subtitle
    tracks already there are kept (converted to the container's format where it needs)."""
    import av
    from av.error import FFmpegError

    from moviola.media.atomic import atomic_output
    from moviola.media.formats import same_file

    target = Path(dst)
    codec = track_codec(target)
    if same_file(src, target):
        raise MoviolaError(f"{target.name} is the input: write the output to another file")
    try:
        with (
            atomic_output(target) as tmp,
            av.open(str(src)) as inp,
            av.open(str(tmp), "w", format=_format(target)) as out,
        ):
            maps = _map_streams(inp, out, target, codec)
            track = add_track(out, codec, language, title)
            origin = Fraction(inp.start_time or 0, 1_000_000)
            _interleave(inp, out, maps, codec, cue_packets(track, codec, cues, origin))
    except FFmpegError as e:
        raise MoviolaError(f"cannot add subtitles to {target.name}: {e}") from None
    return target


def _interleave(inp, out, maps: tuple[dict, dict], codec: str, pending: list) -> None:
    """Demux ``inp`` once and mux its packets to ``out``: copied, or (subtitles in another
    format) as ``codec`` packets; the ``pending`` cue packets go in by time."""
    copied, converted = maps
    pending = list(pending)
    streams = [inp.streams[i] for i in (*copied, *converted)]
    for packet in inp.demux(*streams) if streams else ():
        if packet.dts is None and packet.pts is None:
            continue
        now = (packet.dts if packet.dts is not None else packet.pts) * Fraction(packet.time_base)
        while pending and (pending[0].pts or 0) * _MS <= now:
            out.mux(pending.pop(0))
        index = packet.stream.index
        if index in copied:
            packet.stream = copied[index]
            out.mux(packet)
        else:
            track, name = converted[index]
            cue = _packet_cue(packet, name, Fraction(0))
            for made in cue_packets(track, codec, [cue] if cue else []):
                out.mux(made)
    for packet in pending:
        out.mux(packet)


@dataclass(frozen=True)
class SubtitleSource:
    """The source's subtitle streams to carry into an output, along the clip's timeline
    (``origin``: source time of the clip's time 0, as for :class:`~moviola.media.audio.AudioSource`)."""

    path: str
    streams: tuple[tuple[int, str, str | None], ...]  # (index, codec, language)
    origin: Fraction
    timeline: Timeline | None
    remap: Callable[[list[Cue]], list[Cue]] | None = None  # instead of the timeline (cut lists)

    def tracks(self) -> list[tuple[list[Cue], str | None]]:
        """Each text stream's cues in output time, with its language; image subtitles
        (DVD, PGS) are not text and are left out."""
        out = []
        for index, codec, language in self.streams:
            if codec in TEXT_CODECS:
                cues = decode_track(self.path, index, self.origin)
                if self.remap is not None:
                    cues = self.remap(cues)
                elif self.timeline is not None:
                    cues = retime(cues, self.timeline)
                out.append((cues, language))
        return out


def subtitle_source(path: str, info, origin: Fraction, timeline: Timeline) -> SubtitleSource | None:
    """The SubtitleSource of a probed file (None when it has no subtitle stream)."""
    streams = tuple((s.index, s.codec, s.language) for s in info.subtitles)
    return SubtitleSource(path, streams, origin, timeline) if streams else None


def mux_due(container, packets: list, until: Fraction | None) -> None:
    """Mux the subtitle packets (in time order, ms) due by ``until`` seconds (all when None),
    taking them off the list: called as the picture is written, so tracks stay interleaved."""
    while packets and (until is None or (packets[0].pts or 0) * CUE_TICK <= until):
        container.mux(packets.pop(0))
