"""Decoded audio as plain sample arrays, streamed: for analysis (beats, speech), not for output.

Output audio goes through :mod:`moviola.media.audio` (copied or re-encoded along the timeline);
this module only turns a file's audio stream into mono float32 chunks at a chosen rate, one
decoded packet at a time, so memory never holds more than a chunk.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
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
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except FFmpegError:
                continue
            for frame in frames:
                # an audio stream's packets decode to audio frames (the stubs say any frame)
                for out in resampler.resample(cast(av.AudioFrame, frame)):
                    yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
    finally:
        container.close()
