"""Still pictures given as parameters (reference images, keyframes, backgrounds, face photos)."""

from __future__ import annotations

import os

import av
import cv2
import numpy as np
from av.error import FFmpegError

from moviola.errors import MoviolaError
from moviola.media.frame import check_size


def picture_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """Width and height as the file's header gives them (FFmpeg reads only the header and the
    first picture's parameters); (0, 0) when FFmpeg knows the format but cannot take the size
    (damaged, or larger than it decodes); None when FFmpeg does not read the file."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            cc = container.streams.video[0].codec_context
            return int(cc.width or 0), int(cc.height or 0)
    except (FFmpegError, OSError, ValueError):
        return None


def read_rgb(path: str | os.PathLike, what: str = "image", *, deep: bool = False) -> np.ndarray:
    """The picture at ``path`` as RGB: uint8, or uint16 for a 16-bit file when ``deep``.

    Reads any format OpenCV decodes (PNG, JPEG, TIFF, WebP, BMP...), from any path (non-ASCII
    names too). A file that is missing or not a picture, or whose header claims a size that is
    zero or larger than moviola handles (``media.frame.MAX_SIDE``), raises MoviolaError naming
    ``what``; the size is checked before anything is decoded.
    """
    flags = cv2.IMREAD_COLOR | (cv2.IMREAD_ANYDEPTH if deep else 0)
    return cv2.cvtColor(_decode(path, what, flags), cv2.COLOR_BGR2RGB)


def read_image(path: str | os.PathLike, what: str = "image") -> np.ndarray:
    """The picture at ``path`` with the file's own channels and depth: grey (H x W), RGB
    (H x W x 3) or RGBA (H x W x 4, straight alpha); uint8, uint16 for 16-bit files (16-bit
    grey depth maps, for example), float32 for floating-point ones. Errors as :func:`read_rgb`.
    """
    image = _decode(path, what, cv2.IMREAD_UNCHANGED)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return image


def _decode(path: str | os.PathLike, what: str, flags: int) -> np.ndarray:
    """OpenCV's decoding of the file (BGR order), its size checked first."""
    if not os.path.isfile(path):
        raise MoviolaError(f"cannot read the {what} {path}: no such file")
    size = picture_size(path)
    if size is not None:
        check_size(*size, f"the {what} {path}")
    try:
        data = np.fromfile(str(path), np.uint8)
    except OSError:
        raise MoviolaError(f"cannot read the {what} {path}: no such file") from None
    try:
        image = cv2.imdecode(data, flags) if data.size else None
    except cv2.error:  # OpenCV's own size limit, or a header it refuses
        image = None
    if image is None:
        raise MoviolaError(f"cannot read the {what} {path}: not a picture")
    check_size(image.shape[1], image.shape[0], f"the {what} {path}")
    return image
