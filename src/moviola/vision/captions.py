"""Captions drawn into pictures: text laid out for reading and composited, fast.

Lines are broken for reading (42 characters, two lines: :func:`moviola.media.subtitles.wrap_text`)
and set in DejaVu Sans Bold (Debian's fonts-dejavu-core) when it is installed, else Pillow's own
TrueType font, ``size`` times the picture's height, shrunk until the longest line fits inside
the safe area (``margin`` of the width and height kept clear on every side, as broadcast
title-safe areas do). Two styles: white text with a dark outline, or on a translucent box.
Each distinct caption is rendered once (FreeType through Pillow) into an RGBA band and cached;
a frame only pays for an alpha blend of that band. OpenCV's own Hershey fonts are not readable
captions, and FFmpeg's subtitles filter (libass) is not in PyAV's build: hence Pillow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moviola.errors import MoviolaError
from moviola.media.subtitles import wrap_text

FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)
LINE_SPACING = 1.25


@dataclass(frozen=True)
class CaptionStyle:
    size: float = 0.05  # text height, a fraction of the picture's height
    position: str = "bottom"  # or "top"
    style: str = "outline"  # or "box"
    color: tuple[int, int, int] = (255, 255, 255)
    margin: float = 0.05  # safe area kept clear on each side, a fraction of width and height
    font: str | None = None  # a .ttf/.otf file


@functools.lru_cache(maxsize=64)
def load_font(path: str | None, pixels: int):
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


def _layout(text: str, width: int, height: int, style: CaptionStyle):
    """The lines, and the font that makes the longest fit the safe width (shrunk down to 8
    pixels; on a picture too narrow even then, the lines are made shorter and more)."""
    safe_w = width * (1 - 2 * style.margin)
    pixels = max(8, round(style.size * height))
    chars = 42
    lines = wrap_text(text, chars) or [""]
    while True:
        font = load_font(style.font, pixels)
        boxes = [font.getbbox(line) for line in lines]
        widest = max(b[2] - b[0] for b in boxes)
        if widest <= safe_w:
            return lines, font, pixels, boxes
        if pixels > 8:
            pixels = max(8, int(pixels * safe_w / widest))
        elif chars > 4:
            chars = max(4, int(chars * safe_w / widest))
            lines = wrap_text(text, chars, max_lines=99)
        else:
            return lines, font, pixels, boxes


@functools.lru_cache(maxsize=256)
def caption_band(text: str, width: int, height: int, style: CaptionStyle):
    """(RGBA uint8 band, its top row) for ``text`` over a width x height picture."""
    from PIL import Image, ImageDraw

    lines, font, pixels, boxes = _layout(text.replace("\n", " "), width, height, style)
    step = round(pixels * LINE_SPACING)
    pad = max(2, round(pixels * 0.35))
    stroke = max(1, round(pixels / 12)) if style.style == "outline" else 0
    band_h = step * len(lines) + 2 * pad
    band = Image.new("RGBA", (width, band_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    widths = [b[2] - b[0] for b in boxes]
    if style.style == "box":
        left = (width - max(widths)) // 2 - pad
        draw.rectangle(
            (max(0, left), 0, min(width - 1, width - left), band_h - 1), fill=(0, 0, 0, 160)
        )
    for i, (line, w) in enumerate(zip(lines, widths, strict=True)):
        x = (width - w) // 2 - boxes[i][0]
        y = pad + i * step + (step - pixels) // 2
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


def draw_caption(image: np.ndarray, text: str, style: CaptionStyle) -> np.ndarray:
    """``image`` (H x W x 3 or 4; uint8, uint16 or float32) with ``text`` composited in."""
    h, w = image.shape[:2]
    band, top = caption_band(text, w, h, style)
    rows = min(band.shape[0], h - top)
    if rows <= 0:
        return image
    alpha = band[:rows, :, 3:4].astype(np.float32) / 255.0
    if image.dtype == np.uint8:
        scale = 1.0
    elif image.dtype == np.uint16:
        scale = 257.0
    else:
        scale = 1 / 255.0
    out = image.copy()
    region = out[top : top + rows, :, :3].astype(np.float32)
    rgb = band[:rows, :, :3].astype(np.float32) * scale
    blended = region + (rgb - region) * alpha
    out[top : top + rows, :, :3] = (
        blended.astype(image.dtype) if image.dtype != np.float32 else blended
    )
    if image.shape[2] == 4:  # captions are opaque where drawn
        a = out[top : top + rows, :, 3:4].astype(np.float32)
        full = 255.0 * scale
        out[top : top + rows, :, 3:4] = (a + (full - a) * alpha).astype(image.dtype)
    return out
