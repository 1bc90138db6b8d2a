"""Geometry on face meshes: similarity fits (head pose) and a pose-free shape descriptor."""

from __future__ import annotations

import numpy as np

from moviola.vision.faces.landmarks import STABLE_POINTS


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity (Umeyama 1991) taking ``src`` onto ``dst`` (N x d points):
    scale s, rotation R (d x d, no reflection) and translation t with dst ~ s R src + t."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    var = (a**2).sum() / len(src)
    cov = b.T @ a / len(src)
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(len(sig))
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rot = u @ np.diag(d) @ vt
    scale = float((sig * d).sum() / max(var, 1e-12))
    return scale, rot, mu_d - scale * rot @ mu_s


def shape_descriptor(points: np.ndarray) -> np.ndarray:
    """A pose-free description of a face's shape: the pairwise 3-D distances of the stable mesh
    points (invariant to rotation and position), divided by their mean (invariant to size)."""
    p = np.asarray(points, np.float64)[STABLE_POINTS, :3]
    d = np.linalg.norm(p[:, None] - p[None], axis=-1)[np.triu_indices(len(p), 1)]
    return d / max(d.mean(), 1e-9)


def shape_distance(a: np.ndarray, b: np.ndarray) -> float:
    """How unlike two shape descriptors are (mean relative difference; 0: the same shape)."""
    return float(np.mean(np.abs(a - b) / (0.5 * (a + b) + 1e-9)))
