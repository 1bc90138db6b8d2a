"""Media in and out: probe, streaming reader, writer, audio carried along the timeline."""

from moviola.media.audio import AudioSource
from moviola.media.formats import codec_choices, resolve_target, same_file
from moviola.media.frame import ColorTags, Frame, StreamInfo
from moviola.media.probe import MediaInfo, format_info, probe
from moviola.media.reader import VideoReader
from moviola.media.time import parse_time
from moviola.media.timeline import Timeline
from moviola.media.writer import VideoWriter

__all__ = [
    "AudioSource",
    "ColorTags",
    "Frame",
    "MediaInfo",
    "StreamInfo",
    "Timeline",
    "VideoReader",
    "VideoWriter",
    "codec_choices",
    "format_info",
    "parse_time",
    "probe",
    "resolve_target",
    "same_file",
]
