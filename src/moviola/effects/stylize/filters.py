"""The classical filters of stylize (no model): cartoon, sketch, watercolor, oil (Kuwahara),
posterize (a k-means palette fixed from the first frame, so colours do not flicker) and halftone;
and :class:`Smoother`, which steadies any per-frame result (filters, models) over time with the
previous output warped by optical flow."""

from __future__ import annotations

import cv2
import numpy as np

from moviola.effects.stylize.synthesis import clean_mask, work_size
from moviola.media.frame import to_uint8
from moviola.vision.flow import FlowEstimator, consistency, warp

FILTERS = ("cartoon", "sketch", "watercolor", "oil", "posterize", "halftone")


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
    washed = cv2.resize(
        cv2.cvtColor(washed, cv2.COLOR_BGR2RGB), (w, h), interpolation=cv2.INTER_LINEAR
    )
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
    shifts = [(dy, dx) for dy in (-r1, r0) for dx in (-r1, r0)]
    best_var, out = var, mean
    for i, (dy, dx) in enumerate(shifts):
        m = np.roll(mean, (-dy, -dx), axis=(0, 1))
        v = np.roll(var, (-dy, -dx), axis=(0, 1))
        if i == 0:
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
        self._lut: np.ndarray | None = None

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
        lab = np.asarray(cv2.cvtColor(smooth, cv2.COLOR_RGB2Lab), np.uint8) >> 3
        index = (lab[..., 0].astype(np.int32) << 10) | (lab[..., 1].astype(np.int32) << 5)
        index |= lab[..., 2]
        assert self.palette_rgb is not None and self._lut is not None  # fitted above
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
        self.prev_gray: np.ndarray | None = None
        self.prev_out: np.ndarray | None = None

    def __call__(self, source: np.ndarray, out: np.ndarray) -> np.ndarray:
        h, w = source.shape[:2]
        sw, sh = work_size(w, h, self.short)
        gray = cv2.cvtColor(
            cv2.resize(to_uint8(source[..., :3]), (sw, sh), interpolation=cv2.INTER_AREA),
            cv2.COLOR_RGB2GRAY,
        )
        result = out
        if self.prev_gray is not None and self.prev_out is not None and self.amount > 0:
            back = self.flow(gray, self.prev_gray)
            fwd = self.flow(self.prev_gray, gray)
            mask = clean_mask(consistency(fwd, back))
            scale = np.array([w / sw, h / sh], np.float32)
            back_full = cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR) * scale
            mask_full = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
            prev = warp(self.prev_out, back_full).astype(np.float32)
            a = (self.amount * mask_full)[..., None]
            result = np.clip(out * (1 - a) + prev * a + 0.5, 0, 255).astype(np.uint8)
        self.prev_gray, self.prev_out = gray, result
        return result
