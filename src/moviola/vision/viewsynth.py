"""New views of an image with depth: a virtual camera that moves sideways, forwards, and zooms.

Depth is relative inverse depth ``d`` in 0..1 (near = 1). The camera model maps a source pixel
``x`` with depth ``d`` to

    x' - c = zoom * ((x - c) - S * t_xy * (d - focus)) / (1 - t_z * w(d)),  w(d) = 0.25 + 0.75 d

(``S`` the image width, ``c`` its centre): a sideways move of ``t_xy`` shifts the nearest
points by ``t_xy`` image widths relative to the ``focus`` depth, which stays put (the camera
turns to keep looking at it); a forward move ``t_z`` (the nearest point at distance 1, the
farthest at 4) magnifies near things more than far ones; ``zoom`` is the focal length.

Rendering is layered, so nothing is ever stretched:

* Front layer: the image is forward-warped with a z-buffer (``np.maximum.at`` on depth: the
  nearer point wins), one-pixel cracks are closed, and every target pixel then fetches its
  colour by the exact inverse of the mapping (bilinear, so the picture stays sharp). A target
  pixel whose fetched depth disagrees with its own is a disocclusion: a hole.
* Back layer: what is hidden behind depth edges. Pixels on the near side of a depth edge, within
  the largest parallax of the move, are removed and refilled from the far side only (push-pull
  of colour and depth from background pixels), so revealed regions show the background, with
  its own parallax, never foreground colour smeared outwards. Holes of the front layer are taken
  from the back layer, rendered by backward mapping (its depth is smooth).
* Depth edges are pre-processed: near depth is dilated by a few pixels so the mixed pixels at an
  object's border move with the object (no ghost fringe left on the background).
* The picture is zoomed in just enough that the frame's border never reveals outside the image.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import overload

import cv2
import numpy as np

from moviola.vision.depth import push_pull
from moviola.vision.flow import pixel_grid

_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


@overload
def depth_weight(d: float) -> float: ...
@overload
def depth_weight(d: np.ndarray) -> np.ndarray: ...
def depth_weight(d: np.ndarray | float) -> np.ndarray | float:
    """Inverse distance for a normalised depth: near (1) at distance 1, far (0) at 4."""
    return 0.25 + 0.75 * d


@dataclass(frozen=True)
class View:
    """A virtual camera (see the module notes)."""

    tx: float = 0.0
    ty: float = 0.0
    tz: float = 0.0
    zoom: float = 1.0
    focus: float = 0.5

    def with_offset(self, dx: float) -> View:
        return View(self.tx + dx, self.ty, self.tz, self.zoom, self.focus)


def border_zoom(views: list[View], width: int, height: int) -> float:
    """The extra zoom that keeps the frame's border inside the source image for every view."""
    need = 1.0
    s = float(width)
    for v in views:
        for d in (0.0, 1.0):
            den = 1 - v.tz * depth_weight(d)
            for c, t in (((width - 1) / 2, v.tx), ((height - 1) / 2, v.ty)):
                room = c - abs(s * t * (d - v.focus))
                if room <= 1:
                    return 4.0
                need = max(need, c * den / (v.zoom * room))
    return min(need, 4.0)


