"""LaMa inpainting (vision/inpaint.py) and its use by parallax, on a model the test builds with
the interface of Carve's lama_fp32.onnx: image N x 3 x 512 x 512 (0..1) and mask N x 1 x 512 x 512
(1 = fill) in, the picture in 0..255 out. The stand-in paints the hole a known colour and keeps
the rest, so the test can see exactly which pixels the network was asked to fill."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import save_onnx, stand_in_model

from moviola import api
from moviola.errors import MoviolaError
from moviola.vision.inpaint import LAMA_MODEL, Inpainter
from moviola.vision.viewsynth import Layers, View

PAINT = (0.25, 0.5, 0.75)


def lama_like(path: Path, *, scale: float = 255.0, size: int = 512) -> Path:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    img = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, size, size])
    msk = helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", 1, size, size])
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3, size, size])
    consts = [
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(np.array(PAINT, np.float32).reshape(1, 3, 1, 1), "paint"),
        numpy_helper.from_array(np.array(scale, np.float32), "scale"),
    ]
    nodes = [
        helper.make_node("Sub", ["one", "mask"], ["keep_w"]),
        helper.make_node("Mul", ["image", "keep_w"], ["kept"]),
        helper.make_node("Mul", ["paint", "mask"], ["painted"]),
        helper.make_node("Add", ["kept", "painted"], ["filled"]),
        helper.make_node("Mul", ["filled", "scale"], ["output"]),
    ]
    graph = helper.make_graph(nodes, "lama_like", [img, msk], [out], initializer=consts)
    return save_onnx(graph, path)


@pytest.fixture
def inpainter(tmp_path) -> Inpainter:
    return Inpainter(lama_like(tmp_path / "lama.onnx"))


def test_only_the_hole_changes_and_gets_the_networks_fill(inpainter):
    rng = np.random.default_rng(1)
    image = rng.random((700, 1000, 3), dtype=np.float32)  # larger than 512: scaled crop path
    hole = np.zeros((700, 1000), bool)
    hole[300:340, 200:900] = True  # a long band: its box is wider than 512
    out = inpainter(image, hole)
    assert np.array_equal(out[~hole], image[~hole])  # what the camera saw stays exactly
    assert np.abs(out[hole] - PAINT).max() < 0.02  # the network's fill, back at full size
    assert out.dtype == np.float32


def test_small_hole_is_filled_at_full_resolution_with_context(inpainter):
    image = np.full((120, 160, 3), 0.5, np.float32)
    hole = np.zeros((120, 160), bool)
    hole[50:60, 70:75] = True
    out = inpainter(image, hole)
    assert np.allclose(out[hole], PAINT, atol=1e-5)  # no resize: exact
    assert np.array_equal(out[~hole], image[~hole])
    assert np.array_equal(inpainter(image, np.zeros_like(hole)), image)


def test_an_export_answering_in_0_1_is_recognised(tmp_path):
    net = Inpainter(lama_like(tmp_path / "unit.onnx", scale=1.0))
    image = np.full((64, 64, 3), 0.8, np.float32)
    hole = np.zeros((64, 64), bool)
    hole[20:30, 20:30] = True
    assert np.allclose(net(image, hole)[hole], PAINT, atol=1e-5)


def test_a_model_with_other_inputs_is_refused(tmp_path):
    from tests.test_depth import channel_mean_model

    with pytest.raises(MoviolaError, match="inpainting model takes"):
        Inpainter(channel_mean_model(tmp_path / "d.onnx", None))


def test_parallax_back_layer_is_painted_by_the_network(inpainter):
    image = np.full((96, 160, 3), 0.2, np.float32)
    image[28:68, 60:100] = (0.9, 0.1, 0.1)
    depth = np.zeros((96, 160), np.float32)
    depth[28:68, 60:100] = 1.0
    layers = Layers(image, depth, reach=16, fill=inpainter)
    inner = layers.back_image[40:56, 72:88]  # behind the card: hidden, filled by LaMa
    assert np.allclose(inner, PAINT, atol=1e-4)
    out, _, hole = layers.render(View(tx=16 / 160, focus=0.0))
    revealed = hole & (np.abs(out - PAINT).max(axis=2) < 1e-3)
    assert revealed.sum() > 200  # the revealed strip shows the network's fill


@pytest.fixture
def fetched_lama(tmp_path, monkeypatch):
    """The store's lama entry served by the stand-in and fetched into a temporary cache."""
    stand_in = lama_like(tmp_path / "stand-in.onnx")
    with stand_in_model(
        LAMA_MODEL, {"lama_fp32.onnx": stand_in}, tmp_path / "home", monkeypatch
    ) as real:
        yield real


def _card_clip(tmp_path: Path) -> tuple[Path, Path]:
    import cv2

    image = np.full((96, 160, 3), 50, np.uint8)
    image[28:68, 60:100] = (30, 30, 230)  # BGR red card
    depth = np.zeros((96, 160), np.uint16)
    depth[28:68, 60:100] = 65535
    cv2.imwrite(str(tmp_path / "card.png"), image)
    cv2.imwrite(str(tmp_path / "card_depth.png"), depth)
    return tmp_path / "card.png", tmp_path / "card_depth.png"


def test_parallax_uses_lama_once_fetched(tmp_path, fetched_lama):
    src, depth = _card_clip(tmp_path)
    paint = np.round(np.array(PAINT) * 255)
    counts = {}
    for fill in ("auto", "texture"):
        clip = api.open(src).apply(
            "parallax", depth=str(depth), move="swing", seconds=0.4, fps="10", fill=fill
        )
        frames = [f.image[..., :3].astype(int) for f in clip.frames()]
        counts[fill] = sum(int((np.abs(f - paint).max(axis=2) <= 3).sum()) for f in frames)
    assert counts["auto"] > 100 and counts["texture"] == 0


def test_fill_lama_without_the_model_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIOLA_HOME", str(tmp_path / "empty"))
    src, depth = _card_clip(tmp_path)
    with pytest.raises(MoviolaError) as err:
        next(api.open(src).apply("parallax", depth=str(depth), fill="lama").frames())
    assert "moviola models fetch lama" in str(err.value) and "\n" not in str(err.value)
