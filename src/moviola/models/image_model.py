"""Image models: how a picture becomes a model's input tensor, and the model's output a picture.

Every effect that runs an image model (style transfer, colorization, matting) goes through this
module for the parts that do not depend on what the model does:

- layout: a 4-D image tensor is NCHW (channels first: PyTorch exports) or NHWC (channels last:
  TensorFlow); :func:`image_input` reads it from the model's input shape, :func:`to_tensor` and
  :func:`from_tensor` convert a picture (H x W or H x W x C float32) to a batch of one and back;
- value range: 0..1, -1..1 or 0..255 (:func:`parse_range`, :func:`metadata_range`,
  :func:`rescale`), or a per-channel mean and spread (:func:`normalize`, ImageNet's for most
  classifiers' backbones);
- size: a model may fix its input's height and width (:attr:`ImageInput.height`, ``width``);
  the caller resizes to it and back;
- tiling: :func:`run_tiled` runs a picture larger than a model should see at once in
  overlapping tiles blended with ramps, so no seam shows.

:class:`ImageModel` puts these together for image-to-image models (the picture in, a picture
of the same size out, any layout and range): it is the runner behind ``stylize --model``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import to_float
from moviola.models.runtime.base import Session, TensorInfo

Range = tuple[float, float]
#: The value ranges image models commonly take, by the names users give them.
RANGES = ("0,1", "-1,1", "0,255")
LAYOUTS = ("NCHW", "NHWC")
#: ImageNet's per-channel mean and standard deviation (RGB, 0..1).
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


# -- value ranges ----------------------------------------------------------------------------------
def parse_range(text: str, what: str = "model") -> Range:
    """'LOW,HIGH' (brackets and spaces allowed) to a pair of floats."""
    try:
        lo, hi = (float(v) for v in text.strip("[]()").split(","))
    except ValueError:
        raise MoviolaError(f"{what}: model range {text!r} is not LOW,HIGH") from None
    return lo, hi


def metadata_range(path: Path, default: str = "0,255") -> str:
    """The value range an ONNX file declares in its metadata (``range`` or ``value_range``),
    else ``default``. Reading it needs the ``onnx`` package; without it, ``default``."""
    try:
        import onnx

        meta = {
            p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props
        }
        return meta.get("range", meta.get("value_range", default)).replace(" ", "")
    except Exception:  # noqa: BLE001 - metadata is optional
        return default


def rescale(x: np.ndarray, source: Range, target: Range) -> np.ndarray:
    """Values in ``source`` mapped linearly to ``target``, as float32."""
    (s_lo, s_hi), (t_lo, t_hi) = source, target
    if s_lo == 0:  # a picture in 0..MAX to the model's range
        return x.astype(np.float32) * np.float32((t_hi - t_lo) / s_hi) + np.float32(t_lo)
    y = (x - np.float32(s_lo)) * np.float32((t_hi - t_lo) / (s_hi - s_lo))
    return y + np.float32(t_lo) if t_lo else y


def normalize(image: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """A 0..1 picture standardised per channel: (x - mean) / std."""
    return (image - mean) / std


# -- layout ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageInput:
    """A model's image input: its name, layout, channel count and fixed size (None: any)."""

    name: str
    layout: str  # "NCHW" or "NHWC"
    channels: int | None
    height: int | None
    width: int | None

    @property
    def fixed(self) -> tuple[int | None, int | None]:
        """(height, width); None for a dimension the model leaves open."""
        return self.height, self.width

    def size(self, default: tuple[int, int]) -> tuple[int, int]:
        """(width, height) to resize a picture to: the fixed size, else ``default`` (w, h)."""
        return self.width or default[0], self.height or default[1]


def _dim(value: int | str | None) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def image_input(
    tensor: TensorInfo, layouts: tuple[str, ...] = LAYOUTS, what: str = "model"
) -> ImageInput:
    """The layout and size of a 4-D image input; ``what`` names the model in errors.

    With one layout allowed it is assumed (the channel count read where that layout puts it);
    with both, the axis of size 3 decides (NCHW first). MoviolaError when the input is not 4-D
    or, with both layouts allowed, has no 3-channel axis.
    """
    shape = tensor.shape
    if len(shape) != 4:
        raise MoviolaError(f"{what} input has shape {shape}; expected 4-D")
    if len(layouts) == 1:
        layout = layouts[0]
    elif shape[1] == 3:
        layout = "NCHW"
    elif shape[3] == 3:
        layout = "NHWC"
    else:
        raise MoviolaError(f"{what} input shape {shape} has no 3-channel axis (NCHW or NHWC)")
    if layout == "NCHW":
        channels, height, width = shape[1], shape[2], shape[3]
    else:
        height, width, channels = shape[1], shape[2], shape[3]
    return ImageInput(tensor.name, layout, _dim(channels), _dim(height), _dim(width))


def to_tensor(image: np.ndarray, layout: str = "NCHW") -> np.ndarray:
    """A picture (H x W, or H x W x C) as a contiguous float32 batch of one in ``layout``."""
    x = image[..., None] if image.ndim == 2 else image
    x = x.transpose(2, 0, 1)[None] if layout == "NCHW" else x[None]
    return np.ascontiguousarray(x, np.float32)


