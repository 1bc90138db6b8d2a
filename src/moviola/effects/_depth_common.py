"""Parameters and set-up shared by the effects that need depth (depth, parallax). Not an effect
(the registry skips modules whose name starts with "_")."""

from __future__ import annotations

import logging

from moviola import models
from moviola.errors import MoviolaError
from moviola.media.frame import StreamInfo
from moviola.pipeline import Param, parse_path
from moviola.pipeline.effect import Effect
from moviola.vision.depth import DepthStream

log = logging.getLogger("moviola")

#: the monocular depth network used when it is in the model cache (docs/depth.md)
DEPTH_MODEL = "depth-anything-v2-small"

DEPTH_PARAMS = (
    Param(
        "method",
        str,
        "auto",
        "where depth comes from: model (a monocular depth network), motion (depth from "
        "camera motion in a video, no weights), file (--depth); auto: file if --depth is given, "
        f"else model if --model is given or {DEPTH_MODEL} is fetched, else motion",
        choices=("auto", "model", "motion", "file"),
    ),
    Param(
        "model",
        parse_path,
        None,
        "ONNX monocular depth model file (a Depth-Anything-V2 or MiDaS small export); by "
        f"default {DEPTH_MODEL} once fetched (`moviola models fetch {DEPTH_MODEL}`)",
    ),
    Param("depth", parse_path, None, "a depth map image (8/16-bit) or depth video of the input"),
    Param(
        "depth_near",
        str,
        "white",
        "which end of the supplied depth map is near",
        choices=("white", "black"),
    ),
    Param(
        "smooth",
        float,
        0.6,
        "temporal smoothing of depth in video (flow-warped, where consistent): 0 off .. 0.95",
        min=0.0,
        max=0.95,
    ),
    Param(
        "gap",
        int,
        3,
        "depth from motion: frames between the two views (more: more parallax, more occlusion)",
        min=1,
        max=30,
    ),
    Param(
        "focal",
        float,
        1.0,
        "depth from motion: assumed focal length as a multiple of the frame width "
        "(1.0 ~ 53 degrees horizontal field of view)",
        min=0.2,
        max=5.0,
    ),
)


def is_still(info: StreamInfo) -> bool:
    """A single image: one frame, or (PNG and other image demuxers) no count and no duration."""
    return info.frames == 1 or (info.frames is None and info.duration is None)


def depth_model(effect, method: str) -> str | None:
    """The depth network to use: --model, else the cached default (for auto and model); with
    method model and nothing cached, the store's one line naming the fetch command."""
    if effect.model:
        return effect.model
    if method not in ("auto", "model"):
        return None
    if method == "model" or models.is_cached(DEPTH_MODEL):
        return str(models.ensure(DEPTH_MODEL))  # raises when it is not fetched
    return None


def open_stream(effect, info: StreamInfo) -> DepthStream:
    method = effect.method
    try:
        model = depth_model(effect, method) if not (method == "auto" and effect.depth) else None
    except MoviolaError as e:
        raise MoviolaError(f"{effect.name}: {e}") from None
    if method == "auto":
        method = "file" if effect.depth else "model" if model else "motion"
    if method == "motion" and is_still(info):
        spec = models.get_spec(DEPTH_MODEL)
        raise MoviolaError(
            f"{effect.name}: a single image needs a depth network: run `moviola models fetch "
            f"{DEPTH_MODEL}` ({spec.download_size / 1e6:.0f} MB, {spec.license}) once, or give "
            "--model PATH (an ONNX depth model) or --depth PATH (a depth map); depth from "
            "motion needs a video whose camera moves"
        )
    try:
        return DepthStream(
            method,
            model=model,
            depth=effect.depth,
            near=effect.depth_near,
            gap=effect.gap,
            smooth=effect.smooth,
            focal=effect.focal,
        )
    except MoviolaError as e:
        raise MoviolaError(f"{effect.name}: {e}") from None


def check(effect) -> None:
    if effect.method == "file" and not effect.depth:
        raise MoviolaError(f"{effect.name}: --method file needs --depth PATH")


def report(effect, stream: DepthStream) -> None:
    """Warn once at the end when depth from motion could not be measured for some frames."""
    if stream.failed:
        log.warning(
            "%s: no camera motion could be measured for %d of %d frames (static camera, or "
            "only things moving in the scene); their depth was carried over from the last "
            "measured frame or left flat: give --depth or --model for such footage",
            effect.name,
            stream.failed,
            stream.frames,
        )


class DepthEffect(Effect):
    """What depth and parallax share: a DepthStream opened in configure, its source in the
    output's tags and repr, closed at the end."""

    stream: DepthStream | None = None
    # the attributes DEPTH_PARAMS declare (subclasses list DEPTH_PARAMS in their params)
    method: str
    model: str | None
    depth: str | None
    depth_near: str
    smooth: float
    gap: int
    focal: float

    def validate(self) -> None:
        check(self)

    def tags(self) -> dict[str, str]:
        if self.stream is None:
            return {}
        return {"moviola_depth_source": f"{self.stream.label}: {self.stream.source}"}

    @property
    def active(self) -> DepthStream:
        """The depth stream opened by ``configure`` (an error to ask before)."""
        if self.stream is None:
            raise RuntimeError(f"{self.name}: configure() was not called")
        return self.stream

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()

    def __repr__(self) -> str:
        base = super().__repr__()
        return base if self.stream is None else f"{base[:-1]}, source={self.stream.label!r})"
