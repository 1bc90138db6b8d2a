"""Probe a media file: container, video, audio and subtitle streams, with exact rates."""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.error import FFmpegError
from av.stream import Disposition, Stream
from av.video.stream import VideoStream

from moviola.errors import MoviolaError

# FFmpeg's numeric color tags (libavutil/pixfmt.h), named as ffprobe names them.
COLOR_RANGES = {0: None, 1: "tv", 2: "pc"}
COLOR_SPACES = {
    0: "gbr",
    1: "bt709",
    2: None,
    4: "fcc",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "ycgco",
    9: "bt2020nc",
    10: "bt2020c",
    11: "smpte2085",
    14: "ictcp",
}
COLOR_PRIMARIES = {
    1: "bt709",
    2: None,
    4: "bt470m",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "film",
    9: "bt2020",
    10: "smpte428",
    11: "smpte431",
    12: "smpte432",
    22: "ebu3213",
}
COLOR_TRANSFERS = {
    1: "bt709",
    2: None,
    4: "gamma22",
    5: "gamma28",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    9: "log100",
    10: "log316",
    11: "iec61966-2-4",
    12: "bt1361e",
    13: "iec61966-2-1",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "smpte2084",
    17: "smpte428",
    18: "arib-std-b67",
}

# How many packets to read when deciding whether the frame rate is variable.
_VFR_SCAN_PACKETS = 600


