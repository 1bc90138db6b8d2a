"""The contract every registered effect keeps, checked over all of them.

For each effect, with a cheap example of its parameters: its description is JSON; its
parameters survive a "name:k=v" spec-string round trip; and on small frames in uint8, uint16
(``--deep``) and float32 it returns frames of the declared size, alpha and dtype, in range, with
increasing times, as many as ``configure`` announced (timing effects), at the input's times
(effects that keep timing), without writing into the frames it was given.

A new effect needs an entry in EXAMPLES: the first test fails until it has one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import moviola.effects  # noqa: F401 - registers the built-in effects
from moviola.media.frame import Frame, StreamInfo
from moviola.pipeline import registry
from moviola.pipeline.registry import effects, parse_spec
from moviola.pipeline.runner import Chain
from tests.test_restore_faces import gfpgan_like

ROOT = Path(__file__).resolve().parent.parent
FACE = ROOT / "docs" / "faces" / "astronaut.jpg"
W, H, N = 64, 48, 5
RATE = Fraction(10)
RANGE = {"uint8": 255, "uint16": 65535, "float32": 1.0}


def _reference(tmp: Path) -> str:
    path = tmp / "reference.png"
    img = np.zeros((H, W, 3), np.uint8)
    img[:, : W // 2] = (200, 40, 30)
    img[:, W // 2 :] = (30, 90, 220)
    cv2.imwrite(str(path), img)
    return str(path)


# name -> (parameters, needs a model download). Parameters may be a function of a temp folder.
def _subtitles(tmp: Path) -> str:
    path = tmp / "subs.srt"
    path.write_text("1\n00:00:00,000 --> 00:00:00,150\nHello there\n")
    return str(path)


EXAMPLES: dict[str, tuple[dict[str, Any] | Callable[[Path], dict[str, Any]], bool]] = {
    "captions": (lambda tmp: {"subtitles": _subtitles(tmp), "style": "box"}, False),
    "colorize": (lambda tmp: {"reference": _reference(tmp), "work": 64}, False),
    "depth": ({"method": "motion", "colormap": "turbo"}, False),
    "faceswap": ({"face": str(FACE), "label": False}, True),
    "fps": ({"rate": "25"}, False),
    "interpolate": ({"multi": 2}, True),
    "matte": ({"downsample": "1"}, True),
    "parallax": ({"seconds": 0.5, "fps": "8", "method": "auto"}, False),
    "puppet": ({"portrait": str(FACE), "label": False, "max_size": 128}, True),
    "recolor": ({"hue_from": "#ff0000", "shift_hue": 120}, False),
    "resize": ({"width": 32}, False),
    "restore-faces": (lambda tmp: {"model": str(gfpgan_like(tmp / "gfpgan.onnx"))}, True),
    "speed": ({"factor": "2", "audio": "drop"}, False),
    "stylize": ({"filter": "cartoon"}, False),
    "trim": ({"start": "1/10", "duration": "2/10"}, False),
    "upscale": ({"model": "lanczos", "scale": 2}, False),
}


def _params(name: str, tmp: Path) -> dict[str, Any]:
    values, _ = EXAMPLES[name]
    return values(tmp) if callable(values) else dict(values)


def _frames(dtype: str) -> list[Frame]:
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    frames = []
    for i in range(N):
        img = np.stack([xx / W, yy / H, np.full_like(xx, 0.3)], axis=-1)
        x0 = 8 + 6 * i
        img[14:34, x0 : x0 + 14] = (0.95, 0.2, 0.1)  # a red square moving right
        if dtype == "uint8":
            img = np.round(img * 255).astype(np.uint8)
        elif dtype == "uint16":
            img = np.round(img * 65535).astype(np.uint16)
        frames.append(Frame(img, Fraction(i) / RATE, 1 / RATE, index=i))
    return frames


def _info(dtype: str) -> StreamInfo:
    return StreamInfo(
        width=W,
        height=H,
        rate=RATE,
        time_base=1 / RATE,
        dtype=dtype,
        frames=N,
        duration=N / RATE,
        bit_depth=16 if dtype == "uint16" else 8,
    )


NAMES = sorted(effects())


def _marks(name: str) -> list[Any]:
    return [pytest.mark.models] if EXAMPLES.get(name, ({}, False))[1] else []


def test_every_effect_has_an_example() -> None:
    assert sorted(EXAMPLES) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_description_and_spec_round_trip(name: str, tmp_path: Path) -> None:
    cls = effects()[name]
    desc = cls.describe()
    json.dumps(desc)
    assert desc["name"] == name and desc["summary"]
    assert [p["name"] for p in desc["params"]] == [p.name for p in cls.params]
    effect = cls(**_params(name, tmp_path))
    items = []
    for p in cls.params:
        text = p.text(getattr(effect, p.name))
        for t in text if isinstance(text, list) else [] if text is None else [text]:
            items.append(f"{p.name}={t}")
    again = parse_spec(f"{name}:" + ",".join(items))
    assert type(again) is cls
    assert again.options == effect.options
    assert repr(again) == repr(effect)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
@pytest.mark.parametrize("name", [pytest.param(n, marks=_marks(n)) for n in NAMES])
def test_frames_in_every_dtype(name: str, dtype: str, tmp_path: Path) -> None:
    effect = effects()[name](**_params(name, tmp_path))
    frames = _frames(dtype)
    before = [f.image.copy() for f in frames]
    chain = Chain([effect])
    try:
        info = chain.configure(_info(dtype))
        out = list(chain.run(frames))
    finally:
        chain.close()
    for f, b in zip(frames, before, strict=True):
        assert np.array_equal(f.image, b), f"{name} wrote into its input frame"
    assert out, f"{name} gave no frames"
    channels = 4 if info.alpha else 3
    for f in out:
        assert f.image.shape == (info.height, info.width, channels), name
        assert f.image.dtype == np.dtype(dtype), (name, f.image.dtype)
        assert np.isfinite(f.image).all()
        assert f.image.min() >= 0 and f.image.max() <= RANGE[dtype]
    times = [f.time for f in out]
    assert all(isinstance(t, Fraction) for t in times)
    assert times == sorted(times) and len(set(times)) == len(times), name
    if effect.timing == "same":
        assert times == [f.time for f in frames], name
    if info.frames is not None and effect.timing == "retime":
        assert len(out) == info.frames, (name, len(out), info.frames)


def _readme_effect() -> type:
    """The example effect of the README, run as written (it registers "invert")."""
    text = (ROOT / "README.md").read_text()
    start = text.index("```python\nimport numpy as np\n\nfrom moviola import Effect")
    code = text[start + len("```python\n") : text.index("```", start + 10)]
    scope: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - our own README
    return scope["Invert"]


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_the_readme_example_effect_works_on_every_dtype(dtype: str, monkeypatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # undone afterwards
    cls = _readme_effect()
    assert effects()["invert"] is cls
    frames = _frames(dtype)
    chain = Chain([cls(amount="1")])
    chain.configure(_info(dtype))
    out = list(chain.run(frames))
    assert [f.image.dtype for f in out] == [np.dtype(dtype)] * N
    chain2 = Chain([cls()])  # inverting twice gives the picture back
    chain2.configure(_info(dtype))
    twice = list(chain2.run(out))
    tol = {"uint8": 1, "uint16": 1, "float32": 1e-6}[dtype]
    for a, b in zip(frames, twice, strict=True):
        assert np.abs(a.image.astype(np.float64) - b.image.astype(np.float64)).max() <= tol
    assert not np.array_equal(out[0].image, frames[0].image)
