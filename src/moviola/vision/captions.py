"""Captions drawn into pictures: text laid out for reading and composited, fast.

Lines are broken for reading (42 characters, two lines: :func:`moviola.media.subtitles.wrap_text`;
a line break already in the text is kept) and set in DejaVu Sans Bold (Debian's
fonts-dejavu-core) when it is installed, else Pillow's own TrueType font, ``size`` times the
picture's height, shrunk until the longest line fits inside the safe area (``margin`` of the
width and height kept clear on every side, as broadcast title-safe areas do). Two styles: text
with a dark outline, or on a translucent box. Each distinct caption is rendered once (FreeType
through Pillow) into an RGBA band and cached with what the blend needs; a frame only pays for
an alpha blend over the columns the caption covers. OpenCV's own Hershey fonts are not readable
captions, and FFmpeg's subtitles filter (libass) is not in PyAV's build: hence Pillow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moviola.errors import MoviolaError
from moviola.media.subtitles import wrap_text

FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)
LINE_SPACING = 1.25
MIN_PIXELS = 8  # smallest text height before lines are made shorter instead
BOX_ALPHA = 160  # opacity of the box style's backing (of 255)
CACHED = 16  # captions kept rendered: cues come in order, a few overlap (~4 MB each at 1080p)


@dataclass(frozen=True)
class CaptionStyle:
    size: float = 0.05  # text height, a fraction of the picture's height
    position: str = "bottom"  # or "top"
    style: str = "outline"  # or "box"
    color: tuple[int, int, int] = (255, 255, 255)
    margin: float = 0.05  # safe area kept clear on each side, a fraction of width and height
    font: str | None = None  # a .ttf/.otf file


@functools.lru_cache(maxsize=64)
def load_font(path: str | None, pixels: int) -> Any:
    """A FreeType font ``pixels`` high: ``path``, else DejaVu Sans Bold, else Pillow's own."""
    from PIL import ImageFont

    if path:
        try:
            return ImageFont.truetype(path, pixels)
        except OSError as e:
            raise MoviolaError(f"cannot use the font {path}: {e}") from None
    for candidate in FONTS:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, pixels)
    return ImageFont.load_default(size=pixels)


def _stroke(pixels: int, style: CaptionStyle) -> int:
    return max(1, round(pixels / 12)) if style.style == "outline" else 0


def _wrap(text: str, chars: int) -> list[str]:
    """Each line of ``text`` broken at ``chars`` characters (at most two lines each when it
    fits); blank lines dropped."""
    return [line for part in text.split("\n") for line in wrap_text(part, chars)]


def layout(text: str, width: int, height: int, style: CaptionStyle):
    """(lines, font, pixels, boxes): the font that makes the widest line, outline included, fit
    the safe width, shrunk down to 8 pixels; on a picture too narrow even then, the lines are
    made shorter and more."""
    safe_w = width * (1 - 2 * style.margin)
    pixels = max(MIN_PIXELS, round(style.size * height))
    chars = 42
    lines = _wrap(text, chars) or [""]
    while True:
        font = load_font(style.font, pixels)
        stroke = _stroke(pixels, style)
        boxes = [font.getbbox(line, stroke_width=stroke) for line in lines]
        widest = max(b[2] - b[0] for b in boxes)
        if widest <= safe_w:
            return lines, font, pixels, boxes
        if pixels > MIN_PIXELS:
            pixels = max(MIN_PIXELS, min(pixels - 1, int(pixels * safe_w / widest)))
        elif chars > 4:
            chars = max(4, min(chars - 1, int(chars * safe_w / widest)))
            lines = _wrap(text, chars) or [""]
        else:
            return lines, font, pixels, boxes


@functools.lru_cache(maxsize=CACHED)
def caption_band(text: str, width: int, height: int, style: CaptionStyle):
    """(RGBA uint8 band as wide as the picture, its top row) for ``text`` over a width x height
    picture: the band's bottom on the safe area's bottom edge (or its top on the top edge)."""
    from PIL import Image, ImageDraw

    lines, font, pixels, boxes = layout(text, width, height, style)
    step = round(pixels * LINE_SPACING)
    pad = max(2, round(pixels * 0.35))
    stroke = _stroke(pixels, style)
    band_h = step * len(lines) + 2 * pad
    band = Image.new("RGBA", (width, band_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    widths = [b[2] - b[0] for b in boxes]
    if style.style == "box":
        left = (width - max(widths)) // 2 - pad
        right = width - 1 - left
        draw.rectangle((max(0, left), 0, min(width - 1, right), band_h - 1), (0, 0, 0, BOX_ALPHA))
    for line, box, w, row in zip(lines, boxes, widths, range(len(lines)), strict=True):
        x = (width - w) // 2 - box[0]
        y = pad + row * step + (step - pixels) // 2
        draw.text(
            (x, y),
            line,
            font=font,
            fill=(*style.color, 255),
            stroke_width=stroke,
            stroke_fill=(0, 0, 0, 255),
        )
    if style.position == "top":
        top = round(height * style.margin)
    else:
        top = round(height * (1 - style.margin)) - band_h
    return np.asarray(band), max(0, top)


@functools.lru_cache(maxsize=CACHED)
def _overlay(text: str, width: int, height: int, style: CaptionStyle):
    """What the blend needs, once per caption: (top, left, rgb * alpha, 1 - alpha, alpha) over
    the band's rows that fall in the picture and only the columns it covers."""
    band, top = caption_band(text, width, height, style)
    rows = min(band.shape[0], height - top)
    cols = np.nonzero(band[:rows, :, 3].max(axis=0))[0] if rows > 0 else []
    if len(cols) == 0:
        return None
    left, right = int(cols[0]), int(cols[-1]) + 1
    part = band[:rows, left:right].astype(np.float32)
    alpha = part[..., 3:4] / 255.0
    return top, left, part[..., :3] * alpha, 1.0 - alpha, alpha


def draw_caption(image: np.ndarray, text: str, style: CaptionStyle) -> np.ndarray:
    """``image`` (H x W x 3 or 4; uint8, uint16 or float32 0..1) with ``text`` composited in,
    as a new array of the same dtype; where the caption is drawn, an alpha channel becomes
    opaque."""
    h, w = image.shape[:2]
    parts = _overlay(text, w, h, style)
    if parts is None:
        return image
    top, left, rgb, keep, alpha = parts
    rows, cols = keep.shape[:2]
    if image.dtype == np.uint8:
        full = 255.0
    elif image.dtype == np.uint16:
        full = 65535.0
    elif np.issubdtype(image.dtype, np.floating):
        full = 1.0
    else:
        raise TypeError(f"draw_caption: unsupported dtype {image.dtype}")
    out = image.copy()
    window = out[top : top + rows, left : left + cols]
    region = window[..., :3].astype(np.float32)
    region *= keep
    region += rgb * (full / 255.0)
    if image.shape[2] == 4:  # captions are opaque where drawn
        a = window[..., 3:4].astype(np.float32)
        a += (full - a) * alpha
        window[..., 3:4] = _cast(a, image.dtype)
    window[..., :3] = _cast(region, image.dtype)
    return out


def _cast(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        return (values + 0.5).astype(dtype)
    return values.astype(dtype)
