"""A presenter's life besides the mouth: blinks, brows on stressed syllables, head sway.

All of it is planned from a seed and the speech's stress marks, and evaluated per frame:

- blinks every 2-6 s (uniform), 0.25 s each (fast close, slower opening), the upper lids
  brought down onto the lower ones, the skin above following;
- brows raised on a share of the primary stresses (at most one raise per 0.8 s), 0.12 s up and
  0.4 s back, the forehead above following;
- the head: a slow sum of sines (0.07-0.4 Hz) in tilt, turn-like shift and scale, a small nod
  on raised brows; applied as a similarity about the face centre, weighted by a field that is 1
  on the head and falls smoothly to 0 away from it (the picture's edges and the body stay).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from moviola.vision.faces.landmarks import FACE_OVAL, LEFT_BROW, RIGHT_BROW
from moviola.vision.faces.mouth import MouthRig

# upper lids outer -> inner, and the lower lid points under them
_RIGHT_UPPER = [246, 161, 160, 159, 158, 157, 173]
_RIGHT_LOWER = [7, 163, 144, 145, 153, 154, 155]
_LEFT_UPPER = [466, 388, 387, 386, 385, 384, 398]
_LEFT_LOWER = [249, 390, 373, 374, 380, 381, 382]
_BROWS = sorted(set(RIGHT_BROW + LEFT_BROW))

BLINK = 0.25  # s
BROW_UP, BROW_DOWN = 0.12, 0.4


@dataclass
class Plan:
    """Times of blinks and brow raises (s), and the sway's random phases."""

    blinks: np.ndarray
    brows: np.ndarray  # N x 2: time, strength
    phases: np.ndarray
    amplitude: float = 1.0


def plan(
    duration: float, stresses: Sequence[tuple[float, float]], seed: int = 0, sway: float = 1.0
) -> Plan:
    rng = np.random.default_rng(seed)
    blinks, t = [], rng.uniform(0.8, 2.5)
    while t < duration:
        blinks.append(t)
        t += rng.uniform(2.0, 6.0)
    brows, last = [], -10.0
    for time, strength in stresses:
        if strength >= 1.0 and time - last >= 0.8 and rng.random() < 0.45:
            brows.append((time, rng.uniform(0.5, 1.0)))
            last = time
    return Plan(
        np.asarray(blinks, np.float64),
        np.asarray(brows, np.float64).reshape(-1, 2),
        rng.uniform(0, 2 * np.pi, 8),
        sway,
    )


def blink_amount(p: Plan, t: float) -> float:
    """How closed the eyes are at ``t`` (0 open, 1 shut)."""
    near = p.blinks[(p.blinks <= t) & (p.blinks > t - BLINK)]
    if not len(near):
        return 0.0
    u = (t - float(near[-1])) / BLINK
    return float(
        np.sin(np.pi * u / 0.4)
        if u < 0.2
        else 1.0
        if u < 0.3
        else 0.5 + 0.5 * np.cos(np.pi * (u - 0.3) / 0.7)
    )


def brow_amount(p: Plan, t: float) -> float:
    """How far the brows are raised at ``t`` (0..1)."""
    out = 0.0
    for time, strength in p.brows:
        d = t - time
        if -BROW_UP < d < BROW_DOWN:
            s = (
                0.5 - 0.5 * np.cos(np.pi * (d + BROW_UP) / BROW_UP)
                if d < 0
                else 0.5 + 0.5 * np.cos(np.pi * d / BROW_DOWN)
            )
            out = max(out, float(strength * s))
    return out


def sway(p: Plan, t: float) -> tuple[float, float, float, float]:
    """Head (angle rad, dx, dy in face widths, scale - 1) at ``t``."""
    ph = p.phases
    a = p.amplitude
    angle = a * np.radians(
        1.3 * np.sin(2 * np.pi * 0.11 * t + ph[0]) + 0.5 * np.sin(2 * np.pi * 0.37 * t + ph[1])
    )
    dx = a * (
        0.012 * np.sin(2 * np.pi * 0.07 * t + ph[2]) + 0.005 * np.sin(2 * np.pi * 0.23 * t + ph[3])
    )
    dy = a * (
        0.006 * np.sin(2 * np.pi * 0.13 * t + ph[4]) + 0.004 * np.sin(2 * np.pi * 0.31 * t + ph[5])
    )
    dy += 0.012 * brow_amount(p, t - 0.05)  # a small nod with the brows
    scale = a * 0.006 * np.sin(2 * np.pi * 0.09 * t + ph[6])
    return float(angle), float(dx), float(dy), float(scale)


