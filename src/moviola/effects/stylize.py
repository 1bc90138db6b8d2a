"""stylize: give a video a look. Three ways, one effect:

(a) Example-guided, as EbSynth does. ``keyframe=("0=painted.png",)``: the user paints (or runs any
    image tool on) one or more frames; the look is carried to every frame along the motion.
    ``style=IMAGE``: a style image, applied to the first frame by a guided patch synthesis
    (texture transfer, luminance + edge guides), and that result is the keyframe.
    Per frame, at a working resolution (``work`` px on the short side) a field says, for every
    pixel, which position of the keyframe it takes its colour from. It is found by guided
    PatchMatch (vision/patchmatch.py) whose cost sums, over 5 x 5 windows: the difference between
    the frame's guides (Lab colour + edges) and the keyframe frame's at that position; the distance
    to the positional guide (the keyframe's pixel grid carried to this frame by accumulated DIS
    optical flow), where the flow has stayed consistent; and the temporal guide (the previous
    stylized output, warped by flow) against the keyframe's stylized colours. Occluded or newly
    seen parts thus get patches of the keyframe that look like them, the rest follows the motion
    exactly. The full-resolution output samples the full-resolution keyframe through the field
    (bilinear where it is smooth, per-cell offsets across seams), so strokes stay crisp.
    With several keyframes the span between two is rendered forward from the first and backward
    from the second and blended with weights by distance (as EbSynth's blending), so the look
    changes smoothly and the keyframe frames are the keyframes exactly.
    Memory: frames waiting for the next keyframe are held only as working-resolution state
    (guides and flows in float16, the field in float32: 24 bytes per working pixel, 1.2 MB per
    frame at work=192 for 4:3, 1.6 MB for 16:9, whatever the video's resolution), and at most
    ``max_gap`` of them (default 120: under 200 MB): a longer span is blended over its last
    ``max_gap`` frames, the earlier ones come from the first keyframe alone. After the last
    keyframe nothing is held.
(b) Classical filters (``filter=``): cartoon, sketch, watercolor, oil (Kuwahara), posterize
    (a k-means palette fixed from the first frame, so colours do not flicker), halftone.
(c) A user-supplied image-to-image ONNX model (``model=PATH``: fast neural style, AnimeGAN,
    CycleGAN generators): NCHW or NHWC found from the input shape, value range from
    ``model_range`` or the model's metadata (``range``: "0,1", "-1,1", "0,255"), full frame or
    tiles with overlap.
(b) and (c) can be smoothed over time (``smooth``): the previous output, warped by flow, is mixed
in where the flow is consistent.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, like, to_uint8
from moviola.pipeline import Effect, Param, parse_path, register
from moviola.vision import patchmatch as pm
from moviola.vision.flow import FlowEstimator, consistency, warp

log = logging.getLogger("moviola")

FILTERS = ("cartoon", "sketch", "watercolor", "oil", "posterize", "halftone")
RANGES = ("auto", "0,1", "-1,1", "0,255")
# cost weights of the guided synthesis (guides are in 0..~1 units, positions in working pixels)
_W_GUIDE = np.array([2.0, 1.2, 1.2, 2.0], np.float32)  # L, a, b, edges
_W_TEMPORAL = 1.0
_STALE = 0.3  # guide mismatch at which the temporal guide's weight falls to 1/e
_W_POSITION = 0.02  # per working pixel squared
_POSITION_CAP = 1.0


# -- keyframe specs --------------------------------------------------------------------------------
@dataclass
class KeySpec:
    """FRAME=IMAGE: a frame number (int) or a time in seconds (Fraction)."""

    text: str
    index: int | None
    time: object | None  # Fraction
    path: Path
    done: bool = False

    def matches(self, frame: Frame) -> bool:
        if self.index is not None:
            return frame.index == self.index
        half = frame.duration / 2  # the frame nearest to the time
        return frame.time - half <= self.time < frame.time + half

    def still_ahead(self, frame: Frame) -> bool:
        if self.done:
            return False
        if self.index is not None:
            return self.index > frame.index
        return self.time >= frame.time + frame.duration / 2


def parse_keyframe(text: str) -> KeySpec:
    """'12=look.png' (frame 12), '2.5s=look.png' or '00:02.5=look.png' (a time)."""
    from moviola.media.time import parse_time

    if "=" not in text:
        raise MoviolaError(
            f"stylize: keyframe {text!r} must be FRAME=IMAGE (e.g. 0=painted.png or 2.5s=look.png)"
        )
    where, path = (part.strip() for part in text.split("=", 1))
    if not where or not path:
        raise MoviolaError(f"stylize: keyframe {text!r} must be FRAME=IMAGE")
    index = time = None
    if re.fullmatch(r"\d+", where):
        index = int(where)
    else:
        try:
            time = parse_time(where[:-1] if where.endswith("s") else where)
        except MoviolaError:
            raise MoviolaError(
                f"stylize: keyframe {text!r}: {where!r} is neither a frame number nor a time"
            ) from None
    p = Path(path).expanduser()
    if not p.is_file():
        raise MoviolaError(f"stylize: keyframe image not found: {path}")
    return KeySpec(text, index, time, p)


def load_image(path: Path, what: str = "image") -> np.ndarray:
    data = np.fromfile(str(path), np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise MoviolaError(f"stylize: cannot read {what} {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


# -- guides ----------------------------------------------------------------------------------------
def work_size(width: int, height: int, short: int) -> tuple[int, int]:
    scale = min(1.0, short / min(width, height))
    return max(8, round(width * scale)), max(8, round(height * scale))


def guides(rgb_small: np.ndarray) -> np.ndarray:
    """H x W x 4 float32: Lab colour and edge strength, scaled to about 0..1."""
    f = rgb_small.astype(np.float32) * np.float32(1 / 255)
    lab = cv2.cvtColor(f, cv2.COLOR_RGB2Lab)
    lum = lab[..., 0] * np.float32(1 / 100)
    soft = cv2.GaussianBlur(lum, (0, 0), 0.8)
    gx = cv2.Sobel(soft, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(soft, cv2.CV_32F, 0, 1, ksize=3)
    edge = np.minimum(1.0, np.sqrt(gx * gx + gy * gy) * 1.5)
    return np.dstack([lum, lab[..., 1] / 200 + 0.5, lab[..., 2] / 200 + 0.5, edge]).astype(
        np.float32
    )


def _clean_mask(mask: np.ndarray) -> np.ndarray:
    """Consistency mask without isolated specks; occluded regions grown by a pixel."""
    bad = (mask < 0.5).astype(np.uint8)
    bad = cv2.morphologyEx(bad, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    bad = cv2.dilate(bad, np.ones((3, 3), np.uint8))
    return 1.0 - bad.astype(np.float32)


# -- carrying a keyframe along motion --------------------------------------------------------------
@dataclass
class Key:
    """A keyframe: its stylized image (full size and working size) and its frame's guides."""

    style_full: np.ndarray  # H x W x 3 uint8, the frame's size
    style_small: np.ndarray  # h x w x 3 float32 0..1
    guides: np.ndarray  # h x w x 4
    position: int  # position in the stream
    label: str = ""

    @property
    def source(self) -> np.ndarray:
        return np.dstack([self.guides, self.style_small])


