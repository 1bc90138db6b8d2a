"""Colour spaces, colour differences and colour transfer, shared by ``colorize`` and ``recolor``.

Conventions: RGB images are float32 in 0..1 (sRGB-encoded). CIELAB is OpenCV's float Lab (D65):
L in 0..100, a and b roughly -128..127. Oklab (Ottosson 2020) has L in 0..1, a and b about
-0.4..0.4. All functions take H x W x 3 images or N x 3 arrays of colours.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from moviola.vision.filters import guided_filter as guided_filter  # re-exported: one implementation

# -- colour spaces --------------------------------------------------------------------------------


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (float 0..1) to CIELAB (L 0..100)."""
    return _cvt(rgb, cv2.COLOR_RGB2Lab)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB to sRGB float 0..1 (clipped)."""
    return np.clip(_cvt(lab, cv2.COLOR_Lab2RGB), 0, 1)


def _cvt(image: np.ndarray, code: int) -> np.ndarray:
    arr = np.ascontiguousarray(image, np.float32)
    if arr.ndim == 2:  # N x 3 colours
        return cv2.cvtColor(arr[None], code)[0]
    return cv2.cvtColor(arr, code)


def gray_lightness(gray: np.ndarray) -> np.ndarray:
    """CIELAB L (0..100) of a gray image (float 0..1): the lightness of (g, g, g)."""
    lin = np.where(gray <= 0.04045, gray / 12.92, ((gray + 0.055) / 1.055) ** 2.4)
    f = np.where(lin > (6 / 29) ** 3, np.cbrt(lin), lin / (3 * (6 / 29) ** 2) + 4 / 29)
    return (116 * f - 16).astype(np.float32)


_M1 = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ],
    np.float32,
)
_M2 = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ],
    np.float32,
)
_M1_INV = np.linalg.inv(_M1.astype(np.float64)).astype(np.float32)
_M2_INV = np.linalg.inv(_M2.astype(np.float64)).astype(np.float32)


def _to_linear(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, np.float32)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((np.maximum(rgb, 0) + 0.055) / 1.055) ** 2.4)


def _to_srgb(lin: np.ndarray) -> np.ndarray:
    lin = np.maximum(lin, 0)
    return np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)


def rgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (float 0..1) to Oklab."""
    lms = _to_linear(rgb) @ _M1.T
    return (np.cbrt(lms) @ _M2.T).astype(np.float32)


