"""recolor: match the look of a reference picture or shot, or change one range of hues.

Look transfer (``--reference``, an image or a video; repeatable). The colours of the reference
(for a video: ``samples`` frames spread over it, or over ``reference_start``..``reference_end``,
so shot B can be matched to shot A) and of the footage (its first ``measure`` frames) are
measured once; the same transfer is then applied to every frame, so nothing flickers:

  mkl        (default) the linear map between the two colour distributions in CIELAB that moves
             colours least (Monge-Kantorovich, Pitie & Kokaram 2007): means, spreads and the
             correlations between lightness and chroma all match
  reinhard   per-channel mean and spread in CIELAB (Reinhard et al. 2001)
  histogram  the whole colour distribution in Oklab, not just its first two moments: iterative
             distribution transfer (Pitie et al. 2005), histogram (CDF) matching along rotated
             axes, 8 steps learnt once; best for skewed looks (dark, low-key shots)

``strength`` blends between the footage (0) and the full transfer (1); ``lightness false`` keeps
the footage's own lightness and changes only the chroma.

Hue shift (``--hue-from COLOR`` and ``--hue-to COLOR`` or ``--shift-hue DEG``): pixels whose hue
(Oklab LCh) lies within ``hue_width`` degrees of the colour's hue are turned, fully within half
that width and fading to nothing at the full width; gray pixels (low chroma) are left alone. With
``hue_to`` the chroma is also scaled toward the target colour's.

The whole colour change is a function of the pixel's colour alone: it is baked once into a
65 x 65 x 65 table over the RGB cube and applied by trilinear interpolation, so every mode costs
the same per frame.

``subject`` restricts everything to the person (or ``background`` to everything but them), with
the matte effect's model (Robust Video Matting, through moviola.effects.matte.Matte); the
instance's ``kind`` is then "model".
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, like, to_float
from moviola.media.still import read_rgb
from moviola.pipeline import Effect, Param, parse_color, parse_path, parse_time, register
from moviola.vision.color import (
    ColorStats,
    DistributionTransfer,
    Lut3D,
    hue_distance,
    hue_of,
    lab_to_rgb,
    mkl_transform,
    oklab_to_rgb,
    rgb_to_lab,
    rgb_to_oklab,
)

log = logging.getLogger("moviola")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
METHODS = ("mkl", "reinhard", "histogram")
_STATS_WIDTH = 320  # px: colours are measured on pictures this wide


@register
class Recolor(Effect):
    name = "recolor"
    summary = (
        "Match the colours of a reference picture or shot (colour transfer in CIELAB/Oklab), "
        "or shift one range of hues; optionally only on the person (--subject, matte model)."
    )
    kind = "classical"  # "model" on an instance with subject or background
    # the footage's colours are measured on the stream's first frames: a chunk would measure
    # its own and differ (and RVM's state, with subject, never converges)
    context_frames = None
    params = (
        Param(
            "reference",
            parse_path,
            None,
            "an image or a video whose look to match (a video: frames sampled over it)",
            multiple=True,
            max_items=16,
        ),
        Param("reference_start", parse_time, None, "a video reference: start of the shot to match"),
        Param("reference_end", parse_time, None, "a video reference: end of the shot to match"),
        Param(
            "method",
            str,
            "mkl",
            "mkl: linear map matching mean and covariance in CIELAB; reinhard: "
            "per-channel mean/spread in CIELAB; histogram: whole-distribution transfer in Oklab "
            "(rotated-axis CDF matching)",
            choices=METHODS,
        ),
        Param("strength", float, 1.0, "0: unchanged .. 1: full transfer", min=0.0, max=1.0),
        Param("lightness", bool, True, "match the lightness too (else only the chroma)"),
        Param(
            "measure",
            int,
            5,
            "how many first frames of the footage its colours are measured on (held back "
            "until measured)",
            min=1,
            max=100,
        ),
        Param("samples", int, 12, "frames sampled from a video reference", min=1, max=500),
        Param("hue_from", parse_color, None, "shift the hues near this colour (#rrggbb)"),
        Param("hue_to", parse_color, None, "... to this colour's hue (and chroma)"),
        Param("shift_hue", float, None, "... or by this many degrees", min=-180, max=180),
        Param(
            "hue_width",
            float,
            30.0,
            "hues within this many degrees of hue_from are changed (fully within half of it)",
            min=1,
            max=180,
        ),
        Param("subject", bool, False, "only the person (matte model: Robust Video Matting)"),
        Param("background", bool, False, "only what is not the person (matte model)"),
    )
    reference: tuple[str, ...] | None
    reference_start: Fraction | None
    reference_end: Fraction | None
    method: str
    strength: float
    lightness: bool
    measure: int
    samples: int
    hue_from: tuple[int, int, int] | None
    hue_to: tuple[int, int, int] | None
    shift_hue: float | None
    hue_width: float
    subject: bool
    background: bool

    # -- parameters -----------------------------------------------------------------------------
    def chunk_problem(self) -> str | None:
        if self.reference:
            return "the footage's colours are measured once, on the clip's first frames"
        return None

    def validate(self) -> None:
        transfer = bool(self.reference)
        shift = self.hue_from is not None
        if self.hue_from is not None and (self.hue_to is None) == (self.shift_hue is None):
            raise MoviolaError("recolor: with --hue-from give --hue-to COLOR or --shift-hue DEG")
        if self.hue_from is None and (self.hue_to is not None or self.shift_hue is not None):
            raise MoviolaError("recolor: --hue-to and --shift-hue need --hue-from COLOR")
        if not transfer and not shift:
            raise MoviolaError(
                "recolor: give --reference IMAGE/VIDEO, or --hue-from with --hue-to/--shift-hue"
            )
        if self.subject and self.background:
            raise MoviolaError("recolor: give --subject or --background, not both")
        shot = self.reference_start is not None or self.reference_end is not None
        if shot and (not transfer or all(_is_image(p) for p in self.reference or ())):
            raise MoviolaError("recolor: --reference-start/--reference-end need a video reference")
        if shift and self._hue_shift()[1] < 0.02:  # (hue, chroma, shift, chroma ratio)
            raise MoviolaError(f"recolor: hue_from {self.hue_from} is gray: it has no hue")

    def mode_kind(self) -> str:
        return "model" if self.subject or self.background else "classical"

    def _hue_shift(self) -> tuple[float, float, float, float]:
        """For --hue-from: (its hue in degrees, its chroma, the hue shift in degrees, the
        chroma ratio)."""
        assert self.hue_from is not None
        hue_from, chroma_from = hue_of(self.hue_from)
        if self.hue_to is not None:
            hue_to, chroma_to = hue_of(self.hue_to)
            delta = (hue_to - hue_from + 180) % 360 - 180
            ratio = float(np.clip(chroma_to / max(chroma_from, 1e-6), 0.25, 4.0))
            return hue_from, chroma_from, delta, ratio
        return hue_from, chroma_from, float(self.shift_hue or 0.0), 1.0

    @property
    def method_label(self) -> str:
        parts = []
        if self.reference:
            parts.append(f"look transfer ({self.method}, strength {self.strength:g})")
        if self.hue_from is not None:
            parts.append(f"hue shift {self._hue_shift()[2]:+.0f} deg")
        where = (
            " on the subject" if self.subject else " on the background" if self.background else ""
        )
        model = " (matte model rvm)" if where else " (classical)"
        return ", ".join(parts) + where + model

    def tags(self) -> dict[str, str]:
        return {"moviola_recolor": self.method_label}

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, how={self.method_label!r})"

    # -- life cycle -----------------------------------------------------------------------------
    def configure(self, info: StreamInfo) -> StreamInfo:
        self._target: ColorStats | None = None
        self._apply = None
        self._lut: Lut3D | None = None
        self._held: list[Frame] = []
        self._source = ColorStats()
        if self.hue_from is not None:
            self._hue_from, _, self._delta, self._chroma_ratio = self._hue_shift()
        if self.reference:
            self._target = self._measure_reference()
        self._matte = None
        if self.subject or self.background:
            from moviola.pipeline import registry  # effects meet only through the registry

            self._matte = registry.create("matte", model="rvm", matte_only=True)
            self._matte.configure(info)
        log.info("recolor: %s", self.method_label)
        return info

    def close(self) -> None:
        if self._matte is not None:
            self._matte.close()

    def _space(self, rgb: np.ndarray) -> np.ndarray:
        return rgb_to_oklab(rgb) if self.method == "histogram" else rgb_to_lab(rgb)

    def _measure_reference(self) -> ColorStats:
        stats = ColorStats()
        for i, rgb in enumerate(self._reference_pictures()):
            stats.add(self._space(_small(rgb)), seed=i)
        return stats.freeze()

    def _reference_pictures(self):
        from moviola.media import VideoReader

        for path in self.reference or ():
            if _is_image(Path(path)):
                yield _read_rgb(Path(path))
                continue
            reader = VideoReader(path, start=self.reference_start, end=self.reference_end)
            try:
                info = reader.stream_info
                total = info.frames
                if reader.end is not None:  # a shot: its length from its duration
                    start = reader.start
                    total = max(1, int((reader.end - start) * info.rate))
                elif self.reference_start is not None and total:
                    total = max(1, total - int(reader.start * info.rate))
                # about `samples` frames spread over the reference (or its first ~300 frames)
                step = max(1, (total or 300) // self.samples)
                taken = 0
                for i, frame in enumerate(reader):
                    if i % step == 0:
                        yield to_float(frame.image[..., :3])
                        taken += 1
                        if taken >= self.samples:
                            break
                if taken == 0:
                    raise MoviolaError(f"recolor: no frames in the reference {path}")
            finally:
                reader.close()

    # -- per frame ------------------------------------------------------------------------------
    def process(self, frame: Frame) -> list[Frame]:
        if self._target is not None and self._apply is None:
            self._source.add(
                self._space(_small(to_float(frame.image[..., :3]))), seed=len(self._held)
            )
            self._held.append(frame)
            if len(self._held) < self.measure:
                return []
            return self._release()
        return [self._recolor(frame)]

    def flush(self) -> list[Frame]:
        return self._release() if self._held else []

    def _release(self) -> list[Frame]:
        assert self._target is not None  # measured in configure()
        self._apply = self._transfer(self._source.freeze(), self._target)
        held, self._held = self._held, []
        return [self._recolor(f) for f in held]

    def _transfer(self, source: ColorStats, target: ColorStats):
        """A function colour array (N x 3, in the working space) -> transferred colours."""
        if self.method == "mkl":
            t, offset = mkl_transform(source, target)
            t, offset = t.astype(np.float32), offset.astype(np.float32)
            return lambda x: x @ t.T + offset
        if self.method == "reinhard":
            gain = (target.std / np.maximum(source.std, 1e-6)).astype(np.float32)
            offset = (target.mean - gain * source.mean).astype(np.float32)
            return lambda x: x * gain + offset
        return DistributionTransfer(source.samples, target.samples)

    def _colour_function(self, rgb: np.ndarray) -> np.ndarray:
        """The whole per-pixel colour change (transfer, then hue shift), exactly."""
        out = rgb
        if self._apply is not None:
            space = self._space(rgb)
            moved = self._apply(space)
            if not self.lightness:
                moved[..., 0] = space[..., 0]
            if self.strength < 1:
                moved = space + self.strength * (moved - space)
            out = oklab_to_rgb(moved) if self.method == "histogram" else lab_to_rgb(moved)
        if self.hue_from is not None:
            out = self._shift(out)
        return out

    def _recolor(self, frame: Frame) -> Frame:
        if self._lut is None:  # baked once: every frame then costs a few table look-ups
            self._lut = Lut3D(self._colour_function)
        rgb = to_float(frame.image[..., :3])
        out = self._lut(rgb)
        if self._matte is not None:
            self._matte.process(frame)
            alpha = cast(Any, self._matte).last_alpha[..., None]  # matte's own attribute
            if self.background:
                alpha = 1 - alpha
            out = rgb + alpha * (out - rgb)
        image = like(out, frame.image.dtype)
        if frame.has_alpha:
            image = np.concatenate([image, frame.image[..., 3:]], axis=2)
        return frame.with_image(image)

    def _shift(self, rgb: np.ndarray) -> np.ndarray:
        lab = rgb_to_oklab(rgb)
        weight = hue_weight(lab, self._hue_from, self.hue_width)
        angle = np.radians(self._delta) * weight
        scale = 1 + weight * (self._chroma_ratio - 1)
        cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
        a, b = lab[..., 1], lab[..., 2]
        lab[..., 1], lab[..., 2] = a * cos - b * sin, a * sin + b * cos
        return oklab_to_rgb(lab)


def hue_weight(oklab: np.ndarray, hue: float, width: float) -> np.ndarray:
    """How much each pixel belongs to the hue range: 1 within width/2 degrees of ``hue``,
    falling linearly to 0 at ``width``; gray pixels (Oklab chroma < 0.02) not at all."""
    h = np.degrees(np.arctan2(oklab[..., 2], oklab[..., 1]))
    chroma = np.hypot(oklab[..., 1], oklab[..., 2])
    near = np.clip((width - hue_distance(h, hue)) / (width / 2), 0, 1)
    colourful = np.clip((chroma - 0.02) / 0.03, 0, 1)
    return (near * colourful).astype(np.float32)


def _is_image(path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def _small(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    if w <= _STATS_WIDTH:
        return rgb
    size = (_STATS_WIDTH, max(1, round(h * _STATS_WIDTH / w)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _read_rgb(path: Path) -> np.ndarray:
    return to_float(read_rgb(path, "reference image"))


__all__ = ["Recolor", "hue_weight"]
