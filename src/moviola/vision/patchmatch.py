"""Guided PatchMatch over a coordinate field, vectorised with OpenCV (no per-pixel Python loops).

A *field* is an H x W x 2 float32 array: for each pixel of a target image, the (x, y) position in
a source image whose content it takes (a nearest-neighbour field with sub-pixel positions). The
matcher improves a field against a per-pixel cost ``cost(field) -> H x W`` that the caller
writes (guide differences, distance to a positional guide, temporal terms...). The cost of a
candidate at a pixel is that per-pixel cost summed over a ``patch`` x ``patch`` window (a box
filter): the window's pixels are judged with their own candidates, which for the candidates tried
here (shifted copies of the current field, block-coherent random jumps) is the patch distance of
PatchMatch wherever the field is coherent, at the price of one ``cv2.remap`` per candidate
instead of ``patch**2``.

Candidates per iteration: propagation from the neighbours at distances 8, 4, 2, 1 in the four
directions (jump flooding, the parallel form of PatchMatch's scan-line propagation), any extra
fields the caller gives (e.g. a flow-advected positional guide), and random search with offsets
constant over 4 x 4 blocks at radii halving from ``radius``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from moviola.vision.flow import pixel_grid

CostFn = Callable[[np.ndarray], np.ndarray]


def identity_field(height: int, width: int) -> np.ndarray:
    """The field that maps every pixel to itself."""
    gx, gy = pixel_grid(height, width)
    return np.dstack([gx, gy])


def sample(image: np.ndarray, field: np.ndarray, nearest: bool = False) -> np.ndarray:
    """image[field]: the source pixels a field points at (bilinear, clamped at the borders)."""
    mode = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    if image.ndim == 3 and image.shape[2] > 4:
        parts = [_remap(image[..., i : i + 4], field, mode) for i in range(0, image.shape[2], 4)]
        return np.concatenate([p if p.ndim == 3 else p[..., None] for p in parts], axis=2)
    return _remap(image, field, mode)


def _remap(image: np.ndarray, field: np.ndarray, mode: int) -> np.ndarray:
    return cv2.remap(
        np.ascontiguousarray(image),
        np.ascontiguousarray(field[..., 0]),
        np.ascontiguousarray(field[..., 1]),
        mode,
        borderMode=cv2.BORDER_REPLICATE,
    )


def shift(field: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Propagation candidate: each pixel takes the neighbour (x - dx, y - dy)'s match + (dx, dy)."""
    h, w = field.shape[:2]
    out = field.copy()
    ys = slice(max(dy, 0), h + min(dy, 0))
    yd = slice(max(-dy, 0), h - max(dy, 0))
    xs = slice(max(dx, 0), w + min(dx, 0))
    xd = slice(max(-dx, 0), w - max(dx, 0))
    out[ys, xs] = field[yd, xd]
    out[ys, xs, 0] += dx
    out[ys, xs, 1] += dy
    return out


class PatchMatch:
    """Improves a field by minimising a window-summed per-pixel cost (see the module doc)."""

    def __init__(
        self,
        source_size: tuple[int, int],
        *,
        patch: int = 5,
        iterations: int = 3,
        radius: float | None = None,
        jumps: Sequence[int] = (8, 4, 2, 1),
        seed: int = 0,
    ) -> None:
        self.source_w, self.source_h = source_size
        self.patch = patch
        self.iterations = iterations
        self.radius = radius if radius is not None else max(source_size) / 2
        self.jumps = tuple(jumps)
        self.rng = np.random.default_rng(seed)
        self.candidates_tried = 0

    def _clip(self, field: np.ndarray) -> np.ndarray:
        np.clip(field[..., 0], 0, self.source_w - 1, out=field[..., 0])
        np.clip(field[..., 1], 0, self.source_h - 1, out=field[..., 1])
        return field

    def _aggregate(self, cost: np.ndarray) -> np.ndarray:
        k = self.patch
        return cv2.boxFilter(cost, -1, (k, k), normalize=True, borderType=cv2.BORDER_REFLECT)

    def run(
        self,
        field: np.ndarray,
        cost: CostFn,
        extra: Sequence[np.ndarray] = (),
    ) -> tuple[np.ndarray, np.ndarray]:
        """The improved field and its (window-summed) cost per pixel."""
        best = self._clip(field.astype(np.float32, copy=True))
        best_cost = self._aggregate(cost(best))

        def consider(candidate: np.ndarray) -> None:
            nonlocal best, best_cost
            candidate = self._clip(candidate)
            c = self._aggregate(cost(candidate))
            self.candidates_tried += 1
            better = c < best_cost
            best[better] = candidate[better]
            best_cost[better] = c[better]

        for candidate in extra:
            consider(candidate.astype(np.float32, copy=True))
        h, w = best.shape[:2]
        for _ in range(self.iterations):
            for step in self.jumps:
                for dx, dy in ((step, 0), (-step, 0), (0, step), (0, -step)):
                    consider(shift(best, dx, dy))
            radius = self.radius
            while radius >= 1:
                consider(best + self._block_offsets(h, w, radius))
                radius /= 2
        return best, best_cost

    def _block_offsets(self, h: int, w: int, radius: float, block: int = 4) -> np.ndarray:
        bh, bw = -(-h // block) + 1, -(-w // block) + 1
        small = self.rng.uniform(-radius, radius, (bh, bw, 2)).astype(np.float32)
        big = np.repeat(np.repeat(small, block, axis=0), block, axis=1)
        oy, ox = self.rng.integers(0, block, 2)  # a different block grid each time
        return np.ascontiguousarray(big[oy : oy + h, ox : ox + w])


def upsample_field(
    field: np.ndarray, size: tuple[int, int], source_scale: tuple[float, float]
) -> np.ndarray:
    """A low-resolution field brought to ``size`` (w, h) of the target at full resolution, its
    positions scaled by ``source_scale`` (sx, sy) to the full-resolution source.

    Smooth parts are interpolated bilinearly (sub-pixel, no blocks); across seams, where the
    field jumps, each full-resolution pixel keeps its nearest low-resolution cell's offset, so no
    position in between two unrelated places is sampled.
    """
    h, w = field.shape[:2]
    width, height = size
    sx, sy = source_scale
    full = cv2.resize(field, (width, height), interpolation=cv2.INTER_LINEAR)
    full[..., 0] = (full[..., 0] + 0.5) * sx - 0.5
    full[..., 1] = (full[..., 1] + 0.5) * sy - 0.5
    grid = identity_field(h, w)
    offset = field - grid
    jump = np.zeros((h, w), bool)
    dx = np.abs(offset[:, 1:] - offset[:, :-1]).sum(axis=2) > 0.75
    dy = np.abs(offset[1:] - offset[:-1]).sum(axis=2) > 0.75
    jump[:, 1:] |= dx
    jump[:, :-1] |= dx
    jump[1:] |= dy
    jump[:-1] |= dy
    seam = cv2.resize(jump.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    if seam.any():
        near = cv2.resize(offset, (width, height), interpolation=cv2.INTER_NEAREST)
        near[..., 0] *= sx
        near[..., 1] *= sy
        near += identity_field(height, width)
        full = np.where(seam[..., None] > 0, near, full)
    return full
