"""Depth for images and video, from three sources, shared by the ``depth`` and ``parallax`` effects.

Every source gives *relative inverse depth* normalised to 0..1 with **near = 1** (float32, the
frame's size):

``model``   a monocular depth network in ONNX that the user supplies (``--model PATH``):
            Depth-Anything-V2-Small or MiDaS v2.1 small exports, or any model with one NCHW
            image input and one relative-inverse-depth output (see docs/depth.md). No such
            weights exist in the registries this project can reach, so none is bundled.
``motion``  depth from camera motion, no weights: dense optical flow (vision/flow.py) between
            frames ``gap`` apart, the camera's motion from an essential matrix fitted to flow
            samples (assumed focal length), and per-pixel triangulation of inverse depth along
            the epipolar geometry. Pixels that disagree with the geometry (moving objects, bad
            flow, occlusions) get low confidence and are filled by edge-aware propagation
            (push-pull, then a guided filter with the frame as guide).
``file``    a depth map image (8/16-bit PNG, any image) or a depth video that the user supplies,
            near white (default) or near black.

For video, :class:`DepthStream` smooths depth over time: the previous result is carried along
the optical flow onto the current frame, aligned in scale and offset, and blended where the
flow is consistent (``smooth`` weight); occluded or moving pixels take the new estimate.
Memory: a depth stream holds at most ``2 * gap + 1`` frames (motion) or one frame.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, to_float, to_uint8
from moviola.vision.filters import guided_filter
from moviola.vision.flow import FlowEstimator, consistency, gray, pixel_grid, warp

log = logging.getLogger("moviola")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".exr"}
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
#: Describes each source, for the CLI, container tags and docs.
SOURCES = {
    "model": "monocular depth network (ONNX, user-supplied)",
    "motion": "depth from camera motion (optical flow + essential matrix, no weights)",
    "file": "depth map supplied by the user",
}


# --- small tools ---------------------------------------------------------------------------------


def normalize(
    inv: np.ndarray, weight: np.ndarray | None = None, lo: float = 1.0, hi: float = 99.0
) -> np.ndarray:
    """Inverse depth of any scale to 0..1 (near = 1), robust to outliers (percentiles)."""
    values = inv[weight > 0.5] if weight is not None else inv.ravel()
    values = values[np.isfinite(values)]
    if values.size < 16:
        return np.zeros(inv.shape, np.float32)
    a, b = np.percentile(values, [lo, hi])
    if b - a < 1e-9:
        return np.full(inv.shape, 0.5, np.float32)
    return np.clip((inv - a) / (b - a), 0.0, 1.0).astype(np.float32)


def push_pull(values: np.ndarray, weight: np.ndarray, min_size: int = 2) -> np.ndarray:
    """Fill where ``weight`` is 0 from where it is 1 (weights in 0..1): a pyramid that averages
    known values downwards and fills gaps from the coarser level upwards (smooth, O(pixels))."""
    v = values.astype(np.float32)
    w = np.clip(weight.astype(np.float32), 0.0, 1.0)
    chan = v.ndim == 3
    vw = v * w[..., None] if chan else v * w
    levels = []
    while min(w.shape[:2]) > min_size:
        levels.append((vw, w))
        size = (max(1, (w.shape[1] + 1) // 2), max(1, (w.shape[0] + 1) // 2))
        vw = cv2.resize(vw, size, interpolation=cv2.INTER_AREA)
        w = cv2.resize(w, size, interpolation=cv2.INTER_AREA)
        if chan and vw.ndim == 2:
            vw = vw[..., None]
    den = np.maximum(w, 1e-6)
    filled = vw / (den[..., None] if chan else den)
    for lvw, lw in reversed(levels):
        size = (lw.shape[1], lw.shape[0])
        up = cv2.resize(filled, size, interpolation=cv2.INTER_LINEAR)
        if chan and up.ndim == 2:
            up = up[..., None]
        k = np.clip(lw * 4.0, 0.0, 1.0)  # a quarter of a cell known is enough to trust it
        den = np.maximum(lw, 1e-6)
        if chan:
            filled = (lvw / den[..., None]) * k[..., None] + up * (1 - k[..., None])
        else:
            filled = (lvw / den) * k + up * (1 - k)
    return filled.astype(np.float32)


def fill_low_confidence(depth: np.ndarray, conf: np.ndarray, guide: np.ndarray) -> np.ndarray:
    """Keep confident depth, propagate it into the rest along the image's edges."""
    conf = np.clip(conf, 0.0, 1.0).astype(np.float32)
    filled = push_pull(depth, conf)
    mixed = conf * depth + (1 - conf) * filled
    r = max(2, round(min(depth.shape) / 60))
    smooth = guided_filter(guide, mixed, r, 1e-3)
    out = conf * mixed + (1 - conf) * smooth
    return guided_filter(guide, out, max(1, r // 2), 1e-4)


def colorize(depth: np.ndarray, colormap: str) -> np.ndarray:
    """0..1 depth -> RGB float32 (gray, turbo, inferno)."""
    if colormap == "gray":
        return np.repeat(np.clip(depth, 0, 1)[..., None], 3, axis=2).astype(np.float32)
    cmap = {"turbo": cv2.COLORMAP_TURBO, "inferno": cv2.COLORMAP_INFERNO}[colormap]
    bgr = cv2.applyColorMap(to_uint8(np.clip(depth, 0, 1)), cmap)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def _working_size(width: int, height: int, target: int) -> tuple[int, int]:
    scale = min(1.0, target / max(width, height))
    return max(16, round(width * scale)), max(16, round(height * scale))


# --- (a) a monocular network in ONNX -------------------------------------------------------------


@dataclass(frozen=True)
class ModelProfile:
    """How a depth network wants its input."""

    name: str
    size: tuple[int, int] | None  # fixed (width, height), or None: keep the aspect ratio
    short_side: int  # with size None: the short side, rounded to ``multiple``
    multiple: int


#: Depth-Anything-V2 (ViT-S/14): 518 px, multiples of 14; MiDaS v2.1 small: 256 x 256.
PROFILES = {
    "depth-anything-v2": ModelProfile("depth-anything-v2", None, 518, 14),
    "midas-small": ModelProfile("midas-small", (256, 256), 256, 32),
}


class DepthModel:
    """A monocular depth network (ONNX): RGB in, relative inverse depth 0..1 (near = 1) out.

    Pre-processing: RGB 0..1, resized (bicubic) to the profile's size, ImageNet mean/std, NCHW
    float32. A model with a fixed input size gets that size; a dynamic one gets the
    Depth-Anything rule (short side 518, both sides multiples of 14). Post-processing: the
    output (N x H x W or N x 1 x H x W) is resized to the frame (bicubic) and normalised.
    """

    def __init__(self, path: str | Path) -> None:
        from moviola.models.runtime import open_session

        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise MoviolaError(f"depth model not found: {self.path}")
        if self.path.suffix.lower() != ".onnx":
            raise MoviolaError(f"depth model must be an ONNX file (.onnx): {self.path.name}")
        self.session = open_session(self.path)
        if len(self.session.inputs) != 1:
            raise MoviolaError(
                f"{self.path.name}: a depth model takes one image input; it takes "
                f"{', '.join(self.session.input_names)}"
            )
        shape = self.session.inputs[0].shape
        if len(shape) != 4 or shape[1] not in (3, None) and not isinstance(shape[1], str):
            raise MoviolaError(f"{self.path.name}: expected an N x 3 x H x W input, got {shape}")
        h, w = shape[2], shape[3]
        if isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0:
            fixed = PROFILES["midas-small"] if (w, h) == (256, 256) else None
            self.profile = fixed or ModelProfile("fixed", (w, h), min(w, h), 1)
        else:
            self.profile = PROFILES["depth-anything-v2"]
        self.input_name = self.session.input_names[0]
        self.output_name = self.session.output_names[0]

    def input_size(self, width: int, height: int) -> tuple[int, int]:
        p = self.profile
        if p.size is not None:
            return p.size
        scale = p.short_side / min(width, height)
        m = p.multiple
        return (max(m, round(width * scale / m) * m), max(m, round(height * scale / m) * m))

    def prepare(self, image: np.ndarray) -> np.ndarray:
        rgb = to_float(image[..., :3])
        size = self.input_size(rgb.shape[1], rgb.shape[0])
        x = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)
        x = (x - IMAGENET_MEAN) / IMAGENET_STD
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)

    def raw(self, image: np.ndarray) -> np.ndarray:
        """The network's output resized to the image (relative inverse depth, any scale)."""
        out = self.session.run({self.input_name: self.prepare(image)})[self.output_name]
        out = np.asarray(out, np.float32)
        while out.ndim > 2:
            out = out[0]
        h, w = image.shape[:2]
        return cv2.resize(out, (w, h), interpolation=cv2.INTER_CUBIC)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return normalize(self.raw(image))


