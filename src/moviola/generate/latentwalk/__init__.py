"""Latent walks: videos of a generator's images along a smooth path through its latent space.

A walk is a set of **keyframes** (latent vectors pinned to frame numbers) and a way to travel
between them (:mod:`.paths`). Keyframes always sit on whole frames, so the frame at a keyframe
shows exactly that keyframe's image.

Paths (``path``):

``random``  random keyframes every ``every`` seconds (or on the beats), joined by a spline:
            an endless smooth drift.
``loop``    the same, closed: the last keyframe is the first, the spline wraps around, and the
            frame after the last one would be frame 0 again, so the video repeats seamlessly
            (the last-to-first step is as small as any other step).
``seeds``   keyframes from chosen seeds (``seeds=[1, 7, 42]``: the latent of seed ``s`` is
            ``numpy.random.default_rng(s).standard_normal(Z)``), ``closed`` to come back to the
            first.

With ``audio``, beats are found (moviola.generate.beats), a keyframe is placed on every
``beats_per_key``-th beat (rounded to the nearest frame), and the audio is muxed into the output,
trimmed to the video's length.

The generator (``model``, :mod:`.generator`) is the built-in ``dcgan-faces64`` (64x64 faces) or
any ONNX file with one input, a latent of shape [N, Z] or [N, Z, 1, 1], and an NCHW image out in
-1..1 or 0..1. Frames are generated ``batch`` at a time, resized (Lanczos) or upscaled (the
``upscale`` effect) and written at once (:mod:`.walk`): memory does not grow with the video's
length. The options and their checks are in :mod:`.settings`.
"""

from __future__ import annotations

from moviola.generate.latentwalk.generator import BUILTIN, RANGES, GeneratorModel
from moviola.generate.latentwalk.paths import (
    EASES,
    INTERPS,
    LatentPath,
    beat_positions,
    keyframe_positions,
    seed_latent,
)
from moviola.generate.latentwalk.settings import (
    DEFAULT_EVERY,
    DEFAULT_FPS,
    DEFAULT_SECONDS,
    DEFAULT_UPSCALE,
    PATHS,
    CheckedSettings,
    WalkSettings,
    parse_seeds,
    parse_size,
)
from moviola.generate.latentwalk.walk import Plan, Walk, WalkResult, plan, render

__all__ = [
    "BUILTIN",
    "DEFAULT_EVERY",
    "DEFAULT_FPS",
    "DEFAULT_SECONDS",
    "DEFAULT_UPSCALE",
    "EASES",
    "INTERPS",
    "PATHS",
    "RANGES",
    "CheckedSettings",
    "GeneratorModel",
    "LatentPath",
    "Plan",
    "Walk",
    "WalkResult",
    "WalkSettings",
    "beat_positions",
    "keyframe_positions",
    "parse_seeds",
    "parse_size",
    "plan",
    "render",
    "seed_latent",
]
