"""Temporal flicker of a processed clip, measured as video style-transfer papers do (warping
error): the mean absolute difference between consecutive output frames after warping the earlier
one onto the later one with the *input's* optical flow, over the pixels where that flow is
forward-backward consistent (occlusions and flow failures left out)."""

from __future__ import annotations

import numpy as np

from moviola.media.frame import to_uint8

from .flow import FlowEstimator, consistency, gray, warp


class WarpingError:
    """Feed (input, output) frame pairs in order; ``value`` is the mean error in 8-bit levels."""

    def __init__(self, preset: str = "medium") -> None:
        self.flow = FlowEstimator(preset)
        self.prev_in = self.prev_out = None
        self.errors: list[float] = []

    def add(self, source: np.ndarray, output: np.ndarray) -> float | None:
        g = gray(source)
        out = to_uint8(output[..., :3]).astype(np.float32)
        err = None
        if self.prev_in is not None and self.prev_out is not None:
            back = self.flow(g, self.prev_in)
            fwd = self.flow(self.prev_in, g)
            mask = consistency(fwd, back) > 0.5
            if mask.any():
                moved = warp(self.prev_out, back)
                err = float(np.abs(out - moved).mean(axis=2)[mask].mean())
                self.errors.append(err)
        self.prev_in, self.prev_out = g, out
        return err

    @property
    def value(self) -> float:
        return float(np.mean(self.errors)) if self.errors else 0.0


def warping_error(sources, outputs, preset: str = "medium") -> float:
    """Mean warping error of a whole (short) sequence of input and output frames."""
    meter = WarpingError(preset)
    for s, o in zip(sources, outputs, strict=True):
        meter.add(s, o)
    return meter.value
