"""depth: a depth map for every frame, as a picture (grey or false colour), near = bright.

Sources (moviola.vision.depth; which one produced a result is written into the output's
metadata, ``moviola_depth_source``, and shown in ``--json``): an ONNX depth network the user
supplies (Depth-Anything-V2-Small, MiDaS small), depth from camera motion in a video (no
weights), or a depth map / depth video the user supplies (normalised, smoothed, recoloured).
With ``--deep`` the grey map is written with 16 bits (PNG sequences, FFV1).
"""

from __future__ import annotations

import numpy as np

from moviola.effects._depth_common import DEPTH_PARAMS, DepthEffect, open_stream, report
from moviola.media.frame import Frame, StreamInfo, like
from moviola.pipeline import Param, register
from moviola.vision.depth import colorize


@register
class Depth(DepthEffect):
    name = "depth"
    summary = (
        "Depth map of every frame (near = bright): from camera motion in a video (no weights), "
        "a user-supplied ONNX depth model (Depth-Anything-V2, MiDaS), or a given depth map."
    )
    params = (
        *DEPTH_PARAMS,
        Param("colormap", str, "gray", "how depth is drawn", choices=("gray", "turbo", "inferno")),
    )
    colormap: str
    context_frames = 30  # temporal smoothing converges within about a second

    def configure(self, info: StreamInfo) -> StreamInfo:
        self.stream = open_stream(self, info)
        self._dtype = np.dtype(info.dtype)
        deep = self._dtype == np.uint16
        return info.evolve(alpha=False, bit_depth=16 if deep else info.bit_depth)

    def _out(self, pairs) -> list[Frame]:
        return [f.with_image(like(colorize(d, self.colormap), self._dtype)) for f, d in pairs]

    def process(self, frame: Frame) -> list[Frame]:
        return self._out(self.active.push(frame))

    def flush(self) -> list[Frame]:
        out = self._out(self.active.flush())
        report(self, self.active)
        return out
