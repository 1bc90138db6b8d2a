"""Still frames for the page: thumbnails and the before/after comparison (JPEG)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError

_CACHE: OrderedDict[tuple, bytes] = OrderedDict()
_CACHE_SIZE = 96
_LOCK = threading.Lock()


def _checkerboard(h: int, w: int, size: int = 12) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    board = (((y // size) + (x // size)) % 2).astype(np.float32)
    return (150 + 60 * board)[..., None].repeat(3, axis=2)


def to_rgb8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    if image.shape[2] == 4:  # show transparency over a checkerboard
        alpha = image[..., 3:4].astype(np.float32) / 255
        board = _checkerboard(*image.shape[:2])
        image = (image[..., :3] * alpha + board * (1 - alpha) + 0.5).astype(np.uint8)
    return image


def frame_at(path: str | Path, seconds: float, width: int = 640, quality: int = 82) -> bytes:
    """A JPEG of the frame shown at ``seconds`` (from the clip's first frame), at most ``width``
    pixels wide. Past the end gives the last frame."""
    from moviola.media import VideoReader, probe

    path = Path(path)
    stat = path.stat()
    width = max(16, min(int(width), 3840))
    key = (str(path), stat.st_mtime_ns, stat.st_size, round(float(seconds), 3), width)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    info = probe(path)
    if not info.video:
        raise MoviolaError(f"no video stream in {path.name}")
    video = info.video[0]
    t = max(0.0, float(seconds))
    duration = (
        float(video.duration)
        if video.duration
        else (float(info.duration) if info.duration else None)
    )
    step = 1.0 / float(video.rate) if video.rate else 0.04
    if duration is not None and t > duration - step:
        t = max(0.0, duration - step)
    image = None
    for attempt in (t, max(0.0, t - 4 * step), 0.0):
        try:
            with VideoReader(path, start=Fraction(attempt).limit_denominator(100000)) as reader:
                for frame in reader:
                    image = frame.image
                    break
        except MoviolaError:
            image = None
        if image is not None:
            break
    if image is None:
        raise MoviolaError(f"no frame at {seconds:.3f} s in {path.name}")
    image = to_rgb8(image)
    h, w = image.shape[:2]
    if w > width:
        image = cv2.resize(
            image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA
        )
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    )
    if not ok:
        raise MoviolaError("could not encode the frame")
    out = data.tobytes()
    with _LOCK:
        _CACHE[key] = out
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return out
