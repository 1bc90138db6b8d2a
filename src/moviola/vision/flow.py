"""Dense optical flow (OpenCV's DIS) and flow-based warping, for carrying colors, styles and
depth along motion.

Conventions: a flow field is H x W x 2 float32 (dx, dy) in pixels. ``flow(a, b)`` gives, for each
pixel of ``a``, where it moved to in ``b``. To bring an image ``x`` that lives on frame ``a``'s
grid onto frame ``b``, compute ``flow(b, a)`` (backward flow) and ``warp(x, that)``.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from moviola.media.frame import to_uint8

_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


def gray(image: np.ndarray) -> np.ndarray:
    """8-bit luma of an RGB(A) or gray image of any moviola dtype."""
    image = to_uint8(image)
    if image.ndim == 2:
        return image
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)


class FlowEstimator:
    """DIS optical flow with a fixed preset; reuse one instance per stream (not thread-safe)."""

    def __init__(self, preset: str = "medium") -> None:
        self._dis = cv2.DISOpticalFlow.create(_PRESETS[preset])
        self._dis.setUseSpatialPropagation(True)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Flow from ``a`` to ``b`` (gray uint8 or RGB of any dtype, same size)."""
        ga = a if a.ndim == 2 and a.dtype == np.uint8 else gray(a)
        gb = b if b.ndim == 2 and b.dtype == np.uint8 else gray(b)
        return np.asarray(self._dis.calc(ga, gb, None))  # pyright: ignore[reportCallIssue, reportArgumentType] - OpenCV stubs omit the optional initial flow


def warp(
    image: np.ndarray,
    flow: np.ndarray,
    *,
    border: int = cv2.BORDER_REPLICATE,
    interpolation: int = cv2.INTER_LINEAR,
) -> np.ndarray:
    """Backward warp: out[y, x] = image[y + flow_y, x + flow_x]."""
    gx, gy = pixel_grid(*flow.shape[:2])
    return cv2.remap(image, gx + flow[..., 0], gy + flow[..., 1], interpolation, borderMode=border)


@functools.lru_cache(maxsize=8)
def pixel_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """x and y coordinates of every pixel of an h x w picture, float32, read-only (made once
    per size: warps run every frame)."""
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    gx.flags.writeable = gy.flags.writeable = False
    return gx, gy


def consistency(forward: np.ndarray, backward: np.ndarray, tolerance: float = 1.0) -> np.ndarray:
    """Where forward and backward flow agree (float32 mask, 1 = reliable, 0 = occluded).

    ``forward`` is flow(a, b), ``backward`` is flow(b, a); the mask lives on ``b``'s grid: a pixel
    of ``b`` is reliable when going back to ``a`` and forward again lands where it started.
    """
    there = warp(forward, backward)
    error = np.linalg.norm(backward + there, axis=2)
    scale = tolerance + 0.05 * (np.linalg.norm(backward, axis=2) + np.linalg.norm(there, axis=2))
    return (error <= scale).astype(np.float32)
