"""matte: video matting. Remove the background, replace it, blur it, or export the alpha.

Default model: Robust Video Matting (MobileNetV3, ONNX). It is recurrent: four hidden state
tensors go from one frame to the next, which is what keeps its mattes stable over time. The state
is reset at shot cuts, found by a cheap detector (change of a thumbnail's colour histogram or of
its pixels between consecutive frames). Alternative: u2netp, a per-frame salient-object model (stills, subjects that
are not people), optionally smoothed over time where the picture does not move, its 320x320 alpha
brought to full resolution by a guided filter on the frame. A user ONNX model with either
interface is accepted through ``model_path``.

Output, by ``background``:
  auto / transparent  RGBA (straight alpha, decontaminated foreground colour): ProRes 4444 in .mov,
                      VP9 with alpha in .webm, PNG sequences. For formats without alpha, with
                      "auto", frames carry ``meta["flatten_color"]`` (green): the colour the
                      writer is to composite them over instead of dropping the alpha.
  green, blue, #RRGGBB  composite over a colour (keying downstream)
  blur                the frame itself, blurred behind the subject ("portrait mode")
  PATH                an image (resized to cover the frame) or a video (looped or cut to length,
                      time-aligned, resized to cover)
``matte_only`` writes the alpha as white on black.

Memory: RVM works at ``downsample`` x the frame size internally and refines its alpha to full
size itself; nothing is held from frame to frame except the recurrent state (small), the previous
alpha (for smoothing) and thumbnails (for cut detection). Only the pixels whose alpha is partial
go through floating-point arithmetic; the others are copies of the source or the background.

Shared parts: tensor layout (models/image_model.py), the background video (media/background.py),
cover-resize (media/frame.py), the alpha refinement, foreground estimation and background blur
(vision/matting.py) and the colour histogram of the cut detector (vision/cuts.py).
"""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.background import BackgroundVideo
from moviola.media.frame import Frame, StreamInfo, cover, like, to_float, to_uint8
from moviola.media.still import read_rgb
from moviola.models.image_model import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    frame_tensor,
    from_tensor,
    image_input,
    normalize,
    to_tensor,
)
from moviola.models.runtime.base import Session
from moviola.pipeline import Effect, Param, register
from moviola.pipeline.params import parse_color
from moviola.vision.cuts import colour_histogram, histogram_change
from moviola.vision.matting import blur_behind, estimate_foreground, guided_upsample
from moviola.vision.segment import SAM_MODEL, PointSegmenter, parse_point

log = logging.getLogger("moviola")

MODELS = {"rvm": "rvm-mobilenetv3", "u2netp": "u2netp"}
COLORS = {"green": (0, 177, 64), "blue": (0, 71, 187)}
#: Colour that formats without alpha composite over when the background is "auto".
AUTO_FLATTEN = COLORS["green"]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".exr", ".jp2"}
_RVM_INPUTS = {"src", "r1i", "r2i", "r3i", "r4i", "downsample_ratio"}
_THUMB_WIDTH = 96  # px: thumbnails for cut detection and motion gating


def auto_downsample(width: int, height: int) -> float:
    """RVM's internal scale: about 270 px on the short side, as RVM's README recommends
    (0.375 for 720p, 0.25 for 1080p, 0.125 for 4K; 1 for small frames)."""
    return round(min(1.0, max(0.125, 270 / min(width, height))), 3)


