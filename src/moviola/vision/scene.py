"""A synthetic 3-D scene with exact depth, seen by a moving pinhole camera: textured rectangles
facing the camera at known distances, over a textured ground plane. For measuring depth from
motion and parallax rendering against ground truth (tests, bench/depth.py)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


def noise_texture(size: int = 256, seed: int = 0) -> np.ndarray:
    """A colourful multi-scale noise texture (uint8 RGB), for scenes without photos."""
    rng = np.random.default_rng(seed)
    out = np.zeros((size, size, 3), np.float32)
    for octave in (4, 8, 16, 32, 64):
        layer = rng.random((octave, octave, 3)).astype(np.float32)
        out += cv2.resize(layer, (size, size), interpolation=cv2.INTER_CUBIC) / octave**0.5
    out -= out.min()
    return (out / out.max() * 255).astype(np.uint8)


@dataclass
class Panel:
    """A textured rectangle facing the camera: world x0..x1, y0..y1 (y down) at distance z."""

    z: float
    rect: tuple[float, float, float, float]
    texture: np.ndarray


class Scene:
    """Panels in front of a far wall, over a ground plane ``floor`` units below the camera.

    ``render(position, yaw)`` gives the RGB image (uint8) and the exact inverse depth
    (1 / camera-space z) of every pixel, for a camera at ``position`` (x, y, z) turned by ``yaw``
    radians about the vertical axis. Focal length ``focal`` x width.
    """

    def __init__(
        self,
        panels: list[Panel],
        wall: Panel,
        floor: float,
        floor_texture: np.ndarray,
        width: int = 320,
        height: int = 240,
        focal: float = 1.0,
    ) -> None:
        self.panels = sorted(panels, key=lambda p: p.z)
        self.wall = wall
        self.floor = floor
        self.floor_texture = floor_texture
        self.width, self.height = width, height
        self.f = focal * width

    @classmethod
    def default(
        cls, textures: list[np.ndarray] | None = None, width: int = 320, height: int = 240
    ) -> Scene:
        tex = textures or [noise_texture(256, seed) for seed in range(4)]
        tex = [tex[i % len(tex)] for i in range(4)]
        panels = [
            Panel(2.5, (-1.2, -0.7, -0.35, 0.45), tex[0]),
            Panel(4.0, (0.15, -1.1, 1.45, 0.9), tex[1]),
        ]
        wall = Panel(9.0, (-12, -9, 12, 1.2), tex[2])
        return cls(panels, wall, 1.2, tex[3], width, height)

    def render(self, position=(0.0, 0.0, 0.0), yaw: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        w, h, f = self.width, self.height, self.f
        cx, cy = (w - 1) / 2, (h - 1) / 2
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
        # ray directions in camera space, then in world space (yaw about y)
        dc = np.stack([(gx - cx) / f, (gy - cy) / f, np.ones_like(gx)], -1)
        c, s = np.cos(yaw), np.sin(yaw)
        rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])  # camera -> world
        dw = dc @ rot.T
        px, py, pz = position
        best = np.full((h, w), np.inf)
        image = np.zeros((h, w, 3), np.float32)

        def paint(t, hit, u, v, texture):
            nonlocal best
            take = hit & (t > 1e-6) & (t < best)
            if not take.any():
                return
            th, tw = texture.shape[:2]
            mx = (np.mod(u, 1.0) * (tw - 1)).astype(np.float32)
            my = (np.mod(v, 1.0) * (th - 1)).astype(np.float32)
            sampled = cv2.remap(
                texture.astype(np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
            image[take] = sampled[take]
            best = np.where(take, t, best)

        for panel in [*self.panels, self.wall]:
            t = (panel.z - pz) / dw[..., 2]
            x = px + t * dw[..., 0]
            y = py + t * dw[..., 1]
            x0, y0, x1, y1 = panel.rect
            hit = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
            paint(t, hit, (x - x0) / (x1 - x0), (y - y0) / (y1 - y0), panel.texture)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (self.floor - py) / dw[..., 1]
        x = px + t * dw[..., 0]
        z = pz + t * dw[..., 2]
        hit = np.isfinite(t) & (dw[..., 1] > 0)
        paint(np.where(hit, t, np.inf), hit, x / 3.0, z / 3.0, self.floor_texture)
        # camera-space depth: t along a ray whose camera-space z component is 1
        inv = np.where(np.isfinite(best), 1.0 / best, 0.0).astype(np.float32)
        return np.clip(image, 0, 255).astype(np.uint8), inv


def scale_invariant_errors(
    pred: np.ndarray, truth: np.ndarray, mask: np.ndarray | None = None
) -> dict[str, float]:
    """AbsRel and delta < 1.25 of predicted inverse depth after aligning it to the truth by a
    scale and an offset (least squares; monocular and motion depth are only relative), measured
    on depth (1 / inverse depth)."""
    sel = (truth > 0) if mask is None else (mask & (truth > 0))
    p, t = pred[sel].astype(np.float64), truth[sel].astype(np.float64)
    a = np.vstack([p, np.ones_like(p)]).T
    coef, *_ = np.linalg.lstsq(a, t, rcond=None)
    aligned = np.clip(p * coef[0] + coef[1], t.min() * 0.5, None)
    zp, zt = 1 / aligned, 1 / t
    ratio = np.maximum(zp / zt, zt / zp)
    return {
        "absrel": float(np.mean(np.abs(zp - zt) / zt)),
        "delta125": float(np.mean(ratio < 1.25)),
    }
