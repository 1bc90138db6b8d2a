"""Paths through a latent space: keyframes pinned to frames and the travel between them.

Travel between keyframes (``interp``): ``linear``, ``slerp`` (spherical: the path keeps the
length typical of the latent distribution instead of cutting through its low-density centre)
or ``spline`` (Catmull-Rom through all keyframes, continuous velocity, its length
re-normalised to the keyframes'). ``ease`` shapes each segment in time: ``none`` (even speed),
``smooth`` (slow at both keyframes) or ``pulse`` (a burst of motion leaving each keyframe,
settling before the next: on beats, the motion kicks on the beat). Keyframes always sit on whole
frames, so the frame at a keyframe shows exactly that keyframe's latent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from moviola.errors import MoviolaError

INTERPS = ("linear", "slerp", "spline")
EASES = ("none", "smooth", "pulse")


def seed_latent(seed: int, size: int) -> np.ndarray:
    """The latent vector of a seed: ``size`` standard normal numbers (float32)."""
    return np.random.default_rng(int(seed)).standard_normal(size).astype(np.float32)


def _ease(u: np.ndarray, kind: str) -> np.ndarray:
    if kind == "smooth":
        return u * u * (3 - 2 * u)
    if kind == "pulse":
        return 1 - (1 - u) ** 3
    return u


def _slerp(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Spherical interpolation row by row (lengths interpolated linearly)."""
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    cos = np.clip(np.sum(a * b, axis=1, keepdims=True) / np.maximum(na * nb, 1e-12), -1, 1)
    omega = np.arccos(cos)
    s = np.sin(omega)
    straight = s < 1e-6
    safe = np.where(straight, 1.0, s)
    wa = np.where(straight, 1 - u, np.sin((1 - u) * omega) / safe)
    wb = np.where(straight, u, np.sin(u * omega) / safe)
    return wa * a + wb * b


@dataclass
class LatentPath:
    """Keyframes ``keys[j]`` at frames ``positions[j]`` (increasing integers; for a closed path
    ``keys[-1] == keys[0]`` and the last position is the frame after the video's last)."""

    keys: np.ndarray
    positions: np.ndarray
    interp: str = "spline"
    ease: str = "none"
    closed: bool = False
    _tangents: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.keys = np.asarray(self.keys, np.float64)
        self.positions = np.asarray(self.positions, np.int64)
        if len(self.keys) != len(self.positions) or len(self.keys) < 2:
            raise MoviolaError("a latent path needs at least two keyframes")
        if np.any(np.diff(self.positions) <= 0):
            raise MoviolaError("keyframes must be on increasing frames (too many for the frames?)")
        if self.interp not in INTERPS:
            raise MoviolaError(f"interp must be one of {', '.join(INTERPS)}")
        if self.ease not in EASES:
            raise MoviolaError(f"ease must be one of {', '.join(EASES)}")
        self._tangents = self._catmull_rom_tangents()

    def _catmull_rom_tangents(self) -> np.ndarray:
        k, t = self.keys, self.positions.astype(np.float64)
        m = np.empty_like(k)
        if len(k) > 2:
            m[1:-1] = (k[2:] - k[:-2]) / (t[2:] - t[:-2])[:, None]
        if self.closed and len(k) > 2:
            m[0] = m[-1] = (k[1] - k[-2]) / ((t[1] - t[0]) + (t[-1] - t[-2]))
        else:
            m[0] = (k[1] - k[0]) / (t[1] - t[0])
            m[-1] = (k[-1] - k[-2]) / (t[-1] - t[-2])
        return m

    def __call__(self, frames: Sequence[int] | np.ndarray) -> np.ndarray:
        """Latents (len(frames) x Z, float32) at the given frame numbers."""
        f = np.asarray(frames, np.float64)
        pos = self.positions
        j = np.clip(np.searchsorted(pos, f, side="right") - 1, 0, len(pos) - 2)
        span = (pos[j + 1] - pos[j]).astype(np.float64)
        u = np.clip((f - pos[j]) / span, 0.0, 1.0)
        e = _ease(u, self.ease)[:, None]
        a, b = self.keys[j], self.keys[j + 1]
        if self.interp == "linear":
            out = (1 - e) * a + e * b
        elif self.interp == "slerp":
            out = _slerp(a, b, e)
        else:
            h00 = 2 * e**3 - 3 * e**2 + 1
            h10 = e**3 - 2 * e**2 + e
            h01 = -2 * e**3 + 3 * e**2
            h11 = e**3 - e**2
            m = self._tangents
            out = h00 * a + h10 * span[:, None] * m[j] + h01 * b + h11 * span[:, None] * m[j + 1]
            # back to the keyframes' length (a chord through latent space is too short)
            want = (1 - e) * np.linalg.norm(a, axis=1, keepdims=True) + e * np.linalg.norm(
                b, axis=1, keepdims=True
            )
            out *= want / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        # keyframes exactly
        out = np.where((e == 0), a, np.where(e == 1, b, out))
        return out.astype(np.float32)


def keyframe_positions(
    frames: int, count: int | None = None, step: float | None = None, closed: bool = False
) -> np.ndarray:
    """Keyframe frames covering ``frames`` frames: ``count`` evenly spaced keyframes, or one
    every ``step`` frames. Open paths end on the last frame, closed ones on the frame after."""
    end = frames if closed else frames - 1
    if end < 1:
        raise MoviolaError("a walk needs at least two frames")
    if count is None:
        count = max(1, int(round(end / max(step or 1.0, 1.0))))
        if closed:
            count = max(3, count)
    count = min(count, end)
    return np.round(np.arange(count + 1) * end / count).astype(np.int64)


def beat_positions(
    beat_frames: Sequence[int] | np.ndarray, frames: int, closed: bool, every: int = 1
) -> np.ndarray:
    """Keyframes on every ``every``-th beat frame, plus the start and the end of the walk."""
    end = frames if closed else frames - 1
    if end < 1:
        raise MoviolaError("a walk needs at least two frames")
    picked = sorted({int(b) for b in list(beat_frames)[:: max(1, every)] if 0 < b < end})
    return np.array([0, *picked, end], np.int64)