# --- (b) depth from camera motion ----------------------------------------------------------------


@dataclass
class MotionEstimate:
    """Depth from one pair of frames: inverse depth 0..1 and confidence 0..1 (working size)."""

    depth: np.ndarray
    confidence: np.ndarray
    parallax: float  # median translational parallax in working pixels
    inliers: float  # share of flow samples consistent with the camera motion
    ok: bool


class MotionDepth:
    """Depth from camera motion between two frames (see the module notes).

    ``focal``: focal length as a multiple of the working image's width (1.0 ~ 53 degrees of
    horizontal field of view). ``size``: the long side of the working resolution.
    """

    def __init__(self, size: int = 480, focal: float = 1.0, preset: str = "medium") -> None:
        self.size = size
        self.focal = focal
        self.flow = FlowEstimator(preset)

    def estimate(self, a: np.ndarray, b: np.ndarray) -> MotionEstimate:
        """Inverse depth of frame ``a`` seen again (moved camera) in frame ``b``."""
        h0, w0 = a.shape[:2]
        size = _working_size(w0, h0, self.size)
        ga = cv2.resize(gray(a), size, interpolation=cv2.INTER_AREA)
        gb = cv2.resize(gray(b), size, interpolation=cv2.INTER_AREA)
        fwd = self.flow(ga, gb)
        bwd = self.flow(gb, ga)
        return self.from_flow(fwd, bwd, ga)

    def from_flow(self, fwd: np.ndarray, bwd: np.ndarray, guide: np.ndarray) -> MotionEstimate:
        h, w = fwd.shape[:2]
        f = self.focal * w
        cx, cy = (w - 1) / 2, (h - 1) / 2
        valid = consistency(bwd, fwd, tolerance=0.75) > 0.5  # on a's grid
        gx, gy = pixel_grid(h, w)
        xb, yb = gx + fwd[..., 0], gy + fwd[..., 1]
        inside = (xb >= 0) & (xb <= w - 1) & (yb >= 0) & (yb <= h - 1)
        sample = valid & inside
        step = max(1, int(math.sqrt(h * w / 4000)))
        grid = np.zeros_like(sample)
        grid[step // 2 :: step, step // 2 :: step] = True
        pick = sample & grid
        empty = MotionEstimate(
            np.zeros((h, w), np.float32), np.zeros((h, w), np.float32), 0.0, 0.0, False
        )
        if pick.sum() < 30:
            return empty
        p1 = np.stack([gx[pick], gy[pick]], 1).astype(np.float64)
        p2 = np.stack([xb[pick], yb[pick]], 1).astype(np.float64)
        if np.median(np.linalg.norm(p2 - p1, axis=1)) < 0.3:
            return empty  # no motion
        cam = np.array([[f, 0, cx], [0, f, cy], [0, 0, 1]], np.float64)
        essential, mask = cv2.findEssentialMat(
            p1, p2, cam, method=cv2.RANSAC, prob=0.999, threshold=0.75
        )
        if essential is None or essential.shape != (3, 3):
            return empty
        _, rot, t, mask = cv2.recoverPose(essential, p1, p2, cam, mask=mask)
        inliers = float((mask.ravel() > 0).mean())
        t = t.ravel()
        # normalised coordinates of each pixel of a and of its match in b
        pa = np.stack([(gx - cx) / f, (gy - cy) / f, np.ones_like(gx)], -1)
        pb = np.stack([(xb - cx) / f, (yb - cy) / f, np.ones_like(gx)], -1)
        rpa = pa @ rot.T.astype(np.float32)
        # Z_b pb = Z_a R pa + t  ->  (pb x R pa) = -(1 / Z_a) (pb x t): least squares in 1/Z_a
        u = np.cross(pb, rpa)
        v = np.cross(pb, t.astype(np.float32)[None, None, :])
        vv = (v * v).sum(-1)
        inv = -(u * v).sum(-1) / np.maximum(vv, 1e-12)
        # residual of the epipolar fit (in pixels), and how strongly depth moves a pixel here
        resid = (
            np.linalg.norm(u + inv[..., None] * v, axis=-1)
            / np.maximum(np.linalg.norm(rpa, axis=-1), 1e-6)
            * f
        )
        lever = np.sqrt(vv) * f  # pixels of parallax per unit inverse depth
        parallax = float(np.median((np.abs(inv) * lever)[sample]))
        if parallax < 0.25 or inliers < 0.3:
            return MotionEstimate(empty.depth, empty.confidence, parallax, inliers, False)
        conf = (sample & (inv > 0)).astype(np.float32)
        conf *= np.exp(-((resid / 1.0) ** 2))
        # depth is only measurable where a unit of it moves the pixel by a pixel or more
        conf *= np.clip(np.abs(inv) * lever / 0.5, 0, 1) * np.clip(
            lever / np.median(lever[sample]) * 2, 0, 1
        )
        depth = normalize(np.where(inv > 0, inv, 0).astype(np.float32), conf, 2, 98)
        g = guide.astype(np.float32) / 255.0 if guide.dtype == np.uint8 else guide
        depth = fill_low_confidence(depth, conf, g)
        return MotionEstimate(np.clip(depth, 0, 1), conf, parallax, inliers, True)


def flow_magnitude_depth(a: np.ndarray, b: np.ndarray, size: int = 480) -> np.ndarray:
    """The naive baseline: inverse depth taken as the optical flow's magnitude (right only for a
    camera that translates sideways and does not rotate)."""
    h0, w0 = a.shape[:2]
    ws = _working_size(w0, h0, size)
    ga = cv2.resize(gray(a), ws, interpolation=cv2.INTER_AREA)
    gb = cv2.resize(gray(b), ws, interpolation=cv2.INTER_AREA)
    fl = FlowEstimator("medium")(ga, gb)
    return normalize(np.linalg.norm(fl, axis=2))


# --- (c) a depth map or depth video from the user ------------------------------------------------


def read_depth_image(path: str | Path, near: str = "white") -> np.ndarray:
    """A depth map image (8 or 16 bit, grey or colour: the first channel) -> 0..1, near = 1."""
    path = Path(path).expanduser()
    data = np.fromfile(str(path), np.uint8) if path.is_file() else None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data is not None and data.size else None
    if image is None:
        raise MoviolaError(f"cannot read the depth map {path} (expected an 8/16-bit image)")
    if image.ndim == 3:
        image = image[..., 0] if image.shape[2] in (3, 4) else image[..., 0]
    return _oriented(
        to_float(image)
        if image.dtype in (np.uint8, np.uint16)
        else np.clip(image.astype(np.float32), 0, 1),
        near,
    )


def _oriented(depth: np.ndarray, near: str) -> np.ndarray:
    depth = np.clip(depth, 0.0, 1.0).astype(np.float32)
    return depth if near == "white" else 1.0 - depth


class DepthFile:
    """A depth map image (the same depth for every frame) or a depth video (frame by frame,
    matched by time: the depth frame shown at the frame's time), resized to the frame."""

    def __init__(self, path: str | Path, near: str = "white") -> None:
        self.path = Path(path).expanduser()
        self.near = near
        if not self.path.exists():
            raise MoviolaError(f"depth map not found: {self.path}")
        self._still: np.ndarray | None = None
        self._reader = None
        if self.path.suffix.lower() in IMAGE_SUFFIXES:
            self._still = read_depth_image(self.path, near)
            return
        from moviola.media.reader import VideoReader

        try:
            self._reader = VideoReader(self.path, dtype="uint16")
            self._frames = iter(self._reader)
            self._current = next(self._frames)
        except (MoviolaError, StopIteration, OSError, ValueError) as e:
            self.close()
            raise MoviolaError(f"cannot read the depth video {self.path}: {e}") from None
        except Exception as e:  # av errors of a broken file
            self.close()
            raise MoviolaError(f"cannot read the depth video {self.path}: {e}") from None
        self._next: Frame | None = next(self._frames, None)

    def at(self, time: Fraction, width: int, height: int) -> np.ndarray:
        if self._still is not None:
            depth = self._still
        else:
            while self._next is not None and self._next.time <= time:
                self._current, self._next = self._next, next(self._frames, None)
            depth = _oriented(to_float(self._current.image[..., 0]), self.near)
        if depth.shape != (height, width):
            depth = cv2.resize(depth, (width, height), interpolation=cv2.INTER_LINEAR)
        return depth

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


# --- temporal smoothing --------------------------------------------------------------------------


class TemporalSmoother:
    """Flow-warped exponential smoothing of depth: the previous result is carried onto the
    current frame along the optical flow, the new depth aligned to it in scale and offset
    (robust least squares), and the two mixed with weight ``strength`` where the flow is
    forward-backward consistent; elsewhere the new depth is taken as it is."""

    def __init__(self, strength: float = 0.6, size: int = 320) -> None:
        self.strength = strength
        self.size = size
        self.flow = FlowEstimator("fast")
        self._prev: np.ndarray | None = None  # smoothed depth, working size
        self._prev_gray: np.ndarray | None = None

    def reset(self) -> None:
        self._prev = self._prev_gray = None

    def __call__(self, image: np.ndarray, depth: np.ndarray) -> np.ndarray:
        if self.strength <= 0:
            return depth
        h, w = depth.shape
        ws = _working_size(w, h, self.size)
        g = cv2.resize(gray(image), ws, interpolation=cv2.INTER_AREA)
        d = cv2.resize(depth, ws, interpolation=cv2.INTER_AREA)
        prev, prev_gray = self._prev, self._prev_gray
        if prev is None or prev_gray is None:
            self._prev, self._prev_gray = d, g
            return depth
        back = self.flow(g, prev_gray)  # current -> previous
        fwd = self.flow(prev_gray, g)
        ok = consistency(fwd, back, tolerance=1.0)
        carried = warp(prev, back)
        sel = ok > 0.5
        if sel.sum() > 50:  # align the new estimate to the carried one (scale, offset)
            x, y = d[sel], carried[sel]
            a = np.vstack([x, np.ones_like(x)]).T
            coef, *_ = np.linalg.lstsq(a, y, rcond=None)
            if 0.3 < coef[0] < 3:
                d = np.clip(d * coef[0] + coef[1], 0, 1)
        k = self.strength * cv2.GaussianBlur(ok, (5, 5), 0)
        mixed = (k * carried + (1 - k) * d).astype(np.float32)
        self._prev, self._prev_gray = mixed, g
        delta = cv2.resize(mixed - d, (w, h), interpolation=cv2.INTER_LINEAR)
        return np.clip(depth + delta, 0, 1).astype(np.float32)


# --- one stream of (frame, depth) ----------------------------------------------------------------


class DepthStream:
    """Frames in, (frame, depth) pairs out, in order, from one source; see the module notes.

    ``method``: "model" (``model`` path needed), "motion", "file" (``depth`` path needed), or
    "auto": file if given, else model if given, else motion.
    """

    def __init__(
        self,
        method: str = "auto",
        *,
        model: str | None = None,
        depth: str | None = None,
        near: str = "white",
        gap: int = 3,
        smooth: float = 0.6,
        focal: float = 1.0,
    ) -> None:
        if method == "auto":
            method = "file" if depth else "model" if model else "motion"
        self.method = method
        self.gap = max(1, gap)
        # a supplied depth is used as it is; estimates are smoothed over time
        self.smoother = TemporalSmoother(smooth) if smooth > 0 and method != "file" else None
        self.model = self.file = self.motion = None
        if method == "file":
            if not depth:
                raise MoviolaError("method file needs --depth PATH (a depth map or depth video)")
            self.file = DepthFile(depth, near)
        elif method == "model":
            if not model:
                raise MoviolaError(
                    "method model needs a depth model file (ONNX): Depth-Anything-V2-Small "
                    "from `moviola models fetch depth-anything-v2-small`, or your own export"
                )
            self.model = DepthModel(model)
        elif method == "motion":
            self.motion = MotionDepth(focal=focal)
        else:
            raise MoviolaError(f"unknown depth method {method!r} (model, motion, file, auto)")
        self.source = SOURCES[method]
        self.failed = 0  # motion: frames where no camera motion could be measured
        self.frames = 0  # frames given depth
        self._pending: deque[Frame] = deque()  # motion: frames waiting for a partner
        self._history: deque[Frame] = deque(maxlen=self.gap)  # motion: the last frames
        self._last_good: np.ndarray | None = None

    @property
    def label(self) -> str:
        name = self.method
        if self.model is not None:
            name += f" ({self.model.path.name}, {self.model.profile.name})"
        if self.file is not None:
            name += f" ({self.file.path.name})"
        return name

    def _finish(self, frame: Frame, depth: np.ndarray) -> tuple[Frame, np.ndarray]:
        self.frames += 1
        if self.smoother is not None:
            depth = self.smoother(frame.image, depth)
        return frame, depth

    def push(self, frame: Frame) -> list[tuple[Frame, np.ndarray]]:
        if self.file is not None:
            return [self._finish(frame, self.file.at(frame.time, frame.width, frame.height))]
        if self.model is not None:
            return [self._finish(frame, self.model(frame.image))]
        # motion: frame i pairs with frame i - gap; the first ``gap`` frames with i + gap
        out = []
        self._pending.append(frame)
        while self._pending:
            head = self._pending[0]
            partner = None
            if len(self._history) == self.gap:
                partner = self._history[0]
            elif len(self._pending) > self.gap:
                partner = self._pending[self.gap]
            if partner is None:
                break
            self._pending.popleft()
            out.append(self._finish(head, self._from_motion(head, partner)))
            self._history.append(head)
        return out

    def flush(self) -> list[tuple[Frame, np.ndarray]]:
        out = []
        while self._pending:
            head = self._pending.popleft()
            others = list(self._pending) or list(self._history)
            partner = others[-1] if others else None
            if partner is None:
                raise MoviolaError(
                    "depth from motion needs a video with camera motion and this input is a "
                    "single image: give --depth PATH (a depth map) or --model PATH (an ONNX "
                    "depth model)"
                )
            out.append(self._finish(head, self._from_motion(head, partner)))
            self._history.append(head)
        return out

    def _from_motion(self, frame: Frame, partner: Frame) -> np.ndarray:
        assert self.motion is not None  # method "motion" sets it up
        est = self.motion.estimate(frame.image, partner.image)
        h, w = frame.height, frame.width
        if not est.ok:
            self.failed += 1
            if self._last_good is not None:  # no measurable camera motion: keep the last depth
                return cv2.resize(self._last_good, (w, h), interpolation=cv2.INTER_LINEAR)
            return np.full((h, w), 0.5, np.float32)
        self._last_good = est.depth
        depth = cv2.resize(est.depth, (w, h), interpolation=cv2.INTER_LINEAR)
        guide = to_float(gray(frame.image))
        return np.clip(guided_filter(guide, depth, max(2, round(w / 400)), 1e-4), 0, 1)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        self._pending.clear()
        self._history.clear()
