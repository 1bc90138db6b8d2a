"""stylize --style-model: a learned style from the model store, on a stand-in with the interface
of the AnimeGANv2 ONNX export (one NHWC image in and out, RGB in -1..1, any size) that negates
its input, so the test can tell the range was applied: out = 255 - in."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from helpers import save_onnx, stand_in_model

from moviola import models
from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo
from moviola.pipeline.registry import create
from moviola.pipeline.runner import Chain


def animegan_like(path: Path) -> Path:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("generator_input:0", TensorProto.FLOAT, [1, "h", "w", 3])
    y = helper.make_tensor_value_info("generator_output:0", TensorProto.FLOAT, [1, "h", "w", 3])
    node = helper.make_node("Neg", ["generator_input:0"], ["generator_output:0"])
    return save_onnx(helper.make_graph([node], "g", [x], [y]), path)


@pytest.fixture
def store(tmp_path, monkeypatch):
    stand_in = animegan_like(tmp_path / "stand-in.onnx")
    with stand_in_model(
        "animeganv2-shinkai",
        {"AnimeGANv2_Shinkai.onnx": stand_in},
        tmp_path / "home",
        monkeypatch,
        fetch=False,
    ) as real:
        yield real


def _run(effect, image: np.ndarray) -> np.ndarray:
    chain = Chain([effect])
    h, w = image.shape[:2]
    chain.configure(StreamInfo(w, h, Fraction(10), Fraction(1, 10), frames=1))
    try:
        (out,) = list(chain.run([Frame(image, Fraction(0), 0)]))
    finally:
        chain.close()
    return out.image


def test_the_style_model_needs_its_license_accepted_then_runs_in_its_range(store):
    assert store.gated and "non-commercial" in store.license
    with pytest.raises(MoviolaError, match="--accept-license"):
        models.fetch(store.id)
    models.fetch(store.id, accept_license=True)
    effect = create("stylize", style_model="animegan-shinkai")
    assert effect.kind == "model" and effect.tags()["moviola_stylize"].endswith("animegan-shinkai")
    image = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    out = _run(effect, image)
    assert np.abs(out.astype(int) - (255 - image.astype(int))).max() <= 1  # -1..1 both ways


def test_an_unfetched_style_model_is_one_line_naming_the_fetch(store):
    effect = create("stylize", style_model="animegan-shinkai")
    with pytest.raises(MoviolaError) as err:
        _run(effect, np.zeros((16, 16, 3), np.uint8))
    msg = str(err.value)
    assert "moviola models fetch animeganv2-shinkai --accept-license" in msg and "\n" not in msg
