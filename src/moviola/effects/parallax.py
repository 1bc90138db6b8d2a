"""parallax: move a virtual camera through a photo or a clip with depth (the "3D photo").

A still image becomes a clip of ``seconds`` at ``fps`` (every frame with an exact time k/fps);
a video gets the camera move spread over its duration, frame by frame, at its own times.

Depth comes from the same sources as the ``depth`` effect (a depth map or depth video you give
with ``--depth``, an ONNX depth model with ``--model``, or depth from camera motion in a video);
the source is written into the output's metadata (``moviola_depth_source``).

Rendering (moviola.vision.viewsynth): z-buffered forward warping of depth, colour fetched by the
exact inverse mapping, disocclusions filled from a background layer rebuilt behind depth edges
from the far side only: revealed regions show background, never stretched foreground. The
picture is zoomed just enough that the frame border never shows outside the image. Depth of
field blurs by distance from ``focus``; fog mixes towards a colour with distance. Stereo: left
and right views side by side (twice the width) or a red-cyan anaglyph (Dubois).

Moves (``t`` from 0 to 1 over the clip, eased; ``amount`` scales them, 1 = moderate):
dolly (forward), zoom (focal length only: no parallax), circle (the camera circles sideways
and up and down, a loop), swing (side to side and slightly forward, a loop), kenburns (slow
push-in with a drift sideways), dollyzoom (the camera backs away while zooming in: the focus
plane keeps its size while the background grows), none (no move: stereo, depth of field or fog
alone).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction

import numpy as np

from moviola import models
from moviola.effects._depth_common import (
    DEPTH_PARAMS,
    DepthEffect,
    is_still,
    open_stream,
    report,
)
from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, like, to_float
from moviola.pipeline import Param, parse_color, parse_rate, register
from moviola.vision.inpaint import LAMA_MODEL, Inpainter
from moviola.vision.viewsynth import (
    Layers,
    View,
    anaglyph,
    border_zoom,
    depth_of_field,
    depth_weight,
    fog,
)

MOVES = ("dolly", "zoom", "circle", "swing", "kenburns", "dollyzoom", "none")
_LATERAL = 0.03  # sideways parallax of the nearest point, in image widths, at amount 1


def ease(t: float) -> float:
    return t * t * (3 - 2 * t)


def camera(move: str, t: float, amount: float, focus: float) -> View:
    """The virtual camera at time ``t`` in 0..1 of a move."""
    a, e = amount, ease(t)
    r = _LATERAL * a
    if move == "dolly":
        return View(tz=0.25 * a * e, focus=focus)
    if move == "zoom":
        return View(zoom=1 + 0.3 * a * e, focus=focus)
    if move == "circle":
        ang = 2 * math.pi * t
        return View(tx=r * math.cos(ang), ty=0.6 * r * math.sin(ang), focus=focus)
    if move == "swing":
        ang = 2 * math.pi * t
        return View(tx=r * math.sin(ang), tz=0.05 * a * (1 - math.cos(ang)) / 2, focus=focus)
    if move == "kenburns":
        return View(tx=r * 0.8 * (e - 0.5) * 2, ty=-r * 0.3 * e, tz=0.15 * a * e, focus=focus)
    if move == "dollyzoom":
        tz = -0.5 * a * e
        return View(tz=tz, zoom=1 - tz * depth_weight(focus), focus=focus)
    return View(focus=focus)


@register
class Parallax(DepthEffect):
    name = "parallax"
    summary = (
        "3D photo: a virtual camera move (dolly, zoom, circle, swing, Ken Burns, dolly zoom) "
        "through a photo or clip with depth; revealed areas filled, depth of field, fog, stereo."
    )
    timing = "retime"
    params = (
        Param("move", str, "circle", "camera move", choices=MOVES),
        Param("amount", float, 1.0, "strength of the move (1: moderate)", min=0.0, max=5.0),
        Param(
            "seconds", float, 4.0, "length of the clip made from a still image", min=0.01, max=600
        ),
        Param(
            "fps",
            parse_rate,
            Fraction(30),
            "frame rate of the clip made from a still image",
            min=1,
            max=240,
        ),
        Param(
            "focus",
            float,
            None,
            "depth (0 far .. 1 near) that stays in place and in focus; "
            "default: the 75th percentile of the first frame's depth",
            min=0.0,
            max=1.0,
        ),
        Param(
            "dof",
            float,
            0.0,
            "depth of field: largest blur, in percent of the width (0: off)",
            min=0.0,
            max=5.0,
        ),
        Param("fog", float, 0.0, "fog at the farthest depth, 0 .. 1", min=0.0, max=1.0),
        Param("fog_color", parse_color, "#c8d2dc", "colour of the fog"),
        Param(
            "stereo",
            str,
            None,
            "stereo output: sbs (left and right views side by side, twice the width) or "
            "anaglyph (red-cyan, Dubois)",
            choices=("sbs", "anaglyph"),
        ),
        Param(
            "eye",
            float,
            0.03,
            "stereo: eye separation as the near point's parallax, in image widths",
            min=0.0,
            max=0.2,
        ),
        Param(
            "fill",
            str,
            "auto",
            "how areas the move reveals behind near things are painted: lama (the LaMa "
            f"inpainting network, `moviola models fetch {LAMA_MODEL}`), texture (nearby texture "
            "mirrored, no weights); auto: lama once fetched, else texture",
            choices=("auto", "lama", "texture"),
        ),
        *DEPTH_PARAMS,
    )
    move: str
    amount: float
    seconds: float
    fps: Fraction
    focus: float | None
    dof: float
    fog: float
    fog_color: tuple[int, int, int]
    stereo: str | None
    fill: str
    eye: float
    context_frames = 30

    # -- life cycle -----------------------------------------------------------------------------
    def configure(self, info: StreamInfo) -> StreamInfo:
        self._inpainter = None
        if self.fill == "lama" or (self.fill == "auto" and models.is_cached(LAMA_MODEL)):
            try:
                self._inpainter = Inpainter(models.ensure(LAMA_MODEL))
            except MoviolaError as e:
                raise MoviolaError(f"parallax: {e}") from None
        self.stream = open_stream(self, info)
        self._dtype = np.dtype(info.dtype)
        self._info = info
        self._still = is_still(info)
        self._focus = self.focus
        width = info.width * (2 if self.stereo == "sbs" else 1)
        if self._dtype == np.uint16:  # --deep: rendered in float, written with 16 bits
            info = info.evolve(bit_depth=16)
        self._zoom: float | None = None
        if self._still:
            self._count = max(1, round(self.seconds * float(self.fps)))
            tick = 1 / self.fps
            return info.evolve(
                width=width,
                rate=self.fps,
                time_base=tick,
                variable_rate=False,
                frames=self._count,
                duration=tick * self._count,
                alpha=False,
            )
        return info.evolve(width=width, alpha=False)

    @property
    def focus_depth(self) -> float:
        """The depth kept in focus: ``focus``, else taken from the first depth map."""
        if self._focus is None:
            raise RuntimeError("parallax: no depth map seen yet")
        return self._focus

    def _views(self, t: float) -> list[View]:
        base = camera(self.move, t, self.amount, self.focus_depth)
        if self.stereo is None:
            return [base]
        half = self.eye / 2
        return [base.with_offset(-half), base.with_offset(half)]

    def _prepare(self, frame: Frame, depth: np.ndarray) -> Layers:
        if self._focus is None:
            self._focus = float(np.percentile(depth, 75))
        w, h = frame.width, frame.height
        if self._zoom is None:  # one framing for the whole clip
            samples = [v for t in np.linspace(0, 1, 33) for v in self._views(float(t))]
            self._zoom = border_zoom(samples, w, h)
        reach = 0.0
        for t in np.linspace(0, 1, 17):
            for v in self._views(float(t)):
                lateral = max(abs(v.tx), abs(v.ty)) * w
                forward = abs(v.tz) * 0.75 * w / 2 / max(1e-3, 1 - abs(v.tz))
                reach = max(reach, lateral + forward + abs(v.zoom - 1) * 0)
        image = to_float(frame.image[..., :3])
        return Layers(image, depth, reach * self._zoom, fill=self._inpainter)

    def _render(self, layers: Layers, t: float, depth_focus: float) -> np.ndarray:
        out = []
        assert self._zoom is not None  # set by _prepare() before any render
        for v in self._views(t):
            view = View(v.tx, v.ty, v.tz, v.zoom * self._zoom, v.focus)
            image, depth, _ = layers.render(view)
            image = depth_of_field(image, depth, depth_focus, self.dof)
            image = fog(image, depth, self.fog, np.asarray(self.fog_color, np.float32) / 255)
            out.append(image)
        if self.stereo == "sbs":
            return np.concatenate(out, axis=1)
        if self.stereo == "anaglyph":
            return anaglyph(out[0], out[1])
        return out[0]

    def _make(self, pairs) -> Iterator[Frame]:
        """Rendered frames, one at a time: a still becomes a clip without holding it."""
        for frame, depth in pairs:
            layers = self._prepare(frame, depth)
            if self._still:
                tick = 1 / self.fps
                for k in range(self._count):
                    t = (
                        k / max(1, self._count - 1)
                        if self.move not in ("circle", "swing")
                        else k / self._count
                    )  # loops: the last frame leads back to the first
                    image = self._render(layers, t, self.focus_depth)
                    yield Frame(like(image, self._dtype), k * tick, tick, frame.index, frame.meta)
                continue
            # the move follows the clip's own timeline (0 = its first frame), so a clip cut
            # into chunks (engines/) moves the same as in one run
            total = self._info.duration
            if total is None or total <= frame.duration:
                total = Fraction(4)
            t = min(1.0, max(0.0, float(frame.time / (total - frame.duration))))
            yield frame.with_image(like(self._render(layers, t, self.focus_depth), self._dtype))

    def process(self, frame: Frame) -> Iterator[Frame]:
        if self._still and frame.index > 0:
            raise MoviolaError("parallax: the input was probed as one image but has more frames")
        return self._make(self.active.push(frame))

    def flush(self) -> Iterator[Frame]:
        yield from self._make(self.active.flush())
        report(self, self.active)
