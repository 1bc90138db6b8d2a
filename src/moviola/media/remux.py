"""A video with a new sound: the picture (and subtitles) copied packet for packet, the new
audio encoded beside them. Used where only the sound changes (``moviola score``), so the
picture loses nothing and a long edit takes seconds, not a re-encode.

Packets are interleaved by time (the audio encoded just ahead of the video it goes with), so
memory holds a few packets. Where the output container cannot take the video's codec by copy
(:data:`VIDEO_COPYABLE`, shared with ``moviola split``), :func:`can_copy` says so and the caller
re-encodes through the normal pipeline instead.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
from av.error import FFmpegError

from moviola.errors import MoviolaError
from moviola.media.audio import ENCODE
from moviola.media.formats import resolve_target
from moviola.media.probe import open_input

# Video codecs each container takes by stream copy (others are re-encoded).
VIDEO_COPYABLE = {
    "mp4": {"h264", "hevc", "av1", "vp9", "mpeg4", "mpeg2video", "mjpeg"},
    "mov": {"h264", "hevc", "prores", "mpeg4", "mpeg2video", "mjpeg", "png", "dnxhd"},
    "matroska": None,
    "webm": {"vp8", "vp9", "av1"},
    "avi": {"mpeg4", "h264", "mjpeg", "ffv1", "msmpeg4v3", "mpeg2video"},
}
SUBTITLES_COPYABLE = {
    "mp4": {"mov_text"},
    "mov": {"mov_text"},
    "matroska": None,
    "webm": {"webvtt"},
}


def can_copy(video: str | os.PathLike, output: str | os.PathLike) -> bool:
    """Whether ``output``'s container takes ``video``'s picture by stream copy."""
    muxer = resolve_target(output).muxer
    with open_input(video) as container:
        if not container.streams.video:
            return False
        codec = container.streams.video[0].codec_context.name
    allowed = VIDEO_COPYABLE.get(muxer, set())
    return allowed is None or codec in allowed


def with_audio(
    video: str | os.PathLike,
    audio: str | os.PathLike,
    output: str | os.PathLike,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write ``output``: ``video``'s first video stream and its subtitles copied, and the first
    audio stream of ``audio`` encoded for the container (AAC in MP4/MOV, FLAC in MKV, Opus in
    WebM, PCM in AVI), atomically."""
    from moviola.media.atomic import atomic_output

    target = resolve_target(output)
    codec, bit_rate = ENCODE.get(target.muxer, ("aac", 192_000))
    try:
        with (
            atomic_output(output) as tmp,
            open_input(video) as vin,
            open_input(audio) as ain,
            av.open(str(tmp), "w", format=target.muxer) as out,
        ):
            out.metadata.update({**dict(vin.metadata), **(metadata or {})})
            vstream = vin.streams.video[0]
            ov = out.add_stream_from_template(vstream)
            copied: list = [vstream]
            for sub in vin.streams.subtitles:
                allowed = SUBTITLES_COPYABLE.get(target.muxer, set())
                if allowed is None or sub.codec_context.name in allowed:
                    copied.append(sub)
            outs = {vstream.index: ov}
            for sub in copied[1:]:
                outs[sub.index] = out.add_stream_from_template(sub)
            astream = ain.streams.audio[0]
            oa = cast(av.AudioStream, out.add_stream(codec, rate=astream.codec_context.sample_rate))
            oa.codec_context.layout = "stereo" if astream.codec_context.channels > 1 else "mono"
            if bit_rate:
                oa.codec_context.bit_rate = bit_rate
            frames = _audio_frames(ain, astream, oa)
            audio_time = Fraction(0)
            # the picture's first frame is time 0 of the output, as of the new sound
            origin = Fraction(vstream.start_time or 0) * Fraction(vstream.time_base or 1)
            for packet in vin.demux(copied):
                stamp = packet.dts if packet.dts is not None else packet.pts
                if packet.size == 0 or stamp is None:
                    continue
                tb = Fraction(packet.stream.time_base or 1)
                shift = round(origin / tb)
                while audio_time <= stamp * tb - origin:  # the sound just ahead of the picture
                    step = next(frames, None)
                    if step is None:
                        audio_time = Fraction(10**9)
                        break
                    audio_time = step
                packet.pts = None if packet.pts is None else packet.pts - shift
                packet.dts = None if packet.dts is None else packet.dts - shift
                packet.stream = outs[packet.stream.index]
                out.mux(packet)
            for _ in frames:
                pass
            out.mux(oa.encode(None))
    except FFmpegError as e:
        raise MoviolaError(f"cannot write {Path(output).name}: {e}") from None
    return Path(output)


def _audio_frames(container, stream, out_stream):
    """Encode ``stream``'s audio into ``out_stream``, yielding the time reached after each
    decoded frame (the encoded packets are muxed as they come)."""
    icc = out_stream.codec_context
    size = {"aac": 1024, "libopus": 960, "libmp3lame": 1152}.get(icc.name)
    resampler = av.AudioResampler(
        format=icc.format, layout=icc.layout, rate=icc.sample_rate, frame_size=size
    )
    pts = 0
    output = out_stream.container
    for packet in container.demux(stream):
        for frame in packet.decode():
            for f in resampler.resample(cast(av.AudioFrame, frame)):
                f.pts = pts
                pts += f.samples
                for p in out_stream.encode(f):
                    output.mux(p)
            yield Fraction(pts, icc.sample_rate)
    for f in resampler.resample(None):
        f.pts = pts
        pts += f.samples
        for p in out_stream.encode(f):
            output.mux(p)
    yield Fraction(pts, icc.sample_rate)
