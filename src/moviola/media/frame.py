"""The frame that flows through moviola: an RGB(A) image and its exact time."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction

import cv2
import numpy as np

from moviola.errors import MoviolaError


@dataclass(slots=True)
class Frame:
    """One picture of a stream.

    image:    H x W x 3 (RGB) or H x W x 4 (RGBA); uint8 (0..255), uint16 (0..65535) or
              float32 (0..1).
    time:     presentation time in seconds, exact, on the timeline of the stage that holds it
              (0 is the start of the clip being made).
    duration: how long the frame is shown, exact, in seconds.
    index:    position of the source frame this came from in the decoded stream.
    """

    image: np.ndarray
    time: Fraction
    duration: Fraction
    index: int = 0
    meta: dict = field(default_factory=dict)

    @property
    def end(self) -> Fraction:
        return self.time + self.duration

    @property
    def height(self) -> int:
        return self.image.shape[0]

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def has_alpha(self) -> bool:
        return self.image.ndim == 3 and self.image.shape[2] == 4

    def with_image(self, image: np.ndarray) -> Frame:
        return replace(self, image=image)


def even(value: float) -> int:
    """A length rounded to the nearest even number (at least 2): what 4:2:0 encoders need."""
    return max(2, int(round(value / 2)) * 2)


def fit_length(value: float) -> int:
    """A computed length (a scaled width, a height kept in proportion): exact when it comes
    out whole (a 3x5 picture at scale 1 stays 3x5; the writer pads for codecs that need even
    sizes, and says so), else the nearest even number (what 4:2:0 encoders take as it is)."""
    whole = round(value)
    if abs(value - whole) < 1e-9:
        return max(1, int(whole))
    return even(value)


# The largest frame moviola reads or makes: 16384 pixels a side (16K), 2**27 pixels in all
# (16384x8192). Larger pictures are refused with one line rather than run out of memory.
MAX_SIDE = 16384
MAX_PIXELS = 2**27


def check_size(width: int, height: int, what: str) -> None:
    """Refuse a picture size that is unknown (0), or larger than moviola handles; ``what``
    names the file or the effect in the one-line message."""
    if width <= 0 or height <= 0:
        raise MoviolaError(
            f"{what}: the picture size is unreadable ({width}x{height}): the header is damaged "
            "or claims a size too large to decode"
        )
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise MoviolaError(
            f"{what}: {width}x{height} is larger than moviola handles (at most {MAX_SIDE} "
            f"pixels a side and {MAX_PIXELS // 1_000_000} megapixels)"
        )


def cover(
    image: np.ndarray, size: tuple[int, int], *, enlarge: int = cv2.INTER_LINEAR
) -> np.ndarray:
    """Resize to fill ``size`` (w, h), keeping the aspect ratio, and crop the overflow centred.

    Area interpolation when reducing, ``enlarge`` (bilinear by default) when enlarging.
    """
    w, h = size
    ih, iw = image.shape[:2]
    if (iw, ih) == (w, h):
        return image
    scale = max(w / iw, h / ih)
    sw, sh = max(w, math.ceil(iw * scale - 1e-9)), max(h, math.ceil(ih * scale - 1e-9))
    interp = cv2.INTER_AREA if scale < 1 else enlarge
    big = cv2.resize(image, (sw, sh), interpolation=interp)
    x, y = (sw - w) // 2, (sh - h) // 2
    return np.ascontiguousarray(big[y : y + h, x : x + w])


def contain(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """Resize to fit inside ``size`` (w, h), keeping the aspect ratio; returns the picture and
    its offset (x, y) in a canvas of ``size`` (the caller pads)."""
    w, h = size
    ih, iw = image.shape[:2]
    scale = min(w / iw, h / ih)
    sw, sh = max(1, round(iw * scale)), max(1, round(ih * scale))
    if (sw, sh) != (iw, ih):
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LANCZOS4
        image = cv2.resize(image, (sw, sh), interpolation=interp)
    return image, ((w - sw) // 2, (h - sh) // 2)


def to_float(image: np.ndarray) -> np.ndarray:
    """Any supported dtype to float32 in 0..1."""
    if image.dtype == np.float32:
        return image
    if image.dtype == np.uint8:
        return image.astype(np.float32) * np.float32(1 / 255)
    if image.dtype == np.uint16:
        return image.astype(np.float32) * np.float32(1 / 65535)
    return image.astype(np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Any supported dtype to uint8 (rounded, clipped)."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def to_uint16(image: np.ndarray) -> np.ndarray:
    """Any supported dtype to uint16 (rounded, clipped)."""
    if image.dtype == np.uint16:
        return image
    if image.dtype == np.uint8:
        return image.astype(np.uint16) * 257
    return np.clip(image * 65535.0 + 0.5, 0, 65535).astype(np.uint16)


def like(image: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Convert an image to the given dtype using the conventions above."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return to_uint8(image)
    if dtype == np.uint16:
        return to_uint16(image)
    return to_float(image)


@dataclass(frozen=True)
class ColorTags:
    """FFmpeg color tags (numeric, libavutil/pixfmt.h) of a stream, carried from input to output."""

    range: int = 1  # 1 = limited ("tv"), 2 = full ("pc")
    space: int = 1  # matrix: 1 = bt709, 5/6 = bt601, 9 = bt2020nc
    primaries: int = 1
    transfer: int = 1

    @property
    def swscale_space(self) -> str:
        """The matrix name swscale uses for RGB <-> YUV conversion."""
        return {
            1: "itu709",
            4: "fcc",
            5: "itu601",
            6: "itu601",
            7: "smpte240m",
            9: "bt2020",
            10: "bt2020",
        }.get(self.space, "itu709")

    @property
    def swscale_range(self) -> str:
        return "JPEG" if self.range == 2 else "MPEG"

    @classmethod
    def guess(
        cls, height: int, range_: int = 0, space: int = 2, primaries: int = 2, transfer: int = 2
    ) -> ColorTags:
        """Fill unspecified tags as players do: BT.709 for HD, BT.601 for SD, limited range."""
        sd = height < 720
        default_space = 6 if sd else 1
        default_prim = 6 if sd else 1
        return cls(
            range=range_ if range_ in (1, 2) else 1,
            space=space if space not in (0, 2) and space in _KNOWN_SPACES else default_space,
            primaries=primaries if primaries not in (0, 2) else default_prim,
            transfer=transfer if transfer not in (0, 2) else (6 if sd else 1),
        )


_KNOWN_SPACES = {1, 4, 5, 6, 7, 9, 10}


@dataclass(frozen=True)
class StreamInfo:
    """What a stage of the pipeline produces: the frames' geometry, rate and format."""

    width: int
    height: int
    rate: Fraction  # nominal frame rate (exact)
    time_base: Fraction  # tick in which frame times are exact
    variable_rate: bool = False
    alpha: bool = False
    dtype: str = "uint8"
    frames: int | None = None  # expected count, for progress; None when unknown
    duration: Fraction | None = None
    bit_depth: int = 8
    color: ColorTags = ColorTags()

    def evolve(self, **changes) -> StreamInfo:
        return replace(self, **changes)
