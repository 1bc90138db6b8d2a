"""Audio as plain sample arrays, streamed: decoded for analysis (beats, speech), and made audio
(speech, music) encoded to an audio-only file.

A video's output audio goes through :mod:`moviola.media.audio` (copied or re-encoded along the
timeline); this module turns a file's audio stream into mono float32 chunks at a chosen rate,
one decoded packet at a time, and writes generated mono chunks to a file, so memory never holds
more than a chunk.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import cast

import numpy as np

from moviola.errors import MoviolaError


def decode_mono(
    path: str | os.PathLike, rate: int, stream_index: int | None = None
) -> Iterator[np.ndarray]:
    """The audio stream of a file as mono float32 chunks at ``rate`` Hz (PyAV, streamed).

    Packets that fail to decode are skipped (a damaged stretch becomes a gap, not an error).
    The chunks start at the stream's first decoded sample.
    """
    for chunk in decode_pcm(path, rate, stream_index):
        yield chunk.reshape(-1)


def decode_pcm(
    path: str | os.PathLike, rate: int, stream_index: int | None = None, channels: int = 1
) -> Iterator[np.ndarray]:
    """As :func:`decode_mono`, with ``channels`` (1 or 2): float32 chunks shaped (samples,
    channels)."""
    import av
    from av.error import FFmpegError

    try:
        container = av.open(str(path))
    except (FFmpegError, OSError) as e:
        raise MoviolaError(f"cannot read audio from {path}: {e}") from None
    try:
        streams = container.streams.audio
        if not streams:
            raise MoviolaError(f"{path} has no audio stream")
        stream = streams[0] if stream_index is None else container.streams[stream_index]
        layout = "mono" if channels == 1 else "stereo"
        resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except FFmpegError:
                continue
            for frame in frames:
                # an audio stream's packets decode to audio frames (the stubs say any frame)
                for out in resampler.resample(cast(av.AudioFrame, frame)):
                    yield out.to_ndarray().reshape(-1, channels).astype(np.float32, copy=False)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1, channels).astype(np.float32, copy=False)
    finally:
        container.close()


# Codec per audio-only container (by extension); others get the container's default codec.
_AUDIO_CODECS = {".wav": "pcm_s16le", ".flac": "flac", ".mp3": "libmp3lame", ".m4a": "aac"}
_AUDIO_CODECS |= {".aac": "aac", ".ogg": "libopus", ".opus": "libopus", ".mka": "flac"}


def encode_mono(
    target: str | os.PathLike,
    chunks: Iterable[np.ndarray],
    rate: int,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write mono float32 chunks (-1..1) at ``rate`` Hz as an audio file whose format follows
    the extension (WAV 16-bit, FLAC, MP3, M4A/AAC, Ogg/Opus, MKA...), streamed, atomically,
    with ``metadata`` as container tags."""
    return encode_pcm(target, chunks, rate, metadata)


def encode_pcm(
    target: str | os.PathLike,
    chunks: Iterable[np.ndarray],
    rate: int,
    metadata: dict[str, str] | None = None,
    channels: int = 1,
) -> Path:
    """As :func:`encode_mono`, for ``channels`` 1 or 2 (chunks shaped (samples, channels))."""
    import av
    from av.error import FFmpegError

    from moviola.media.atomic import atomic_output

    target = Path(target)
    suffix = target.suffix.lower()
    try:
        with atomic_output(target) as tmp, av.open(str(tmp), "w", format=_format(suffix)) as out:
            out.metadata.update(metadata or {})
            codec = _AUDIO_CODECS.get(suffix) or out.default_audio_codec
            out_rate = 48000 if codec in ("libopus", "opus") else rate
            layout = "mono" if channels == 1 else "stereo"
            stream = cast(av.AudioStream, out.add_stream(codec, rate=out_rate, layout=layout))
            resampler = av.AudioResampler(format=stream.format, layout=layout, rate=out_rate)
            pts = 0
            for chunk in itertools.chain(chunks, [None]):
                if chunk is None:
                    frames = resampler.resample(None)
                else:
                    samples = np.clip(np.asarray(chunk, np.float32).reshape(1, -1), -1, 1)
                    if not samples.size:
                        continue
                    frame = av.AudioFrame.from_ndarray(samples, format="flt", layout=layout)
                    frame.sample_rate, frame.pts = rate, pts
                    pts += samples.shape[1] // channels
                    frames = resampler.resample(frame)
                for f in frames:
                    out.mux(stream.encode(f))
            out.mux(stream.encode(None))
    except FFmpegError as e:
        raise MoviolaError(f"cannot write {target.name}: {e}") from None
    return target


def _format(suffix: str) -> str | None:
    return {".m4a": "ipod", ".aac": "adts", ".mka": "matroska", ".opus": "ogg", ".ogg": "ogg"}.get(
        suffix
    )


def check_audio_target(target: str | os.PathLike) -> Path:
    """One clear error, before any work, for an audio output path moviola cannot write."""
    path = Path(target)
    if path.suffix.lower() not in _AUDIO_CODECS:
        raise MoviolaError(
            f"cannot write audio as {path.name}: use {', '.join(sorted(_AUDIO_CODECS))}"
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MoviolaError(f"no folder {folder} to write {path.name} in")
    if path.is_dir():
        raise MoviolaError(f"{path} is a folder")
    return path
