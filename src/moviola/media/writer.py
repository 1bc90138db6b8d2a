"""Streaming video writer: encodes frames, carries the audio, writes atomically.

The output goes to a temporary file (or folder, for PNG sequences) beside the target and is renamed
into place by ``close()``; ``abort()`` removes it. The target is never partly written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from moviola._version import __version__
from moviola.errors import MoviolaError
from moviola.media.audio import AudioSource, AudioTrack
from moviola.media.frame import Frame, StreamInfo, like, to_float, to_uint8, to_uint16

log = logging.getLogger("moviola")


@dataclass(frozen=True)
class Codec:
    key: str
    encoder: str
    pix_fmt: str  # 8-bit, no alpha
    alpha_pix_fmt: str | None = None  # when frames carry alpha (None: alpha not supported)
    deep_pix_fmt: str | None = None  # when frames have more than 8 bits
    options: dict = field(default_factory=dict)
    crf_option: str | None = "crf"
    preset_option: str | None = "preset"
    profile: str | None = None
    tag: str | None = None
    even_size: bool = True  # chroma subsampled: width and height must be even


CODECS: dict[str, Codec] = {
    c.key: c
    for c in (
        Codec("h264", "libx264", "yuv420p", deep_pix_fmt="yuv420p10le",
              options={"crf": "18", "preset": "medium"}),
        Codec("h265", "libx265", "yuv420p", alpha_pix_fmt=None, deep_pix_fmt="yuv420p10le",
              options={"crf": "20", "preset": "medium", "x265-params": "log-level=error"},
              tag="hvc1"),
        Codec("prores", "prores_ks", "yuv422p10le", deep_pix_fmt="yuv422p10le",
              options={"profile": "3"}, crf_option=None, preset_option=None),
        Codec("prores4444", "prores_ks", "yuv444p10le", alpha_pix_fmt="yuva444p10le",
              deep_pix_fmt="yuv444p10le", options={"profile": "4", "alpha_bits": "16"},
              crf_option=None, preset_option=None, even_size=False),
        Codec("vp9", "libvpx-vp9", "yuv420p", alpha_pix_fmt="yuva420p",
              options={"crf": "32", "b": "0", "row-mt": "1", "deadline": "good",
                       "cpu-used": "4"}, preset_option=None),
        Codec("av1", "libsvtav1", "yuv420p", deep_pix_fmt="yuv420p10le",
              options={"crf": "35", "preset": "8"}),
        Codec("ffv1", "ffv1", "bgr0", alpha_pix_fmt="bgra", deep_pix_fmt="gbrp16le",
              options={"level": "3", "slicecrc": "1", "g": "1"}, crf_option=None,
              preset_option=None, even_size=False),
        Codec("png", "png", "rgb24", alpha_pix_fmt="rgba", deep_pix_fmt="rgb48be",
              crf_option=None, preset_option=None, even_size=False),
        Codec("jpeg", "mjpeg", "yuvj444p", options={"qmin": "1", "qmax": "3"}, crf_option=None,
              preset_option=None, even_size=False),
        Codec("tiff", "tiff", "rgb24", alpha_pix_fmt="rgba", deep_pix_fmt="rgb48le",
              crf_option=None, preset_option=None, even_size=False),
        Codec("gif", "gif", "pal8", alpha_pix_fmt=None, crf_option=None, preset_option=None,
              even_size=False),
        Codec("webp", "libwebp_anim", "yuv420p", alpha_pix_fmt="yuva420p",
              options={"quality": "90"}, crf_option=None, preset_option=None),
    )
}
ALIASES = {"x264": "h264", "avc": "h264", "x265": "h265", "hevc": "h265", "prores422": "prores",
           "prores_4444": "prores4444", "vp09": "vp9", "svtav1": "av1"}

# Extension -> (muxer, default codec, default codec when frames carry alpha, codecs allowed)
CONTAINERS = {
    ".mp4": ("mp4", "h264", "h264", {"h264", "h265", "av1", "vp9"}),
    ".m4v": ("mp4", "h264", "h264", {"h264", "h265", "av1"}),
    ".mov": ("mov", "h264", "prores4444", {"h264", "h265", "prores", "prores4444", "png"}),
    ".mkv": ("matroska", "h264", "ffv1", {"h264", "h265", "prores", "prores4444", "vp9", "av1",
                                         "ffv1", "png"}),
    ".webm": ("webm", "vp9", "vp9", {"vp9", "av1"}),
    ".avi": ("avi", "h264", "ffv1", {"h264", "ffv1", "png"}),
    ".gif": ("gif", "gif", "gif", {"gif"}),
    ".webp": ("webp", "webp", "webp", {"webp"}),
    # One still image: the effects must produce exactly one frame.
    ".png": ("image2", "png", "png", {"png"}),
    ".jpg": ("image2", "jpeg", "jpeg", {"jpeg"}),
    ".jpeg": ("image2", "jpeg", "jpeg", {"jpeg"}),
    ".tif": ("image2", "tiff", "tiff", {"tiff"}),
    ".tiff": ("image2", "tiff", "tiff", {"tiff"}),
}
STILL_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
PNG_NAME = "frame_%06d.png"


def codec_choices() -> list[str]:
    return sorted(CODECS)


@dataclass
class Target:
    """Where and how output is written, resolved from the path and options."""

    path: Path  # file, or folder for PNG sequences
    muxer: str
    codec: str | None  # None: decided from the first frame (alpha or not)
    sequence_pattern: str | None = None  # file name pattern inside the folder


def resolve_target(path: str | os.PathLike, codec: str | None = None) -> Target:
    """Check an output path and choose the container and codec. Raises MoviolaError."""
    text = str(path)
    p = Path(text)
    if codec is not None:
        codec = ALIASES.get(codec.lower(), codec.lower())
        if codec not in CODECS:
            raise MoviolaError(f"unknown codec {codec!r}; choose from {', '.join(codec_choices())}")
    if text.endswith(("/", os.sep)) or "%" in p.name or (p.suffix == "" and not p.is_file()):
        if "%" in p.name:
            folder, pattern = p.parent, p.name
        else:
            folder, pattern = p, PNG_NAME
        if codec not in (None, "png"):
            raise MoviolaError(f"an image sequence is written as PNG, not {codec}")
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise MoviolaError(f"output folder for the PNG sequence exists and is not empty: "
                               f"{folder}")
        _check_writable(folder.parent)
        return Target(folder, "image2", "png", pattern)
    ext = p.suffix.lower()
    if ext not in CONTAINERS:
        raise MoviolaError(
            f"unknown output format {ext or '(no extension)'!r}; use one of "
            f"{', '.join(sorted(CONTAINERS))} or a folder (out/) for a PNG sequence"
        )
    if p.is_dir():
        raise MoviolaError(f"output path is a folder: {p}")
    muxer, _default, _alpha_default, allowed = CONTAINERS[ext]
    if codec is not None and codec not in allowed:
        raise MoviolaError(f"{ext} cannot hold {codec}; it takes {', '.join(sorted(allowed))}")
    _check_writable(p.parent)
    return Target(p, muxer, codec)


def _check_writable(folder: Path) -> None:
    folder = folder if str(folder) else Path(".")
    if not folder.exists():
        raise MoviolaError(f"output folder does not exist: {folder}")
    if not folder.is_dir():
        raise MoviolaError(f"not a folder: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MoviolaError(f"output folder is not writable: {folder}")


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    pa, pb = Path(a), Path(b)
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    except OSError:
        pass
    return pa.resolve() == pb.resolve()


class VideoWriter:
    """Write frames to a video file, image sequence, GIF or WebP.

    The container is opened at the first frame, once its size and alpha are known. Frame times
    are kept exactly (in the stream's time base), so variable frame rate stays variable. Audio
    from ``audio`` is interleaved as the video is written.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        info: StreamInfo,
        *,
        codec: str | None = None,
        crf: int | None = None,
        preset: str | None = None,
        audio: AudioSource | None = None,
        metadata: dict | None = None,
        threads: int = 0,
    ) -> None:
        self.target = resolve_target(path, codec)
        self.info = info
        self.crf = crf
        self.preset = preset
        self.audio_source = audio
        self.metadata = {"software": f"moviola {__version__}", **(metadata or {})}
        self.threads = threads
        self.frames_written = 0
        self._container = None
        self._stream = None
        self._audio: AudioTrack | None = None
        self._audio_out = None  # the container the audio goes to (a WAV beside a PNG sequence)
        self._codec: Codec | None = None
        self._tmp: Path | None = None
        self._last_pts: int | None = None
        self._last_end: Fraction = Fraction(0)
        self._warned_alpha = False
        self._gif_graph = None
        self._pad = (0, 0)
        self._color = None  # color tags when the codec overrides the stream's

    # -- opening --------------------------------------------------------------------------------
    def _open(self, frame: Frame) -> None:
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
                log.info("%s does not carry alpha: composited over %s", key, flatten)
            else:
                log.warning("%s does not carry alpha: the alpha channel is dropped", key)
        if alpha and codec.alpha_pix_fmt:
            pix_fmt = codec.alpha_pix_fmt
        elif deep and codec.deep_pix_fmt:
            pix_fmt = codec.deep_pix_fmt
        else:
            pix_fmt = codec.pix_fmt
        self._alpha = alpha and codec.alpha_pix_fmt is not None
        self._deep = deep and (codec.deep_pix_fmt is not None or self._alpha)

        height, width = frame.image.shape[:2]
        if codec.even_size and (width % 2 or height % 2):
            self._pad = (height % 2, width % 2)
            log.info("odd size %dx%d padded to %dx%d for %s", width, height,
                     width + self._pad[1], height + self._pad[0], pix_fmt)
        width += self._pad[1]
        height += self._pad[0]

        if target.sequence_pattern:
            self._tmp = Path(tempfile.mkdtemp(prefix=f".{target.path.name}.", suffix=".part",
                                              dir=target.path.parent))
            out_name = str(self._tmp / target.sequence_pattern)
        else:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.path.stem}.", suffix=
                                       f".part{target.path.suffix}", dir=target.path.parent)
            os.close(fd)
            self._tmp = Path(tmp)
            out_name = tmp
        options = {}
        if self.still:
            options["update"] = "1"  # one file, no sequence number in its name
        if target.muxer in ("mp4", "mov"):
            options["movflags"] = "+use_metadata_tags"  # keep every tag, not only iTunes keys
        try:
            self._container = av.open(out_name, "w", format=target.muxer, options=options)
        except av.FFmpegError as exc:
            self.abort()
            raise MoviolaError(f"cannot write {target.path}: {exc}") from None
        self._container.metadata.update({k: str(v) for k, v in self.metadata.items()})

        if codec.encoder == "libsvtav1":
            os.environ.setdefault("SVT_LOG", "1")  # errors only, not a banner per file
        tb = self._time_base()
        stream = self._container.add_stream(codec.encoder, rate=self._nominal_rate())
        cc = stream.codec_context
        cc.width, cc.height = width, height
        cc.pix_fmt = pix_fmt
        cc.time_base = tb
        stream.time_base = tb
        cc.thread_count = self.threads
        options = dict(codec.options)
        if self.crf is not None:
            if not codec.crf_option:
                raise MoviolaError(f"--crf does not apply to {key}")
            options[codec.crf_option] = str(self.crf)
        if self.preset is not None:
            if not codec.preset_option:
                raise MoviolaError(f"--preset does not apply to {key}")
            options[codec.preset_option] = str(self.preset)
        if key == "vp9" and self._alpha:
            options["auto-alt-ref"] = "0"
        cc.options = options
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
            self._gif_graph = _gif_palette_graph(width, height, tb)
        self._stream = stream
        if self.audio_source is not None and self.audio_source.timeline.audio != "drop":
            if target.muxer in ("gif", "webp") or self.still:
                log.warning("%s cannot carry audio: the audio is not written",
                            target.path.suffix.lstrip(".") if self.still else target.muxer)
            else:
                if target.muxer == "image2":  # editors take a sequence plus a WAV beside it
                    self._audio_out = av.open(str(self._tmp / "audio.wav"), "w", format="wav")
                else:
                    self._audio_out = self._container
                try:
                    self._audio = AudioTrack(self.audio_source, self._audio_out)
                except (ValueError, av.FFmpegError) as exc:
                    log.warning("the audio cannot be written to %s (%s): audio dropped",
                                target.path.suffix, exc)
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
        """"copied" or "re-encoded" once audio is being written, else None."""
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
                "frames: write a video (.mp4), or a folder (out/) for a PNG sequence")
        if self._container is None:
            self._open(frame)
        vf = self._to_video_frame(frame)
        tb = self._stream.codec_context.time_base
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
            vf = self._gif_graph.pull()
            vf.pts = pts
        self._mux(self._stream.encode(vf))
        self.frames_written += 1

    def _to_video_frame(self, frame: Frame) -> av.VideoFrame:
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
        cc = self._stream.codec_context
        if self._gif_graph is not None or cc.pix_fmt == fmt:
            # the frame outlives this call (filter graph, encoder): it must own its pixels
            return av.VideoFrame.from_ndarray(image, format=fmt)
        # Zero-copy view of the array, converted at once into a frame that owns its data. One
        # swscale thread: the pipeline's threads already keep the cores busy.
        vf = av.VideoFrame.from_numpy_buffer(image, format=fmt)
        if self._is_yuv:
            color = self._color or self.info.color
            return vf.reformat(format=cc.pix_fmt, dst_colorspace=color.swscale_space,
                               dst_color_range=color.swscale_range, threads=1)
        return vf.reformat(format=cc.pix_fmt, threads=1)

    def _mux(self, packets) -> None:
        for packet in packets:
            if self._audio is not None and packet.pts is not None:
                self._audio.mux_until(self._audio_out, packet.pts * packet.time_base)
            self._container.mux(packet)

    # -- finishing ------------------------------------------------------------------------------
    def close(self) -> Path:
        """Flush, close and move the output into place. Returns the final path."""
        if self._container is None:
            raise MoviolaError("no frames were produced: nothing written")
        try:
            self._mux(self._stream.encode(None))
            if self._audio is not None:
                self._audio.mux_until(self._audio_out, None)
            self._container.close()
            if self._audio_out is not None and self._audio_out is not self._container:
                self._audio_out.close()
        except av.FFmpegError as exc:
            self.abort()
            raise MoviolaError(f"writing {self.target.path} failed: {exc}") from None
        finally:
            if self._audio is not None:
                self._audio.close()
        target = self.target.path
        if self.target.sequence_pattern:
            if target.exists():
                target.rmdir()  # checked empty when resolved
            os.replace(self._tmp, target)
        else:
            os.replace(self._tmp, target)
        self._tmp = None
        return target

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


def _gif_palette_graph(width: int, height: int, tb: Fraction):
    """A palette per frame (palettegen + paletteuse): streams, unlike a two-pass global palette."""
    graph = av.filter.Graph()
    src = graph.add_buffer(width=width, height=height, format="rgb24", time_base=tb)
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