class Carrier:
    """Carries one keyframe's look from frame to frame (forward or backward in time).

    ``temporal=False`` is the per-frame baseline: every frame is synthesised from the keyframe
    by its guides alone, with no positional or temporal guide (what flickers).
    """

    def __init__(self, key: Key, *, temporal: bool = True, iterations: int = 2, seed: int = 0):
        self.key = key
        self.temporal = temporal
        h, w = key.guides.shape[:2]
        self.source = key.source
        # carried frames start from a good field (the previous one, moved by flow): short jumps
        # and a small search radius; the per-frame baseline starts from nothing
        self.matcher = pm.PatchMatch(
            (w, h),
            patch=5,
            iterations=iterations,
            radius=max(w, h) / (8 if temporal else 3),
            jumps=(4, 2, 1) if temporal else (8, 4, 2, 1),
            seed=seed,
        )
        self.field = pm.identity_field(h, w)
        self.position = self.field.copy()
        self.confidence = np.ones((h, w), np.float32)
        self.output = key.style_small.copy()
        self.cost = np.zeros((h, w), np.float32)

    def step(self, target: np.ndarray, flow_back: np.ndarray | None, mask: np.ndarray | None):
        """Move to a frame with guides ``target``; ``flow_back`` maps its grid to the previous
        frame's, ``mask`` says where that flow is consistent (1) or occluded (0)."""
        h, w = target.shape[:2]
        if not self.temporal or flow_back is None:
            if not self.temporal:
                init = pm.identity_field(h, w)
                self.field, self.cost = self.matcher.run(init, self._cost(target, None, None))
                self.output = pm.sample(self.key.style_small, self.field)
            return
        mask = _clean_mask(mask)
        self.position = warp(self.position, flow_back)
        self.confidence = warp(self.confidence, flow_back) * mask
        if self.matcher.iterations == 0:  # flow warp only: the keyframe follows the flow
            self.field = self.position
            self.output = pm.sample(self.key.style_small, self.field)
            return
        # the temporal guide is stale where what the previous output was copied from no longer
        # looks like this frame (someone walked away): it fades there, so no ghosts stay
        was = warp(pm.sample(self.key.guides, self.field), flow_back)
        stale = cv2.blur(((was - target) ** 2) @ _W_GUIDE, (5, 5))
        mask = mask * np.exp(-stale / _STALE)
        init = warp(self.field, flow_back)
        temporal = warp(self.output, flow_back)
        cost = self._cost(target, temporal, mask)
        self.field, self.cost = self.matcher.run(init, cost, extra=(self.position,))
        self.output = pm.sample(self.key.style_small, self.field)

    def _cost(self, target, temporal, mask):
        source = self.source
        position, confidence = self.position, self.confidence
        use_guides = temporal is not None

        def cost(candidate: np.ndarray) -> np.ndarray:
            s = pm.sample(source, candidate)
            d = s[..., :4] - target
            c = (d * d) @ _W_GUIDE
            if use_guides:
                t = s[..., 4:] - temporal
                c += (t * t).sum(axis=2) * (_W_TEMPORAL * mask)
                p = candidate - position
                c += np.minimum((p * p).sum(axis=2) * _W_POSITION, _POSITION_CAP) * confidence
            return c

        return cost


