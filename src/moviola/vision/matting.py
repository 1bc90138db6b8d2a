"""Matting helpers: what turns a model's alpha into a clean composite.

:func:`guided_upsample` brings a low-resolution alpha to the frame's size along the frame's
edges (the fast guided filter of vision/filters.py); :func:`estimate_foreground` takes the old
background's colour out of the subject's edges (blur fusion); :func:`blur_behind` blurs the
background without the subject's colours haloing into it.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from moviola.media.frame import to_float
from moviola.vision.filters import guided_filter


def guided_upsample(
    alpha_small: np.ndarray, image: np.ndarray, work: int = 512, radius: int = 3, eps: float = 1e-3
) -> np.ndarray:
    """Bring a low-resolution alpha to the frame's size along the frame's edges.

    Fast guided filter (He & Sun, vision/filters.py): the linear coefficients are fitted at
    ``work`` px on the long side, with the frame's luma as guide, in windows at least as wide as
    one low-resolution pixel, then upsampled and applied at full resolution.
    """
    h, w = image.shape[:2]
    grey = to_float(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    scale = min(1.0, work / max(h, w))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    p = cv2.resize(alpha_small, (sw, sh), interpolation=cv2.INTER_LINEAR)
    # the window must span the ramp that upsampling made of each low-resolution step
    radius = max(radius, math.ceil(max(sw, sh) / max(alpha_small.shape)))
    # guided_filter takes the radius in full-resolution pixels
    return np.clip(guided_filter(grey, p, radius / scale, eps, work=work), 0, 1)


def estimate_foreground(
    image: np.ndarray, alpha: np.ndarray, at: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Foreground colour without the background's spill, from the image and its alpha.

    Blur-fusion estimate (Forte & Pitie, 2021): local means of foreground and background,
    weighted by alpha, then the compositing equation solved for F; a wide pass then a narrow
    one. The local means are taken at no more than 640 and 1280 px on the long side (they are
    smooth); only the last step, which brings back the detail, runs at full resolution, and
    with ``at`` (rows, columns) only at those pixels: the result is then N x 3.
    """
    h, w = image.shape[:2]
    fg = bg = None
    for limit, radius in ((640, 30), (1280, 3)):
        scale = min(1.0, limit / max(h, w))
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        img_s = to_float(_resize(image, size, cv2.INTER_AREA))
        a_s = _resize(alpha, size, cv2.INTER_AREA)[..., None]
        fg_s = img_s if fg is None else _resize(fg, size, cv2.INTER_LINEAR)
        bg_s = img_s if bg is None else _resize(bg, size, cv2.INTER_LINEAR)
        k = (2 * radius + 1, 2 * radius + 1)
        blur_a = cv2.blur(a_s[..., 0], k)[..., None]
        fg = cv2.blur(fg_s * a_s, k) / (blur_a + 1e-5)
        bg = cv2.blur(bg_s * (1 - a_s), k) / ((1 - blur_a) + 1e-5)
        if limit == 640:
            fg = np.clip(fg + a_s * (img_s - a_s * fg - (1 - a_s) * bg), 0, 1)
    if at is None:
        fg = _resize(fg, (w, h), cv2.INTER_LINEAR)
        bg = _resize(bg, (w, h), cv2.INTER_LINEAR)
        a, img = alpha[..., None], to_float(image)
    else:
        ys, xs = at
        fg, bg = _sample(fg, ys, xs, (w, h)), _sample(bg, ys, xs, (w, h))
        a, img = alpha[ys, xs][:, None], to_float(image[ys, xs])
    return np.clip(fg + a * (img - a * fg - (1 - a) * bg), 0, 1)


def _sample(image: np.ndarray, ys: np.ndarray, xs: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear samples (N x C) of a smaller image at full-size pixel positions."""
    if len(ys) == 0:
        return np.zeros((0, image.shape[2]), np.float32)
    n = len(ys)
    rows = -(-n // 1024)  # remap's output is at most 32767 on a side: lay the points in rows
    sy, sx = image.shape[0] / size[1], image.shape[1] / size[0]
    map_x = np.zeros(rows * 1024, np.float32)
    map_y = np.zeros(rows * 1024, np.float32)
    map_x[:n] = (xs + 0.5) * sx - 0.5
    map_y[:n] = (ys + 0.5) * sy - 0.5
    out = cv2.remap(
        image,
        map_x.reshape(rows, 1024),
        map_y.reshape(rows, 1024),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return out.reshape(rows * 1024, -1)[:n]


def _resize(image: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    if image.shape[1] == size[0] and image.shape[0] == size[1]:
        return image
    return cv2.resize(image, size, interpolation=interpolation)


def blur_behind(image: np.ndarray, alpha: np.ndarray, sigma: float) -> np.ndarray:
    """The frame blurred with the subject left out (normalised convolution), so the subject's
    colours do not halo into the blurred background."""
    h, w = image.shape[:2]
    factor = max(1, int(sigma // 3))
    sw, sh = max(1, w // factor), max(1, h // factor)
    small = to_float(cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA))
    keep = 1 - cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA)
    s = sigma / factor
    num = cv2.GaussianBlur(small * keep[..., None], (0, 0), s)
    den = cv2.GaussianBlur(keep, (0, 0), s)[..., None]
    plain = cv2.GaussianBlur(small, (0, 0), s)
    weight = np.clip(den / 0.05, 0, 1)  # where all around is subject, fall back to plain blur
    back = np.asarray(weight * num / np.maximum(den, 1e-4) + (1 - weight) * plain, np.float32)
    return cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR)