@register
class Matte(Effect):
    name = "matte"
    summary = (
        "Remove or replace the background (video matting): alpha, green screen, blur, "
        "new image or video behind the subject."
    )
    kind = "model"
    params = (
        Param(
            "model",
            str,
            "rvm",
            "rvm: recurrent video matting, for people, stable over time; "
            "u2netp: per-frame salient object, for stills and subjects that are not people",
            choices=tuple(MODELS),
        ),
        Param(
            "model_path",
            str,
            None,
            "an ONNX file to use instead: RVM's interface (src, r1i..r4i, downsample_ratio) "
            "or one NCHW image in, alpha out",
        ),
        Param(
            "background",
            str,
            "auto",
            "auto (transparent where the format has alpha: .mov .webm .mkv PNG folder), "
            "transparent, green, blue, blur, a colour #RRGGBB, "
            "or the path of an image or video to put behind the subject",
            kind="path-or-keyword",
        ),
        Param(
            "point",
            str,
            None,
            "x,y: matte the subject under this point of the first frame, any kind of subject "
            "(MobileSAM, `moviola models fetch mobilesam`), followed through the clip; pixels, "
            "or 0..1 of the frame",
        ),
        Param("matte_only", bool, False, "write the matte itself: white subject on black"),
        Param(
            "blur",
            float,
            12.0,
            "blur strength for background=blur (Gaussian sigma in pixels of a 1080p frame)",
            min=0.5,
            max=200,
        ),
        Param(
            "downsample",
            str,
            "auto",
            "RVM's internal scale, 0.05..1; "
            "auto: ~270 px on the short side (0.47 at 576p, 0.25 at 1080p, 0.125 at 4K)",
        ),
        Param(
            "smooth",
            float,
            None,
            "temporal smoothing of the alpha where the picture is still, 0 (off) .. 0.95; "
            "default 0 for rvm, 0.6 for per-frame models",
            min=0.0,
            max=0.95,
        ),
        Param(
            "refine",
            bool,
            True,
            "edge refinement: guided filter of a low-resolution alpha on the full-resolution "
            "frame (per-frame models; RVM refines its own)",
        ),
        Param(
            "decontaminate",
            bool,
            True,
            "foreground colour decontamination, "
            "so the old background's colour does not spill at the edges",
        ),
        Param(
            "cut_threshold",
            float,
            0.5,
            "change between consecutive frames that counts as a shot cut and resets the model "
            "state (0..1: colour histogram distance, or mean brightness change / 60 levels); "
            "0: reset at every frame, 1: never",
            min=0.0,
            max=1.0,
        ),
    )

    model: str
    model_path: str | None
    point: str | None
    background: str
    matte_only: bool
    blur: float
    downsample: str
    smooth: float | None
    refine: bool
    decontaminate: bool
    cut_threshold: float

    # -- parameters -----------------------------------------------------------------------------
    def validate(self) -> None:
        _parse_ratio(self.downsample)
        if self.point is not None:
            parse_point(self.point)
            if self.model_path is not None:
                raise MoviolaError("matte: give point or model_path, not both")
        bg_kind, _ = _parse_background(self.background)
        if self.matte_only and bg_kind != "auto":
            raise MoviolaError("matte: give matte_only or background, not both")
        if self.model_path is not None:
            path = Path(os.path.expanduser(self.model_path))
            if not path.is_file():
                raise MoviolaError(f"matte: model file not found: {path}")
            if path.suffix.lower() != ".onnx":
                raise MoviolaError(f"matte: model_path must be an .onnx file: {path}")

    @property
    def emits_alpha(self) -> bool:
        return not self.matte_only and _parse_background(self.background)[0] in (
            "auto",
            "transparent",
        )

    # -- life cycle -----------------------------------------------------------------------------
    def configure(self, info: StreamInfo) -> StreamInfo:
        from moviola.models import ensure
        from moviola.models.runtime import open_session

        self._size = (info.width, info.height)
        self._bg_kind, self._bg_value = _parse_background(self.background)
        self._emits_alpha = self.emits_alpha
        self._segmenter: PointSegmenter | None = None
        if self.point is not None:
            try:
                encoder = ensure(SAM_MODEL)
            except MoviolaError as e:
                raise MoviolaError(f"matte: {e}") from None
            decoder = encoder.parent / "sam_mask_decoder_single.onnx"
            self._segmenter = PointSegmenter(encoder, decoder, parse_point(self.point))
            path = encoder
        elif self.model_path is not None:
            path = Path(os.path.expanduser(self.model_path))
        else:
            path = ensure(MODELS[self.model])
        self._session: Session = open_session(path)
        names = set(self._session.input_names)
        if self._segmenter is not None:
            self._kind = "point"
        elif names >= _RVM_INPUTS:
            self._kind = "rvm"
        elif len(names) == 1 and len(self._session.inputs[0].shape) == 4:
            self._kind = "image"
            image = image_input(self._session.inputs[0], ("NCHW",), f"matte: {path.name}")
            self._input = image.name
            self._in_size = image.size((320, 320))  # (w, h)
        else:
            raise MoviolaError(
                f"matte: {path.name} has inputs {', '.join(sorted(names))}; expected RVM's "
                "(src, r1i..r4i, downsample_ratio) or one NCHW image"
            )
        self._ratio_used = _parse_ratio(self.downsample) or auto_downsample(info.width, info.height)
        self._smooth = (
            self.smooth if self.smooth is not None else (0.0 if self._kind == "rvm" else 0.6)
        )
        self._background: np.ndarray | BackgroundVideo | None = None
        # the last background, in the frames' dtype
        self._bg_source: np.ndarray | None = None
        self._bg_ready: np.ndarray | None = None
        if isinstance(self._bg_value, Path):
            if self._bg_kind == "image":
                self._background = _load_image(self._bg_value, self._size)
            else:
                self._background = BackgroundVideo(self._bg_value, self._size)
        self.cuts: list[int] = []
        self.last_alpha: np.ndarray | None = None
        self._reset()
        self._prev_thumb: np.ndarray | None = None
        self._prev_hist: np.ndarray | None = None
        self._prev_grey: np.ndarray | None = None
        self.last_change = 0.0
        self.frames_seen = 0
        return info.evolve(alpha=self._emits_alpha)

    def _reset(self) -> None:
        self._rec = [np.zeros((1, 1, 1, 1), np.float32)] * 4
        self._prev_alpha: np.ndarray | None = None

    def close(self) -> None:
        background = getattr(self, "_background", None)
        if isinstance(background, BackgroundVideo):
            background.close()

    # -- per frame ------------------------------------------------------------------------------
    def process(self, frame: Frame) -> Frame:
        src = frame.image[..., :3]
        thumb = _thumbnail(to_uint8(src))
        self._detect_cut(thumb, frame.index)
        if self._kind == "rvm":
            alpha, fgr = self._run_rvm(src)
        elif self._segmenter is not None:
            alpha, fgr = self._segmenter(to_uint8(src)), None
            if self.refine:
                alpha = guided_upsample(alpha, src)
        else:
            alpha, fgr = self._run_image_model(src), None
        alpha = self._temporal(alpha, thumb)
        self._prev_thumb = thumb
        self.frames_seen += 1
        if frame.has_alpha:  # the source's own transparency stays
            alpha = alpha * to_float(frame.image[..., 3])
        self.last_alpha = alpha  # the last frame's alpha (float, H x W), for measurements
        result = frame.with_image(self._compose(src, alpha, fgr, frame.time))
        if self._emits_alpha and self._bg_kind == "auto":
            result.meta = {**frame.meta, "flatten_color": AUTO_FLATTEN}
        return result

    def _detect_cut(self, thumb: np.ndarray, index: int) -> None:
        """A cut: the colour histogram of the thumbnail changes a lot (different scene), or
        its pixels do (another shot of the same scene: same colours, new framing)."""
        hist = colour_histogram(thumb)
        grey = cv2.GaussianBlur(
            cv2.cvtColor(thumb, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 1.0
        )
        if self._prev_hist is not None and self._prev_grey is not None:
            change = max(
                histogram_change(hist, self._prev_hist),
                min(1.0, float(np.abs(grey - self._prev_grey).mean()) / 60),
            )
            self.last_change = change
            t = self.cut_threshold
            if t <= 0 or (t < 1 and change > t):
                if t > 0:
                    self.cuts.append(index)
                    log.debug("matte: cut at frame %d (change %.2f)", index, change)
                self._reset()
                self._prev_thumb = None
        self._prev_hist, self._prev_grey = hist, grey

    def _run_rvm(self, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        feeds = {
            "src": frame_tensor(src),
            "downsample_ratio": np.array([self._ratio_used], np.float32),
        }
        feeds.update({f"r{i + 1}i": r for i, r in enumerate(self._rec)})
        out = self._session.run(feeds)
        self._rec = [out[f"r{i}o"] for i in range(1, 5)]
        alpha = np.clip(from_tensor(out["pha"])[..., 0], 0, 1)
        return alpha, from_tensor(out["fgr"])  # fgr: H x W x 3

    def _run_image_model(self, src: np.ndarray) -> np.ndarray:
        w, h = self._in_size
        small = to_float(cv2.resize(src, (w, h), interpolation=cv2.INTER_AREA))
        x = to_tensor(normalize(small, IMAGENET_MEAN, IMAGENET_STD))
        out = self._session.run({self._input: x})
        pred = from_tensor(out[self._session.output_names[0]])
        pred = pred[..., -1] if pred.ndim == 3 else pred  # foreground: the last channel
        if pred.min() < -0.01 or pred.max() > 1.01:  # logits
            pred = 1 / (1 + np.exp(-pred))
        pred = np.clip(pred, 0, 1).astype(np.float32)
        if self.refine:
            return guided_upsample(pred, src)
        fw, fh = self._size
        return np.clip(cv2.resize(pred, (fw, fh), interpolation=cv2.INTER_LINEAR), 0, 1)

    def _temporal(self, alpha: np.ndarray, thumb: np.ndarray) -> np.ndarray:
        """EMA of the alpha, weighted down where the picture moves (no ghost trails)."""
        if self._smooth <= 0:
            return alpha
        if self._prev_alpha is not None and self._prev_thumb is not None:
            cur = cv2.cvtColor(thumb, cv2.COLOR_RGB2GRAY).astype(np.float32)
            old = cv2.cvtColor(self._prev_thumb, cv2.COLOR_RGB2GRAY).astype(np.float32)
            motion = cv2.GaussianBlur(np.abs(cur - old), (0, 0), 1.5)
            weight = np.asarray(self._smooth * np.clip(1 - motion / 12.0, 0, 1), np.float32)
            weight = cv2.resize(weight, self._size, interpolation=cv2.INTER_LINEAR)
            alpha = weight * self._prev_alpha + (1 - weight) * alpha
        self._prev_alpha = alpha
        return alpha

    # -- output ---------------------------------------------------------------------------------
    def _compose(
        self, src: np.ndarray, alpha: np.ndarray, fgr: np.ndarray | None, time: Fraction
    ) -> np.ndarray:
        """The output frame, in the source's dtype.

        Only pixels whose alpha is strictly between 0 and 1 (at the output's precision) need
        arithmetic; the rest are the source (opaque) or the background (clear), copied.
        """
        dtype = src.dtype
        a_q = like(alpha, dtype)
        if self.matte_only:
            return cv2.merge([a_q, a_q, a_q])
        full = a_q.dtype.type(_FULL.get(a_q.dtype, 1.0))
        solid = a_q == full
        ys, xs = np.nonzero((a_q > 0) & ~solid)
        a_e = alpha[ys, xs][:, None]
        src_e = to_float(src[ys, xs])
        if self.decontaminate:
            if fgr is not None:
                fg_e = np.clip(fgr[ys, xs], 0, 1)
            else:
                fg_e = estimate_foreground(src, alpha, at=(ys, xs))
            # Near-opaque pixels keep the source's own colours.
            keep = np.clip((a_e - 0.95) / 0.05, 0, 1)
            fg_e = keep * src_e + (1 - keep) * fg_e
        else:
            fg_e = src_e
        if self._bg_kind in ("auto", "transparent"):
            # Straight alpha. Fully transparent pixels keep the source's colour: never seen,
            # and it compresses like the source (RVM's foreground there is noise).
            rgb = src.copy()
            rgb[ys, xs] = like(fg_e, dtype)
            return cv2.merge([rgb, a_q])
        out = self._backdrop(src, alpha, time)
        cv2.copyTo(src, solid.view(np.uint8), out)
        back_e = to_float(out[ys, xs])
        out[ys, xs] = like(fg_e * a_e + back_e * (1 - a_e), dtype)
        return out

    def _backdrop(self, src: np.ndarray, alpha: np.ndarray, time: Fraction) -> np.ndarray:
        """A fresh full-size background in the source's dtype (the caller writes into it)."""
        kind, dtype = self._bg_kind, src.dtype
        if kind == "color":
            out = np.empty_like(src)
            out[:] = like(np.array(self._bg_value, np.float32) / 255, dtype)
            return out
        if kind == "blur":
            h = src.shape[0]
            return like(blur_behind(src, alpha, self.blur * h / 1080), dtype)
        background = self._background
        assert background is not None  # configure() loads image and video backgrounds
        back = background.at(time) if isinstance(background, BackgroundVideo) else background
        ready = self._bg_ready
        if self._bg_source is not back or ready is None or ready.dtype != dtype:
            ready = like(back, dtype)
            self._bg_source, self._bg_ready = back, ready
        return ready.copy()


_FULL = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}


# -- parameters -----------------------------------------------------------------------------------
def _parse_ratio(value: str) -> float | None:
    """``downsample``: None for auto, else a number 0.05..1."""
    raw = str(value).strip().lower()
    if raw == "auto":
        return None
    try:
        ratio = float(raw)
    except ValueError:
        raise MoviolaError(
            f"matte: downsample must be auto or a number 0.05..1, not {value!r}"
        ) from None
    if not 0.05 <= ratio <= 1:
        raise MoviolaError(f"matte: downsample {ratio} is outside 0.05..1")
    return ratio


def _parse_background(value: str) -> tuple[str, tuple[int, int, int] | Path | None]:
    """(kind, value): auto, transparent or blur (None); color (RGB); image or video (a path)."""
    raw = str(value).strip()
    low = raw.lower()
    if low in ("auto", "transparent", "blur"):
        return low, None
    if low in COLORS:
        return "color", COLORS[low]
    if raw.startswith("#"):
        try:
            return "color", parse_color(raw)
        except MoviolaError:
            raise MoviolaError(f"matte: background {raw!r} is not a colour #RRGGBB") from None
    path = Path(os.path.expanduser(raw))
    if path.is_file():
        return ("image" if path.suffix.lower() in IMAGE_SUFFIXES else "video"), path
    if path.suffix:
        raise MoviolaError(f"matte: background file not found: {path}")
    raise MoviolaError(
        f"matte: background {raw!r} is not auto, transparent, green, blue, blur, #RRGGBB "
        "or an image or video file"
    )


def _load_image(path: Path, size: tuple[int, int]) -> np.ndarray:
    image = read_rgb(path, "background image", deep=True)
    return cover(to_float(image) if image.dtype != np.float32 else image, size)


# -- image operations -----------------------------------------------------------------------------
def _thumbnail(rgb8: np.ndarray) -> np.ndarray:
    h, w = rgb8.shape[:2]
    tw = min(w, _THUMB_WIDTH)
    th = max(1, round(h * tw / w))
    return cv2.resize(rgb8, (tw, th), interpolation=cv2.INTER_AREA)