def render(key: Key, fld: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The full-resolution picture a working-resolution field makes from a keyframe."""
    h, w = key.style_small.shape[:2]
    full_h, full_w = key.style_full.shape[:2]
    up = pm.upsample_field(fld, size, (full_w / w, full_h / h))
    return pm.sample(key.style_full, up)


def transfer_style(
    style: np.ndarray, frame: np.ndarray, short: int = 192, seed: int = 0
) -> np.ndarray:
    """A style image applied to a frame by guided texture transfer (image analogies with
    luminance and edge guides, no exemplar pair): the frame's size, the style's textures."""
    fh, fw = frame.shape[:2]
    tw, th = work_size(fw, fh, short)
    sh, sw = style.shape[:2]
    scale = min(1.0, 2.0 * short / min(sh, sw))
    ssw, ssh = max(8, round(sw * scale)), max(8, round(sh * scale))
    style_small = cv2.resize(style, (ssw, ssh), interpolation=cv2.INTER_AREA)
    frame_small = cv2.resize(to_uint8(frame[..., :3]), (tw, th), interpolation=cv2.INTER_AREA)
    gs, gt = guides(style_small), guides(frame_small)
    # luminance remapping (Hertzmann et al.): the style's luminance statistics to the frame's
    ls, lt = gs[..., 0], gt[..., 0]
    gs[..., 0] = (ls - ls.mean()) * (lt.std() / max(ls.std(), 1e-3)) + lt.mean()
    style_f = style_small.astype(np.float32) / 255
    source = np.dstack([gs[..., 0], gs[..., 3], style_f])
    target = np.dstack([gt[..., 0], gt[..., 3]])
    weights = np.array([1.0, 0.3], np.float32)
    smooth = None  # the current result, blurred: pulls neighbours to one stroke (coherence)

    def cost(candidate):
        s = pm.sample(source, candidate)
        d = s[..., :2] - target
        c = (d * d) @ weights
        if smooth is not None:
            e = s[..., 2:] - smooth
            c += 0.5 * (e * e).sum(axis=2)
        return c

    rng = np.random.default_rng(seed)
    fld = np.dstack([rng.uniform(0, ssw - 1, (th, tw)), rng.uniform(0, ssh - 1, (th, tw))]).astype(
        np.float32
    )
    matcher = pm.PatchMatch((ssw, ssh), patch=9, iterations=3, seed=seed)
    fld, _ = matcher.run(fld, cost)
    for round_ in range(2):
        smooth = cv2.GaussianBlur(pm.sample(style_f, fld), (0, 0), 2.0)
        matcher = pm.PatchMatch(
            (ssw, ssh), patch=5, iterations=1, radius=16, seed=seed + 1 + round_
        )
        fld, _ = matcher.run(fld, cost)
    up = pm.upsample_field(fld, (fw, fh), (sw / ssw, sh / ssh))
    out = pm.sample(style, up)
    # the frame's shading through the style's colours: half the lightness from the frame
    # (remapped to the style's lightness statistics), so the content stays readable
    lab = cv2.cvtColor(out, cv2.COLOR_RGB2Lab).astype(np.float32)
    lf = cv2.cvtColor(to_uint8(frame[..., :3]), cv2.COLOR_RGB2Lab)[..., 0].astype(np.float32)
    lf = (lf - lf.mean()) * (lab[..., 0].std() / max(1.0, lf.std())) + lab[..., 0].mean()
    lab[..., 0] = 0.5 * lab[..., 0] + 0.5 * lf
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_Lab2RGB)


# -- classical filters -----------------------------------------------------------------------------
def cartoon(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    for _ in range(4):
        small = cv2.bilateralFilter(small, 9, 30, 7)
    smooth = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    flat = (smooth // 24) * 24 + 12  # fixed levels: no flicker from a palette that moves
    gray = cv2.medianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 5)
    block = max(3, (min(h, w) // 60) | 1)
    edges = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 5
    )
    return np.where(edges[..., None] > 0, flat, (flat * 0.15).astype(np.uint8))


def sketch(rgb: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    sigma = max(1.5, min(rgb.shape[:2]) / 60)
    blurred = cv2.GaussianBlur(255 - gray, (0, 0), sigma)
    dodge = cv2.divide(gray, 255 - blurred, scale=256)  # colour dodge of the inverted blur
    dodge = cv2.multiply(dodge.astype(np.float32) / 255, dodge.astype(np.float32) / 255)
    out = np.clip(dodge * 255, 0, 255).astype(np.uint8)
    return cv2.cvtColor(out, cv2.COLOR_GRAY2RGB)


_PAPER: dict[tuple[int, int], np.ndarray] = {}


def _paper(h: int, w: int) -> np.ndarray:
    """A fixed paper grain (the same every frame)."""
    if (h, w) not in _PAPER:
        rng = np.random.default_rng(7)
        grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.2)
        _PAPER.clear()
        _PAPER[(h, w)] = 1.0 + 0.06 * grain / max(1e-6, float(grain.std()))
    return _PAPER[(h, w)]


def watercolor(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = min(1.0, 480 / min(h, w))
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    washed = cv2.stylization(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), sigma_s=60, sigma_r=0.45)
    washed = cv2.resize(cv2.cvtColor(washed, cv2.COLOR_BGR2RGB), (w, h), cv2.INTER_LINEAR)
    f = washed.astype(np.float32) / 255
    f = 1 - (1 - f) * 0.85  # lighter, as pigment on white paper
    gray = cv2.cvtColor(washed, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    edge = np.abs(cv2.Laplacian(cv2.GaussianBlur(gray, (0, 0), 1.5), cv2.CV_32F, ksize=3))
    f = f * (1 - np.minimum(0.4, edge * 4))[..., None]  # pigment pooling at the edges
    f = f * _paper(h, w)[..., None]
    return np.clip(f * 255, 0, 255).astype(np.uint8)


def kuwahara(rgb: np.ndarray, radius: int = 4) -> np.ndarray:
    """Classic Kuwahara filter: each pixel takes the mean of the least varied of its four
    (radius+1)^2 quadrants (box filters, vectorised)."""
    f = rgb.astype(np.float32)
    lum = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    k = radius + 1
    mean = cv2.blur(f, (k, k), borderType=cv2.BORDER_REFLECT)
    mlum = cv2.blur(lum, (k, k), borderType=cv2.BORDER_REFLECT)
    var = cv2.blur(lum * lum, (k, k), borderType=cv2.BORDER_REFLECT) - mlum * mlum
    # the k x k box centred at c covers [c - k//2, c + k//2]; shift it to each quadrant
    r0, r1 = k // 2, k - 1 - k // 2
    best_var = None
    out = None
    for dy in (-r1, r0):
        for dx in (-r1, r0):
            m = np.roll(mean, (-dy, -dx), axis=(0, 1))
            v = np.roll(var, (-dy, -dx), axis=(0, 1))
            if best_var is None:
                best_var, out = v, m
            else:
                better = v < best_var
                best_var = np.where(better, v, best_var)
                out = np.where(better[..., None], m, out)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def oil(rgb: np.ndarray) -> np.ndarray:
    """Kuwahara twice (flat strokes with sharp edges), richer colour, a little relief."""
    radius = max(3, min(rgb.shape[:2]) // 100)
    out = kuwahara(kuwahara(rgb, radius), max(2, radius // 2))
    hsv = cv2.cvtColor(out, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.minimum(255, hsv[..., 1] * 1.35)
    hsv[..., 2] = np.minimum(255, hsv[..., 2] * 1.1 + 6)
    out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    lum = cv2.cvtColor(out.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    relief = cv2.filter2D(lum, -1, np.array([[-1, 0, 0], [0, 0, 0], [0, 0, 1]], np.float32))
    return np.clip(out + 0.25 * relief[..., None], 0, 255).astype(np.uint8)


class Posterizer:
    """k colours: a k-means palette fitted (in Lab) on the first frame, then fixed."""

    def __init__(self, colors: int = 8) -> None:
        self.colors = colors
        self.palette_lab: np.ndarray | None = None
        self.palette_rgb: np.ndarray | None = None

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        small = cv2.resize(rgb, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
        lab = cv2.cvtColor(small, cv2.COLOR_RGB2Lab).reshape(-1, 3).astype(np.float32)
        if self.palette_lab is None:
            crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.5)
            cv2.setRNGSeed(0)
            k = min(self.colors, len(lab))
            _, _, centers = cv2.kmeans(lab, k, None, crit, 3, cv2.KMEANS_PP_CENTERS)
            self.palette_lab = centers.astype(np.float32)
            self.palette_rgb = cv2.cvtColor(
                np.clip(centers, 0, 255).astype(np.uint8)[None], cv2.COLOR_Lab2RGB
            )[0]
            # nearest palette colour for every Lab cell of 8 x 8 x 8 levels: a lookup per pixel
            q = np.arange(32, dtype=np.float32) * 8 + 4
            cells = np.stack(np.meshgrid(q, q, q, indexing="ij"), axis=-1).reshape(-1, 3)
            d = ((cells[:, None, :] - self.palette_lab[None]) ** 2).sum(axis=2)
            self._lut = np.argmin(d, axis=1).astype(np.uint8)
        smooth = cv2.bilateralFilter(rgb, 7, 25, 5)
        lab = cv2.cvtColor(smooth, cv2.COLOR_RGB2Lab) >> 3
        index = (lab[..., 0].astype(np.int32) << 10) | (lab[..., 1].astype(np.int32) << 5)
        index |= lab[..., 2]
        return self.palette_rgb[self._lut[index]]


def halftone(rgb: np.ndarray, cell: int | None = None) -> np.ndarray:
    """Colour halftone: cyan, magenta, yellow and black dot screens at 15, 75, 0 and 45 degrees,
    dot area proportional to the ink, antialiased."""
    h, w = rgb.shape[:2]
    cell = cell or max(4, min(h, w) // 90)
    f = rgb.astype(np.float32) / 255
    k = 1 - f.max(axis=2)
    cmy = (1 - f - k[..., None]) / np.maximum(1 - k, 1e-3)[..., None]
    inks = [cmy[..., 0], cmy[..., 1], cmy[..., 2], k]
    colors = np.array([[0, 174, 239], [236, 0, 140], [255, 242, 0], [0, 0, 0]], np.float32) / 255
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    paper = np.ones((h, w, 3), np.float32)
    for ink, color, angle in zip(inks, colors, (15, 75, 0, 45), strict=True):
        a = float(np.deg2rad(angle))
        u = (xs * np.cos(a) + ys * np.sin(a)) / cell
        v = (-xs * np.sin(a) + ys * np.cos(a)) / cell
        cu, cv = np.floor(u) + 0.5, np.floor(v) + 0.5
        # the ink averaged over the cell, sampled at the cell centre
        cx = (cu * np.cos(a) - cv * np.sin(a)) * cell
        cy = (cu * np.sin(a) + cv * np.cos(a)) * cell
        avg = cv2.blur(ink, (cell, cell))
        level = cv2.remap(
            avg,
            cx.astype(np.float32),
            cy.astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        dist = np.sqrt((u - cu) ** 2 + (v - cv) ** 2)
        radius = np.sqrt(np.clip(level, 0, 1) / np.pi) * 1.0
        cover = np.clip((radius - dist) * cell + 0.5, 0, 1)[..., None]
        paper = paper * (1 - cover * (1 - color))
    return np.clip(paper * 255 + 0.5, 0, 255).astype(np.uint8)


# -- temporal smoothing of per-frame results -------------------------------------------------------
class Smoother:
    """Mixes the previous output, warped by flow, into the new one where the flow is consistent."""

    def __init__(self, amount: float, short: int = 288) -> None:
        self.amount = amount
        self.short = short
        self.flow = FlowEstimator("fast")
        self.prev_gray = self.prev_out = None

    def __call__(self, source: np.ndarray, out: np.ndarray) -> np.ndarray:
        h, w = source.shape[:2]
        sw, sh = work_size(w, h, self.short)
        gray = cv2.cvtColor(
            cv2.resize(to_uint8(source[..., :3]), (sw, sh), interpolation=cv2.INTER_AREA),
            cv2.COLOR_RGB2GRAY,
        )
        result = out
        if self.prev_gray is not None and self.amount > 0:
            back = self.flow(gray, self.prev_gray)
            fwd = self.flow(self.prev_gray, gray)
            mask = _clean_mask(consistency(fwd, back))
            scale = np.array([w / sw, h / sh], np.float32)
            back_full = cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR) * scale
            mask_full = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
            prev = warp(self.prev_out, back_full).astype(np.float32)
            a = (self.amount * mask_full)[..., None]
            result = np.clip(out * (1 - a) + prev * a + 0.5, 0, 255).astype(np.uint8)
        self.prev_gray, self.prev_out = gray, result
        return result


# -- user ONNX models ------------------------------------------------------------------------------
class ImageModel:
    """An image-to-image ONNX model: layout from its input shape, range from a parameter or the
    model's metadata, optional tiling."""

    def __init__(self, path: Path, value_range: str = "auto", tile: int = 0) -> None:
        from moviola.models.runtime import open_session

        self.session = open_session(path)
        if len(self.session.inputs) != 1:
            names = ", ".join(self.session.input_names)
            raise MoviolaError(f"stylize: {path.name} takes {names}; expected one image input")
        tensor = self.session.inputs[0]
        shape = tensor.shape
        if len(shape) != 4:
            raise MoviolaError(f"stylize: {path.name} input has shape {shape}; expected 4-D")
        if shape[1] == 3:
            self.layout = "NCHW"
            fixed = shape[2:4]
        elif shape[3] == 3:
            self.layout = "NHWC"
            fixed = shape[1:3]
        else:
            raise MoviolaError(
                f"stylize: {path.name} input shape {shape} has no 3-channel axis (NCHW or NHWC)"
            )
        self.fixed = tuple(d if isinstance(d, int) and d > 0 else None for d in fixed)
        self.name = tensor.name
        self.range = self._range(path, value_range)
        self.tile = tile

    def _range(self, path: Path, value_range: str) -> tuple[float, float]:
        text = value_range
        if text == "auto":
            text = "0,255"
            try:
                import onnx

                meta = {
                    p.key: p.value
                    for p in onnx.load(str(path), load_external_data=False).metadata_props
                }
                text = meta.get("range", meta.get("value_range", text)).replace(" ", "")
            except Exception:  # noqa: BLE001 - metadata is optional
                pass
        try:
            lo, hi = (float(v) for v in text.strip("[]()").split(","))
        except ValueError:
            raise MoviolaError(f"stylize: model range {text!r} is not LOW,HIGH") from None
        return lo, hi

    def _run(self, rgb: np.ndarray) -> np.ndarray:
        lo, hi = self.range
        h, w = rgb.shape[:2]
        x = rgb.astype(np.float32) * np.float32((hi - lo) / 255) + np.float32(lo)
        fh, fw = self.fixed
        if fh and fw and (fh, fw) != (h, w):
            x = cv2.resize(x, (fw, fh), interpolation=cv2.INTER_AREA)
        x = x.transpose(2, 0, 1)[None] if self.layout == "NCHW" else x[None]
        y = next(iter(self.session.run({self.name: x}).values()))
        y = np.asarray(y, np.float32)[0]
        channels_first = y.shape[0] in (1, 3) and (
            self.layout == "NCHW" or y.shape[2] not in (1, 3)
        )
        if channels_first:
            y = y.transpose(1, 2, 0)
        if y.shape[2] == 1:
            y = np.repeat(y, 3, axis=2)
        y = (y - lo) * np.float32(255 / (hi - lo))
        if y.shape[:2] != (h, w):
            y = cv2.resize(y, (w, h), interpolation=cv2.INTER_CUBIC)
        return y

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        if not self.tile or (self.fixed[0] and self.fixed[1]) or max(h, w) <= self.tile:
            out = self._run(rgb)
        else:
            out = self._tiled(rgb)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)

    def _tiled(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        t, overlap = self.tile, max(8, self.tile // 8)
        acc = np.zeros((h, w, 3), np.float32)
        weight = np.zeros((h, w, 1), np.float32)
        step = t - overlap
        ys = list(range(0, max(1, h - overlap), step))
        xs = list(range(0, max(1, w - overlap), step))
        for y in ys:
            for x in xs:
                y0, x0 = min(y, max(0, h - t)), min(x, max(0, w - t))
                tile = rgb[y0 : y0 + t, x0 : x0 + t]
                out = self._run(tile)
                th, tw = tile.shape[:2]
                ramp_y = np.minimum(np.arange(th) + 1, np.arange(th)[::-1] + 1)
                ramp_x = np.minimum(np.arange(tw) + 1, np.arange(tw)[::-1] + 1)
                wgt = np.minimum(np.outer(ramp_y, ramp_x), overlap).astype(np.float32)[..., None]
                acc[y0 : y0 + th, x0 : x0 + tw] += out * wgt
                weight[y0 : y0 + th, x0 : x0 + tw] += wgt
        return acc / np.maximum(weight, 1e-6)


# -- the effect ------------------------------------------------------------------------------------
@dataclass
class _Held:
    """A frame waiting for the next keyframe: working-resolution state only."""

    frame: Frame
    alpha: np.ndarray | None
    guides: np.ndarray
    flow_in: np.ndarray | None  # flow(previous, this), float16
    flow_back: np.ndarray | None  # flow(this, previous), float16
    field: np.ndarray | None  # the forward carrier's field
    key: Key | None  # the keyframe that field points into
    position: int = 0
    extra: dict = field(default_factory=dict)


@register
class Stylize(Effect):
    name = "stylize"
    summary = (
        "Give the video a look: carry painted keyframes or a style image along the motion "
        "(EbSynth-like), classical filters (cartoon, sketch, watercolor, oil, posterize, "
        "halftone), or a user-supplied image-to-image ONNX model."
    )
    kind = "classical"
    context_frames = None  # carried state: a chunked run needs the keyframe in its chunk
    params = (
        Param(
            "keyframe",
            str,
            None,
            "FRAME=IMAGE: a stylized version of that frame (frame number, or time like 2.5s); "
            "repeat for several, the look is blended between them",
            multiple=True,
            kind="keyframes",
        ),
        Param(
            "style",
            parse_path,
            None,
            "a style image: its textures are applied to the first frame by patch synthesis, "
            "and that is carried along the motion",
        ),
        Param("filter", str, None, "a classical filter, no model needed", choices=FILTERS),
        Param(
            "model",
            parse_path,
            None,
            "a user-supplied image-to-image ONNX model (fast neural style, AnimeGAN, CycleGAN "
            "generator); moviola ships no such weights",
        ),
        Param(
            "model_range",
            str,
            "auto",
            "the model's pixel value range: 0,1 / -1,1 / 0,255; auto: the model's metadata "
            "'range', else 0,255",
            choices=RANGES,
        ),
        Param("tile", int, 0, "run the model on tiles of this size (0: whole frame)", min=0),
        Param(
            "smooth",
            float,
            0.0,
            "for filters and models: mix in the previous output warped by flow, 0 (off) .. 0.9",
            min=0.0,
            max=0.9,
        ),
        Param(
            "colors",
            int,
            8,
            "posterize: palette size (fixed from the first frame)",
            min=2,
            max=64,
        ),
        Param(
            "work",
            int,
            192,
            "keyframes/style: working resolution of the synthesis (px on the short side)",
            min=48,
            max=1080,
        ),
        Param(
            "temporal",
            bool,
            True,
            "keyframes/style: use the positional and temporal guides (off: each frame is "
            "synthesised from the keyframe alone, which flickers; for comparison)",
        ),
        Param(
            "max_gap",
            int,
            120,
            "keyframes: most frames held between two keyframes for blending (memory bound: "
            "about 1.2-1.6 MB each at work=192, whatever the video size)",
            min=1,
        ),
        Param(
            "iterations",
            int,
            2,
            "keyframes/style: PatchMatch iterations per frame (0: warp the keyframe by "
            "accumulated flow only, fastest, occlusions smear)",
            min=0,
            max=10,
        ),
    )

    def chunk_problem(self) -> str | None:
        if self.keyframe or self.style:
            return "the keyframes' look is carried frame to frame through the whole clip"
        return None

    def validate(self) -> None:
        modes = [
            m
            for m, v in (
                ("keyframe", self.keyframe),
                ("style", self.style),
                ("filter", self.filter),
                ("model", self.model),
            )
            if v
        ]
        if len(modes) != 1:
            raise MoviolaError(
                "stylize: give one of --keyframe, --style, --filter or --model"
                + (f" (got {', '.join(modes)})" if modes else "")
            )
        self.mode = modes[0]
        self._specs = [parse_keyframe(k) for k in (self.keyframe or ())]
        if self.model is not None and Path(self.model).suffix.lower() != ".onnx":
            raise MoviolaError(f"stylize: model must be an .onnx file: {self.model}")

    @property
    def method(self) -> str:
        if self.mode in ("keyframe", "style"):
            guided = "guided-patchmatch" if self.temporal else "per-frame-patchmatch"
            return f"{self.mode}:{guided}"
        if self.mode == "filter":
            return f"filter:{self.filter}"
        return f"model:{Path(self.model).name}"

    def tags(self) -> dict[str, str]:
        return {"moviola_stylize": self.method}

    # -- life cycle ---------------------------------------------------------------------------------
    def configure(self, info: StreamInfo) -> StreamInfo:
        self._size = (info.width, info.height)
        self._small = work_size(info.width, info.height, self.work)
        aspect = info.width / info.height
        self._images: dict[int, np.ndarray] = {}
        for i, spec in enumerate(self._specs):
            spec.done = False
            image = load_image(spec.path, "keyframe image")
            ih, iw = image.shape[:2]
            if abs(iw / ih - aspect) > 0.02 * aspect:
                raise MoviolaError(
                    f"stylize: keyframe image {spec.path.name} is {iw}x{ih}, the video "
                    f"{info.width}x{info.height}: give an image of the same aspect ratio"
                )
            if (iw, ih) != self._size:
                interp = cv2.INTER_AREA if iw > info.width else cv2.INTER_CUBIC
                image = cv2.resize(image, self._size, interpolation=interp)
            self._images[i] = image
        self._style_image = load_image(Path(self.style), "style image") if self.style else None
        self._flow = FlowEstimator("medium")
        self._prev_guides = self._prev_gray = None
        self._held: list[_Held] = []
        self._carrier: Carrier | None = None
        self._count = 0
        self._filter = None
        if self.mode == "filter":
            self._filter = (
                Posterizer(self.colors)
                if self.filter == "posterize"
                else {
                    "cartoon": cartoon,
                    "sketch": sketch,
                    "watercolor": watercolor,
                    "oil": oil,
                    "halftone": halftone,
                }[self.filter]
            )
        self._model = (
            ImageModel(Path(self.model), self.model_range, self.tile)
            if (self.mode == "model")
            else None
        )
        self._smoother = Smoother(self.smooth) if self.smooth > 0 else None
        self.keys_used: list[int] = []
        return info

    # -- per frame ---------------------------------------------------------------------------------
    def process(self, frame: Frame) -> Frame | list[Frame]:
        if self.mode in ("filter", "model"):
            return self._per_frame(frame)
        return self._guided(frame)

    def _per_frame(self, frame: Frame) -> Frame:
        rgb = to_uint8(frame.image[..., :3])
        out = self._filter(rgb) if self._filter is not None else self._model(rgb)
        if self._smoother is not None:
            out = self._smoother(rgb, out)
        return frame.with_image(self._finish(out, frame))

    def _finish(self, out: np.ndarray, frame: Frame, alpha: np.ndarray | None = None):
        if alpha is None and frame.has_alpha:
            alpha = to_uint8(frame.image[..., 3])
        if alpha is not None:
            out = np.dstack([out, alpha])
        return like(out, frame.image.dtype if frame.image.size else np.uint8)

    def _guided(self, frame: Frame) -> list[Frame]:
        rgb = to_uint8(frame.image[..., :3])
        small = cv2.resize(rgb, self._small, interpolation=cv2.INTER_AREA)
        g = guides(small)
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        flow_in = flow_back = None
        if self._prev_gray is not None:
            flow_in = self._flow(self._prev_gray, gray)
            flow_back = self._flow(gray, self._prev_gray)
        self._prev_gray = gray
        position = self._count
        self._count += 1
        alpha = to_uint8(frame.image[..., 3]) if frame.has_alpha else None
        dtype = frame.image.dtype

        image = self._key_image(frame, rgb)
        out: list[Frame] = []
        if image is not None:
            key = Key(
                image,
                cv2.resize(image, self._small, interpolation=cv2.INTER_AREA).astype(np.float32)
                / 255,
                g,
                position,
            )
            self.keys_used.append(frame.index)
            out.extend(self._resolve(key, g, flow_in, flow_back))
            like_frame = frame.with_image(self._finish(image, frame, alpha))
            out.append(like_frame)
            self._carrier = Carrier(key, temporal=self.temporal, iterations=self.iterations)
            return out

        fld = None
        if self._carrier is not None:
            mask = consistency(flow_in, flow_back) if flow_in is not None else None
            self._carrier.step(g, flow_back, mask)
            fld = self._carrier.field
        ahead = any(s.still_ahead(frame) for s in self._specs)
        if not ahead and self._carrier is not None:
            out = self.flush()  # frames held for a keyframe that never came (not in the clip)
            empty = frame.with_image(np.zeros((0, 0, 3), dtype))
            out.append(self._emit(empty, alpha, dtype, fld, self._carrier.key))
            return out
        held = _Held(
            frame.with_image(np.zeros((0, 0, 3), dtype)),
            alpha,
            g.astype(np.float16),
            None if flow_in is None else flow_in.astype(np.float16),
            None if flow_back is None else flow_back.astype(np.float16),
            fld,
            self._carrier.key if self._carrier is not None else None,
            position,
        )
        self._held.append(held)
        if len(self._held) > self.max_gap:
            first = self._held.pop(0)
            if first.key is None:
                raise MoviolaError(
                    f"stylize: no keyframe within the first {self.max_gap} frames; give a "
                    "keyframe nearer the start or raise max_gap"
                )
            out.append(self._emit(first.frame, first.alpha, dtype, first.field, first.key))
        return out

    def _key_image(self, frame: Frame, rgb: np.ndarray) -> np.ndarray | None:
        if self.mode == "style":
            if self._count == 1:
                return transfer_style(self._style_image, rgb, short=self.work)
            return None
        for i, spec in enumerate(self._specs):
            if not spec.done and spec.matches(frame):
                spec.done = True
                return self._images[i]
        return None

    def _emit(self, frame: Frame, alpha, dtype, fld, key: Key) -> Frame:
        image = render(key, fld, self._size)
        return frame.with_image(
            self._finish(image, frame.with_image(np.zeros((0, 0, 3), dtype)), alpha)
        )

    def _resolve(self, key: Key, key_guides, flow_in, flow_back) -> list[Frame]:
        """The held frames, now that the next keyframe is here: carried backward from it and
        blended with what the previous keyframe gave them."""
        if not self._held:
            return []
        back = Carrier(key, temporal=self.temporal, iterations=self.iterations, seed=1)
        fields: list[np.ndarray] = [None] * len(self._held)
        next_in, next_back = flow_in, flow_back  # flows between held[i] and held[i + 1]/key
        for i in range(len(self._held) - 1, -1, -1):
            held = self._held[i]
            if next_in is None:  # no flow (cannot happen after the first frame)
                back.step(held.guides.astype(np.float32), None, None)
            else:
                # moving backward: this frame's grid to the later frame's is flow(this, later)
                f_this_later = np.asarray(next_in, np.float32)
                f_later_this = np.asarray(next_back, np.float32)
                mask = consistency(f_later_this, f_this_later)
                back.step(held.guides.astype(np.float32), f_this_later, mask)
            fields[i] = back.field
            next_in, next_back = held.flow_in, held.flow_back
        start = self._held[0].position - 1
        out = []
        for held, fld in zip(self._held, fields, strict=True):
            after = render(key, fld, self._size).astype(np.float32)
            if held.key is None:
                image = after
            else:
                before = render(held.key, held.field, self._size).astype(np.float32)
                w = (held.position - start) / (key.position - start)
                image = before * (1 - w) + after * w
            dtype = held.frame.image.dtype
            image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
            out.append(
                held.frame.with_image(
                    self._finish(
                        image, held.frame.with_image(np.zeros((0, 0, 3), dtype)), held.alpha
                    )
                )
            )
        self._held = []
        return out

    def flush(self) -> list[Frame]:
        if self.mode in ("filter", "model") or not self._held:
            return []
        if self._carrier is None:
            wanted = ", ".join(s.text.split("=", 1)[0] for s in self._specs) or "first"
            raise MoviolaError(f"stylize: no frame of the clip is at keyframe {wanted}")
        missed = [s.text for s in self._specs if not s.done]
        if missed:
            log.warning("stylize: keyframes not in the clip: %s", ", ".join(missed))
        out = [
            self._emit(h.frame, h.alpha, h.frame.image.dtype, h.field, h.key) for h in self._held
        ]
        self._held = []
        return out
