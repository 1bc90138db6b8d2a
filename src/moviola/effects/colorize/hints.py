"""colorize's colour hints: a JSON file of points and scribbles per keyframe, or a PNG whose
coloured or opaque pixels are hints for the first frame; parsed with one-line errors
(:func:`load_hints`) and drawn at the working size (:meth:`Keyframe.rasterize`)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import to_float, to_uint8
from moviola.media.still import read_image
from moviola.media.time import parse_time
from moviola.pipeline.params import parse_color
from moviola.vision.color import rgb_to_lab

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass
class Keyframe:
    """Hints for one keyframe, in the coordinates of the frame (or of the PNG)."""

    frame: int | None = None
    time: Fraction | None = None
    points: list[tuple[float, float, tuple[int, int, int]]] = field(default_factory=list)
    scribbles: list[tuple[list[tuple[float, float]], tuple[int, int, int], float]] = field(
        default_factory=list
    )
    image: np.ndarray | None = None  # PNG hints: H x W x 3 RGB float and a mask
    image_mask: np.ndarray | None = None
    space: tuple[int, int] | None = None  # (w, h) the coordinates refer to; None: the frame's

    def rasterize(self, size: tuple[int, int], wsize: tuple[int, int]) -> RasterHints:
        w, h = size
        canvas = np.zeros((h, w, 3), np.float32)
        mask = np.zeros((h, w), np.float32)
        sx, sy = (w / self.space[0], h / self.space[1]) if self.space else (1.0, 1.0)
        if self.image is not None and self.image_mask is not None:
            canvas = cv2.resize(self.image, (w, h), interpolation=cv2.INTER_NEAREST)
            mask = cv2.resize(self.image_mask, (w, h), interpolation=cv2.INTER_NEAREST)
        dot = max(2, round(max(w, h) / 200))
        for x, y, rgb in self.points:
            c = tuple(v / 255 for v in rgb)
            center = (round(x * sx), round(y * sy))
            cv2.circle(canvas, center, dot, c, -1)
            cv2.circle(mask, center, dot, 1.0, -1)
        for pts, rgb, width in self.scribbles:
            c = tuple(v / 255 for v in rgb)
            poly = np.array([[round(x * sx), round(y * sy)] for x, y in pts], np.int32)
            thick = max(1, round(width * (sx + sy) / 2))
            cv2.polylines(canvas, [poly], False, c, thick)
            cv2.polylines(mask, [poly], False, 1.0, thick)
            if len(pts) == 1:
                cv2.circle(canvas, tuple(poly[0]), thick, c, -1)
                cv2.circle(mask, tuple(poly[0]), thick, 1.0, -1)
        ab = rgb_to_lab(canvas)[..., 1:] * mask[..., None]
        # to working size: mean chroma of the hinted pixels in each cell
        cover = cv2.resize(mask, wsize, interpolation=cv2.INTER_AREA)
        ab_s = (
            cv2.resize(ab, wsize, interpolation=cv2.INTER_AREA) / np.maximum(cover, 1e-6)[..., None]
        )
        cover = np.where(cover > 0.2, np.minimum(1.0, cover * 2), 0).astype(np.float32)
        return RasterHints(self.frame, self.time, ab_s.astype(np.float32), cover)


@dataclass
class RasterHints:
    frame: int | None
    time: Fraction | None
    ab: np.ndarray  # h x w x 2 at working size
    mask: np.ndarray  # h x w weights 0..1

    @property
    def order(self) -> float:
        return float(self.time) if self.time is not None else float(self.frame or 0) * 1e-6

    def matches(self, index: int, time: Fraction, duration: Fraction) -> bool:
        if self.time is not None:
            return time <= self.time < time + duration
        return index == self.frame

    def before(self, index: int, time: Fraction) -> bool:
        """This frame comes before the keyframe."""
        return time < self.time if self.time is not None else index < (self.frame or 0)


def load_hints(path: Path) -> list[Keyframe]:
    """Hint keyframes from a JSON or PNG file; MoviolaError with one line if it is malformed."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError) as e:
            raise MoviolaError(f"colorize: cannot read hints {path}: {e}") from None
        except json.JSONDecodeError as e:
            raise MoviolaError(
                f"colorize: hints {path.name} is not valid JSON (line {e.lineno}: {e.msg})"
            ) from None
        if isinstance(data, dict) and "keyframes" in data:
            data = data["keyframes"]
        items = data if isinstance(data, list) else [data]
        if not items:
            raise MoviolaError(f"colorize: hints {path.name} has no keyframes")
        return [_keyframe(item, i, path.name) for i, item in enumerate(items)]
    if suffix in IMAGE_SUFFIXES:
        return [_png_keyframe(path)]
    raise MoviolaError(f"colorize: hints must be a .json or an image file (.png): {path.name}")


