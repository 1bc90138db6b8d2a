"""Box and guided filters: the one implementation every effect and vision module uses."""

from __future__ import annotations

import cv2
import numpy as np


def box(image: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1) x (2r+1) window, edges reflected."""
    k = 2 * radius + 1
    return cv2.blur(image, (k, k), borderType=cv2.BORDER_REFLECT)


def guided_filter(
    guide: np.ndarray, src: np.ndarray, radius: float, eps: float, work: int | None = None
) -> np.ndarray:
    """Edge-aware smoothing of ``src`` (H x W or H x W x C) along the edges of a gray ``guide``
    (He et al.); with ``work`` the coefficients are fitted at most ``work`` px on the long side
    (fast guided filter, He & Sun) and applied at full resolution. ``src`` may be smaller than
    ``guide``: it is brought to the guide's size first (joint upsampling). ``radius`` is in
    full-resolution pixels."""
    h, w = guide.shape[:2]
    guide = guide.astype(np.float32)
    scale = 1.0 if work is None else min(1.0, work / max(h, w))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    g = cv2.resize(guide, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1 else guide
    p = src.astype(np.float32)
    if p.shape[:2] != (sh, sw):
        interp = cv2.INTER_AREA if p.shape[0] > sh else cv2.INTER_LINEAR
        p = cv2.resize(p, (sw, sh), interpolation=interp)
    r = max(1, round(radius * scale))
    gg = g[..., None] if p.ndim == 3 else g
    mean_g, mean_p = box(g, r), box(p, r)
    mg = mean_g[..., None] if p.ndim == 3 else mean_g
    cov = box(gg * p, r) - mg * mean_p
    var = box(g * g, r) - mean_g * mean_g
    var = var[..., None] if p.ndim == 3 else var
    a = cov / (var + eps)
    b = mean_p - a * mg
    a, b = box(a, r), box(b, r)
    if (sw, sh) != (w, h):
        a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    full = guide[..., None] if a.ndim == 3 else guide
    return a * full + b