def frame_tensor(image: np.ndarray) -> np.ndarray:
    """An H x W x 3 picture of any frame dtype as a 1 x 3 x H x W float32 tensor in 0..1."""
    if image.dtype == np.uint8:
        return cv2.dnn.blobFromImage(image, 1 / 255)
    return to_tensor(to_float(image))


def from_tensor(tensor: np.ndarray, layout: str = "NCHW") -> np.ndarray:
    """The first picture of a batch as float32 H x W x C (a 3-D batch, N x H x W: H x W)."""
    item = np.asarray(tensor, np.float32)[0]
    if item.ndim == 3 and layout == "NCHW":
        item = item.transpose(1, 2, 0)
    return item


def output_layout(item: np.ndarray, input_layout: str) -> str:
    """The layout of a 3-D output picture (C x H x W or H x W x C): channels first when its
    first axis has 1 or 3 entries and the input is NCHW or its last axis could not be
    channels."""
    first = item.shape[0] in (1, 3)
    return "NCHW" if first and (input_layout == "NCHW" or item.shape[2] not in (1, 3)) else "NHWC"


# -- tiling ----------------------------------------------------------------------------------------
def run_tiled(
    run: Callable[[np.ndarray], np.ndarray],
    image: np.ndarray,
    tile: int,
    channels: int = 3,
    overlap: int | None = None,
) -> np.ndarray:
    """``run`` (a picture to a float32 picture of the same size) over ``tile``-px squares that
    overlap by ``overlap`` px (default tile / 8, at least 8), blended with linear ramps."""
    h, w = image.shape[:2]
    overlap = overlap if overlap is not None else max(8, tile // 8)
    acc = np.zeros((h, w, channels), np.float32)
    weight = np.zeros((h, w, 1), np.float32)
    step = tile - overlap
    ys = list(range(0, max(1, h - overlap), step))
    xs = list(range(0, max(1, w - overlap), step))
    for y in ys:
        for x in xs:
            y0, x0 = min(y, max(0, h - tile)), min(x, max(0, w - tile))
            part = image[y0 : y0 + tile, x0 : x0 + tile]
            out = run(part)
            th, tw = part.shape[:2]
            ramp_y = np.minimum(np.arange(th) + 1, np.arange(th)[::-1] + 1)
            ramp_x = np.minimum(np.arange(tw) + 1, np.arange(tw)[::-1] + 1)
            wgt = np.minimum(np.outer(ramp_y, ramp_x), overlap).astype(np.float32)[..., None]
            acc[y0 : y0 + th, x0 : x0 + tw] += out * wgt
            weight[y0 : y0 + th, x0 : x0 + tw] += wgt
    return acc / np.maximum(weight, 1e-6)


# -- image-to-image models -------------------------------------------------------------------------
class ImageModel:
    """An image-to-image model: one 3-channel image input (NCHW or NHWC, from its shape), its
    value range, a fixed input size if it has one, and optional tiling.

    ``model(rgb)`` takes a uint8 RGB picture and returns one of the same size: the picture is
    brought to the model's range (and fixed size), the output back to 0..255 (and the picture's
    size, bicubic), a 1-channel output repeated to 3.
    """

    def __init__(
        self,
        session: Session,
        value_range: Range = (0.0, 255.0),
        tile: int = 0,
        what: str = "model",
    ) -> None:
        self.session = session
        label = f"{what}: {session.path.name}"
        if len(session.inputs) != 1:
            names = ", ".join(session.input_names)
            raise MoviolaError(f"{label} takes {names}; expected one image input")
        self.input = image_input(session.inputs[0], what=label)
        self.layout = self.input.layout
        self.fixed = self.input.fixed
        self.name = self.input.name
        self.range = value_range
        self.tile = tile

    @classmethod
    def open(
        cls, path: Path, value_range: str = "auto", tile: int = 0, what: str = "model"
    ) -> ImageModel:
        """Load ``path``; ``value_range`` 'LOW,HIGH', or 'auto': the model's metadata, else
        0..255."""
        from moviola.models.runtime import open_session

        session = open_session(path)
        text = metadata_range(path) if value_range == "auto" else value_range
        return cls(session, parse_range(text, what), tile, what)

    def run(self, rgb: np.ndarray) -> np.ndarray:
        """One pass over the whole picture: float32 H x W x 3 in 0..255 (not clipped)."""
        h, w = rgb.shape[:2]
        x = rescale(rgb, (0.0, 255.0), self.range)
        fh, fw = self.fixed
        if fh and fw and (fh, fw) != (h, w):
            x = cv2.resize(x, (fw, fh), interpolation=cv2.INTER_AREA)
        out = next(iter(self.session.run({self.name: to_tensor(x, self.layout)}).values()))
        y = np.asarray(out, np.float32)[0]
        if output_layout(y, self.layout) == "NCHW":
            y = y.transpose(1, 2, 0)
        if y.shape[2] == 1:
            y = np.repeat(y, 3, axis=2)
        y = rescale(y, self.range, (0.0, 255.0))
        if y.shape[:2] != (h, w):
            y = cv2.resize(y, (w, h), interpolation=cv2.INTER_CUBIC)
        return y

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        fh, fw = self.fixed
        if not self.tile or (fh and fw) or max(h, w) <= self.tile:
            out = self.run(rgb)
        else:
            out = run_tiled(self.run, rgb, self.tile)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
