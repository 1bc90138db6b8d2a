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
"""

from __future__ import annotations

import logging
import math
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, like, to_float, to_uint8
from moviola.media.still import read_rgb
from moviola.pipeline import Effect, Param, register
from moviola.pipeline.params import parse_color

log = logging.getLogger("moviola")

MODELS = {"rvm": "rvm-mobilenetv3", "u2netp": "u2netp"}
COLORS = {"green": (0, 177, 64), "blue": (0, 71, 187)}
#: Colour that formats without alpha composite over when the background is "auto".
AUTO_FLATTEN = COLORS["green"]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".exr", ".jp2"}
_IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
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

    # -- parameters -----------------------------------------------------------------------------
    def validate(self) -> None:
        self._ratio: float | None = None
        raw = str(self.downsample).strip().lower()
        if raw != "auto":
            try:
                ratio = float(raw)
            except ValueError:
                raise MoviolaError(
                    f"matte: downsample must be auto or a number 0.05..1, not {self.downsample!r}"
                ) from None
            if not 0.05 <= ratio <= 1:
                raise MoviolaError(f"matte: downsample {ratio} is outside 0.05..1")
            self._ratio = ratio
        self._bg_kind, self._bg_value = _parse_background(self.background)
        if self.matte_only and self._bg_kind != "auto":
            raise MoviolaError("matte: give matte_only or background, not both")
        if self.model_path is not None:
            path = Path(self.model_path).expanduser()
            if not path.is_file():
                raise MoviolaError(f"matte: model file not found: {path}")
            if path.suffix.lower() != ".onnx":
                raise MoviolaError(f"matte: model_path must be an .onnx file: {path}")

    @property
    def emits_alpha(self) -> bool:
        return not self.matte_only and self._bg_kind in ("auto", "transparent")

    # -- life cycle -----------------------------------------------------------------------------
    def configure(self, info: StreamInfo) -> StreamInfo:
        from moviola.models import ensure
        from moviola.models.runtime import open_session

        self._size = (info.width, info.height)
        if self.model_path is not None:
            path = Path(self.model_path).expanduser()
        else:
            path = ensure(MODELS[self.model])
        self._session = open_session(path)
        names = set(self._session.input_names)
        if names >= _RVM_INPUTS:
            self._kind = "rvm"
        elif len(names) == 1 and len(self._session.inputs[0].shape) == 4:
            self._kind = "image"
            shape = self._session.inputs[0].shape
            fixed = [d if isinstance(d, int) and d > 0 else None for d in shape[2:]]
            self._in_size = (fixed[1] or 320, fixed[0] or 320)  # (w, h)
        else:
            raise MoviolaError(
                f"matte: {path.name} has inputs {', '.join(sorted(names))}; expected RVM's "
                "(src, r1i..r4i, downsample_ratio) or one NCHW image"
            )
        self._ratio_used = self._ratio or auto_downsample(info.width, info.height)
        self._smooth = (
            self.smooth if self.smooth is not None else (0.0 if self._kind == "rvm" else 0.6)
        )
        self._background = None
        self._bg_source = self._bg_ready = None  # the last background, in the frames' dtype
        if self._bg_kind == "image":
            self._background = _load_image(self._bg_value, self._size)
        elif self._bg_kind == "video":
            self._background = _BackgroundVideo(self._bg_value, self._size)
        self.cuts: list[int] = []
        self.last_alpha: np.ndarray | None = None
        self._reset()
        self._prev_thumb = self._prev_hist = self._prev_grey = None
        self.last_change = 0.0
        self.frames_seen = 0
        return info.evolve(alpha=self.emits_alpha)

    def _reset(self) -> None:
        self._rec = [np.zeros((1, 1, 1, 1), np.float32)] * 4
        self._prev_alpha = None

    def close(self) -> None:
        background = getattr(self, "_background", None)
        if isinstance(background, _BackgroundVideo):
            background.close()

    # -- per frame ------------------------------------------------------------------------------
    def process(self, frame: Frame) -> Frame:
        src = frame.image[..., :3]
        thumb = _thumbnail(to_uint8(src))
        self._detect_cut(thumb, frame.index)
        if self._kind == "rvm":
            alpha, fgr = self._run_rvm(src)
        else:
            alpha, fgr = self._run_image_model(src), None
        alpha = self._temporal(alpha, thumb)
        self._prev_thumb = thumb
        self.frames_seen += 1
        if frame.has_alpha:  # the source's own transparency stays
            alpha = alpha * to_float(frame.image[..., 3])
        self.last_alpha = alpha  # the last frame's alpha (float, H x W), for measurements
        result = frame.with_image(self._compose(src, alpha, fgr, frame.time))
        if self.emits_alpha and self._bg_kind == "auto":
            result.meta = {**frame.meta, "flatten_color": AUTO_FLATTEN}
        return result

    def _detect_cut(self, thumb: np.ndarray, index: int) -> None:
        """A cut: the colour histogram of the thumbnail changes a lot (different scene), or
        its pixels do (another shot of the same scene: same colours, new framing)."""
        hist = cv2.calcHist([thumb], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3).ravel()
        hist /= max(1.0, float(hist.sum()))
        grey = cv2.GaussianBlur(
            cv2.cvtColor(thumb, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 1.0
        )
        if self._prev_hist is not None:
            change = max(
                0.5 * float(np.abs(hist - self._prev_hist).sum()),
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
        feeds = {"src": _blob(src), "downsample_ratio": np.array([self._ratio_used], np.float32)}
        feeds.update({f"r{i + 1}i": r for i, r in enumerate(self._rec)})
        out = self._session.run(feeds)
        self._rec = [out[f"r{i}o"] for i in range(1, 5)]
        return np.clip(out["pha"][0, 0], 0, 1), out["fgr"][0]  # fgr: 3 x H x W

    def _run_image_model(self, src: np.ndarray) -> np.ndarray:
        w, h = self._in_size
        small = to_float(cv2.resize(src, (w, h), interpolation=cv2.INTER_AREA))
        x = ((small - _IMAGENET_MEAN) / _IMAGENET_STD).transpose(2, 0, 1)[None]
        out = self._session.run({self._session.input_names[0]: x})
        pred = np.asarray(out[self._session.output_names[0]], np.float32)[0]
        pred = pred[-1] if pred.ndim == 3 else pred  # (C, h, w): foreground is the last channel
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
            weight = self._smooth * np.clip(1 - motion / 12.0, 0, 1)
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
                fg_e = np.clip(fgr[:, ys, xs].T, 0, 1)
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
        back = self._background if kind == "image" else self._background.at(time)
        if self._bg_source is not back or self._bg_ready.dtype != dtype:
            self._bg_source, self._bg_ready = back, like(back, dtype)
        return self._bg_ready.copy()


_FULL = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}


def _blob(src: np.ndarray) -> np.ndarray:
    """H x W x 3 image to a 1 x 3 x H x W float32 tensor in 0..1."""
    if src.dtype == np.uint8:
        return cv2.dnn.blobFromImage(src, 1 / 255)
    return np.ascontiguousarray(to_float(src).transpose(2, 0, 1)[None])


# -- background -----------------------------------------------------------------------------------
def _parse_background(value: str) -> tuple[str, object]:
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
    path = Path(raw).expanduser()
    if path.is_file():
        return ("image" if path.suffix.lower() in IMAGE_SUFFIXES else "video"), path
    if path.suffix:
        raise MoviolaError(f"matte: background file not found: {path}")
    raise MoviolaError(
        f"matte: background {raw!r} is not auto, transparent, green, blue, blur, #RRGGBB "
        "or an image or video file"
    )


def cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to fill ``size`` (w, h), keeping the aspect ratio; crop the overflow centred."""
    w, h = size
    ih, iw = image.shape[:2]
    scale = max(w / iw, h / ih)
    sw, sh = max(w, math.ceil(iw * scale)), max(h, math.ceil(ih * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    image = cv2.resize(image, (sw, sh), interpolation=interp)
    x, y = (sw - w) // 2, (sh - h) // 2
    return np.ascontiguousarray(image[y : y + h, x : x + w])


def _load_image(path: Path, size: tuple[int, int]) -> np.ndarray:
    image = read_rgb(path, "background image", deep=True)
    return cover(to_float(image) if image.dtype != np.float32 else image, size)


class _BackgroundVideo:
    """Streams a video as background: the frame showing at time t, looped, resized to cover."""

    def __init__(self, path: Path, size: tuple[int, int]) -> None:
        self.path = path
        self.size = size
        self._reader = None
        self._offset = Fraction(0)  # where the current loop starts on the output timeline
        self._restart()
        if self._current is None:
            raise MoviolaError(f"matte: the background video has no frames: {path}")
        self._still = self._upcoming is None  # one frame: a still, never re-read
        self._image = None

    def _restart(self) -> None:
        from moviola.media import VideoReader

        if self._reader is not None:
            self._reader.close()
        self._reader = VideoReader(self.path, alpha=False)
        self._frames = iter(self._reader)
        self._current = self._next()
        self._upcoming = self._next()

    def _next(self) -> Frame | None:
        return next(self._frames, None)

    def at(self, time: Fraction) -> np.ndarray:
        changed = self._image is None
        while not self._still:
            if self._upcoming is not None:
                if self._upcoming.time > time - self._offset:
                    break
                self._current, self._upcoming = self._upcoming, self._next()
                changed = True
            elif time - self._offset < self._current.end:
                break
            else:  # past the last frame: loop
                self._offset += self._current.end
                self._restart()
                changed = True
        if changed:
            self._image = cover(to_float(self._current.image[..., :3]), self.size)
        return self._image

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


# -- image operations -----------------------------------------------------------------------------
def _thumbnail(rgb8: np.ndarray) -> np.ndarray:
    h, w = rgb8.shape[:2]
    tw = min(w, _THUMB_WIDTH)
    th = max(1, round(h * tw / w))
    return cv2.resize(rgb8, (tw, th), interpolation=cv2.INTER_AREA)


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    return cv2.blur(image, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def guided_upsample(
    alpha_small: np.ndarray, image: np.ndarray, work: int = 512, radius: int = 3, eps: float = 1e-3
) -> np.ndarray:
    """Bring a low-resolution alpha to the frame's size along the frame's edges.

    Fast guided filter (He & Sun): the linear coefficients are fitted at ``work`` px on the
    long side, with the frame's luma as guide, in windows at least as wide as one low-resolution
    pixel, then upsampled and applied at full resolution.
    """
    h, w = image.shape[:2]
    grey = to_float(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    scale = min(1.0, work / max(h, w))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    g = cv2.resize(grey, (sw, sh), interpolation=cv2.INTER_AREA)
    p = cv2.resize(alpha_small, (sw, sh), interpolation=cv2.INTER_LINEAR)
    # the window must span the ramp that upsampling made of each low-resolution step
    radius = max(radius, math.ceil(max(sw, sh) / max(alpha_small.shape)))
    mean_g, mean_p = _box(g, radius), _box(p, radius)
    cov = _box(g * p, radius) - mean_g * mean_p
    var = _box(g * g, radius) - mean_g * mean_g
    a = cov / (var + eps)
    b = mean_p - a * mean_g
    a, b = _box(a, radius), _box(b, radius)
    if (sw, sh) != (w, h):
        a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(a * grey + b, 0, 1)


def estimate_foreground(
    image: np.ndarray, alpha: np.ndarray, at: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Foreground colour without the background's spill, from the image and its alpha.

    Blur-fusion estimate (Forte & Pitie, 2021): local means of foreground and background,
    weighted by alpha, then the compositing equation solved for F; a wide pass then a narrow
    one. The local means are taken at no more than 640 and 1280 px on the long side (they are
    smooth); only the last step, which brings back the detail, runs at full resolution, and
    with ``at`` (rows, columns) only at those pixels: the result is then N x 3.
    """
    h, w = image.shape[:2]
    fg = bg = None
    for limit, radius in ((640, 30), (1280, 3)):
        scale = min(1.0, limit / max(h, w))
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        img_s = to_float(_resize(image, size, cv2.INTER_AREA))
        a_s = _resize(alpha, size, cv2.INTER_AREA)[..., None]
        fg_s = img_s if fg is None else _resize(fg, size, cv2.INTER_LINEAR)
        bg_s = img_s if bg is None else _resize(bg, size, cv2.INTER_LINEAR)
        k = (2 * radius + 1, 2 * radius + 1)
        blur_a = cv2.blur(a_s[..., 0], k)[..., None]
        fg = cv2.blur(fg_s * a_s, k) / (blur_a + 1e-5)
        bg = cv2.blur(bg_s * (1 - a_s), k) / ((1 - blur_a) + 1e-5)
        if limit == 640:
            fg = np.clip(fg + a_s * (img_s - a_s * fg - (1 - a_s) * bg), 0, 1)
    if at is None:
        fg = _resize(fg, (w, h), cv2.INTER_LINEAR)
        bg = _resize(bg, (w, h), cv2.INTER_LINEAR)
        a, img = alpha[..., None], to_float(image)
    else:
        ys, xs = at
        fg, bg = _sample(fg, ys, xs, (w, h)), _sample(bg, ys, xs, (w, h))
        a, img = alpha[ys, xs][:, None], to_float(image[ys, xs])
    return np.clip(fg + a * (img - a * fg - (1 - a) * bg), 0, 1)


def _sample(image: np.ndarray, ys: np.ndarray, xs: np.ndarray, size: tuple[int, int]):
    """Bilinear samples (N x C) of a smaller image at full-size pixel positions."""
    if len(ys) == 0:
        return np.zeros((0, image.shape[2]), np.float32)
    n = len(ys)
    rows = -(-n // 1024)  # remap's output is at most 32767 on a side: lay the points in rows
    sy, sx = image.shape[0] / size[1], image.shape[1] / size[0]
    map_x = np.zeros(rows * 1024, np.float32)
    map_y = np.zeros(rows * 1024, np.float32)
    map_x[:n] = (xs + 0.5) * sx - 0.5
    map_y[:n] = (ys + 0.5) * sy - 0.5
    out = cv2.remap(
        image,
        map_x.reshape(rows, 1024),
        map_y.reshape(rows, 1024),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return out.reshape(rows * 1024, -1)[:n]


def _resize(image: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    if image.shape[1] == size[0] and image.shape[0] == size[1]:
        return image
    return cv2.resize(image, size, interpolation=interpolation)


def blur_behind(image: np.ndarray, alpha: np.ndarray, sigma: float) -> np.ndarray:
    """The frame blurred with the subject left out (normalised convolution), so the subject's
    colours do not halo into the blurred background."""
    h, w = image.shape[:2]
    factor = max(1, int(sigma // 3))
    sw, sh = max(1, w // factor), max(1, h // factor)
    small = to_float(cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA))
    keep = 1 - cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA)
    s = sigma / factor
    num = cv2.GaussianBlur(small * keep[..., None], (0, 0), s)
    den = cv2.GaussianBlur(keep, (0, 0), s)[..., None]
    plain = cv2.GaussianBlur(small, (0, 0), s)
    weight = np.clip(den / 0.05, 0, 1)  # where all around is subject, fall back to plain blur
    back = weight * num / np.maximum(den, 1e-4) + (1 - weight) * plain
    return cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR)