class FaceMotion:
    """Blink and brow displacements of a face's mesh points (and its rig's rings)."""

    def __init__(self, rig: MouthRig) -> None:
        self.rig = rig
        pts = rig.points
        n = len(pts)
        up = -rig.axes[1]  # image direction of "up" in the face
        self.up = up
        u = rig.unit
        # blinks: each upper lid point to its lower lid point; skin above follows, less
        lid = np.zeros((n, 2))
        for upper, lower in ((_RIGHT_UPPER, _RIGHT_LOWER), (_LEFT_UPPER, _LEFT_LOWER)):
            lid[upper] = (pts[lower] - pts[upper]) * 0.92
        self.lid = lid
        uppers = _RIGHT_UPPER + _LEFT_UPPER
        lowers = set(_RIGHT_LOWER + _LEFT_LOWER)
        d = np.linalg.norm(pts[:, None, :] - pts[None, uppers, :], axis=2)
        nearest = d.argmin(1)
        above = ((pts - pts[np.array(uppers)[nearest]]) @ up) > 0
        fall = np.exp(-((d.min(1) / (0.11 * u)) ** 2)) * 0.55
        follow = np.where(above, fall, 0.0)[:, None] * lid[np.array(uppers)[nearest]]
        follow[uppers] = 0.0
        follow[list(lowers)] = 0.0
        self.blink_field = lid + follow
        # brows: up by 5 % of the eye distance; the forehead above and the lids below follow
        brow = np.zeros(n)
        brow[_BROWS] = 1.0
        db = np.linalg.norm(pts[:, None, :] - pts[None, _BROWS, :], axis=2).min(1)
        near = np.exp(-((db / (0.18 * u)) ** 2))
        brow = np.maximum(brow, near * 0.7)
        brow[list(lowers)] = 0.0
        brow[len(rig.mesh) :] = 0.0
        self.brow_field = brow[:, None] * up[None, :] * (0.055 * u)

    def displacement(self, blink: float, brow: float) -> np.ndarray:
        return self.blink_field * blink + self.brow_field * brow


class HeadSway:
    """Backward maps for a small similarity of the head, weighted to 0 away from it."""

    def __init__(self, mesh: np.ndarray, width: int, height: int, alpha: np.ndarray | None) -> None:
        m = np.asarray(mesh, np.float64)[:, :2]
        oval = m[FACE_OVAL[:-1]]
        self.centre = oval.mean(0)
        self.size = float(np.ptp(oval[:, 0]))
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        self.xx, self.yy = xx, yy
        # an ellipse round the head (hair included), 1 inside, 0 beyond twice its radii
        cx, cy = self.centre
        rx = 0.5 * float(np.ptp(oval[:, 0])) * 1.5
        ry = 0.5 * float(np.ptp(oval[:, 1])) * 1.45
        r = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy + 0.1 * ry) / ry) ** 2)
        w = np.clip(2.0 - r, 0.0, 1.0)
        w = w * w * (3 - 2 * w)
        if alpha is not None:  # with a new background: the whole subject moves, the body less
            below = np.clip((yy - cy) / (2.5 * ry), 0.0, 1.0)
            w = np.maximum(w, (alpha.astype(np.float32) / 255.0) * (1.0 - 0.7 * below))
        # nothing moves at the picture's edges
        edge = np.minimum.reduce([xx, yy, width - 1 - xx, height - 1 - yy]) / max(
            4.0, 0.04 * min(width, height)
        )
        self.weight = (w * np.clip(edge, 0.0, 1.0)).astype(np.float32)

    def maps(
        self, angle: float, dx: float, dy: float, scale: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """cv2.remap maps: each output pixel's source, the head moved by the similarity."""
        c, s = np.cos(angle) * (1 + scale), np.sin(angle) * (1 + scale)
        cx, cy = self.centre
        x, y = self.xx - cx, self.yy - cy
        # inverse of the forward move, to first order: source = x - w * (S(x) - x)
        mx = (c - 1) * x - s * y + dx * self.size
        my = s * x + (c - 1) * y + dy * self.size
        w = self.weight
        return (self.xx - w * mx).astype(np.float32), (self.yy - w * my).astype(np.float32)
