"""Streaming video writer: encodes frames, carries the audio, writes atomically.

The output goes to a temporary file (or folder, for PNG sequences) beside the target and is renamed
into place by ``close()``; ``abort()`` removes it. The target is never partly written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.container import OutputContainer
from av.error import FFmpegError
from av.filter import Graph
from av.packet import Packet
from av.video.stream import VideoStream

from moviola._version import __version__
from moviola.errors import MoviolaError
from moviola.media.atomic import commit, final_path, make_temp
from moviola.media.audio import AudioSource, AudioTrack
from moviola.media.formats import (
    CODECS,
    CONTAINERS,
    Codec,
    Target,
    check_codec_options,
    codec_choices,
    resolve_target,
    same_file,
)
from moviola.media.frame import ColorTags, Frame, StreamInfo, like, to_float, to_uint8, to_uint16
from moviola.media.subtitles import (
    TEXT_CODECS,
    SubtitleSource,
    add_track,
    cue_packets,
    mux_due,
    track_codec,
)

log = logging.getLogger("moviola")

# The output formats live in media/formats.py; these names stay importable from here.
__all__ = [
    "CODECS",
    "CONTAINERS",
    "Codec",
    "Target",
    "VideoWriter",
    "codec_choices",
    "resolve_target",
    "same_file",
]


class VideoWriter:
    """Write frames to a video file, image sequence, GIF or WebP.

    The container is opened at the first frame, once its size and alpha are known. Frame times
    are kept exactly (in the stream's time base), so variable frame rate stays variable. Audio
    from ``audio`` is interleaved as the video is written.
    """

    def __init__(  # noqa: PLR0913 - the output and what goes in it: picture, sound, text, tags
        self,
        path: str | os.PathLike,
        info: StreamInfo,
        *,
        codec: str | None = None,
        crf: int | None = None,
        preset: str | None = None,
        audio: AudioSource | None = None,
        subtitles: SubtitleSource | None = None,
        metadata: dict | None = None,
        threads: int = 0,
    ) -> None:
        self.target = resolve_target(path, codec, crf=crf, preset=preset)
        self.info = info
        self.crf = crf
        self.preset = preset
        self.audio_source = audio
        self.subtitle_source = subtitles
        self._cue_packets: list[Packet] = []  # subtitle packets not muxed yet, in time order
        self.metadata = {"software": f"moviola {__version__}", **(metadata or {})}
        self.threads = threads
        self.frames_written = 0
        self._container: OutputContainer | None = None
        self._stream: VideoStream | None = None
        self._audio: AudioTrack | None = None
        # the container the audio goes to (a WAV beside a PNG sequence)
        self._audio_out: OutputContainer | None = None
        self._codec: Codec | None = None
        self._tmp: Path | None = None
        self._last_pts: int | None = None
        self._last_end: Fraction = Fraction(0)
        self._warned_alpha = False
        self._gif_graph: Graph | None = None
        self._pad = (0, 0)
        self._color: ColorTags | None = None  # color tags when the codec overrides the stream's
        self._alpha = False  # frames are encoded with alpha (set when the first frame opens)
        self._deep = False  # frames are encoded with more than 8 bits
        self._is_yuv = False  # the encoder takes YUV (converted with the stream's colour tags)
        # What the output changed or lacks (alpha dropped, odd size padded, no audio): logged
        # once it is complete, so that a run that fails says one thing, its error.
        self._notes: list[tuple[int, str, tuple]] = []

    def _note(self, level: int, message: str, *args: object) -> None:
        self._notes.append((level, message, args))

    # -- opening --------------------------------------------------------------------------------
    def _open(self, frame: Frame) -> None:
        key, codec, pix_fmt = self._choose_format(frame)
        width, height = self._padded_size(frame, codec, pix_fmt)
        tmp, out_name = self._make_temp()
        self._container = container = self._open_container(out_name)
        self._stream = self._add_video_stream(container, key, codec, pix_fmt, (width, height))
        self._attach_audio(container, tmp)
        self._attach_subtitles(container)

    def _attach_subtitles(self, container: OutputContainer) -> None:
        """Carry the source's text subtitles into the output, retimed along the timeline."""
        source = self.subtitle_source
        if source is None:
            return
        try:
            codec = track_codec(self.target.path)
        except MoviolaError:
            self._note(
                logging.WARNING,
                "%s cannot carry subtitle tracks: subtitles not written",
                self.target.path.suffix or "an image sequence",
            )
            return
        dropped = [i for i, c, _ in source.streams if c not in TEXT_CODECS]
        if dropped:
            self._note(logging.WARNING, "image subtitles (streams %s) are not carried", dropped)
        packets = []
        for cues, language in source.tracks():
            track = add_track(container, codec, language)
            packets += cue_packets(track, codec, cues)
        self._cue_packets = sorted(packets, key=lambda p: p.pts or 0)  # all in milliseconds

    def _choose_format(self, frame: Frame) -> tuple[str, Codec, str]:
        """The codec (its key and spec) and pixel format for the first frame's alpha and depth."""
        target = self.target
        alpha = frame.has_alpha
        key = target.codec
        if key is None:
            _muxer, default, alpha_default, _ = CONTAINERS[target.path.suffix.lower()]
            key = alpha_default if alpha else default
        codec = CODECS[key]
        self._codec = codec
        deep = frame.image.dtype != np.uint8 and self.info.bit_depth > 8
        if alpha and codec.alpha_pix_fmt is None:
            flatten = frame.meta.get("flatten_color")
            if flatten is not None:
                self._note(
                    logging.INFO, "%s does not carry alpha: composited over %s", key, flatten
                )
            else:
                self._note(
                    logging.WARNING, "%s does not carry alpha: the alpha channel is dropped", key
                )
        if alpha and codec.alpha_pix_fmt:
            pix_fmt = codec.alpha_pix_fmt
        elif deep and codec.deep_pix_fmt:
            pix_fmt = codec.deep_pix_fmt
        else:
            pix_fmt = codec.pix_fmt
        self._alpha = alpha and codec.alpha_pix_fmt is not None
        self._deep = deep and (codec.deep_pix_fmt is not None or self._alpha)
        return key, codec, pix_fmt

    def _padded_size(self, frame: Frame, codec: Codec, pix_fmt: str) -> tuple[int, int]:
        """Width and height, one edge pixel added to odd sides where the codec needs even ones."""
        height, width = frame.image.shape[:2]
        if codec.even_size and (width % 2 or height % 2):
            self._pad = (height % 2, width % 2)
            self._note(
                logging.WARNING,
                "odd size %dx%d padded to %dx%d (an edge pixel repeated): %s needs even sides; "
                "ffv1, prores4444 or png keep it exact",
                width,
                height,
                width + self._pad[1],
                height + self._pad[0],
                codec.key,
            )
        return width + self._pad[1], height + self._pad[0]

    def _make_temp(self) -> tuple[Path, str]:
        """Create the temporary file (or folder) beside the target; returns it and what to open.
        Its mode follows the umask; ``close`` gives it the mode of a file it replaces."""
        target = self.target
        if target.sequence_pattern:
            self._tmp = make_temp(
                target.path, prefix=f".{target.path.name}.", suffix=".part", directory=True
            )
            return self._tmp, str(self._tmp / target.sequence_pattern)
        self._tmp = make_temp(target.path)
        return self._tmp, str(self._tmp)

    def _open_container(self, out_name: str) -> OutputContainer:
        target = self.target
        options = {}
        if self.still:
            options["update"] = "1"  # one file, no sequence number in its name
        if target.muxer in ("mp4", "mov"):
            options["movflags"] = "+use_metadata_tags"  # keep every tag, not only iTunes keys
        try:
            container = av.open(out_name, "w", format=target.muxer, options=options)
        except FFmpegError as exc:
            self.abort()
            raise MoviolaError(f"cannot write {target.path}: {exc}") from None
        container.metadata.update({k: str(v) for k, v in self.metadata.items()})
        return container

    def _add_video_stream(
        self,
        container: OutputContainer,
        key: str,
        codec: Codec,
        pix_fmt: str,
        size: tuple[int, int],
    ) -> VideoStream:
        """The video stream, its encoder set up (size, time base, options, colour tags)."""
        if codec.encoder == "libsvtav1":
            os.environ.setdefault("SVT_LOG", "1")  # errors only, not a banner per file
        tb = self._time_base()
        stream = container.add_stream(codec.encoder, rate=self._nominal_rate())
        if not isinstance(stream, VideoStream):
            raise MoviolaError(f"{codec.encoder} is not a video encoder")
        cc = stream.codec_context
        cc.width, cc.height = size
        cc.pix_fmt = pix_fmt
        cc.time_base = tb
        stream.time_base = tb
        cc.thread_count = self.threads
        cc.options = self._encoder_options(key, codec)
        if codec.tag:
            cc.codec_tag = codec.tag
        self._is_yuv = pix_fmt.startswith("yuv")
        if self._is_yuv:
            color = self.info.color
            if pix_fmt.startswith("yuvj"):  # JPEG: always full range, BT.601
                color = replace(color, range=2, space=6, primaries=6, transfer=6)
                self._color = color
            cc.color_range = color.range
            cc.colorspace = color.space
            cc.color_primaries = color.primaries
            cc.color_trc = color.transfer
        if key == "gif":
            self._gif_graph = _gif_palette_graph(size[0], size[1], tb)
        return stream

    def _encoder_options(self, key: str, codec: Codec) -> dict[str, str]:
        """The codec's options with --crf and --preset applied. Raises MoviolaError."""
        options = dict(codec.options)
        check_codec_options(codec, self.crf, self.preset)
        if self.crf is not None and codec.crf_option:
            options[codec.crf_option] = str(self.crf)
        if self.preset is not None and codec.preset_option:
            options[codec.preset_option] = str(self.preset)
        if key == "vp9" and self._alpha:
            options["auto-alt-ref"] = "0"
        return options

    def _attach_audio(self, container: OutputContainer, tmp: Path) -> None:
        """Carry the source's audio into the output (a WAV beside a PNG sequence), if it can."""
        target = self.target
        if self.audio_source is None or not self.audio_source.timeline.has_audio:
            return
        if target.muxer in ("gif", "webp") or self.still:
            self._note(
                logging.WARNING,
                "%s cannot carry audio: the audio is not written",
                target.path.suffix.lstrip(".") if self.still else target.muxer,
            )
            return
        if target.muxer == "image2":  # editors take a sequence plus a WAV beside it
            self._audio_out = av.open(str(tmp / "audio.wav"), "w", format="wav")
        else:
            self._audio_out = container
        try:
            self._audio = AudioTrack(self.audio_source, self._audio_out)
        except (ValueError, FFmpegError) as exc:
            self._note(
                logging.WARNING,
                "the audio cannot be written to %s (%s): audio dropped",
                target.path.suffix,
                exc,
            )
            self._audio = None

    def _time_base(self) -> Fraction:
        tb = Fraction(self.info.time_base)
        if self.target.muxer == "gif":
            return Fraction(1, 100)
        # Keep time bases an encoder accepts (int32 numerator/denominator).
        while tb.denominator > 2**31 - 1 or tb.numerator > 2**31 - 1:
            tb = Fraction(tb.numerator // 2 or 1, tb.denominator // 2)
        return tb

    def _nominal_rate(self) -> Fraction:
        rate = Fraction(self.info.rate)
        if rate.denominator > 100_000:
            rate = rate.limit_denominator(100_000)
        return rate

    @property
    def audio_mode(self) -> str | None:
        """ "copied" or "re-encoded" once audio is being written, else None."""
        if self._audio is None:
            return None
        return "copied" if self._audio.copy else "re-encoded"

    # -- writing --------------------------------------------------------------------------------
    @property
    def still(self) -> bool:
        """Output is one still image (.png, .jpg, .tif)."""
        return self.target.sequence_pattern is None and self.target.muxer == "image2"

    def write(self, frame: Frame) -> None:
        if self.still and self.frames_written:
            raise MoviolaError(
                f"{self.target.path.suffix} holds one image but the effects produced more "
                "frames: write a video (.mp4), or a folder (out/) for a PNG sequence"
            )
        if self._container is None:
            self._open(frame)
        container, stream = self._opened()
        vf = self._to_video_frame(frame, stream)
        tb = stream.codec_context.time_base
        pts = round(frame.time / tb)
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1
        self._last_pts = pts
        self._last_end = max(self._last_end, frame.end)
        vf.pts = pts
        vf.time_base = tb
        vf.duration = max(1, round(frame.duration / tb))
        if self._gif_graph is not None:
            self._gif_graph.push(vf)
            vf = self._gif_graph.vpull()
            vf.pts = pts
        self._mux(container, stream.encode(vf))
        self.frames_written += 1

    def _opened(self) -> tuple[OutputContainer, VideoStream]:
        """The container and video stream, once the first frame has opened them."""
        if self._container is None or self._stream is None:
            raise MoviolaError("no frames were produced: nothing written")
        return self._container, self._stream

    def _to_video_frame(self, frame: Frame, stream: VideoStream) -> av.VideoFrame:
        image = frame.image
        if frame.has_alpha and not self._alpha:
            # An effect may say what its transparent parts should become where alpha cannot go.
            color = frame.meta.get("flatten_color")
            image = image[..., :3] if color is None else _flatten(image, color)
        elif self._alpha and not frame.has_alpha:
            image = _add_opaque_alpha(image)
        if self._pad != (0, 0):
            image = np.pad(image, ((0, self._pad[0]), (0, self._pad[1]), (0, 0)), mode="edge")
        if self._deep:
            image = to_uint16(image)
            fmt = "rgba64le" if image.shape[2] == 4 else "rgb48le"
        else:
            image = to_uint8(image)
            fmt = "rgba" if image.shape[2] == 4 else "rgb24"
        image = np.ascontiguousarray(image)
        cc = stream.codec_context
        if self._gif_graph is not None or cc.pix_fmt == fmt:
            # the frame outlives this call (filter graph, encoder): it must own its pixels
            return av.VideoFrame.from_ndarray(image, format=fmt)
        # Zero-copy view of the array, converted at once into a frame that owns its data. One
        # swscale thread: the pipeline's threads already keep the cores busy.
        vf = av.VideoFrame.from_numpy_buffer(image, format=fmt)
        if self._is_yuv:
            color = self._color or self.info.color
            return vf.reformat(
                format=cc.pix_fmt,
                dst_colorspace=color.swscale_space,
                dst_color_range=color.swscale_range,
                threads=1,
            )
        return vf.reformat(format=cc.pix_fmt, threads=1)

    def _mux(self, container: OutputContainer, packets: list[Packet]) -> None:
        for packet in packets:
            if self._audio is not None and self._audio_out is not None and packet.pts is not None:
                self._audio.mux_until(self._audio_out, packet.pts * packet.time_base)
            if packet.pts is not None:
                self._mux_cues(container, packet.pts * packet.time_base)
            container.mux(packet)

    def _mux_cues(self, container: OutputContainer, until: Fraction | None) -> None:
        mux_due(container, self._cue_packets, until)

    # -- finishing ------------------------------------------------------------------------------
    def close(self) -> Path:
        """Flush, close and move the output into place. Returns the final path."""
        container, stream = self._opened()
        try:
            self._mux(container, stream.encode(None))
            self._mux_cues(container, None)
            if self._audio is not None and self._audio_out is not None:
                # added sound alone ends with the picture; the source's own audio is kept whole
                end = self._last_end if self._audio.follows_picture else None
                self._audio.mux_until(self._audio_out, end)
            container.close()
            if self._audio_out is not None and self._audio_out is not container:
                self._audio_out.close()
        except FFmpegError as exc:
            self.abort()
            raise MoviolaError(f"writing {self.target.path} failed: {exc}") from None
        finally:
            if self._audio is not None:
                self._audio.close()
        assert self._tmp is not None  # made when the first frame opened the output
        final = self.target.path
        if self.target.sequence_pattern and final_path(final).is_dir():
            final_path(final).rmdir()  # checked empty when resolved
        commit(self._tmp, final)
        self._tmp = None
        for level, message, args in self._notes:
            log.log(level, message, *args)
        self._notes.clear()
        return final

    def abort(self) -> None:
        """Drop everything written so far; the target is left as it was."""
        for container in {id(c): c for c in (self._container, self._audio_out) if c}.values():
            with contextlib.suppress(Exception):  # a half-written file may not close cleanly
                container.close()
        if self._audio is not None:
            self._audio.close()
        if self._tmp is not None:
            if self._tmp.is_dir():
                shutil.rmtree(self._tmp, ignore_errors=True)
            else:
                self._tmp.unlink(missing_ok=True)
            self._tmp = None


def _flatten(image: np.ndarray, color) -> np.ndarray:
    """Composite straight-alpha RGBA over a solid RGB colour (0..255)."""
    f = to_float(image)
    a = f[..., 3:]
    flat = f[..., :3] * a + np.asarray(color, np.float32) / 255 * (1 - a)
    return like(flat, image.dtype)


def _add_opaque_alpha(image: np.ndarray) -> np.ndarray:
    opaque = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}.get(image.dtype, 1.0)
    alpha = np.full(image.shape[:2] + (1,), opaque, dtype=image.dtype)
    return np.concatenate([image, alpha], axis=2)


def _gif_palette_graph(width: int, height: int, tb: Fraction) -> Graph:
    """A palette per frame (palettegen + paletteuse): streams, unlike a two-pass global palette."""
    graph = Graph()
    src = graph.add_buffer(width=width, height=height, format=av.VideoFormat("rgb24"), time_base=tb)
    split = graph.add("split", "2")
    gen = graph.add("palettegen", "stats_mode=single:max_colors=256")
    use = graph.add("paletteuse", "new=1:dither=sierra2_4a")
    sink = graph.add("buffersink")
    src.link_to(split)
    split.link_to(use, 0, 0)
    split.link_to(gen, 1, 0)
    gen.link_to(use, 0, 1)
    use.link_to(sink)
    graph.configure()
    return graph
