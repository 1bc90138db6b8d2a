"""colorize: give black-and-white footage colour, from a reference picture, from colour hints,
or from a colorization model the user supplies.

No automatic colorization weights can be had from the registries this project installs from
(docs/models.md), so two of the three methods are classical and need no model:

reference  (``--reference IMAGE``, repeatable; classical, example-based) The references are
           colour pictures of the same or a similar scene: a colour still, or a keyframe of the
           clip that someone coloured. Each gray frame is worked on at ``work`` px (long side)
           in CIELAB: every pixel is described by its lightness, the mean and spread of the
           lightness around it at two scales (texture) and, weighted by ``locality``, its place
           in the picture; its chroma (a, b) is the weighted mean of the chroma of the nearest
           reference pixels in that feature space (k-d tree). The lightness of the frames is
           first brought to the references' mean and spread (measured once, on the first frame).
reference  The chroma is then smoothed along the gray frame's edges (guided filter) and
           carried along motion: the previous frame's chroma is warped onto the current one by
           optical flow (vision/flow.py) and kept wherever the flow is consistent both ways,
           blended with the fresh estimate (``temporal``), so colours stay on their objects and
           do not flicker. Flow is reset at cuts.
hints      (``--hints FILE``; classical) Colour points and scribbles on keyframes (JSON, or a PNG
           whose coloured or opaque pixels are the hints) spread through the frame by Levin,
           Lischinski & Weiss's "Colorization using optimization": neighbouring pixels of similar
           lightness get similar chroma, a sparse linear system solved (scipy) at ``work`` px and
           brought to full size along the edges (guided filter). Through time the previous
           frame's chroma, warped by optical flow, is a soft constraint wherever the flow is
           consistent; the system fills in what was hidden. Frames before the first keyframe
           use its hints where they are.
model      (``--model FILE.onnx``; kind "model") An automatic colorization network exported to
           ONNX by the user (DDColor, DeOldify; see docs/recolor.md for their homes, licences
           and the interface expected). Its chroma is used, the footage's own lightness kept,
           and the same motion-carried smoothing applied.

Whatever the method, the output's lightness is the input's: only a and b are made up. The method
used is recorded in the output's metadata (``moviola_colorize``) and in the effect's description.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, like, to_float, to_uint8
from moviola.media.still import read_rgb
from moviola.pipeline import Effect, Param, parse_path, register
from moviola.pipeline.params import parse_color
from moviola.vision.color import gray_lightness, guided_filter, lab_to_rgb, rgb_to_lab
from moviola.vision.flow import FlowEstimator, consistency, warp

log = logging.getLogger("moviola")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
_CUT_LEVELS = 35.0  # mean absolute change of the working gray image that counts as a cut
_HINT_WEIGHT = 100.0  # soft-constraint weight of a user hint (edge weights are <= 1)
_K = 4  # neighbours per pixel in the reference search (approximate: eps 1)


@register
class Colorize(Effect):
    name = "colorize"
    summary = (
        "Colour black-and-white footage: from reference pictures (example-based) or colour "
        "hints (edge-aware optimization), carried along motion; classical. Or from a "
        "colorization ONNX model you supply (--model)."
    )
    kind = "classical"  # "model" on an instance given ``model``
    context_frames = None  # chroma is carried from frame to frame by motion
    params = (
        Param(
            "reference",
            parse_path,
            None,
            "a colour image of the same or a similar scene (or a coloured keyframe). "
            "Classical, example-based",
            multiple=True,
        ),
        Param(
            "hints",
            parse_path,
            None,
            'colour hints: JSON {"frame": N or "time": T, "points": [[x, y, "#rrggbb"]], '
            '"scribbles": [{"color": "#rrggbb", "points": [[x, y], ...], "width": 5}]} (or a list '
            "of those), or a PNG whose coloured/opaque pixels are hints for the first frame. "
            "Classical, edge-aware optimization",
        ),
        Param(
            "model",
            parse_path,
            None,
            "an automatic colorization ONNX model you supply (DDColor, DeOldify exports): "
            "input 1x1 (L/100) or 1x3 (gray RGB 0..1) NCHW, output 1x2 (a, b) or 1x3 (RGB 0..1)",
        ),
        Param(
            "model_size",
            int,
            512,
            "the model's input size when the model does not fix one (square)",
            min=32,
            max=4096,
        ),
        Param(
            "locality",
            float,
            1.0,
            "reference mode: weight of the pixel's place in the picture when matching "
            "(0: anywhere in the reference; high: the same place, for keyframes of the shot)",
            min=0.0,
            max=20.0,
        ),
        Param(
            "temporal",
            float,
            0.85,
            "how much of the previous frame's chroma, carried by motion, is kept where the flow "
            "is reliable (0: every frame on its own)",
            min=0.0,
            max=0.99,
        ),
        Param(
            "saturation",
            float,
            1.0,
            "scale of the chroma that is put in",
            min=0.0,
            max=3.0,
        ),
        Param(
            "work",
            int,
            256,
            "working resolution, long side in px (matching, optimization, flow)",
            min=64,
            max=1024,
        ),
    )

    # -- parameters -----------------------------------------------------------------------------
    def validate(self) -> None:
        given = [n for n in ("reference", "hints", "model") if getattr(self, n)]
        if not given:
            raise MoviolaError("colorize: give --reference IMAGE, --hints FILE or --model FILE")
        if len(given) > 1:
            raise MoviolaError(f"colorize: give one of --reference, --hints, --model, not {given}")
        self.method = given[0]
        if self.method == "reference":
            for path in self.reference:
                if Path(path).suffix.lower() not in IMAGE_SUFFIXES:
                    raise MoviolaError(f"colorize: reference must be an image: {path}")
                _read_rgb(Path(path))
        elif self.method == "hints":
            self._keyframes = load_hints(Path(self.hints))
        else:
            if Path(self.model).suffix.lower() != ".onnx":
                raise MoviolaError(f"colorize: --model must be an .onnx file: {self.model}")
            self.kind = "model"

    @property
    def method_label(self) -> str:
        if self.method == "model":
            return f"model {Path(self.model).name} (user-supplied ONNX)"
        if self.method == "hints":
            return "hints (classical: edge-aware optimization + optical flow)"
        return "reference (classical: example-based transfer + optical flow)"

    def tags(self) -> dict[str, str]:
        return {"moviola_colorize": self.method_label}

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, how={self.method_label!r})"

    # -- life cycle -----------------------------------------------------------------------------
    def configure(self, info: StreamInfo) -> StreamInfo:
        self._size = (info.width, info.height)
        scale = min(1.0, self.work / max(info.width, info.height))
        self._wsize = (max(8, round(info.width * scale)), max(8, round(info.height * scale)))
        self._rate = info.rate
        self._flow = FlowEstimator("medium")
        self._prev_gray: np.ndarray | None = None
        self._prev_ab: np.ndarray | None = None
        self.cuts: list[int] = []
        if self.method in ("reference", "hints"):
            try:
                import scipy  # noqa: F401  (k-d tree and sparse solver)
            except ImportError:
                raise MoviolaError(
                    "colorize: --reference and --hints need scipy: pip install scipy"
                ) from None
        if self.method == "reference":
            self._matcher = ReferenceMatcher(
                [_read_rgb(Path(p)) for p in self.reference], self._wsize, self.locality
            )
        elif self.method == "hints":
            self._hints = [k.rasterize(self._size, self._wsize) for k in self._keyframes]
        else:
            self._model = ModelColorizer(Path(self.model), self.model_size)
        log.info("colorize: %s", self.method_label)
        return info

    def process(self, frame: Frame) -> Frame:
        rgb = to_float(frame.image[..., :3])
        lum = rgb_to_lab(rgb)[..., 0]
        small_l = cv2.resize(lum, self._wsize, interpolation=cv2.INTER_AREA)
        g8 = np.clip(small_l * 2.55 + 0.5, 0, 255).astype(np.uint8)
        warped, reliable = self._carry(g8, frame.index)
        if self.method == "reference":
            fresh = self._matcher(small_l)
            fresh = guided_filter(small_l / 100, fresh, radius=4, eps=1e-3)
            ab = self._blend(fresh, warped, reliable)
        elif self.method == "hints":
            ab = self._solve_hints(small_l, frame, warped, reliable)
        else:
            fresh = cv2.resize(self._model(lum), self._wsize, interpolation=cv2.INTER_AREA)
            ab = self._blend(fresh, warped, reliable)
        self._prev_gray, self._prev_ab = g8, ab
        full = guided_filter(lum / 100, ab, radius=8, eps=4e-4, work=self.work * 2)
        lab = np.concatenate([lum[..., None], full * self.saturation], axis=2)
        out = like(lab_to_rgb(lab), frame.image.dtype)
        if frame.has_alpha:
            out = np.concatenate([out, frame.image[..., 3:]], axis=2)
        return frame.with_image(out)

    # -- time -----------------------------------------------------------------------------------
    def _carry(self, g8: np.ndarray, index: int):
        """The previous chroma warped onto this frame, and where that can be trusted (0..1)."""
        if self._prev_gray is None:
            return None, None
        if float(np.abs(g8.astype(np.int16) - self._prev_gray).mean()) > _CUT_LEVELS:
            self.cuts.append(index)
            self._prev_gray = self._prev_ab = None
            return None, None
        back = self._flow(g8, self._prev_gray)  # current -> previous
        fwd = self._flow(self._prev_gray, g8)
        mask = consistency(fwd, back, tolerance=1.0)
        mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
        mask = cv2.GaussianBlur(mask, (0, 0), 1.0)
        return warp(self._prev_ab, back), mask

    def _blend(self, fresh: np.ndarray, warped, reliable) -> np.ndarray:
        if warped is None or self.temporal <= 0:
            return fresh
        k = (self.temporal * reliable)[..., None]
        return k * warped + (1 - k) * fresh

    # -- hints ----------------------------------------------------------------------------------
    def _solve_hints(self, small_l, frame: Frame, warped, reliable) -> np.ndarray:
        hint = self._hint_for(frame)
        h, w = small_l.shape
        weight = np.zeros((h, w), np.float32)
        target = np.zeros((h, w, 2), np.float32)
        if warped is not None and self.temporal > 0:
            # soft constraints: the previous chroma where the motion is reliable
            weight = (self.temporal / (1 - self.temporal)) * 0.2 * reliable
            target = warped * weight[..., None]
        if hint is not None:
            hint_w = _HINT_WEIGHT * hint.mask
            target = target + hint.ab * hint_w[..., None]
            weight = weight + hint_w
        target = target / np.maximum(weight, 1e-9)[..., None]
        return levin_solve(small_l, target, weight, x0=warped)

    def _hint_for(self, frame: Frame):
        """The hints of this frame's keyframe; before the first keyframe, the first one's."""
        if not self._hints:
            return None
        for hint in self._hints:
            if hint.matches(frame.index, frame.time, frame.duration):
                return hint
        if self._prev_ab is None:  # start of the clip or after a cut: nothing to carry
            earlier = [k for k in self._hints if not k.before(frame.index, frame.time)]
            if earlier:
                return max(earlier, key=lambda k: k.order)
            return min(self._hints, key=lambda k: k.order)
        return None


# -- reference matching ---------------------------------------------------------------------------
def _features(lum: np.ndarray, locality: float) -> np.ndarray:
    """Per-pixel feature vectors (H*W x 6) of a lightness image (0..100) at working size."""
    h, w = lum.shape
    x = lum / 100
    feats = [x]
    for radius, weight in ((2, 1.0), (6, 0.5)):
        k = (2 * radius + 1, 2 * radius + 1)
        mean = cv2.blur(x, k, borderType=cv2.BORDER_REFLECT)
        sq = cv2.blur(x * x, k, borderType=cv2.BORDER_REFLECT)
        std = np.sqrt(np.maximum(sq - mean * mean, 0))
        feats += [mean * weight, std * 2 * weight]
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    span = float(max(h, w))
    feats += [gx / span * 0.25 * locality, gy / span * 0.25 * locality]
    return np.stack(feats, axis=-1).reshape(-1, len(feats))


class ReferenceMatcher:
    """Chroma for a gray image from colour references, by nearest neighbours in a feature
    space of lightness, local texture and position (Welsh et al. 2002, with a k-d tree)."""

    def __init__(self, references: list[np.ndarray], wsize: tuple[int, int], locality: float):
        from scipy.spatial import cKDTree

        self.locality = locality
        feats, chroma, lums = [], [], []
        budget = max(20_000, 120_000 // len(references))
        for ref in references:
            rh, rw = ref.shape[:2]
            # the same working scale as the frames (long side), keeping the reference's aspect
            scale = max(wsize) / max(rh, rw)
            size = (max(8, round(rw * scale)), max(8, round(rh * scale)))
            lab = rgb_to_lab(cv2.resize(ref, size, interpolation=cv2.INTER_AREA))
            lums.append(lab[..., 0].ravel())
            f = _features(lab[..., 0], locality)
            ab = lab[..., 1:].reshape(-1, 2)
            if len(f) > budget:
                pick = np.random.default_rng(0).choice(len(f), budget, replace=False)
                f, ab = f[pick], ab[pick]
            feats.append(f)
            chroma.append(ab)
        allf = np.concatenate(feats)
        self.chroma = np.concatenate(chroma).astype(np.float32)
        lum = np.concatenate(lums)
        self.ref_mean, self.ref_std = float(lum.mean()), float(lum.std())
        self.tree = cKDTree(allf)
        self._remap: tuple[float, float] | None = None
        self.sigma = 0.03

    def __call__(self, lum: np.ndarray) -> np.ndarray:
        if self._remap is None:  # once, on the first frame: the same mapping for every frame
            std = float(lum.std())
            gain = float(np.clip(self.ref_std / max(std, 1e-3), 0.5, 2.0))
            self._remap = (gain, self.ref_mean - gain * float(lum.mean()))
        gain, offset = self._remap
        h, w = lum.shape
        feats = _features(lum * gain + offset, self.locality)
        dist, idx = self.tree.query(feats, k=_K, eps=1.0, workers=-1)
        wts = np.exp(-((dist - dist[:, :1]) ** 2) / (2 * self.sigma**2)).astype(np.float32)
        ab = (self.chroma[idx] * wts[..., None]).sum(axis=1) / wts.sum(axis=1, keepdims=True)
        return ab.reshape(h, w, 2)


# -- hints ----------------------------------------------------------------------------------------
@dataclass
class Keyframe:
    """Hints for one keyframe, in the coordinates of the frame (or of the PNG)."""

    frame: int | None = None
    time: Fraction | None = None
    points: list[tuple[float, float, tuple[int, int, int]]] = field(default_factory=list)
    scribbles: list[tuple[list[tuple[float, float]], tuple[int, int, int], float]] = field(
        default_factory=list
    )
    image: np.ndarray | None = None  # PNG hints: H x W x 3 RGB float and a mask
    image_mask: np.ndarray | None = None
    space: tuple[int, int] | None = None  # (w, h) the coordinates refer to; None: the frame's

    def rasterize(self, size: tuple[int, int], wsize: tuple[int, int]) -> RasterHints:
        w, h = size
        canvas = np.zeros((h, w, 3), np.float32)
        mask = np.zeros((h, w), np.float32)
        sx, sy = (w / self.space[0], h / self.space[1]) if self.space else (1.0, 1.0)
        if self.image is not None:
            canvas = cv2.resize(self.image, (w, h), interpolation=cv2.INTER_NEAREST)
            mask = cv2.resize(self.image_mask, (w, h), interpolation=cv2.INTER_NEAREST)
        dot = max(2, round(max(w, h) / 200))
        for x, y, rgb in self.points:
            c = tuple(v / 255 for v in rgb)
            center = (round(x * sx), round(y * sy))
            cv2.circle(canvas, center, dot, c, -1)
            cv2.circle(mask, center, dot, 1.0, -1)
        for pts, rgb, width in self.scribbles:
            c = tuple(v / 255 for v in rgb)
            poly = np.array([[round(x * sx), round(y * sy)] for x, y in pts], np.int32)
            thick = max(1, round(width * (sx + sy) / 2))
            cv2.polylines(canvas, [poly], False, c, thick)
            cv2.polylines(mask, [poly], False, 1.0, thick)
            if len(pts) == 1:
                cv2.circle(canvas, tuple(poly[0]), thick, c, -1)
                cv2.circle(mask, tuple(poly[0]), thick, 1.0, -1)
        ab = rgb_to_lab(canvas)[..., 1:] * mask[..., None]
        # to working size: mean chroma of the hinted pixels in each cell
        cover = cv2.resize(mask, wsize, interpolation=cv2.INTER_AREA)
        ab_s = (
            cv2.resize(ab, wsize, interpolation=cv2.INTER_AREA) / np.maximum(cover, 1e-6)[..., None]
        )
        cover = np.where(cover > 0.2, np.minimum(1.0, cover * 2), 0).astype(np.float32)
        return RasterHints(self.frame, self.time, ab_s.astype(np.float32), cover)


@dataclass
class RasterHints:
    frame: int | None
    time: Fraction | None
    ab: np.ndarray  # h x w x 2 at working size
    mask: np.ndarray  # h x w weights 0..1

    @property
    def order(self) -> float:
        return float(self.time) if self.time is not None else float(self.frame or 0) * 1e-6

    def matches(self, index: int, time: Fraction, duration: Fraction) -> bool:
        if self.time is not None:
            return time <= self.time < time + duration
        return index == self.frame

    def before(self, index: int, time: Fraction) -> bool:
        """This frame comes before the keyframe."""
        return time < self.time if self.time is not None else index < (self.frame or 0)


def load_hints(path: Path) -> list[Keyframe]:
    """Hint keyframes from a JSON or PNG file; MoviolaError with one line if it is malformed."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError) as e:
            raise MoviolaError(f"colorize: cannot read hints {path}: {e}") from None
        except json.JSONDecodeError as e:
            raise MoviolaError(
                f"colorize: hints {path.name} is not valid JSON (line {e.lineno}: {e.msg})"
            ) from None
        if isinstance(data, dict) and "keyframes" in data:
            data = data["keyframes"]
        items = data if isinstance(data, list) else [data]
        if not items:
            raise MoviolaError(f"colorize: hints {path.name} has no keyframes")
        return [_keyframe(item, i, path.name) for i, item in enumerate(items)]
    if suffix in IMAGE_SUFFIXES:
        return [_png_keyframe(path)]
    raise MoviolaError(f"colorize: hints must be a .json or an image file (.png): {path.name}")