@dataclass
class VideoInfo:
    index: int
    codec: str
    width: int
    height: int
    rate: Fraction  # exact average frame rate
    time_base: Fraction
    variable_rate: bool
    frames: int | None  # from the container when it says; else None
    frames_estimated: int | None  # from duration x rate when the container does not say
    duration: Fraction | None
    start_time: Fraction
    rotation: int  # degrees counter-clockwise that a player applies on display
    pix_fmt: str | None
    bit_depth: int
    has_alpha: bool
    color_range: str | None
    color_space: str | None
    color_primaries: str | None
    color_transfer: str | None
    sample_aspect_ratio: Fraction | None

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height once rotation is applied."""
        if self.rotation % 180:
            return self.height, self.width
        return self.width, self.height


@dataclass
class AudioInfo:
    index: int
    codec: str
    sample_rate: int
    channels: int
    layout: str
    duration: Fraction | None
    start_time: Fraction
    language: str | None = None


@dataclass
class SubtitleInfo:
    index: int
    codec: str
    language: str | None = None


@dataclass
class MediaInfo:
    path: str
    container: str
    duration: Fraction | None
    start_time: Fraction
    bit_rate: int | None
    size_bytes: int
    video: list[VideoInfo] = field(default_factory=list)
    audio: list[AudioInfo] = field(default_factory=list)
    subtitles: list[SubtitleInfo] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)  # container metadata (title, date, ...)

    def to_dict(self) -> dict:
        """JSON-friendly dictionary; fractions become strings like "30000/1001" plus floats."""
        return _jsonable_dict(asdict(self))


def _jsonable_dict(value: dict) -> dict:
    out = {}
    for key, item in value.items():
        out[key] = _jsonable(item)
        if isinstance(item, Fraction):
            out[key + "_seconds" if key in ("duration", "start_time") else key + "_float"] = float(
                item
            )
    return out


def _jsonable(value):
    if isinstance(value, dict):
        return _jsonable_dict(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    return value


def _frac(value) -> Fraction | None:
    if value is None:
        return None
    return Fraction(value)


def _stream_time(stream, value: int | None) -> Fraction | None:
    if value is None or stream.time_base is None:
        return None
    return value * Fraction(stream.time_base)


def announced_end(stream: Stream) -> Fraction | None:
    """Where the container says ``stream`` ends (source seconds): its start plus its own
    duration (MP4's index, Matroska's per-track DURATION tag); None when it gives none for the
    stream itself. Decoding that stops well before it means a truncated file."""
    start = _stream_time(stream, stream.start_time) or Fraction(0)
    length = _stream_time(stream, stream.duration) if stream.duration else None
    if length is None:
        tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
        length = _timecode(tag) if tag else None
    return None if length is None else start + length


def _timecode(text: str) -> Fraction | None:
    """ "HH:MM:SS.fffffffff" (Matroska's DURATION tag) in seconds, or None."""
    try:
        hours, minutes, seconds = text.strip().split(":")
        return (int(hours) * 60 + int(minutes)) * 60 + Fraction(seconds[:20])
    except (ValueError, ZeroDivisionError):
        return None


def open_input(path: str | os.PathLike) -> InputContainer:
    """Open a media file for reading, turning every failure into one clear MoviolaError."""
    p = Path(path)
    if not p.exists():
        raise MoviolaError(f"input not found: {p}")
    if p.is_dir():
        raise MoviolaError(f"input is a folder, not a media file: {p}")
    if not os.access(p, os.R_OK):
        raise MoviolaError(f"input is not readable: {p}")
    if p.stat().st_size == 0:
        raise MoviolaError(f"input is empty (0 bytes): {p}")
    try:
        return av.open(str(p), "r")
    except FFmpegError as exc:
        raise MoviolaError(f"not a readable media file: {p} ({_short(exc)})") from None


def _short(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip() if ": '" in text else text.strip()


def _pix_fmt_facts(pix_fmt: str | None) -> tuple[int, bool]:
    if not pix_fmt:
        return 8, False
    try:
        fmt = av.VideoFormat(pix_fmt)
    except (ValueError, FFmpegError):
        return 8, False
    bits = max((c.bits for c in fmt.components), default=8)
    return bits, any(c.is_alpha for c in fmt.components)


def _scan_variable_rate(container: InputContainer, stream: VideoStream) -> bool:
    """Whether packet durations vary: reads packet headers only (no decoding)."""
    times = []
    try:
        for packet in container.demux(stream):
            if packet.pts is not None:
                times.append(packet.pts)
            if len(times) >= _VFR_SCAN_PACKETS:
                break
    except FFmpegError:
        pass
    if len(times) < 3:
        return False
    times.sort()
    if len(times) >= _VFR_SCAN_PACKETS:
        times = times[:-16]  # decode order: the last few presentation times may be missing
    steps = [b - a for a, b in zip(times, times[1:], strict=False) if b > a]
    if not steps:
        return False
    # Allow a tick of rounding (timebases like 1/1000 for 29.97 fps give steps of 33 and 34).
    return max(steps) - min(steps) > 1


def _first_frame_rotation(
    container: InputContainer, stream: VideoStream
) -> tuple[int, av.VideoFrame | None]:
    with contextlib.suppress(FFmpegError):
        container.seek(0)
    try:
        for frame in container.decode(stream):
            return int(round(frame.rotation or 0)), frame
    except FFmpegError:
        pass
    return 0, None


def probe(path: str | os.PathLike) -> MediaInfo:
    """Describe a media file. Raises MoviolaError when it is missing or not media."""
    container = open_input(path)
    try:
        return _probe_open(container, Path(path))
    finally:
        container.close()


def _probe_open(container: InputContainer, path: Path) -> MediaInfo:
    duration = (
        Fraction(container.duration, av.time_base) if container.duration is not None else None
    )
    start = Fraction(container.start_time or 0, av.time_base)
    info = MediaInfo(
        path=str(path),
        container=container.format.name,
        duration=duration,
        start_time=start,
        bit_rate=container.bit_rate or None,
        size_bytes=path.stat().st_size,
        tags=dict(container.metadata),
    )
    for stream in container.streams:
        if isinstance(stream, VideoStream):
            if stream.disposition & Disposition.attached_pic:
                continue  # cover art is not a video
            info.video.append(_video_info(container, stream))
        elif isinstance(stream, AudioStream):
            cc = stream.codec_context
            info.audio.append(
                AudioInfo(
                    index=stream.index,
                    codec=cc.name,
                    sample_rate=cc.sample_rate or 0,
                    channels=cc.channels or 0,
                    layout=cc.layout.name if cc.layout else "",
                    duration=_stream_time(stream, stream.duration) or duration,
                    start_time=_stream_time(stream, stream.start_time) or Fraction(0),
                    language=stream.metadata.get("language"),
                )
            )
        elif stream.type == "subtitle":
            info.subtitles.append(
                SubtitleInfo(
                    index=stream.index,
                    codec=stream.codec_context.name if stream.codec_context else "unknown",
                    language=stream.metadata.get("language"),
                )
            )
    return info


def _video_info(container: InputContainer, stream: VideoStream) -> VideoInfo:
    cc = stream.codec_context
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate or Fraction(25)
    rate = Fraction(rate)
    variable = _scan_variable_rate(container, stream)
    rotation, frame = _first_frame_rotation(container, stream)
    pix_fmt = cc.pix_fmt or (frame.format.name if frame is not None else None)
    bits, alpha = _pix_fmt_facts(pix_fmt)
    alpha = alpha or stream.metadata.get("alpha_mode") == "1"  # VP9 alpha in WebM
    src = frame if frame is not None else cc
    duration = _stream_time(stream, stream.duration)
    if duration is None and container.duration is not None:
        duration = Fraction(container.duration, av.time_base)
    frames = stream.frames or None
    fmt = container.format.name
    if (fmt == "image2" or fmt.endswith("_pipe")) and "%" not in str(container.name):
        frames, duration = 1, 1 / rate  # one still image
    estimated = None if frames else (round(duration * rate) if duration else None)
    sar = stream.sample_aspect_ratio
    assert stream.time_base is not None  # a demuxed stream always has one
    return VideoInfo(
        index=stream.index,
        codec=cc.name,
        width=cc.width or (frame.width if frame is not None else 0),
        height=cc.height or (frame.height if frame is not None else 0),
        rate=rate,
        time_base=Fraction(stream.time_base),
        variable_rate=variable,
        frames=frames,
        frames_estimated=estimated,
        duration=duration,
        start_time=_stream_time(stream, stream.start_time) or Fraction(0),
        rotation=rotation % 360,
        pix_fmt=pix_fmt,
        bit_depth=bits,
        has_alpha=alpha,
        color_range=COLOR_RANGES.get(int(src.color_range or 0)),
        color_space=COLOR_SPACES.get(int(src.colorspace or 2)),
        color_primaries=COLOR_PRIMARIES.get(int(src.color_primaries or 2)),
        color_transfer=COLOR_TRANSFERS.get(int(src.color_trc or 2)),
        sample_aspect_ratio=Fraction(sar) if sar else None,
    )


def format_info(info: MediaInfo) -> str:
    """Human-readable summary, as `moviola probe` prints it."""
    lines = [f"{info.path}: {info.container}, {_fmt_time(info.duration)}, {info.size_bytes} bytes"]
    for v in info.video:
        count = v.frames if v.frames else (f"~{v.frames_estimated}" if v.frames_estimated else "?")
        color = "/".join(
            str(x) for x in (v.color_range, v.color_space, v.color_primaries, v.color_transfer)
        )
        lines.append(
            f"  video #{v.index}: {v.codec} {v.width}x{v.height} {v.pix_fmt} {v.bit_depth}-bit"
            f"{' alpha' if v.has_alpha else ''}, {v.rate.numerator}/{v.rate.denominator} fps"
            f" (~{float(v.rate):.3f}{', variable' if v.variable_rate else ''}), {count} frames,"
            f" rotation {v.rotation}, color {color}"
        )
    for a in info.audio:
        lines.append(
            f"  audio #{a.index}: {a.codec} {a.sample_rate} Hz, {a.channels} ch ({a.layout}),"
            f" {_fmt_time(a.duration)}"
        )
    for s in info.subtitles:
        lines.append(f"  subtitle #{s.index}: {s.codec} ({s.language or 'und'})")
    return "\n".join(lines)


def _fmt_time(t: Fraction | None) -> str:
    if t is None:
        return "unknown duration"
    return f"{float(t):.3f} s"
