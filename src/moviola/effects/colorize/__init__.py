"""colorize: give black-and-white footage colour, from a reference picture, from colour hints,
or from an automatic colorization network.

No automatic colorization weights can be had from the registries this project installs from
(docs/models.md): two of the three methods are classical and need no model, and the third takes
DDColor from its upstream home once the user fetches it (``moviola models fetch ddcolor-tiny``),
or any export the user supplies:

reference  (``--reference IMAGE``, repeatable; classical, example-based) The references are
           colour pictures of the same or a similar scene: a colour still, or a keyframe of the
           clip that someone coloured. Each gray frame is worked on at ``work`` px (long side)
           in CIELAB: every pixel is described by its lightness, the mean and spread of the
           lightness around it at two scales (texture) and, weighted by ``locality``, its place
           in the picture; its chroma (a, b) is the weighted mean of the chroma of the nearest
           reference pixels in that feature space (k-d tree). The lightness of the frames is
           first brought to the references' mean and spread (measured once, on the first frame).
reference  The chroma is then smoothed along the gray frame's edges (guided filter) and
           carried along motion: the previous frame's chroma is warped onto the current one by
           optical flow (vision/flow.py) and kept wherever the flow is consistent both ways,
           blended with the fresh estimate (``temporal``), so colours stay on their objects and
           do not flicker. Flow is reset at cuts.
hints      (``--hints FILE``; classical) Colour points and scribbles on keyframes (JSON, or a PNG
           whose coloured or opaque pixels are the hints) spread through the frame by Levin,
           Lischinski & Weiss's "Colorization using optimization": neighbouring pixels of similar
           lightness get similar chroma, a sparse linear system solved (scipy) at ``work`` px and
           brought to full size along the edges (guided filter). Through time the previous
           frame's chroma, warped by optical flow, is a soft constraint wherever the flow is
           consistent; the system fills in what was hidden. Frames before the first keyframe
           use its hints where they are.
model      (no --reference or --hints: the fetched ``ddcolor-tiny``; or ``--model FILE.onnx``;
           kind "model") An automatic colorization network (DDColor, DeOldify exports; see
           docs/recolor.md for their homes, licences and the interface expected). Its chroma is
           used, the footage's own lightness kept, and the same motion-carried smoothing applied
           (per-frame networks flicker; the warped previous chroma is kept where flow is
           consistent).

Whatever the method, the output's lightness is the input's: only a and b are made up. The method
used is recorded in the output's metadata (``moviola_colorize``) and in the effect's description.

This package: the effect here; ``reference.py`` (the example-based matcher), ``hints.py`` (the
hints file), ``model.py`` (the model slot); the Levin solver is :mod:`moviola.vision.levin`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from moviola import models
from moviola.effects.colorize.hints import IMAGE_SUFFIXES, Keyframe, RasterHints, load_hints
from moviola.effects.colorize.model import ModelColorizer
from moviola.effects.colorize.reference import ReferenceMatcher
from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, like, to_float
from moviola.media.still import read_rgb
from moviola.pipeline import Effect, Param, parse_path, register
from moviola.vision.color import gray_lightness, lab_to_rgb, rgb_to_lab
from moviola.vision.filters import guided_filter
from moviola.vision.flow import FlowEstimator, consistency, warp
from moviola.vision.levin import levin_solve

log = logging.getLogger("moviola")

#: the automatic colorization network, used when no reference, hints or model file are given
AUTO_MODEL = "ddcolor-tiny"
_CUT_LEVELS = 35.0  # mean absolute change of the working gray image that counts as a cut
_HINT_WEIGHT = 100.0  # soft-constraint weight of a user hint (edge weights are <= 1)


@register
class Colorize(Effect):
    name = "colorize"
    summary = (
        "Colour black-and-white footage: from reference pictures (example-based) or colour "
        "hints (edge-aware optimization), carried along motion; classical. Or automatically "
        "(DDColor, once fetched, or an ONNX model you supply), stabilised along motion."
    )
    kind = "classical"  # "model" on an instance given ``model`` (mode_kind)
    context_frames = None  # chroma is carried from frame to frame by motion
    params = (
        Param(
            "reference",
            parse_path,
            None,
            "a colour image of the same or a similar scene (or a coloured keyframe). "
            "Classical, example-based",
            multiple=True,
            max_items=16,
        ),
        Param(
            "hints",
            parse_path,
            None,
            'colour hints: JSON {"frame": N or "time": T, "points": [[x, y, "#rrggbb"]], '
            '"scribbles": [{"color": "#rrggbb", "points": [[x, y], ...], "width": 5}]} (or a list '
            "of those), or a PNG whose coloured/opaque pixels are hints for the first frame. "
            "Classical, edge-aware optimization",
        ),
        Param(
            "model",
            parse_path,
            None,
            "an automatic colorization ONNX file (DDColor, DeOldify exports): input 1x1 (L/100) "
            "or 1x3 (gray RGB 0..1) NCHW, output 1x2 (a, b) or 1x3 (RGB 0..1); without it (and "
            f"without --reference/--hints) the fetched {AUTO_MODEL} is used",
        ),
        Param(
            "model_size",
            int,
            512,
            "the model's input size when the model does not fix one (square)",
            min=32,
            max=4096,
        ),
        Param(
            "locality",
            float,
            1.0,
            "reference mode: weight of the pixel's place in the picture when matching "
            "(0: anywhere in the reference; high: the same place, for keyframes of the shot)",
            min=0.0,
            max=20.0,
        ),
        Param(
            "temporal",
            float,
            0.85,
            "how much of the previous frame's chroma, carried by motion, is kept where the flow "
            "is reliable (0: every frame on its own)",
            min=0.0,
            max=0.99,
        ),
        Param(
            "saturation",
            float,
            1.0,
            "scale of the chroma that is put in",
            min=0.0,
            max=3.0,
        ),
        Param(
            "work",
            int,
            256,
            "working resolution, long side in px (matching, optimization, flow)",
            min=64,
            max=1024,
        ),
    )

    reference: tuple[str, ...] | None
    hints: str | None
    model: str | None
    model_size: int
    locality: float
    temporal: float
    saturation: float
    work: int

    # -- parameters -----------------------------------------------------------------------------
    def _given(self) -> list[str]:
        values = (("reference", self.reference), ("hints", self.hints), ("model", self.model))
        return [name for name, value in values if value]

    @property
    def method(self) -> str:
        """reference, hints or model: the one given (model, the fetched DDColor, when none)."""
        given = self._given()
        return given[0] if given else "model"

    def validate(self) -> None:
        given = self._given()
        if not given and not models.is_cached(AUTO_MODEL):
            spec = models.get_spec(AUTO_MODEL)
            raise MoviolaError(
                "colorize: give --reference IMAGE or --hints FILE (classical), --model FILE, or "
                f"fetch the automatic model once: `moviola models fetch {AUTO_MODEL}` "
                f"({spec.download_size / 1e6:.0f} MB, {spec.license})"
            )
        if len(given) > 1:
            raise MoviolaError(f"colorize: give one of --reference, --hints, --model, not {given}")
        for path in self.reference or ():
            if Path(path).suffix.lower() not in IMAGE_SUFFIXES:
                raise MoviolaError(f"colorize: reference must be an image: {path}")
        if self.hints is not None:
            # A malformed hints file is a parameter error, reported when the effect is made
            # (one line, before any decoding): this check reads it; configure() reads it again.
            load_hints(Path(self.hints))
        if self.model is not None and Path(self.model).suffix.lower() != ".onnx":
            raise MoviolaError(f"colorize: --model must be an .onnx file: {self.model}")

    def mode_kind(self) -> str:
        return "model" if self.method == "model" else "classical"

    @property
    def method_label(self) -> str:
        if self.model is not None:
            return f"model {Path(self.model).name} (user-supplied ONNX)"
        if self.method == "model":
            return f"model {AUTO_MODEL} (automatic, stabilised along motion)"
        if self.method == "hints":
            return "hints (classical: edge-aware optimization + optical flow)"
        return "reference (classical: example-based transfer + optical flow)"

    def tags(self) -> dict[str, str]:
        return {"moviola_colorize": self.method_label}

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, how={self.method_label!r})"

    # -- life cycle -----------------------------------------------------------------------------
    def configure(self, info: StreamInfo) -> StreamInfo:
        self._size = (info.width, info.height)
        scale = min(1.0, self.work / max(info.width, info.height))
        self._wsize = (max(8, round(info.width * scale)), max(8, round(info.height * scale)))
        self._rate = info.rate
        self._flow = FlowEstimator("medium")
        self._prev_gray: np.ndarray | None = None
        self._prev_ab: np.ndarray | None = None
        self.cuts: list[int] = []
        if self.method in ("reference", "hints"):
            try:
                import scipy  # noqa: F401  (k-d tree and sparse solver)
            except ImportError:
                raise MoviolaError(
                    "colorize: --reference and --hints need scipy: pip install scipy"
                ) from None
        self._matcher: ReferenceMatcher | None = None
        self._hints: list[RasterHints] = []
        self._model: ModelColorizer | None = None
        if self.reference:
            references = [to_float(read_rgb(p, "reference image")) for p in self.reference]
            self._matcher = ReferenceMatcher(references, self._wsize, self.locality)
        elif self.hints is not None:
            keyframes = load_hints(Path(self.hints))
            self._hints = [k.rasterize(self._size, self._wsize) for k in keyframes]
        else:
            path = Path(self.model) if self.model else models.ensure(AUTO_MODEL)
            self._model = ModelColorizer(path, self.model_size)
        log.info("colorize: %s", self.method_label)
        return info

    def process(self, frame: Frame) -> Frame:
        rgb = to_float(frame.image[..., :3])
        lum = rgb_to_lab(rgb)[..., 0]
        small_l = cv2.resize(lum, self._wsize, interpolation=cv2.INTER_AREA)
        g8 = np.clip(small_l * 2.55 + 0.5, 0, 255).astype(np.uint8)
        warped, reliable = self._carry(g8, frame.index)
        if self._matcher is not None:
            fresh = self._matcher(small_l)
            fresh = guided_filter(small_l / 100, fresh, radius=4, eps=1e-3)
            ab = self._blend(fresh, warped, reliable)
        elif self._model is not None:
            fresh = cv2.resize(self._model(lum), self._wsize, interpolation=cv2.INTER_AREA)
            ab = self._blend(fresh, warped, reliable)
        else:
            ab = self._solve_hints(small_l, frame, warped, reliable)
        self._prev_gray, self._prev_ab = g8, ab
        full = guided_filter(lum / 100, ab, radius=8, eps=4e-4, work=self.work * 2)
        lab = np.concatenate([lum[..., None], full * self.saturation], axis=2)
        out = like(lab_to_rgb(lab), frame.image.dtype)
        if frame.has_alpha:
            out = np.concatenate([out, frame.image[..., 3:]], axis=2)
        return frame.with_image(out)

    # -- time -----------------------------------------------------------------------------------
    def _carry(
        self, g8: np.ndarray, index: int
    ) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
        """The previous chroma warped onto this frame, and where that can be trusted (0..1)."""
        if self._prev_gray is None or self._prev_ab is None:
            return None, None
        if float(np.abs(g8.astype(np.int16) - self._prev_gray).mean()) > _CUT_LEVELS:
            self.cuts.append(index)
            self._prev_gray = self._prev_ab = None
            return None, None
        back = self._flow(g8, self._prev_gray)  # current -> previous
        fwd = self._flow(self._prev_gray, g8)
        mask = consistency(fwd, back, tolerance=1.0)
        mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
        mask = cv2.GaussianBlur(mask, (0, 0), 1.0)
        return warp(self._prev_ab, back), mask

    def _blend(
        self, fresh: np.ndarray, warped: np.ndarray | None, reliable: np.ndarray | None
    ) -> np.ndarray:
        if warped is None or reliable is None or self.temporal <= 0:
            return fresh
        k = (self.temporal * reliable)[..., None]
        return k * warped + (1 - k) * fresh

    # -- hints ----------------------------------------------------------------------------------
    def _solve_hints(
        self,
        small_l: np.ndarray,
        frame: Frame,
        warped: np.ndarray | None,
        reliable: np.ndarray | None,
    ) -> np.ndarray:
        hint = self._hint_for(frame)
        h, w = small_l.shape
        weight = np.zeros((h, w), np.float32)
        target = np.zeros((h, w, 2), np.float32)
        if warped is not None and reliable is not None and self.temporal > 0:
            # soft constraints: the previous chroma where the motion is reliable
            weight = (self.temporal / (1 - self.temporal)) * 0.2 * reliable
            target = warped * weight[..., None]
        if hint is not None:
            hint_w = _HINT_WEIGHT * hint.mask
            target = target + hint.ab * hint_w[..., None]
            weight = weight + hint_w
        target = target / np.maximum(weight, 1e-9)[..., None]
        return levin_solve(small_l, target, weight, x0=warped)

    def _hint_for(self, frame: Frame) -> RasterHints | None:
        """The hints of this frame's keyframe; before the first keyframe, the first one's."""
        if not self._hints:
            return None
        for hint in self._hints:
            if hint.matches(frame.index, frame.time, frame.duration):
                return hint
        if self._prev_ab is None:  # start of the clip or after a cut: nothing to carry
            earlier = [k for k in self._hints if not k.before(frame.index, frame.time)]
            if earlier:
                return max(earlier, key=lambda k: k.order)
            return min(self._hints, key=lambda k: k.order)
        return None


__all__ = [
    "Colorize",
    "Keyframe",
    "ModelColorizer",
    "ReferenceMatcher",
    "gray_lightness",
    "levin_solve",
    "load_hints",
]