def sharpen_steps(depth: np.ndarray, radius: int, step: float) -> np.ndarray:
    """Turn smeared depth edges back into steps (estimated depth is soft at object borders, and
    a ramp would stretch the picture across it instead of opening a hole). A pixel is on a
    smeared step when the depth range within ``radius`` exceeds ``step`` and holds most (70 %)
    of the range within 3 x ``radius`` (a slope's range grows with the window, a step's does
    not); it then takes the nearer of the local extremes."""
    h, w = depth.shape
    scale = min(1.0, 4.0 / radius) if radius > 4 else 1.0
    small = (
        depth
        if scale == 1.0
        else cv2.resize(depth, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    )
    r = max(1, round(radius * scale))
    k1 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)
    k3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (6 * r + 1,) * 2)
    hi, lo = cv2.dilate(small, k1), cv2.erode(small, k1)
    wide = cv2.dilate(small, k3) - cv2.erode(small, k3)
    ramp = ((hi - lo) > step) & ((hi - lo) > 0.7 * wide)
    if not ramp.any():
        return depth
    if scale != 1.0:
        hi = cv2.resize(hi, (w, h), interpolation=cv2.INTER_LINEAR)
        lo = cv2.resize(lo, (w, h), interpolation=cv2.INTER_LINEAR)
        ramp = cv2.resize(ramp.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    snapped = np.where(depth - lo > hi - depth, hi, lo)
    return np.where(ramp, snapped, depth).astype(np.float32)


class Layers:
    """An image prepared for rendering: front colour and depth, and the back layer.

    ``reach``: the largest parallax (pixels) the views will need, which sets how far behind
    depth edges the back layer is rebuilt. ``fill(image, hidden) -> image`` paints the hidden
    part of the back layer (default: smooth colour plus mirrored nearby texture; the parallax
    effect passes LaMa's inpainting when it is fetched, :mod:`moviola.vision.inpaint`).
    """

    def __init__(
        self,
        image: np.ndarray,
        depth: np.ndarray,
        reach: float,
        edge_dilate: int = 2,
        sharpen: bool = True,
        fill: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    ) -> None:
        self.image = image.astype(np.float32) if image.dtype != np.float32 else image
        h, w = depth.shape
        self.size = (w, h)
        d = cv2.medianBlur(depth.astype(np.float32), 5)  # pixel noise (estimated depth) out
        if sharpen:
            d = sharpen_steps(d, max(2, round(0.01 * max(w, h))), max(0.02, 1.5 / max(reach, 1)))
        if edge_dilate > 0:
            k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * edge_dilate + 1,) * 2)
            d = cv2.dilate(d, k)
        self.depth = d
        # depth steps big enough to open a hole of a pixel or more
        step = max(0.02, 1.5 / max(reach, 1.0))
        k3 = np.ones((3, 3), np.uint8)
        edges = (cv2.dilate(d, k3) - cv2.erode(d, k3)) > step
        r = int(min(max(reach * 1.2 + 3, 4), max(w, h) / 4))
        if edges.any():
            # work at a reduced scale for the wide morphology
            scale = min(1.0, 12.0 / max(r, 1)) if r > 12 else 1.0
            ds = (
                d
                if scale == 1.0
                else cv2.resize(d, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            )
            rr = max(1, round(r * scale))
            kr = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rr + 1,) * 2)
            low = cv2.erode(ds, kr)
            e_s = edges.astype(np.uint8)
            if scale != 1.0:
                e_s = cv2.resize(e_s, (ds.shape[1], ds.shape[0]), interpolation=cv2.INTER_NEAREST)
                e_s = np.maximum(
                    e_s,
                    cv2.resize(
                        edges.astype(np.float32),
                        (ds.shape[1], ds.shape[0]),
                        interpolation=cv2.INTER_AREA,
                    )
                    > 0,
                )
            near_edge = cv2.dilate(e_s.astype(np.uint8), kr) > 0
            occluder = near_edge & ((ds - low) > step)
            if scale != 1.0:
                occluder = (
                    cv2.resize(occluder.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
                    > 0
                )
            # the far side's first pixels carry colour mixed with the edge: not a source either
            occluder |= cv2.dilate(edges.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            known = (~occluder).astype(np.float32)
            self.back_depth = np.minimum(_smooth_fill(d, known), d)
            filled = (fill or _fill_texture)(self.image, occluder)
            self.back_image = np.where(occluder[..., None], filled, self.image)
            self.has_back = True
        else:
            self.back_depth, self.back_image, self.has_back = d, self.image, False
        gx, gy = pixel_grid(h, w)
        self._gx, self._gy = gx, gy

    # -- the mapping ------------------------------------------------------------------------------
    def _forward(self, view: View, depth: np.ndarray):
        w, h = self.size
        cx, cy = (w - 1) / 2, (h - 1) / 2
        par = depth - np.float32(view.focus)
        scale = np.float32(view.zoom)
        if view.tz:
            scale = scale / (1 - np.float32(view.tz) * depth_weight(depth))
        xs = cx + scale * (self._gx - cx - np.float32(w * view.tx) * par)
        ys = cy + scale * (self._gy - cy - np.float32(w * view.ty) * par)
        return xs, ys

    def _inverse(self, view: View, depth: np.ndarray, grid=None):
        """Source coordinates of target pixels (``grid``: their coordinates, default all)."""
        w, h = self.size
        gx, gy = grid if grid is not None else (self._gx, self._gy)
        cx, cy = np.float32((w - 1) / 2), np.float32((h - 1) / 2)
        par = depth - np.float32(view.focus)
        if view.tz:
            k = (1 - np.float32(view.tz) * depth_weight(depth)) / np.float32(view.zoom)
        else:
            k = np.float32(1 / view.zoom)
        xs = (gx - cx) * k + (cx + np.float32(w * view.tx) * par)
        ys = (gy - cy) * k + (cy + np.float32(w * view.ty) * par)
        return xs, ys

    # -- rendering --------------------------------------------------------------------------------
    def render(self, view: View) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(image float32, depth, hole mask of the front layer) seen from ``view``."""
        w, h = self.size
        xs, ys = self._forward(view, self.depth)
        xi = np.rint(xs).astype(np.int32)
        yi = np.rint(ys).astype(np.int32)
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        zbuf = np.full(h * w, -1.0, np.float32)
        np.maximum.at(zbuf, yi[inside] * w + xi[inside], self.depth[inside])
        zbuf = zbuf.reshape(h, w)
        empty = zbuf < 0
        if empty.any():  # close one-pixel cracks (magnification, rounding)
            grown = cv2.dilate(zbuf, np.ones((3, 3), np.uint8))
            zbuf = np.where(empty, grown, zbuf)
        depth = np.maximum(zbuf, 0)
        mx, my = self._inverse(view, depth)
        fetched = cv2.remap(self.depth, mx, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
        hole = np.abs(fetched - zbuf) > 0.03
        # disocclusions are strips; isolated specks come from depth noise: drop them
        hole = cv2.morphologyEx(hole.astype(np.uint8), cv2.MORPH_OPEN, _CROSS) > 0
        hole |= zbuf < 0
        front = cv2.remap(self.image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if hole.any():
            ys_, xs_ = np.nonzero(cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)))
            soft = cv2.GaussianBlur(hole.astype(np.float32), (3, 3), 0)
            soft = np.maximum(soft, hole)[ys_, xs_][:, None]
            back, bdepth = self._render_back(view, xs_, ys_)
            front[ys_, xs_] = front[ys_, xs_] * (1 - soft) + back * soft
            depth[ys_, xs_] = np.where(hole[ys_, xs_], bdepth, depth[ys_, xs_])
        return front, depth, hole

    def _render_back(self, view: View, xs: np.ndarray, ys: np.ndarray):
        """The back layer at target pixels (xs, ys): depth by fixed-point iteration on a
        quarter-size grid (it is smooth), then colour fetched by the inverse mapping."""
        d = self.back_depth
        if not hasattr(self, "_back_small"):
            self._back_small = cv2.resize(d, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
        small = self._back_small
        sh, sw = small.shape
        w, h = self.size
        sx, sy = np.meshgrid(
            np.linspace(0, w - 1, sw, dtype=np.float32), np.linspace(0, h - 1, sh, dtype=np.float32)
        )
        est = small
        fx, fy = np.float32((sw - 1) / max(w - 1, 1)), np.float32((sh - 1) / max(h - 1, 1))
        for _ in range(5):  # the depth at the source of each target pixel
            mx, my = self._inverse(view, est, (sx, sy))
            est = cv2.remap(
                small, mx * fx, my * fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
        est = cv2.resize(est, (w, h), interpolation=cv2.INTER_LINEAR)[ys, xs]
        gx, gy = xs.astype(np.float32), ys.astype(np.float32)
        mx, my = self._inverse(view, est, (gx, gy))
        return _remap_points(self.back_image, mx, my), est


def _remap_points(image: np.ndarray, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``image`` at scattered points (remap takes rows under 32767)."""
    n = mx.size
    cols = 4096
    rows = -(-n // cols)
    pad = rows * cols - n
    px = np.pad(mx, (0, pad)).reshape(rows, cols)
    py = np.pad(my, (0, pad)).reshape(rows, cols)
    out = cv2.remap(image, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(rows * cols, -1)[:n]


def _smooth_fill(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Push-pull fill; on large frames at half size (the fill is smooth), known pixels kept."""
    h, w = known.shape
    if max(h, w) <= 800:
        return push_pull(values, known)
    half = (max(1, w // 2), max(1, h // 2))
    small = push_pull(
        cv2.resize(values, half, interpolation=cv2.INTER_AREA),
        cv2.resize(known, half, interpolation=cv2.INTER_AREA),
    )
    filled = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    keep = known > 0.5
    return np.where(keep[..., None] if values.ndim == 3 else keep, values, filled)


def _fill_texture(image: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Fill ``hidden`` pixels from the visible ones: the smooth colour of push-pull, plus the
    fine texture of the visible neighbourhood mirrored across the nearest visible pixel (so a
    revealed strip continues the background's texture instead of a flat smear)."""
    known = (~hidden).astype(np.float32)
    low = _smooth_fill(image, known)
    blurred = cv2.GaussianBlur(image, (0, 0), 2.0)
    detail = image - blurred
    h, w = hidden.shape
    _, labels = cv2.distanceTransformWithLabels(
        hidden.astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    ys, xs = np.nonzero(~hidden)
    if ys.size == 0:
        return low
    hy, hx = np.nonzero(hidden)
    lab = np.asarray(labels, np.intp)[hy, hx] - 1
    qy, qx = ys[lab], xs[lab]
    my = np.clip(2 * qy - hy, 0, h - 1)
    mx = np.clip(2 * qx - hx, 0, w - 1)
    usable = ~hidden[my, mx]
    out = low.copy()
    out[hy, hx] += np.where(usable[:, None], detail[my, mx], 0)
    return out


# --- looks ---------------------------------------------------------------------------------------


def depth_of_field(
    image: np.ndarray, depth: np.ndarray, focus: float, strength: float
) -> np.ndarray:
    """Blur growing with |depth - focus|: ``strength`` is the largest blur (Gaussian sigma) as a
    percentage of the width; four blur levels blended per pixel (tent weights). Large blurs are
    made at reduced size (a blur hides the difference)."""
    if strength <= 0:
        return image
    h, w = depth.shape
    smax = strength * w / 100
    sig = np.clip(np.abs(depth - np.float32(focus)) * 2, 0, 1) * np.float32(smax)
    levels = [0.0, smax / 4, smax / 2, smax]
    out = np.zeros_like(image)
    for i, s in enumerate(levels):
        if s == 0:
            blurred = image
        else:
            f = min(1.0, 4.0 / s) if s > 4 else 1.0
            small = (
                image
                if f == 1.0
                else cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            )
            blurred = cv2.GaussianBlur(small, (0, 0), s * f)
            if f != 1.0:
                blurred = cv2.resize(blurred, (w, h), interpolation=cv2.INTER_LINEAR)
        lo = levels[i - 1] if i > 0 else None
        hi = levels[i + 1] if i + 1 < len(levels) else None
        wgt = np.ones_like(sig)
        if lo is not None:
            wgt = np.minimum(wgt, np.clip((sig - lo) / (s - lo), 0, 1))
        if hi is not None:
            wgt = np.minimum(wgt, np.clip((hi - sig) / (hi - s), 0, 1))
        out += blurred * wgt[..., None]
    return out


def fog(image: np.ndarray, depth: np.ndarray, amount: float, color) -> np.ndarray:
    """Mix towards ``color`` (RGB 0..1) with distance: nothing at the nearest, ``amount`` at the
    farthest (exponential in distance)."""
    if amount <= 0:
        return image
    dist = 1.0 / depth_weight(depth)  # 1 .. 4
    k = amount * (1 - np.exp(-(dist - 1) * 1.2)) / (1 - math.exp(-3 * 1.2))
    k = np.clip(k, 0, 1)[..., None]
    return image * (1 - k) + np.asarray(color, np.float32) * k


# Dubois' red-cyan anaglyph matrices (E. Dubois, "Conversion of a stereo pair to anaglyph with
# the least-squares projection method", 2009), applied to linear RGB; left and right eye.
DUBOIS_LEFT = np.array(
    [[0.437, 0.449, 0.164], [-0.062, -0.062, -0.024], [-0.048, -0.050, -0.017]], np.float32
)
DUBOIS_RIGHT = np.array(
    [[-0.011, -0.032, -0.007], [0.377, 0.761, 0.009], [-0.026, -0.093, 1.234]], np.float32
)


_LUT_SIZE = 4096
_X = np.linspace(0, 1, _LUT_SIZE, dtype=np.float32)
_LIN_LUT = np.where(_X <= 0.04045, _X / 12.92, ((_X + 0.055) / 1.055) ** 2.4).astype(np.float32)
_SRGB_LUT = np.where(_X <= 0.0031308, _X * 12.92, 1.055 * _X ** (1 / 2.4) - 0.055).astype(
    np.float32
)


def _lut(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    idx = (np.clip(x, 0, 1) * np.float32(_LUT_SIZE - 1) + np.float32(0.5)).astype(np.int32)
    return table[idx]


def anaglyph(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Red-cyan anaglyph (Dubois) of two float RGB views (0..1), mixed in linear light."""
    lin = cv2.transform(_lut(_LIN_LUT, left), DUBOIS_LEFT) + cv2.transform(
        _lut(_LIN_LUT, right), DUBOIS_RIGHT
    )
    return _lut(_SRGB_LUT, lin)
