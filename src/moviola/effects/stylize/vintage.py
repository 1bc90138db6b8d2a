"""stylize's ``vintage`` filter: vintagify's CycleGAN generator ("modern photo to vintage film"),
steadied over time by normalisation statistics shared over a shot.

The generator (:mod:`moviola.models.cyclegan`, model ``vintagify-cyclegan``) normalises its
features per picture (instance norm). Run per frame, every frame's small changes (someone walks
in, a highlight moves) shift every layer's mean and variance, and with them the colours of the
whole picture: the look breathes from frame to frame. Here the statistics are those of the
shot instead: the first frame of a shot runs as the plain generator and its statistics (per
layer and channel, mean and variance) are kept; the following frames are normalised with the
kept statistics, which follow the frames' own by a slow running average (:data:`RUNNING`, so
that a pan into another light is followed in a second or two without flicker). A cut (a
structural or colour change that no motion explains, :func:`moviola.vision.cuts.frame_change`)
starts a new shot.

Large frames run in tiles (``tile``; automatically above :data:`AUTO_TILE_ABOVE` px). Per-tile
statistics would give each tile its own look; with the statistics shared, every tile is
normalised alike: the shot's first statistics (per frame, with ``shared=False``: every frame's)
come from the whole frame scaled down to the tile size, and the tiles' own statistics are pooled
over the frame before they feed the average.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from moviola import models
from moviola.errors import MoviolaError
from moviola.models.cyclegan import (
    FRAME_STATS_NAME,
    INPUT_NAME,
    OUTPUT_NAME,
    SHARED_NAME,
    STAT_CHANNELS,
    STATS_NAME,
)
from moviola.models.image_model import ImageModel
from moviola.models.runtime import open_session
from moviola.models.runtime.base import Session
from moviola.vision.cuts import FrameSignature, frame_change, frame_signature

MODEL = "vintagify-cyclegan"
RANGE = (-1.0, 1.0)
#: Weight of a frame's own statistics in the shot's running average.
RUNNING = 0.05
#: frame_change above which a new shot starts (as interpolate's default cut threshold).
CUT = 0.4
#: Frames whose longer side exceeds this run in tiles of :data:`AUTO_TILE` px by default.
AUTO_TILE_ABOVE, AUTO_TILE = 2048, 1024  # a whole 1080p frame: about 3 GB; 4K: four times that
MIN_TILE = 64  # smaller tiles are mostly overlap and padding
_MULTIPLE = 4  # two stride-2 layers: sides that are multiples of 4 come back the same size


class SharedStatistics(Session):
    """The generator's session seen as a plain image model (one input, one output), its
    normalisation statistics bound: ``stats`` and ``shared`` are fed from :attr:`stats` (None:
    the frame's own), and the statistics each run meets are pooled in :meth:`met`. It holds
    state between runs: one caller, frames (and their tiles) in order."""

    def __init__(self, inner: Session) -> None:
        names = set(inner.input_names)
        if names != {INPUT_NAME, STATS_NAME, SHARED_NAME}:
            raise MoviolaError(
                f"stylize: {inner.path.name} is not the vintage generator (inputs "
                f"{', '.join(sorted(names))}); fetch it again: moviola models fetch {MODEL}"
            )
        self.inner = inner
        self.path, self.provider = inner.path, inner.provider
        self.inputs = tuple(t for t in inner.inputs if t.name == INPUT_NAME)
        self.outputs = tuple(t for t in inner.outputs if t.name == OUTPUT_NAME)
        self.stats: np.ndarray | None = None
        self._met: list[tuple[int, np.ndarray]] = []

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        image = feeds[INPUT_NAME]
        stats: np.ndarray = (
            np.zeros((2, STAT_CHANNELS), np.float32) if self.stats is None else self.stats
        )
        shared = np.array([0.0 if self.stats is None else 1.0], np.float32)
        out = self.inner.run({INPUT_NAME: image, STATS_NAME: stats, SHARED_NAME: shared})
        self._met.append((image.shape[2] * image.shape[3], np.asarray(out[FRAME_STATS_NAME])))
        return {OUTPUT_NAME: out[OUTPUT_NAME]}

    def met(self) -> np.ndarray:
        """The statistics of the runs since the last call, pooled by pixel count (the mean of
        the means; the variance about the pooled mean), and forgotten."""
        weights = np.array([n for n, _ in self._met], np.float64)
        weights /= weights.sum()
        means = np.stack([s[0] for _, s in self._met]).astype(np.float64)
        second = np.stack([s[1] + s[0].astype(np.float64) ** 2 for _, s in self._met])
        mean = weights @ means
        var = np.maximum(weights @ second - mean**2, 0.0)
        self._met = []
        return np.stack([mean, var]).astype(np.float32)


def pad_to(rgb: np.ndarray, multiple: int) -> np.ndarray:
    """``rgb`` with its bottom and right edges mirrored out to multiples of ``multiple``."""
    h, w = rgb.shape[:2]
    dh, dw = -h % multiple, -w % multiple
    if not dh and not dw:
        return rgb
    return cv2.copyMakeBorder(rgb, 0, dh, 0, dw, cv2.BORDER_REFLECT_101)


class Vintage:
    """``vintage(rgb)``: the vintage look of a uint8 RGB frame, frames in order.

    ``shared=False`` is the per-frame baseline (each frame normalised by its own statistics);
    ``running`` weighs each frame's own statistics in the shot's average (0: the shot's first
    frame's statistics throughout).
    """

    def __init__(self, tile: int = 0, shared: bool = True, running: float = RUNNING) -> None:
        try:
            path = models.ensure(MODEL)
        except MoviolaError as e:
            raise MoviolaError(f"stylize: {e}") from None
        self.session = SharedStatistics(open_session(path))
        self.tile = tile - tile % _MULTIPLE
        self.shared = shared
        self.running = running
        self.model = ImageModel(self.session, RANGE, self.tile, what="stylize")
        self._signature: FrameSignature | None = None
        self.shots = 0

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        padded = pad_to(rgb, _MULTIPLE)
        tiled = bool(self.tile) and max(padded.shape[:2]) > self.tile
        if not self.shared:  # each frame its own statistics (in tiles: the whole frame's)
            self.session.stats = self._whole_frame_statistics(padded) if tiled else None
        else:
            signature = frame_signature(rgb)
            if self._signature is None or frame_change(self._signature, signature) > CUT:
                self.shots += 1  # a new shot: its statistics from this frame
                self.session.stats = self._whole_frame_statistics(padded) if tiled else None
            self._signature = signature
        out = self.model(padded)[:h, :w]
        own = self.session.met()
        if self.shared:
            if self.session.stats is None:  # a shot's first frame, run whole and plain
                self.session.stats = own
            elif self.running > 0:
                self.session.stats = (1 - self.running) * self.session.stats + self.running * own
        return out

    def _whole_frame_statistics(self, padded: np.ndarray) -> np.ndarray:
        """The statistics of the whole frame scaled down to fit one tile."""
        ph, pw = padded.shape[:2]
        scale = self.tile / max(ph, pw)
        small = cv2.resize(
            padded,
            (max(_MULTIPLE, round(pw * scale)), max(_MULTIPLE, round(ph * scale))),
            interpolation=cv2.INTER_AREA,
        )
        self.model.run(pad_to(small, _MULTIPLE))
        return self.session.met()


def auto_tile(width: int, height: int, tile: int) -> int:
    """The tile size for a frame: ``tile`` when given, else :data:`AUTO_TILE` for frames whose
    longer side exceeds :data:`AUTO_TILE_ABOVE`, else 0 (whole frames)."""
    if tile:
        return tile
    return AUTO_TILE if max(width, height) > AUTO_TILE_ABOVE else 0
