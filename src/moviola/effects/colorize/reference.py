"""colorize from reference pictures: chroma for a gray image by nearest neighbours in a feature
space of lightness, local texture and position (Welsh et al. 2002, with a k-d tree)."""

from __future__ import annotations

import cv2
import numpy as np

from moviola.vision.color import rgb_to_lab

_K = 4  # neighbours per pixel in the reference search (approximate: eps 1)


def _features(lum: np.ndarray, locality: float) -> np.ndarray:
    """Per-pixel feature vectors (H*W x 6) of a lightness image (0..100) at working size."""
    h, w = lum.shape
    x = lum / 100
    feats = [x]
    for radius, weight in ((2, 1.0), (6, 0.5)):
        k = (2 * radius + 1, 2 * radius + 1)
        mean = cv2.blur(x, k, borderType=cv2.BORDER_REFLECT)
        sq = cv2.blur(x * x, k, borderType=cv2.BORDER_REFLECT)
        std = np.sqrt(np.maximum(sq - mean * mean, 0))
        feats += [mean * weight, std * 2 * weight]
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    span = float(max(h, w))
    feats += [gx / span * 0.25 * locality, gy / span * 0.25 * locality]
    return np.stack(feats, axis=-1).reshape(-1, len(feats))


class ReferenceMatcher:
    """Chroma for a gray image from colour references, by nearest neighbours in a feature
    space of lightness, local texture and position (Welsh et al. 2002, with a k-d tree)."""

    def __init__(self, references: list[np.ndarray], wsize: tuple[int, int], locality: float):
        from scipy.spatial import KDTree

        self.locality = locality
        feats, chroma, lums = [], [], []
        budget = max(20_000, 120_000 // len(references))
        for ref in references:
            rh, rw = ref.shape[:2]
            # the same working scale as the frames (long side), keeping the reference's aspect
            scale = max(wsize) / max(rh, rw)
            size = (max(8, round(rw * scale)), max(8, round(rh * scale)))
            lab = rgb_to_lab(cv2.resize(ref, size, interpolation=cv2.INTER_AREA))
            lums.append(lab[..., 0].ravel())
            f = _features(lab[..., 0], locality)
            ab = lab[..., 1:].reshape(-1, 2)
            if len(f) > budget:
                pick = np.random.default_rng(0).choice(len(f), budget, replace=False)
                f, ab = f[pick], ab[pick]
            feats.append(f)
            chroma.append(ab)
        allf = np.concatenate(feats)
        self.chroma = np.concatenate(chroma).astype(np.float32)
        lum = np.concatenate(lums)
        self.ref_mean, self.ref_std = float(lum.mean()), float(lum.std())
        self.tree = KDTree(allf, leafsize=16)  # (cKDTree's leaf size: the same tree)
        self._remap: tuple[float, float] | None = None
        self.sigma = 0.03

    def __call__(self, lum: np.ndarray) -> np.ndarray:
        if self._remap is None:  # once, on the first frame: the same mapping for every frame
            std = float(lum.std())
            gain = float(np.clip(self.ref_std / max(std, 1e-3), 0.5, 2.0))
            self._remap = (gain, self.ref_mean - gain * float(lum.mean()))
        gain, offset = self._remap
        h, w = lum.shape
        feats = _features(lum * gain + offset, self.locality)
        dist, idx = self.tree.query(feats, k=_K, eps=1.0, workers=-1)
        wts = np.exp(-((dist - dist[:, :1]) ** 2) / (2 * self.sigma**2)).astype(np.float32)
        ab = (self.chroma[idx] * wts[..., None]).sum(axis=1) / wts.sum(axis=1, keepdims=True)
        return ab.reshape(h, w, 2)