def _keyframe(item, i: int, name: str) -> Keyframe:
    where = f"colorize: hints {name}, keyframe {i + 1}"
    if not isinstance(item, dict):
        raise MoviolaError(f"{where}: expected an object with frame/time, points, scribbles")
    unknown = set(item) - {"frame", "time", "points", "scribbles", "width", "height"}
    if unknown:
        raise MoviolaError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    key = Keyframe()
    if "frame" in item and "time" in item:
        raise MoviolaError(f"{where}: give frame or time, not both")
    if "time" in item:
        from moviola.media.time import parse_time

        try:
            key.time = Fraction(parse_time(item["time"]))
        except (MoviolaError, ValueError, TypeError):
            raise MoviolaError(f"{where}: bad time {item['time']!r}") from None
    else:
        frame = item.get("frame", 0)
        if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
            raise MoviolaError(f"{where}: frame must be a whole number >= 0, not {frame!r}")
        key.frame = frame
    if "width" in item or "height" in item:
        try:
            key.space = (int(item["width"]), int(item["height"]))
        except (KeyError, ValueError, TypeError):
            raise MoviolaError(f"{where}: give both width and height as numbers") from None
    for j, point in enumerate(item.get("points", [])):
        if not (isinstance(point, list | tuple) and len(point) == 3):
            raise MoviolaError(f'{where}: point {j + 1} must be [x, y, "#rrggbb"]')
        x, y = _xy(point[:2], f"{where}: point {j + 1}")
        key.points.append((x, y, _color(point[2], f"{where}: point {j + 1}")))
    for j, scribble in enumerate(item.get("scribbles", [])):
        label = f"{where}: scribble {j + 1}"
        if not isinstance(scribble, dict) or "points" not in scribble or "color" not in scribble:
            raise MoviolaError(f'{label} must be {{"color": "#rrggbb", "points": [[x, y], ...]}}')
        pts = scribble["points"]
        if not isinstance(pts, list) or not pts:
            raise MoviolaError(f"{label}: points must be a non-empty list of [x, y]")
        xy = [_xy(p, label) for p in pts]
        width = scribble.get("width", 5)
        if not isinstance(width, int | float) or width <= 0:
            raise MoviolaError(f"{label}: width must be a positive number")
        key.scribbles.append((xy, _color(scribble["color"], label), float(width)))
    if not key.points and not key.scribbles:
        raise MoviolaError(f"{where}: no points or scribbles")
    return key


