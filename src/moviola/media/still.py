"""Still pictures given as parameters (reference images, keyframes, backgrounds, face photos)."""

from __future__ import annotations

import os

import cv2
import numpy as np

from moviola.errors import MoviolaError


def read_rgb(path: str | os.PathLike, what: str = "image", *, deep: bool = False) -> np.ndarray:
    """The picture at ``path`` as RGB: uint8, or uint16 for a 16-bit file when ``deep``.

    Reads any format OpenCV decodes (PNG, JPEG, TIFF, WebP, BMP...), from any path (non-ASCII
    names too). A file that is missing or not a picture raises MoviolaError naming ``what``.
    """
    try:
        data = np.fromfile(str(path), np.uint8)
    except OSError:
        raise MoviolaError(f"cannot read the {what} {path}: no such file") from None
    flags = cv2.IMREAD_COLOR | (cv2.IMREAD_ANYDEPTH if deep else 0)
    image = cv2.imdecode(data, flags) if data.size else None
    if image is None:
        raise MoviolaError(f"cannot read the {what} {path}: not a picture")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