def _keyframe(item, i: int, name: str) -> Keyframe:
    where = f"colorize: hints {name}, keyframe {i + 1}"
    if not isinstance(item, dict):
        raise MoviolaError(f"{where}: expected an object with frame/time, points, scribbles")
    unknown = set(item) - {"frame", "time", "points", "scribbles", "width", "height"}
    if unknown:
        raise MoviolaError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    key = Keyframe()
    if "frame" in item and "time" in item:
        raise MoviolaError(f"{where}: give frame or time, not both")
    if "time" in item:
        try:
            time = parse_time(item["time"])
        except (MoviolaError, ValueError, TypeError):
            time = None
        if time is None:
            raise MoviolaError(f"{where}: bad time {item['time']!r}")
        key.time = Fraction(time)
    else:
        frame = item.get("frame", 0)
        if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
            raise MoviolaError(f"{where}: frame must be a whole number >= 0, not {frame!r}")
        key.frame = frame
    if "width" in item or "height" in item:
        try:
            key.space = (int(item["width"]), int(item["height"]))
        except (KeyError, ValueError, TypeError):
            raise MoviolaError(f"{where}: give both width and height as numbers") from None
    for j, point in enumerate(item.get("points", [])):
        if not (isinstance(point, list | tuple) and len(point) == 3):
            raise MoviolaError(f'{where}: point {j + 1} must be [x, y, "#rrggbb"]')
        x, y = _xy(point[:2], f"{where}: point {j + 1}")
        key.points.append((x, y, _color(point[2], f"{where}: point {j + 1}")))
    for j, scribble in enumerate(item.get("scribbles", [])):
        label = f"{where}: scribble {j + 1}"
        if not isinstance(scribble, dict) or "points" not in scribble or "color" not in scribble:
            raise MoviolaError(f'{label} must be {{"color": "#rrggbb", "points": [[x, y], ...]}}')
        pts = scribble["points"]
        if not isinstance(pts, list) or not pts:
            raise MoviolaError(f"{label}: points must be a non-empty list of [x, y]")
        xy = [_xy(p, label) for p in pts]
        width = scribble.get("width", 5)
        if not isinstance(width, int | float) or width <= 0:
            raise MoviolaError(f"{label}: width must be a positive number")
        key.scribbles.append((xy, _color(scribble["color"], label), float(width)))
    if not key.points and not key.scribbles:
        raise MoviolaError(f"{where}: no points or scribbles")
    return key


def _xy(value, label: str) -> tuple[float, float]:
    if not (isinstance(value, list | tuple) and len(value) == 2):
        raise MoviolaError(f"{label}: expected [x, y], got {value!r}")
    try:
        x, y = float(value[0]), float(value[1])
    except (TypeError, ValueError):
        raise MoviolaError(f"{label}: coordinates must be numbers, got {value!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)) or x < 0 or y < 0:
        raise MoviolaError(f"{label}: coordinates must be >= 0, got {value!r}")
    return x, y


def _color(value, label: str) -> tuple[int, int, int]:
    if not isinstance(value, str) or not re.fullmatch(r"#?[0-9a-fA-F]{6}", value.strip()):
        raise MoviolaError(f"{label}: colour must be '#rrggbb', got {value!r}")
    return parse_color(value)


def _png_keyframe(path: Path) -> Keyframe:
    """A PNG of scribbles: pixels with alpha > 0 (RGBA) or with colour (R, G, B not all equal)
    are hints for frame 0; their colour is the hint."""
    image = read_image(path, "hints image")
    if image.ndim != 3:
        raise MoviolaError(f"colorize: cannot read the hints image {path.name} (need colour PNG)")
    image = to_uint8(image)
    rgb = np.ascontiguousarray(image[..., :3])
    if image.shape[2] == 4:
        mask = image[..., 3] > 0
    else:
        spread = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2)
        mask = spread > 24
    if not mask.any():
        raise MoviolaError(
            f"colorize: hints image {path.name} has no hints (opaque or coloured pixels)"
        )
    return Keyframe(frame=0, image=to_float(rgb), image_mask=mask.astype(np.float32))