def _xy(value, label: str) -> tuple[float, float]:
    if not (isinstance(value, list | tuple) and len(value) == 2):
        raise MoviolaError(f"{label}: expected [x, y], got {value!r}")
    try:
        x, y = float(value[0]), float(value[1])
    except (TypeError, ValueError):
        raise MoviolaError(f"{label}: coordinates must be numbers, got {value!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)) or x < 0 or y < 0:
        raise MoviolaError(f"{label}: coordinates must be >= 0, got {value!r}")
    return x, y


def _color(value, label: str) -> tuple[int, int, int]:
    if not isinstance(value, str) or not re.fullmatch(r"#?[0-9a-fA-F]{6}", value.strip()):
        raise MoviolaError(f"{label}: colour must be '#rrggbb', got {value!r}")
    return parse_color(value)


def _png_keyframe(path: Path) -> Keyframe:
    """A PNG of scribbles: pixels with alpha > 0 (RGBA) or with colour (R, G, B not all equal)
    are hints for frame 0; their colour is the hint."""
    data = np.fromfile(str(path), np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3:
        raise MoviolaError(f"colorize: cannot read the hints image {path.name} (need colour PNG)")
    image = to_uint8(image)
    if image.shape[2] == 4:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
        mask = image[..., 3] > 0
    else:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        spread = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2)
        mask = spread > 24
    if not mask.any():
        raise MoviolaError(
            f"colorize: hints image {path.name} has no hints (opaque or coloured pixels)"
        )
    return Keyframe(frame=0, image=to_float(rgb), image_mask=mask.astype(np.float32))


# -- edge-aware propagation (Levin et al. 2004) -----------------------------------------------------
def levin_solve(
    lum: np.ndarray, target: np.ndarray, weight: np.ndarray, x0: np.ndarray | None = None
) -> np.ndarray:
    """Chroma (h x w x 2) minimising sum over neighbours w_rs (u_r - u_s)^2 + sum weight (u -
    target)^2, where w_rs = exp(-(Y_r - Y_s)^2 / 2 sigma_r^2) from the lightness (8-neighbours,
    sigma from the local variance, as in Levin, Lischinski & Weiss 2004)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import cg, splu

    h, w = lum.shape
    n = h * w
    y = lum.astype(np.float64) / 100
    mean = cv2.blur(y, (3, 3), borderType=cv2.BORDER_REFLECT)
    var = cv2.blur(y * y, (3, 3), borderType=cv2.BORDER_REFLECT) - mean * mean
    # Levin's sigma from the local variance; the smallest of the 5x5 neighbourhood's, so that the
    # windows straddling an edge (large variance) do not weaken that edge
    sigma2 = np.maximum(0.6 * cv2.erode(var, np.ones((5, 5), np.uint8)), 2e-4)
    idx = np.arange(n).reshape(h, w)
    rows, cols, vals = [], [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        ys = slice(0, h - dy)
        xa = slice(max(0, -dx), w - max(0, dx))
        xb = slice(max(0, dx), w - max(0, -dx) if dx < 0 else w)
        yb = slice(dy, h)
        a, b = idx[ys, xa], idx[yb, xb]
        diff = y[ys, xa] - y[yb, xb]
        s2 = (sigma2[ys, xa] + sigma2[yb, xb]) / 2
        wgt = np.exp(-(diff**2) / (2 * s2)) + 1e-4
        if dx and dy:
            wgt = wgt / math.sqrt(2)
        rows += [a.ravel(), b.ravel()]
        cols += [b.ravel(), a.ravel()]
        vals += [wgt.ravel(), wgt.ravel()]
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    adj = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    degree = np.asarray(adj.sum(axis=1)).ravel()
    lam = weight.astype(np.float64).ravel() + 1e-6
    system = (sp.diags(degree + lam) - adj).tocsc()
    out = np.empty((h, w, 2), np.float32)
    lu = splu(system, permc_spec="MMD_AT_PLUS_A") if x0 is None else None
    for c in range(2):
        rhs = lam * target[..., c].astype(np.float64).ravel()
        if lu is not None:
            sol = lu.solve(rhs)
        else:  # warm start from the previous frame's chroma: a few iterations suffice
            pre = sp.diags(1 / (degree + lam))
            sol, _ = cg(
                system, rhs, x0=x0[..., c].astype(np.float64).ravel(), rtol=1e-4, maxiter=100, M=pre
            )
        out[..., c] = sol.reshape(h, w)
    return out


# -- model slot -----------------------------------------------------------------------------------
class ModelColorizer:
    """A user-supplied automatic colorization ONNX model.

    Input: one NCHW float32 tensor, 1 channel (CIELAB L / 100) or 3 channels (the gray picture
    as RGB, 0..1: DDColor's convention), at the model's fixed size or ``size`` x ``size``.
    Output: the first output, 2 channels (CIELAB a, b, in Lab units: DDColor) or 3 channels
    (RGB 0..1: DeOldify); for RGB the chroma of the output in CIELAB is taken. Either way the
    footage's own lightness is kept.
    """

    def __init__(self, path: Path, size: int) -> None:
        from moviola.models.runtime import open_session

        self.session = open_session(path)
        if len(self.session.inputs) != 1 or len(self.session.inputs[0].shape) != 4:
            raise MoviolaError(
                f"colorize: {path.name} must take one NCHW image; it takes "
                + ", ".join(f"{t.name}{list(t.shape)}" for t in self.session.inputs)
            )
        shape = self.session.inputs[0].shape
        self.channels = shape[1] if isinstance(shape[1], int) else 3
        if self.channels not in (1, 3):
            raise MoviolaError(f"colorize: {path.name} takes {shape[1]} channels; need 1 or 3")
        fixed = [d if isinstance(d, int) and d > 0 else None for d in shape[2:]]
        self.in_size = (fixed[1] or size, fixed[0] or size)  # (w, h)
        self.input = self.session.inputs[0].name
        self.output = self.session.output_names[0]
        self.path = path

    def prepare(self, lum: np.ndarray) -> np.ndarray:
        """The model's input tensor for a lightness image (L 0..100)."""
        small = cv2.resize(lum, self.in_size, interpolation=cv2.INTER_AREA)
        if self.channels == 1:
            return (small / 100)[None, None].astype(np.float32)
        zeros = np.zeros_like(small)
        gray_rgb = lab_to_rgb(np.stack([small, zeros, zeros], axis=-1))
        return np.ascontiguousarray(gray_rgb.transpose(2, 0, 1)[None], np.float32)

    def finish(self, out: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Chroma (h x w x 2, Lab units) at ``size`` (w, h) from the model's output."""
        out = np.asarray(out, np.float32)
        if out.ndim != 4 or out.shape[1] not in (2, 3):
            raise MoviolaError(
                f"colorize: {self.path.name} gave an output of shape {list(out.shape)}; "
                "expected 1x2xHxW (a, b) or 1x3xHxW (RGB)"
            )
        image = out[0].transpose(1, 2, 0)
        if image.shape[2] == 3:
            image = rgb_to_lab(np.clip(image, 0, 1))[..., 1:]
        return cv2.resize(np.ascontiguousarray(image), size, interpolation=cv2.INTER_LINEAR)

    def __call__(self, lum: np.ndarray) -> np.ndarray:
        out = self.session.run({self.input: self.prepare(lum)})[self.output]
        return self.finish(out, (lum.shape[1], lum.shape[0]))


def _read_rgb(path: Path) -> np.ndarray:
    return to_float(read_rgb(path, "reference image"))


__all__ = [
    "Colorize",
    "Keyframe",
    "ModelColorizer",
    "ReferenceMatcher",
    "gray_lightness",
    "levin_solve",
    "load_hints",
]
