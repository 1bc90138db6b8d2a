"""Edge-aware propagation of sparse values (Levin, Lischinski & Weiss 2004, "Colorization using
optimization"): neighbouring pixels of similar lightness get similar values, a sparse linear
system solved with scipy. colorize spreads colour hints with it."""

from __future__ import annotations

import math

import cv2
import numpy as np


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
    rhs = [lam * target[..., c].astype(np.float64).ravel() for c in range(2)]
    if x0 is None:
        lu = splu(system, permc_spec="MMD_AT_PLUS_A")
        solutions = [lu.solve(r) for r in rhs]
    else:  # warm start from the previous frame's chroma: a few iterations suffice
        pre = sp.diags(1 / (degree + lam))
        starts = [x0[..., c].astype(np.float64).ravel() for c in range(2)]
        solutions = [
            cg(system, r, x0=s0, rtol=1e-4, maxiter=100, M=pre)[0]
            for r, s0 in zip(rhs, starts, strict=True)
        ]
    out = np.empty((h, w, 2), np.float32)
    for c, sol in enumerate(solutions):
        out[..., c] = sol.reshape(h, w)
    return out