def oklab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Oklab to sRGB float 0..1 (clipped)."""
    lms = (np.asarray(lab, np.float32) @ _M2_INV.T) ** 3
    return np.clip(_to_srgb(lms @ _M1_INV.T), 0, 1).astype(np.float32)


# -- colour differences ---------------------------------------------------------------------------


def delta_e76(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.asarray(lab1, np.float64) - lab2, axis=-1)


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005 formulation), element-wise."""
    lab1 = np.asarray(lab1, np.float64)
    lab2 = np.asarray(lab2, np.float64)
    L1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    L2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    cm7 = ((c1 + c2) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(cm7 / (cm7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dL = L2 - L1
    dC = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0, dh)
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    Lm = (L1 + L2) / 2
    cm = (c1p + c2p) / 2
    hsum = h1p + h2p
    hm = np.where(
        np.abs(h1p - h2p) <= 180, hsum / 2, np.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2)
    )
    hm = np.where(c1p * c2p == 0, hsum, hm)
    t = (
        1
        - 0.17 * np.cos(np.radians(hm - 30))
        + 0.24 * np.cos(np.radians(2 * hm))
        + 0.32 * np.cos(np.radians(3 * hm + 6))
        - 0.20 * np.cos(np.radians(4 * hm - 63))
    )
    d_theta = 30 * np.exp(-(((hm - 275) / 25) ** 2))
    cm7p = cm**7
    rc = 2 * np.sqrt(cm7p / (cm7p + 25.0**7))
    sl = 1 + 0.015 * (Lm - 50) ** 2 / np.sqrt(20 + (Lm - 50) ** 2)
    sc = 1 + 0.045 * cm
    sh = 1 + 0.015 * cm * t
    rt = -np.sin(np.radians(2 * d_theta)) * rc
    return np.sqrt((dL / sl) ** 2 + (dC / sc) ** 2 + (dH / sh) ** 2 + rt * (dC / sc) * (dH / sh))


# -- colour transfer ------------------------------------------------------------------------------


class ColorStats:
    """Mean, covariance and per-channel quantiles of a set of colours (N x 3), accumulated
    over several images (a clip's sampled frames)."""

    QUANTILES = np.linspace(0, 1, 257)

    def __init__(self) -> None:
        self._samples: list[np.ndarray] = []

    def add(self, pixels: np.ndarray, limit: int = 60_000, seed: int = 0) -> None:
        pixels = np.asarray(pixels, np.float32).reshape(-1, 3)
        if len(pixels) > limit:
            pick = np.random.default_rng(seed).choice(len(pixels), limit, replace=False)
            pixels = pixels[pick]
        self._samples.append(pixels)

    def freeze(self) -> ColorStats:
        data = np.concatenate(self._samples).astype(np.float64)
        self.count = len(data)
        self.mean = data.mean(axis=0)
        self.cov = np.cov(data, rowvar=False) + np.eye(3) * 1e-9
        self.std = np.sqrt(np.diag(self.cov))
        self.quantiles = np.quantile(data, self.QUANTILES, axis=0)  # 257 x 3
        if len(data) > 100_000:
            data = data[np.random.default_rng(1).choice(len(data), 100_000, replace=False)]
        self.samples = data
        self._samples = []
        return self


def mkl_transform(source: ColorStats, target: ColorStats) -> tuple[np.ndarray, np.ndarray]:
    """The linear map x -> T (x - mu_s) + mu_t taking the source's Gaussian onto the target's
    with the least displacement (Monge-Kantorovich, Pitie & Kokaram 2007). Returns (T, offset)
    with y = x @ T.T + offset."""
    a, b = source.cov, target.cov
    sa = _sqrtm(a)
    sa_inv = np.linalg.inv(sa)
    middle = _sqrtm(sa @ b @ sa)
    t = sa_inv @ middle @ sa_inv
    return t, target.mean - t @ source.mean


def _sqrtm(m: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh((m + m.T) / 2)
    return (vecs * np.sqrt(np.maximum(vals, 1e-12))) @ vecs.T


def histogram_lut(source: ColorStats, target: ColorStats, channel: int):
    """Per-channel CDF matching as (xp, fp) for np.interp: source quantiles to target's."""
    xp = source.quantiles[:, channel]
    fp = target.quantiles[:, channel]
    xp, idx = np.unique(xp, return_index=True)
    return xp, fp[idx]


class DistributionTransfer:
    """Iterative distribution transfer (Pitie, Kokaram & Dahyot 2005): the colour distribution
    of the source is moved onto the target's, not just channel by channel: at each step the
    colours are seen along three rotated axes and each axis's histogram is matched (CDF). The
    steps are learnt once from samples of both; applying them is a few matrix products and table
    look-ups per pixel."""

    TABLE = 4096

    def __init__(self, source: np.ndarray, target: np.ndarray, steps: int = 8) -> None:
        rng = np.random.default_rng(7)
        x = np.asarray(source, np.float64)
        y = np.asarray(target, np.float64)
        q = np.linspace(0, 1, 513)
        self.steps = []
        for k in range(steps):
            rot = np.eye(3) if k == 0 else np.linalg.qr(rng.normal(size=(3, 3)))[0]
            px, py = x @ rot, y @ rot
            tables = []
            for c in range(3):
                xq, yq = np.quantile(px[:, c], q), np.quantile(py[:, c], q)
                xq, idx = np.unique(xq, return_index=True)
                lo, hi = float(xq[0]), float(xq[-1])
                step = max(hi - lo, 1e-9) / (self.TABLE - 1)
                table = np.interp(lo + step * np.arange(self.TABLE), xq, yq[idx])
                tables.append((lo, 1 / step, table.astype(np.float32)))
                px[:, c] = np.interp(px[:, c], xq, yq[idx])
            x = px @ rot.T
            self.steps.append((rot.astype(np.float32), tables))

    def __call__(self, colours: np.ndarray) -> np.ndarray:
        shape = colours.shape
        x = np.asarray(colours, np.float32).reshape(-1, 3)
        for rot, tables in self.steps:
            p = x @ rot
            for c, (lo, inv, table) in enumerate(tables):
                pos = np.clip((p[:, c] - lo) * inv + 0.5, 0, self.TABLE - 1).astype(np.int32)
                p[:, c] = table[pos]
            x = p @ rot.T
        return x.reshape(shape)


def match_histograms(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-channel histogram matching of ``image`` onto ``reference`` (both H x W x C float)."""
    out = np.empty_like(image, dtype=np.float32)
    q = np.linspace(0, 1, 1025)
    for c in range(image.shape[2]):
        src = image[..., c].ravel()
        sq = np.quantile(src, q)
        rq = np.quantile(reference[..., c].ravel(), q)
        sq, idx = np.unique(sq, return_index=True)
        if len(sq) == 1:
            out[..., c] = np.interp(0.5, q, rq)
            continue
        # ranks of the source values (quantile position), then the reference's value there
        pos = np.interp(src, sq, q[idx])
        out[..., c] = np.interp(pos, q, rq).reshape(image.shape[:2])
    return out


def hue_distance(h1: np.ndarray | float, h2: np.ndarray | float) -> np.ndarray:
    """Absolute angular distance in degrees, 0..180."""
    d = np.abs((np.asarray(h1) - h2 + 180) % 360 - 180)
    return d


def hue_of(rgb: tuple[int, int, int]) -> tuple[float, float]:
    """(hue in degrees, chroma) of an 8-bit RGB colour in Oklab."""
    lab = rgb_to_oklab(np.array([rgb], np.float32) / 255)[0]
    return math.degrees(math.atan2(lab[2], lab[1])) % 360, float(math.hypot(lab[1], lab[2]))


class Lut3D:
    """A colour function baked into a 3D table over the RGB cube, applied with trilinear
    interpolation: any per-pixel colour transform (transfer, hue shift) then costs the same,
    a few table look-ups per pixel, whatever its own cost."""

    def __init__(self, function, size: int = 65) -> None:
        axis = np.linspace(0, 1, size, dtype=np.float32)
        r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
        grid = np.stack([r, g, b], axis=-1).reshape(-1, 1, 3)  # N x 1 x 3: an "image"
        self.size = size
        self.table = np.ascontiguousarray(function(grid).reshape(-1, 3), np.float32)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        n = self.size
        shape = rgb.shape
        x = np.clip(np.asarray(rgb, np.float32).reshape(-1, 3), 0, 1) * (n - 1)
        i0 = np.minimum(x.astype(np.int32), n - 2)
        f = x - i0
        base = (i0[:, 0] * n + i0[:, 1]) * n + i0[:, 2]
        out = np.zeros((len(x), 3), np.float32)
        for dr in (0, 1):
            wr = f[:, 0] if dr else 1 - f[:, 0]
            for dg in (0, 1):
                wg = wr * (f[:, 1] if dg else 1 - f[:, 1])
                for db in (0, 1):
                    w = wg * (f[:, 2] if db else 1 - f[:, 2])
                    out += self.table[base + (dr * n + dg) * n + db] * w[:, None]
        return np.clip(out, 0, 1).reshape(shape)
