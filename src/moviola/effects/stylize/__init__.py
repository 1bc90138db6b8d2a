"""stylize: give a video a look. Three ways, one effect:

(a) Example-guided, as EbSynth does. ``keyframe=("0=painted.png",)``: the user paints (or runs any
    image tool on) one or more frames; the look is carried to every frame along the motion.
    ``style=IMAGE``: a style image, applied to the first frame by a guided patch synthesis
    (texture transfer, luminance + edge guides), and that result is the keyframe.
    Per frame, at a working resolution (``work`` px on the short side) a field says, for every
    pixel, which position of the keyframe it takes its colour from. It is found by guided
    PatchMatch (vision/patchmatch.py) whose cost sums, over 5 x 5 windows: the difference between
    the frame's guides (Lab colour + edges) and the keyframe frame's at that position; the distance
    to the positional guide (the keyframe's pixel grid carried to this frame by accumulated DIS
    optical flow), where the flow has stayed consistent; and the temporal guide (the previous
    stylized output, warped by flow) against the keyframe's stylized colours. Occluded or newly
    seen parts thus get patches of the keyframe that look like them, the rest follows the motion
    exactly. The full-resolution output samples the full-resolution keyframe through the field
    (bilinear where it is smooth, per-cell offsets across seams), so strokes stay crisp.
    With several keyframes the span between two is rendered forward from the first and backward
    from the second and blended with weights by distance (as EbSynth's blending), so the look
    changes smoothly and the keyframe frames are the keyframes exactly.
    Memory: frames waiting for the next keyframe are held only as working-resolution state
    (guides and flows in float16, the field in float32: 24 bytes per working pixel, 1.2 MB per
    frame at work=192 for 4:3, 1.6 MB for 16:9, whatever the video's resolution), and at most
    ``max_gap`` of them (default 120: under 200 MB): a longer span is blended over its last
    ``max_gap`` frames, the earlier ones come from the first keyframe alone. After the last
    keyframe nothing is held.
(b) Filters (``filter=``): classical ones, cartoon, sketch, watercolor, oil (Kuwahara),
    posterize (a k-means palette fixed from the first frame, so colours do not flicker),
    halftone; and ``vintage``, a learned one (:data:`MODEL_FILTERS`: vintagify's CycleGAN
    generator, model ``vintagify-cyclegan``), whose instance-norm statistics are shared over
    each shot so that the look holds still (``vintage.py``; ``temporal=False``: per frame).
(c) A user-supplied image-to-image ONNX model (``model=PATH``: fast neural style, AnimeGAN,
    CycleGAN generators): NCHW or NHWC found from the input shape, value range from
    ``model_range`` or the model's metadata (``range``: "0,1", "-1,1", "0,255"), full frame or
    tiles with overlap (models/image_model.py). Or a learned style from the model store
    (``style_model=NAME``, :data:`STYLE_MODELS`: AnimeGANv2 Shinkai, non-commercial weights
    fetched only after ``moviola models fetch animeganv2-shinkai --accept-license``), run the
    same way with its known range.
(b) and (c) can be smoothed over time (``smooth``): the previous output, warped by flow, is mixed
in where the flow is consistent.

This package: the effect (parameters, life cycle, the frames held between keyframes) here;
the synthesis in ``synthesis.py``; the filters and the smoother in ``filters.py``; the vintage
filter in ``vintage.py``; the model runner is :class:`moviola.models.image_model.ImageModel`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moviola import models
from moviola.effects.stylize.builtin import BUILTIN_STYLES, builtin_path
from moviola.effects.stylize.filters import (
    FILTERS,
    Posterizer,
    Smoother,
    cartoon,
    halftone,
    oil,
    sketch,
    watercolor,
)
from moviola.effects.stylize.synthesis import (
    Carrier,
    Key,
    KeySpec,
    guides,
    parse_keyframe,
    render,
    transfer_style,
    work_size,
)
from moviola.effects.stylize.vintage import MIN_TILE, Vintage, auto_tile
from moviola.effects.stylize.vintage import MODEL as VINTAGE_MODEL
from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, like, to_uint8
from moviola.media.still import read_rgb
from moviola.models.image_model import RANGES, ImageModel
from moviola.pipeline import Effect, Param, parse_path, register
from moviola.vision.flow import FlowEstimator, consistency

log = logging.getLogger("moviola")

#: learned styles in the model store: name -> (model id, the network's pixel range)
STYLE_MODELS: dict[str, tuple[str, str]] = {
    "animegan-shinkai": ("animeganv2-shinkai", "-1,1"),
    **{name: (f"built-in {name}", "0,1") for name in BUILTIN_STYLES},  # trained here, shipped
}

#: filters that run a model from the store: name -> model id (the effect's kind is "model" then)
MODEL_FILTERS: dict[str, str] = {"vintage": VINTAGE_MODEL}

_PLAIN_FILTERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "cartoon": cartoon,
    "sketch": sketch,
    "watercolor": watercolor,
    "oil": oil,
    "halftone": halftone,
}


@dataclass
class _Held:
    """A frame waiting for the next keyframe: working-resolution state only."""

    frame: Frame  # its image is empty, of the frame's dtype
    alpha: np.ndarray | None
    guides: np.ndarray
    flow_in: np.ndarray | None  # flow(previous, this), float16
    flow_back: np.ndarray | None  # flow(this, previous), float16
    field: np.ndarray | None  # the forward carrier's field
    key: Key | None  # the keyframe that field points into
    position: int = 0


@register
class Stylize(Effect):
    name = "stylize"
    summary = (
        "Give the video a look: carry painted keyframes or a style image along the motion "
        "(EbSynth-like), classical filters (cartoon, sketch, watercolor, oil, posterize, "
        "halftone), a learned vintage film look (CycleGAN, steady over each shot), or a "
        "user-supplied image-to-image ONNX model."
    )
    kind = "classical"
    context_frames = None  # carried state: a chunked run needs the keyframe in its chunk
    params = (
        Param(
            "keyframe",
            str,
            None,
            "FRAME=IMAGE: a stylized version of that frame (frame number, or time like 2.5s); "
            "repeat for several, the look is blended between them",
            multiple=True,
            kind="keyframes",
        ),
        Param(
            "style",
            parse_path,
            None,
            "a style image: its textures are applied to the first frame by patch synthesis, "
            "and that is carried along the motion",
        ),
        Param(
            "filter",
            str,
            None,
            f"a filter: {', '.join(FILTERS)} (classical, no model); "
            + ", ".join(f"{k} (model {v}, fetched once)" for k, v in MODEL_FILTERS.items()),
            choices=(*FILTERS, *MODEL_FILTERS),
        ),
        Param(
            "style_model",
            str,
            None,
            "a learned style from the model store, fetched once (`moviola models fetch ID`; "
            "non-commercial ones with --accept-license): "
            + ", ".join(f"{k} ({v[0]})" for k, v in STYLE_MODELS.items()),
            choices=tuple(STYLE_MODELS),
        ),
        Param(
            "model",
            parse_path,
            None,
            "an image-to-image ONNX file of your own (fast neural style, AnimeGAN, CycleGAN "
            "generator)",
        ),
        Param(
            "model_range",
            str,
            "auto",
            "the model's pixel value range: 0,1 / -1,1 / 0,255; auto: the model's metadata "
            "'range', else 0,255",
            choices=("auto", *RANGES),
        ),
        Param(
            "tile",
            int,
            0,
            "run the model on tiles of this size (0: whole frame; vintage: tiles of 1024 above "
            "2048 px)",
            min=0,
            max=8192,
        ),
        Param(
            "smooth",
            float,
            0.0,
            "for filters and models: mix in the previous output warped by flow, 0 (off) .. 0.9",
            min=0.0,
            max=0.9,
        ),
        Param(
            "colors",
            int,
            8,
            "posterize: palette size (fixed from the first frame)",
            min=2,
            max=64,
        ),
        Param(
            "work",
            int,
            192,
            "keyframes/style: working resolution of the synthesis (px on the short side)",
            min=48,
            max=1080,
        ),
        Param(
            "temporal",
            bool,
            True,
            "keyframes/style: use the positional and temporal guides; vintage: share the "
            "network's normalisation statistics over each shot (off: each frame on its own, "
            "which flickers; for comparison)",
        ),
        Param(
            "max_gap",
            int,
            120,
            "keyframes: most frames held between two keyframes for blending (memory bound: "
            "about 1.2-1.6 MB each at work=192, whatever the video size)",
            min=1,
            max=10000,
        ),
        Param(
            "iterations",
            int,
            2,
            "keyframes/style: PatchMatch iterations per frame (0: warp the keyframe by "
            "accumulated flow only, fastest, occlusions smear)",
            min=0,
            max=10,
        ),
    )
    keyframe: tuple[str, ...] | None
    style: str | None
    filter: str | None
    style_model: str | None
    model: str | None
    model_range: str
    tile: int
    smooth: float
    colors: int
    work: int
    temporal: bool
    max_gap: int
    iterations: int

    # -- parameters ---------------------------------------------------------------------------------
    def _modes(self) -> list[str]:
        given = (
            ("keyframe", self.keyframe),
            ("style", self.style),
            ("filter", self.filter),
            ("style_model", self.style_model),
            ("model", self.model),
        )
        return [m for m, v in given if v]

    @property
    def mode(self) -> str:
        """keyframe, style, filter, style_model or model: the one way given."""
        return self._modes()[0]

    def mode_kind(self) -> str:
        modes = self._modes()
        if modes and modes[0] == "filter" and self.filter in MODEL_FILTERS:
            return "model"
        return "model" if modes and modes[0] in ("model", "style_model") else "classical"

    def validate(self) -> None:
        modes = self._modes()
        if len(modes) != 1:
            raise MoviolaError(
                "stylize: give one of --keyframe, --style, --filter, --style-model or --model"
                + (f" (got {', '.join(modes)})" if modes else "")
            )
        for text in self.keyframe or ():
            parse_keyframe(text)  # FRAME=IMAGE, the image a file
        if self.model is not None and Path(self.model).suffix.lower() != ".onnx":
            raise MoviolaError(f"stylize: model must be an .onnx file: {self.model}")
        if self.filter in MODEL_FILTERS and 0 < self.tile < MIN_TILE:
            raise MoviolaError(f"stylize: tile must be 0 (auto) or at least {MIN_TILE} pixels")

    def chunk_problem(self) -> str | None:
        if self.keyframe or self.style:
            return "the keyframes' look is carried frame to frame through the whole clip"
        return None

    @property
    def method(self) -> str:
        if self.mode in ("keyframe", "style"):
            guided = "guided-patchmatch" if self.temporal else "per-frame-patchmatch"
            return f"{self.mode}:{guided}"
        if self.mode == "filter":
            steady = "" if self.filter not in MODEL_FILTERS or self.temporal else ":per-frame"
            return f"filter:{self.filter}{steady}"
        if self.mode == "style_model":
            return f"style-model:{self.style_model}"
        return f"model:{Path(str(self.model)).name}"

    def tags(self) -> dict[str, str]:
        return {"moviola_stylize": self.method}

    # -- life cycle ---------------------------------------------------------------------------------
    def configure(self, info: StreamInfo) -> StreamInfo:
        self._size = (info.width, info.height)
        self._small = work_size(info.width, info.height, self.work)
        self._specs: list[KeySpec] = [parse_keyframe(k) for k in self.keyframe or ()]
        self._images: dict[int, np.ndarray] = {
            i: self._keyframe_image(spec.path, info) for i, spec in enumerate(self._specs)
        }
        self._style_image = read_rgb(self.style, "style image") if self.style else None
        self._flow = FlowEstimator("medium")
        self._prev_gray: np.ndarray | None = None
        self._held: list[_Held] = []
        self._carrier: Carrier | None = None
        self._count = 0
        self._per_frame: Callable[[np.ndarray], np.ndarray] | None = None
        if self.filter == "posterize":
            self._per_frame = Posterizer(self.colors)
        elif self.filter in MODEL_FILTERS:
            tile = auto_tile(info.width, info.height, self.tile)
            self._per_frame = Vintage(tile, shared=self.temporal)
        elif self.filter is not None:
            self._per_frame = _PLAIN_FILTERS[self.filter]
        elif self.style_model is not None:
            model_id, value_range = STYLE_MODELS[self.style_model]
            try:
                path = builtin_path(self.style_model) or models.ensure(model_id)
            except MoviolaError as e:
                raise MoviolaError(f"stylize: {e}") from None
            chosen = value_range if self.model_range == "auto" else self.model_range
            self._per_frame = self._model = ImageModel.open(path, chosen, self.tile, what="stylize")
        elif self.model is not None:
            self._per_frame = self._model = ImageModel.open(
                Path(self.model), self.model_range, self.tile, what="stylize"
            )
        self._smoother = Smoother(self.smooth) if self.smooth > 0 else None
        self.keys_used: list[int] = []
        return info

    def _keyframe_image(self, path: Path, info: StreamInfo) -> np.ndarray:
        """A keyframe image at the frame's size; MoviolaError if its aspect ratio differs."""
        image = read_rgb(path, "keyframe image")
        ih, iw = image.shape[:2]
        aspect = info.width / info.height
        if abs(iw / ih - aspect) > 0.02 * aspect:
            raise MoviolaError(
                f"stylize: keyframe image {path.name} is {iw}x{ih}, the video "
                f"{info.width}x{info.height}: give an image of the same aspect ratio"
            )
        if (iw, ih) != self._size:
            interp = cv2.INTER_AREA if iw > info.width else cv2.INTER_CUBIC
            image = cv2.resize(image, self._size, interpolation=interp)
        return image

    # -- per frame ----------------------------------------------------------------------------------
    def process(self, frame: Frame) -> Frame | list[Frame]:
        if self._per_frame is not None:
            rgb = to_uint8(frame.image[..., :3])
            out = self._per_frame(rgb)
            if self._smoother is not None:
                out = self._smoother(rgb, out)
            return frame.with_image(_finish(out, frame.image.dtype, _alpha(frame)))
        return self._guided(frame)

    def _guided(self, frame: Frame) -> list[Frame]:
        rgb = to_uint8(frame.image[..., :3])
        small = cv2.resize(rgb, self._small, interpolation=cv2.INTER_AREA)
        g = guides(small)
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        flow_in = flow_back = None
        if self._prev_gray is not None:
            flow_in = self._flow(self._prev_gray, gray)
            flow_back = self._flow(gray, self._prev_gray)
        self._prev_gray = gray
        position = self._count
        self._count += 1
        alpha = _alpha(frame)
        dtype = frame.image.dtype

        image = self._key_image(frame, rgb)
        if image is not None:
            small_key = cv2.resize(image, self._small, interpolation=cv2.INTER_AREA)
            key = Key(image, small_key.astype(np.float32) / 255, g, position)
            self.keys_used.append(frame.index)
            out = self._resolve(key, flow_in, flow_back)
            out.append(frame.with_image(_finish(image, dtype, alpha)))
            self._carrier = Carrier(key, temporal=self.temporal, iterations=self.iterations)
            return out

        fld = None
        if self._carrier is not None:
            mask = None
            if flow_in is not None and flow_back is not None:
                mask = consistency(flow_in, flow_back)
            self._carrier.step(g, flow_back, mask)
            fld = self._carrier.field
        empty = frame.with_image(np.zeros((0, 0, 3), dtype))
        ahead = any(s.still_ahead(frame) for s in self._specs)
        if not ahead and self._carrier is not None:
            out = self.flush()  # frames held for a keyframe that never came (not in the clip)
            out.append(self._emit(empty, alpha, self._carrier.field, self._carrier.key))
            return out
        held = _Held(
            empty,
            alpha,
            g.astype(np.float16),
            None if flow_in is None else flow_in.astype(np.float16),
            None if flow_back is None else flow_back.astype(np.float16),
            fld,
            self._carrier.key if self._carrier is not None else None,
            position,
        )
        self._held.append(held)
        out: list[Frame] = []
        if len(self._held) > self.max_gap:
            first = self._held.pop(0)
            if first.key is None or first.field is None:
                raise MoviolaError(
                    f"stylize: no keyframe within the first {self.max_gap} frames; give a "
                    "keyframe nearer the start or raise max_gap"
                )
            out.append(self._emit(first.frame, first.alpha, first.field, first.key))
        return out

    def _key_image(self, frame: Frame, rgb: np.ndarray) -> np.ndarray | None:
        if self.mode == "style":
            if self._count == 1 and self._style_image is not None:
                return transfer_style(self._style_image, rgb, short=self.work)
            return None
        for i, spec in enumerate(self._specs):
            if not spec.done and spec.matches(frame):
                spec.done = True
                return self._images[i]
        return None

    def _emit(self, empty: Frame, alpha: np.ndarray | None, fld: np.ndarray, key: Key) -> Frame:
        """A held (or just carried) frame, rendered: ``empty`` holds its time and dtype."""
        return empty.with_image(_finish(render(key, fld, self._size), empty.image.dtype, alpha))

    def _resolve(
        self, key: Key, flow_in: np.ndarray | None, flow_back: np.ndarray | None
    ) -> list[Frame]:
        """The held frames, now that the next keyframe is here: carried backward from it and
        blended with what the previous keyframe gave them."""
        if not self._held:
            return []
        back = Carrier(key, temporal=self.temporal, iterations=self.iterations, seed=1)
        fields: list[np.ndarray] = []
        next_in, next_back = flow_in, flow_back  # flows between held[i] and held[i + 1]/key
        for held in reversed(self._held):
            if next_in is None or next_back is None:  # no flow (cannot happen after the first)
                back.step(held.guides.astype(np.float32), None, None)
            else:
                # moving backward: this frame's grid to the later frame's is flow(this, later)
                f_this_later = np.asarray(next_in, np.float32)
                f_later_this = np.asarray(next_back, np.float32)
                mask = consistency(f_later_this, f_this_later)
                back.step(held.guides.astype(np.float32), f_this_later, mask)
            fields.append(back.field)
            next_in, next_back = held.flow_in, held.flow_back
        fields.reverse()
        start = self._held[0].position - 1
        out = []
        for held, fld in zip(self._held, fields, strict=True):
            after = render(key, fld, self._size).astype(np.float32)
            if held.key is None or held.field is None:
                image = after
            else:
                before = render(held.key, held.field, self._size).astype(np.float32)
                w = (held.position - start) / (key.position - start)
                image = before * (1 - w) + after * w
            image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
            out.append(held.frame.with_image(_finish(image, held.frame.image.dtype, held.alpha)))
        self._held = []
        return out

    def flush(self) -> list[Frame]:
        if self._per_frame is not None or not self._held:
            return []
        if self._carrier is None:
            wanted = ", ".join(s.text.split("=", 1)[0] for s in self._specs) or "first"
            raise MoviolaError(f"stylize: no frame of the clip is at keyframe {wanted}")
        missed = [s.text for s in self._specs if not s.done]
        if missed:
            log.warning("stylize: keyframes not in the clip: %s", ", ".join(missed))
        out = []
        for h in self._held:
            assert h.field is not None and h.key is not None  # a carrier ran since
            out.append(self._emit(h.frame, h.alpha, h.field, h.key))
        self._held = []
        return out


def _alpha(frame: Frame) -> np.ndarray | None:
    return to_uint8(frame.image[..., 3]) if frame.has_alpha else None


def _finish(out: np.ndarray, dtype: np.dtype, alpha: np.ndarray | None) -> np.ndarray:
    """A uint8 RGB result, with the frame's alpha (uint8) put back, in the frame's dtype."""
    if alpha is not None:
        out = np.dstack([out, alpha])
    return like(out, dtype)


__all__ = ["FILTERS", "MODEL_FILTERS", "Posterizer", "Stylize", "Vintage", "transfer_style"]
