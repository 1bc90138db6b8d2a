"""upscale: super-resolution (Real-ESRGAN on the CPU through ncnn), or Lanczos for previews.

Models (``--model``), all Real-ESRGAN (BSD-3-Clause), fetched into the model store:

  realesr-animevideov3       the x2, x3 or x4 file below, whichever is the smallest that reaches
                             the requested factor (default)
  realesr-animevideov3-x2/x3/x4  small (1.2 MB) and fast; trained for anime video, also fine on
                             live action. x2 and x3 are the x4 network followed by a bicubic
                             reduction inside the model, so all three cost the same per pixel.
  realesrgan-x4plus          large (33 MB): photographic detail; about 40x slower than
                             animevideov3 on a CPU
  realesrgan-x4plus-anime    RRDB with 6 blocks, for anime stills
  lanczos                    classical (no model): Lanczos-4 then an unsharp mask (``sharpen``)

A factor other than the model's (``--scale 2.5``, ``--width 1920``) is reached with a
high-quality resize of the model's output: area averaging to reduce, Lanczos-4 to enlarge.
Denoise strength is not offered: only realesr-general-x4v3 has one (by interpolating two sets
of weights), and it is not in any package the model store can fetch. These models have no such
control.

Tiling: a frame whose working memory (measured per model) would exceed the budget is cut into
tiles. Each tile is run with ``pad`` pixels of real picture around it as context, and tiles are
blended with linear ramps over a band of ``overlap`` pixels on each side of their common edge
(the weights sum to one), so a seam is never a hard step. For animevideov3 (receptive field
about 18 px) the tiled frame equals the untiled one to within 1/255; RRDB models see much
further, so their tiled frames differ slightly from untiled ones, smoothly, not at a line.

``kind`` is "model", or "classical" on an instance with ``model="lanczos"``. Alpha, when
present, is enlarged with Lanczos. The audio is passed through by the pipeline.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moviola import models
from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, even, fit_length, like, to_float, to_uint8
from moviola.models.runtime.base import Session
from moviola.pipeline import Effect, Param, register
from moviola.vision.faces.restore import GFPGAN_MODEL, TrackedRestorer


@dataclass(frozen=True)
class ModelInfo:
    """What tiling needs to know about a model (memory measured with ncnn 1.0.20261020, CPU)."""

    scale: int
    pad: int  # context around each tile, input pixels
    overlap: int  # half-width of the blending band, input pixels (<= pad)
    bytes_per_pixel: int  # working memory per input pixel of a tile


DENOISE_MODEL = "realesr-general-x4v3"
DEFAULT_DENOISE = 0.5  # Real-ESRGAN's own default --denoise_strength
_ANIMEVIDEO = {"pad": 22, "overlap": 4, "bytes_per_pixel": 3_200}
_RRDB = {"pad": 32, "overlap": 16, "bytes_per_pixel": 52_000}
MODELS: dict[str, ModelInfo] = {
    "realesr-animevideov3-x2": ModelInfo(2, **_ANIMEVIDEO),
    "realesr-animevideov3-x3": ModelInfo(3, **_ANIMEVIDEO),
    "realesr-animevideov3-x4": ModelInfo(4, **_ANIMEVIDEO),
    "realesrgan-x4plus": ModelInfo(4, **_RRDB),
    "realesrgan-x4plus-anime": ModelInfo(4, **_RRDB),
    # ONNX, from its upstream home (upscale --denoise); 34 3x3 convolutions: 34 px of context
    DENOISE_MODEL: ModelInfo(4, pad=34, overlap=4, bytes_per_pixel=3_600),
}
AUTO_FAMILY = "realesr-animevideov3"
CLASSICAL = "lanczos"
MODEL_CHOICES = (AUTO_FAMILY, *MODELS, CLASSICAL)
DEFAULT_SCALE = 2.0  # when neither scale nor a size is given and the model does not fix one
DEFAULT_SHARPEN = 0.6
MIN_TILE = 32
#: Working memory (bytes) a tile may use when ``tile`` is auto: a quarter of the RAM, at most 2 GiB.
MAX_TILE_MEMORY = 2 << 30


def memory_budget() -> int:
    """Bytes of working memory one tile may take (auto tiling)."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = 8 << 30
    return int(min(MAX_TILE_MEMORY, ram // 4))


def auto_tile(info: ModelInfo, width: int, height: int, budget: int | None = None) -> int:
    """The tile side (input pixels, before padding) for ``info`` on a width x height frame;
    0 when the whole frame fits the budget."""
    budget = memory_budget() if budget is None else budget
    if width * height * info.bytes_per_pixel <= budget:
        return 0
    side = int(math.sqrt(budget / info.bytes_per_pixel)) - 2 * info.pad
    return max(MIN_TILE, side)


def tile_edges(length: int, tile: int) -> list[int]:
    """Edges of ceil(length / tile) nearly equal tiles covering [0, length)."""
    count = max(1, math.ceil(length / tile)) if tile else 1
    return [round(i * length / count) for i in range(count + 1)]


def _ramp(lo: int, hi: int, length: int, band: int, scale: int) -> tuple[int, int, np.ndarray]:
    """Output range and blending weights along one axis for the tile core [lo, hi) (input px).

    The weight rises linearly across [lo - band, lo + band) and falls across [hi - band,
    hi + band), except at the frame's edges; neighbouring tiles' weights sum to one."""
    start = max(0, lo - band) * scale
    stop = min(length, hi + band) * scale
    centres = (np.arange(start, stop, dtype=np.float32) + 0.5) / scale  # in input pixels
    weight = np.ones(stop - start, np.float32)
    if band and lo > 0:
        weight *= np.clip((centres - (lo - band)) / (2 * band), 0, 1)
    if band and hi < length:
        weight *= np.clip(((hi + band) - centres) / (2 * band), 0, 1)
    return start, stop, weight


@register
class Upscale(Effect):
    name = "upscale"
    context_frames = 0  # each frame on its own
    summary = (
        "Enlarge the picture with super-resolution (Real-ESRGAN on the CPU), or with "
        "Lanczos and sharpening for quick previews (--model lanczos)."
    )
    kind = "model"
    params = (
        Param(
            "model",
            str,
            AUTO_FAMILY,
            "realesr-animevideov3 (fast; picks its x2, x3 or x4 file), realesrgan-x4plus "
            "(photographic detail, slow), realesrgan-x4plus-anime, or lanczos (classical, "
            "for previews)",
            choices=MODEL_CHOICES,
        ),
        Param(
            "scale",
            float,
            None,
            "enlargement factor, any value (default: the model's own, 2 for "
            "realesr-animevideov3 and lanczos); sizes are rounded to even numbers",
            min=1,
            max=16,
        ),
        Param("width", int, None, "output width in pixels (aspect kept)", min=2, max=16384),
        Param("height", int, None, "output height in pixels (aspect kept)", min=2, max=16384),
        Param(
            "tile",
            int,
            0,
            "tile side in input pixels for large frames (0: auto, from the memory the "
            "model needs; at least 32)",
            min=0,
            max=8192,
        ),
        Param(
            "sharpen",
            float,
            None,
            f"unsharp-mask amount for --model lanczos (default {DEFAULT_SHARPEN}; 0: plain "
            "Lanczos)",
            min=0,
            max=3,
        ),
        Param(
            "denoise",
            float,
            None,
            "noise removal 0..1 with Real-ESRGAN general-x4v3 (its --denoise_strength: 1 "
            "removes the most, 0 keeps the grain; the two networks' weights are mixed); "
            f"`moviola models fetch {DENOISE_MODEL}` once",
            min=0.0,
            max=1.0,
        ),
        Param(
            "faces",
            bool,
            False,
            "restore the faces after enlarging (GFPGAN v1.4, as restore-faces; "
            "`moviola models fetch gfpgan-1.4` once)",
        ),
        Param(
            "model_path",
            str,
            None,
            "your own Real-ESRGAN-style model instead of a stored one: an ncnn .param "
            "(its .bin beside it) or an .onnx file; RGB 0..1 in, an integer enlargement out",
        ),
    )
    model: str
    scale: float | None
    width: int | None
    height: int | None
    tile: int
    sharpen: float | None
    denoise: float | None
    faces: bool
    model_path: str | None
    _session: Session | None = None  # the model, once configure() opened it

    def mode_kind(self) -> str:
        return "classical" if self.model == CLASSICAL and not self.faces else "model"

    def validate(self) -> None:
        if self.tile and self.tile < MIN_TILE:
            raise MoviolaError(f"upscale: tile must be 0 (auto) or at least {MIN_TILE} pixels")
        if self.scale is not None and (self.width or self.height):
            raise MoviolaError("upscale: give scale, or width and/or height, not both")
        if self.sharpen is not None and self.model != CLASSICAL:
            raise MoviolaError("upscale: sharpen applies to --model lanczos only")
        if self.denoise is not None and self.model not in (AUTO_FAMILY, DENOISE_MODEL):
            raise MoviolaError(f"upscale: denoise needs --model {DENOISE_MODEL} (the default)")
        if self.denoise is not None and self.model_path is not None:
            raise MoviolaError("upscale: give denoise or model_path, not both")
        if self.model_path is not None:
            if self.model == CLASSICAL:
                raise MoviolaError("upscale: model_path needs a model, not lanczos")
            suffix = Path(self.model_path).suffix.lower()
            if suffix not in (".param", ".onnx"):
                raise MoviolaError(
                    f"upscale: model_path must be an ncnn .param or an .onnx file, not "
                    f"{self.model_path!r}"
                )

    # --- geometry ------------------------------------------------------------------------------

    def output_size(self, width: int, height: int, native: float | None = None) -> tuple[int, int]:
        """The output frame size for a width x height input (``native``: the model's scale,
        used when neither scale nor a size is given)."""
        if self.width and self.height:
            if abs((self.width / self.height) / (width / height) - 1) > 0.01:
                raise MoviolaError(
                    f"upscale: {self.width}x{self.height} does not keep the aspect ratio of "
                    f"{width}x{height}; give width or height alone (or chain resize)"
                )
            out = (self.width, self.height)
        elif self.width:
            out = (self.width, even(self.width * height / width))
        elif self.height:
            out = (even(self.height * width / height), self.height)
        else:
            factor = self.scale or native or DEFAULT_SCALE
            out = (fit_length(width * factor), fit_length(height * factor))
        if out[0] < width or out[1] < height:
            raise MoviolaError(
                f"upscale: {out[0]}x{out[1]} is smaller than the input {width}x{height}; "
                "use resize to reduce"
            )
        return out

    def _choose_model(self, factor: float) -> str:
        if self.denoise is not None:
            return DENOISE_MODEL
        if self.model != AUTO_FAMILY:
            return self.model
        for n in (2, 3, 4):
            if factor <= n + 1e-6:
                return f"{AUTO_FAMILY}-x{n}"
        return f"{AUTO_FAMILY}-x4"

    # --- life cycle ----------------------------------------------------------------------------

    def configure(self, info: StreamInfo) -> StreamInfo:
        w, h = info.width, info.height
        self._session = None
        self._strength: np.ndarray | None = None
        self._faces: TrackedRestorer | None = None
        if self.faces:
            try:
                self._faces = TrackedRestorer(models.ensure(GFPGAN_MODEL), strength=0.8)
            except MoviolaError as e:
                raise MoviolaError(f"upscale --faces: {e}") from None
        if self.model == CLASSICAL:
            self._out = self.output_size(w, h)
            factor = max(self._out[0] / w, self._out[1] / h)
            self._sigma = max(1.0, 0.5 * factor)
            self._amount = DEFAULT_SHARPEN if self.sharpen is None else self.sharpen
            return info.evolve(width=self._out[0], height=self._out[1])
        if self.model_path is not None:
            self._open(self.model_path)
            scale = self._probe_scale(Path(self.model_path).name)
            self._info = ModelInfo(scale, **_RRDB)  # a user's model: tile safely
            self._out = self.output_size(w, h, self._info.scale)
        else:
            fixed = MODELS.get(self.model)
            self._out = self.output_size(w, h, fixed.scale if fixed else None)
            self._model_id = self._choose_model(max(self._out[0] / w, self._out[1] / h))
            self._info = MODELS[self._model_id]
            self._open(self._model_id)
        self._tile = self.tile or auto_tile(self._info, w, h)
        return info.evolve(width=self._out[0], height=self._out[1])

    def _open(self, source: str) -> None:
        from moviola.models.runtime import open_session

        if self.model_path is not None and not Path(os.path.expanduser(source)).is_file():
            raise MoviolaError(f"upscale: model file not found: {source}")
        if source != DENOISE_MODEL and (
            self.model_path is None or source.lower().endswith(".param")
        ):
            from moviola.models.runtime.ncnn import import_ncnn

            import_ncnn()  # say what to install before fetching any weights
        try:
            session = open_session(source)
        except MoviolaError as e:
            raise MoviolaError(f"upscale: {e}") from None
        self._strength = None
        if "strength" in session.input_names:
            value = DEFAULT_DENOISE if self.denoise is None else self.denoise
            self._strength = np.array([value], np.float32)
        self._session = session
        self._input = session.input_names[0]
        self._output = session.output_names[0]

    def _probe_scale(self, name: str) -> int:
        """The enlargement of the model (file ``name``), found by running it on 16x16 pixels."""
        assert self._session is not None  # _open() came first
        probe = np.zeros((1, 3, 16, 16), np.float32)
        out = np.asarray(self._session.run({self._input: probe})[self._output])
        ratio = out.shape[-1] / 16
        if out.ndim < 3 or out.shape[-3] != 3 or ratio != int(ratio) or ratio < 1:
            raise MoviolaError(
                f"upscale: {name} does not look like a super-resolution "
                f"model (16x16 RGB in gave {tuple(out.shape)} out)"
            )
        return int(ratio)

    def close(self) -> None:
        self._session = None

    # --- processing ----------------------------------------------------------------------------

    def process(self, frame: Frame) -> Frame:
        image = frame.image
        rgb = to_float(image[..., :3])
        out_w, out_h = self._out
        if self.model == CLASSICAL:
            result = self.lanczos(rgb)
        else:
            result = self.super_resolve(rgb)
            if result.shape[1] != out_w or result.shape[0] != out_h:
                shrink = result.shape[1] > out_w
                mode = cv2.INTER_AREA if shrink else cv2.INTER_LANCZOS4
                result = cv2.resize(result, (out_w, out_h), interpolation=mode)
        result = np.clip(result, 0, 1, out=result)
        if self._faces is not None:
            scale = out_w / image.shape[1]
            result = self._faces(to_uint8(image[..., :3]), float(frame.time), result, scale)
        if image.shape[2] == 4:
            alpha = cv2.resize(
                to_float(image[..., 3]), (out_w, out_h), interpolation=cv2.INTER_LANCZOS4
            )
            result = np.dstack([result, np.clip(alpha, 0, 1)])
        return frame.with_image(like(result, image.dtype))

    def lanczos(self, rgb: np.ndarray) -> np.ndarray:
        """Classical mode: Lanczos-4 to the output size, then an unsharp mask."""
        up = cv2.resize(rgb, self._out, interpolation=cv2.INTER_LANCZOS4)
        if self._amount > 0:
            blurred = cv2.GaussianBlur(up, (0, 0), self._sigma)
            up = cv2.addWeighted(up, 1 + self._amount, blurred, -self._amount, 0)
        return up

    def _run(self, chw: np.ndarray) -> np.ndarray:
        assert self._session is not None  # configure() opened the model
        feeds = {self._input: chw[None]}
        if self._strength is not None:
            feeds["strength"] = self._strength
        out = self._session.run(feeds)[self._output]
        return np.asarray(out)[0]

    def super_resolve(self, rgb: np.ndarray) -> np.ndarray:
        """The model's output (H*s x W*s x 3, float32) for an H x W x 3 float32 RGB image,
        tiled when ``self._tile`` is set."""
        h, w = rgb.shape[:2]
        s, pad = self._info.scale, self._info.pad
        chw = np.ascontiguousarray(rgb.transpose(2, 0, 1))
        xs, ys = tile_edges(w, self._tile), tile_edges(h, self._tile)
        if len(xs) == 2 and len(ys) == 2:
            out = self._run(chw)
            return self._check(out, h, w, s).transpose(1, 2, 0)
        smallest = min(min(np.diff(xs)), min(np.diff(ys)))
        band = int(min(self._info.overlap, smallest // 2))
        acc = np.zeros((h * s, w * s, 3), np.float32)
        for y0, y1 in zip(ys, ys[1:], strict=False):
            oy0, oy1, wy = _ramp(y0, y1, h, band, s)
            for x0, x1 in zip(xs, xs[1:], strict=False):
                ox0, ox1, wx = _ramp(x0, x1, w, band, s)
                # the tile with its context, clipped to the frame
                cy0, cy1 = max(0, y0 - pad), min(h, y1 + pad)
                cx0, cx1 = max(0, x0 - pad), min(w, x1 + pad)
                out = self._run(np.ascontiguousarray(chw[:, cy0:cy1, cx0:cx1]))
                out = self._check(out, cy1 - cy0, cx1 - cx0, s).transpose(1, 2, 0)
                part = out[oy0 - cy0 * s : oy1 - cy0 * s, ox0 - cx0 * s : ox1 - cx0 * s]
                acc[oy0:oy1, ox0:ox1] += part * (wy[:, None, None] * wx[None, :, None])
        return acc

    def _check(self, out: np.ndarray, h: int, w: int, s: int) -> np.ndarray:
        if out.shape != (3, h * s, w * s):
            raise MoviolaError(
                f"upscale: model gave {tuple(out.shape)} for a {w}x{h} input, expected "
                f"3 x {h * s} x {w * s}"
            )
        return out
