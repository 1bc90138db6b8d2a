"""Streaming video reader: decoded RGB(A) frames with exact timestamps."""

from __future__ import annotations

import heapq
import logging
import os
from collections import deque
from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np
from av.error import FFmpegError
from av.video.stream import VideoStream

from moviola.errors import MoviolaError
from moviola.media.frame import ColorTags, Frame, StreamInfo, check_size
from moviola.media.probe import MediaInfo, VideoInfo, announced_end, open_input, probe
from moviola.media.time import parse_time

log = logging.getLogger("moviola")

_DECODE_ERRORS = (FFmpegError,)


class VideoReader:
    """Decode the first video stream of a file as RGB(A) numpy frames.

    Frames carry exact times (seconds, Fraction) relative to the clip start: the container's start
    time, plus ``start`` when trimming. With ``start``/``end`` the reader seeks and keeps exactly the
    frames whose time lies in [start, end). Rotation metadata is applied to the pixels. Frames the
    decoder cannot decode are skipped with a warning (counted in ``skipped``); with ``strict`` they
    raise MoviolaError.

    dtype: "uint8" (default), "float32" (0..1; from 16-bit RGB when the source has more than
    8 bits) or "uint16". alpha: "auto" (RGBA when the source has alpha), True or False.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        start=None,
        end=None,
        dtype: str = "uint8",
        alpha: bool | str = "auto",
        autorotate: bool = True,
        strict: bool = False,
        threads: int = 0,
    ) -> None:
        self.path = str(path)
        self.start = parse_time(start) or Fraction(0)
        self.end = parse_time(end)
        if self.end is not None and self.end <= self.start:
            raise MoviolaError(
                f"--end ({float(self.end)} s) must be after --start ({float(self.start)} s)"
            )
        if dtype not in ("uint8", "uint16", "float32"):
            raise MoviolaError(f"unsupported frame dtype: {dtype}")
        self.dtype = dtype
        self.strict = strict
        self.skipped = 0
        self.decoded = 0
        self.missing = 0  # frames the container announced that could not be read (truncated)
        self._past_end = False
        self.info: MediaInfo = probe(path)
        if not self.info.video:
            kind = "audio-only" if self.info.audio else "without a video stream"
            raise MoviolaError(f"input is {kind}, there are no video frames to process: {path}")
        check_size(self.info.video[0].width, self.info.video[0].height, str(path))
        self._container = open_input(path)
        self.video: VideoInfo = self.info.video[0]
        stream = self._container.streams[self.video.index]
        assert isinstance(stream, VideoStream)  # probe found a video stream at this index
        self._stream = stream
        cc = self._stream.codec_context
        cc.thread_type = "AUTO"
        cc.thread_count = threads
        self._decode = self._stream.decode
        if self.video.codec == "vp9" and self.video.has_alpha:
            # FFmpeg's own VP9 decoder ignores the alpha layer (WebM BlockAdditional); libvpx
            # reads it.
            decoder = av.CodecContext.create("libvpx-vp9", "r")
            decoder.thread_count = threads
            self._decode = decoder.decode
        self.origin = min(
            [self.info.start_time, self.video.start_time] + [a.start_time for a in self.info.audio]
        )
        if self.video.duration is not None and self.start >= self.video.duration + (
            self.video.start_time - self.origin
        ):
            self._container.close()
            raise MoviolaError(
                f"--start {float(self.start):.3f} s is past the end of the video "
                f"({float(self.video.duration):.3f} s)"
            )
        v = self.video
        self.alpha = v.has_alpha if alpha == "auto" else bool(alpha)
        self.rotation = v.rotation if autorotate else 0
        self.color = ColorTags.guess(
            v.height,
            _tag(cc.color_range),
            _tag(cc.colorspace, 2),
            _tag(cc.color_primaries, 2),
            _tag(cc.color_trc, 2),
        )
        self._format = self._pick_format(v.bit_depth)

    def _pick_format(self, bit_depth: int) -> str:
        deep = bit_depth > 8 and self.dtype != "uint8"
        if self.alpha:
            return "rgba64le" if deep else "rgba"
        return "rgb48le" if deep else "rgb24"

    @property
    def stream_info(self) -> StreamInfo:
        """Geometry, rate and expected frame count of what this reader yields."""
        v = self.video
        width, height = v.display_size if self.rotation else (v.width, v.height)
        duration = v.duration
        if duration is not None:
            duration -= self.start
            if self.end is not None:
                duration = min(duration, self.end - self.start)
        frames = v.frames or v.frames_estimated
        if frames and duration is not None and v.duration:
            frames = max(1, round(frames * duration / v.duration))
        return StreamInfo(
            width=width,
            height=height,
            rate=v.rate,
            time_base=v.time_base,
            variable_rate=v.variable_rate,
            alpha=self.alpha,
            dtype=self.dtype,
            frames=frames,
            duration=duration,
            bit_depth=v.bit_depth,
            color=self.color,
        )

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        """Frames in presentation order; each frame's duration is the gap to the next one."""
        pending: Frame | None = None
        last_end = Fraction(0)
        for frame in self._decoded():
            if pending is not None:
                if frame.time <= pending.time:
                    continue  # a repeated or out-of-order timestamp: keep the first
                pending.duration = frame.time - pending.time
                yield pending
            pending = frame
        if pending is not None:
            if self.end is not None:
                pending.duration = min(pending.duration, self.end - self.start - pending.time)
            last_end = pending.end
            yield pending
        if self.decoded == 0:
            raise MoviolaError(
                f"no video frames could be decoded from {self.path}"
                + (f" ({self.skipped} undecodable packets)" if self.skipped else "")
            )
        if self.skipped:
            log.warning("skipped %d undecodable video packet(s) in %s", self.skipped, self.path)
        self._check_complete(last_end)

    def _check_complete(self, last_end: Fraction) -> None:
        """Compare where decoding stopped with where the container says the video ends: a file
        cut short (its index still announcing every frame) is reported with the count of frames
        read, and refused with ``strict``."""
        announced = None if self._past_end else self._announced_end()
        rate = self.video.rate
        if announced is None or announced - last_end <= max(3 / rate, Fraction(1, 10)):
            return
        whole = self.start == 0 and self.end is None and self.video.frames
        expected = (
            self.video.frames if whole else self.decoded + round((announced - last_end) * rate)
        )
        expected = max(expected or 0, self.decoded + 1)
        self.missing = expected - self.decoded
        message = (
            f"{self.path} ends early: decoded {self.decoded} of the {expected} frames the "
            f"container announces ({float(last_end):.2f} s of {float(announced):.2f} s); "
            "the file looks truncated"
        )
        if self.strict:
            raise MoviolaError(message + " (--strict)")
        log.warning("%s", message)

    def _announced_end(self) -> Fraction | None:
        """Where the container says the video stream ends, on this reader's time line (0 at
        ``start``); None when it gives no duration for the stream itself."""
        end = announced_end(self._stream)
        if end is None:
            return None
        end -= self.origin + self.start
        if self.end is not None:
            end = min(end, self.end - self.start)
        return end

    def _decoded(self) -> Iterator[Frame]:
        stream = self._stream
        assert stream.time_base is not None  # a demuxed stream always has one
        tb = Fraction(stream.time_base)
        first = self.origin + self.start
        last = self.origin + self.end if self.end is not None else None
        if self.start > 0:
            self._container.seek(int(first / tb), stream=stream, backward=True, any_frame=False)
        nominal = 1 / self.video.rate
        for frame, pts in _in_order(self._frames(stream), max(1, round(nominal / tb))):
            t = pts * tb
            if t < first:
                continue
            if last is not None and t >= last:
                self._past_end = True  # the stream goes on: nothing is missing before ``end``
                break
            self.decoded += 1
            dur = frame.duration * tb if frame.duration else nominal
            yield Frame(
                image=self._to_array(frame),
                time=t - first,
                duration=dur,
                index=self.decoded - 1,
            )

    def _frames(self, stream) -> Iterator[av.VideoFrame]:
        """Decode packet by packet so that one bad packet costs one frame, not the stream."""
        demux = self._container.demux(stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                break
            except _DECODE_ERRORS as exc:
                self._bad(f"demuxing stopped early: {exc}")
                break
            try:
                frames = self._decode(packet)
            except _DECODE_ERRORS as exc:
                self._bad(f"undecodable packet at {packet.pts}: {exc}")
                continue
            for frame in frames:
                if frame.is_corrupt:
                    self._bad(f"corrupt frame at pts {frame.pts}")
                    continue
                yield frame

    def _bad(self, message: str) -> None:
        self.skipped += 1
        if self.strict:
            raise MoviolaError(f"{self.path}: {message} (--strict)")
        log.debug("%s: %s", self.path, message)

    def _to_array(self, frame: av.VideoFrame) -> np.ndarray:
        c = self.color
        image = frame.to_ndarray(
            format=self._format,
            src_colorspace=c.swscale_space,
            src_color_range=c.swscale_range,
            channel_last=True,
        )
        if self.rotation:
            image = np.ascontiguousarray(np.rot90(image, self.rotation // 90))
        if self.dtype == "float32":
            scale = 1 / 65535 if image.dtype == np.uint16 else 1 / 255
            return image.astype(np.float32) * np.float32(scale)
        if self.dtype == "uint16" and image.dtype == np.uint8:
            return image.astype(np.uint16) * 257
        return image


# Decoders return frames in presentation order, but some files (AVI with packed B-frames, for
# one) attach decode-order timestamps to them. Holding a few frames and handing out the smallest
# pending timestamp repairs that; files whose timestamps are already in order are unchanged.
_REORDER_DEPTH = 4


def _in_order(frames: Iterator[av.VideoFrame], step: int) -> Iterator[tuple[av.VideoFrame, int]]:
    """(frame, pts) with pts increasing in output order; missing pts are extrapolated."""
    held: deque[av.VideoFrame] = deque()
    pending: list[int] = []
    last = None
    for frame in frames:
        pts = frame.pts
        if pts is None:
            pts = (max(pending) if pending else (last if last is not None else -step)) + step
        heapq.heappush(pending, pts)
        held.append(frame)
        if len(held) > _REORDER_DEPTH:
            last = heapq.heappop(pending)
            yield held.popleft(), last
    while held:
        yield held.popleft(), heapq.heappop(pending)


def _tag(value, default: int = 0) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default
