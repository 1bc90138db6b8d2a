"""matte --point (vision/segment.py) on stand-ins with the interfaces of Acly's MobileSAM
export: the encoder (input_image H x W x 3, 0..255, longer side 1024 -> image_embeddings
1 x 256 x 64 x 64) and the single-mask decoder (image_embeddings, point_coords, point_labels,
mask_input, has_mask_input, orig_im_size -> masks at the frame's size, iou_predictions,
low_res_masks). The stand-in decoder answers a disc of radius 30 px around the first prompt
point, mapped back from the 1024 px picture to the frame, so the tests see where the prompt went.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import save_onnx, stand_in_model

from moviola import api
from moviola.errors import MoviolaError
from moviola.vision.segment import SAM_MODEL, PointSegmenter, parse_point

RADIUS = 30.0


def encoder_like(path: Path) -> Path:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("input_image", TensorProto.FLOAT, ["h", "w", 3])
    y = helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT, [1, 256, 64, 64])
    shape = numpy_helper.from_array(np.array([1, 256, 64, 64], np.int64), "shape")
    nodes = [
        helper.make_node("ReduceMean", ["input_image"], ["m"], keepdims=0),
        helper.make_node("Expand", ["m", "shape"], ["image_embeddings"]),
    ]
    return save_onnx(helper.make_graph(nodes, "enc", [x], [y], [shape]), path)


def decoder_like(path: Path) -> Path:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    f = TensorProto.FLOAT
    ins = [
        helper.make_tensor_value_info("image_embeddings", f, [1, 256, 64, 64]),
        helper.make_tensor_value_info("point_coords", f, [1, "n", 2]),
        helper.make_tensor_value_info("point_labels", f, [1, "n"]),
        helper.make_tensor_value_info("mask_input", f, [1, 1, 256, 256]),
        helper.make_tensor_value_info("has_mask_input", f, [1]),
        helper.make_tensor_value_info("orig_im_size", f, [2]),
    ]
    outs = [
        helper.make_tensor_value_info("masks", f, [1, 1, "H", "W"]),
        helper.make_tensor_value_info("iou_predictions", f, [1, 1]),
        helper.make_tensor_value_info("low_res_masks", f, [1, 1, 256, 256]),
    ]
    c = {
        "i0": np.array(0, np.int64),
        "i1": np.array(1, np.int64),
        "long": np.array(1024.0, np.float32),
        "zero": np.array(0.0, np.float32),
        "one": np.array(1.0, np.float32),
        "r2": np.array(RADIUS**2, np.float32),
        "r": np.array(RADIUS, np.float32),
        "col": np.array([-1, 1], np.int64),
        "row": np.array([1, -1], np.int64),
        "iou": np.array([[0.9]], np.float32),
        "shape4": np.array([1, 1, 0, 0], np.int64),
        "ax0": np.array([0], np.int64),
    }
    inits = [numpy_helper.from_array(v, k) for k, v in c.items()]
    n = helper.make_node
    nodes = [
        n("Gather", ["orig_im_size", "i0"], ["h"]),
        n("Gather", ["orig_im_size", "i1"], ["w"]),
        n("Max", ["h", "w"], ["m"]),
        n("Div", ["long", "m"], ["s"]),  # scale of the 1024 px picture
        n("Gather", ["point_coords", "i0"], ["pts"], axis=1),  # [1, 2]: the first point
        n("Gather", ["pts", "i0"], ["p"], axis=0),  # [2]
        n("Div", ["p", "s"], ["pf"]),  # back to frame pixels
        n("Gather", ["pf", "i0"], ["px"]),
        n("Gather", ["pf", "i1"], ["py"]),
        n("Cast", ["h"], ["hi"], to=TensorProto.INT64),
        n("Cast", ["w"], ["wi"], to=TensorProto.INT64),
        n("Range", ["zero", "h", "one"], ["ys"]),
        n("Range", ["zero", "w", "one"], ["xs"]),
        n("Reshape", ["ys", "col"], ["yc"]),
        n("Reshape", ["xs", "row"], ["xr"]),
        n("Sub", ["yc", "py"], ["dy"]),
        n("Sub", ["xr", "px"], ["dx"]),
        n("Mul", ["dy", "dy"], ["dy2"]),
        n("Mul", ["dx", "dx"], ["dx2"]),
        n("Add", ["dy2", "dx2"], ["d2"]),
        n("Sub", ["r2", "d2"], ["inside"]),
        n("Div", ["inside", "r"], ["logit"]),  # > 0 inside the disc, about 2 per px at its edge
        n("Unsqueeze", ["logit", "ax0"], ["l3"]),
        n("Unsqueeze", ["l3", "ax0"], ["masks"]),
        n("Identity", ["iou"], ["iou_predictions"]),
        n("Identity", ["mask_input"], ["low_res_masks"]),
    ]
    return save_onnx(helper.make_graph(nodes, "dec", ins, outs, inits), path)


@pytest.fixture(scope="module")
def sam(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("sam")
    return encoder_like(d / "mobile_sam_image_encoder.onnx"), decoder_like(
        d / "sam_mask_decoder_single.onnx"
    )


def _centroid(alpha: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(alpha > 0.5)
    return np.array([xs.mean(), ys.mean()])


def test_the_click_lands_where_the_user_clicked(sam):
    frame = np.full((360, 640, 3), 90, np.uint8)  # 640 px wide: the 1024 px picture is 1.6x
    alpha = PointSegmenter(*sam, parse_point("400,120"))(frame)
    assert alpha.shape == (360, 640) and alpha.dtype == np.float32
    assert np.abs(_centroid(alpha) - (400, 120)).max() < 1.5
    assert alpha[120, 400] > 0.99 and alpha[120, 400 + int(RADIUS) + 3] < 0.01
    half = PointSegmenter(*sam, parse_point("0.5,0.5"))(frame)  # fractions of the frame
    assert np.abs(_centroid(half) - (319.5, 179.5)).max() < 1.5


def _moving_square(i: int, rng_seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(rng_seed)
    background = rng.integers(0, 60, (360, 640, 3), dtype=np.uint8)
    texture = np.random.default_rng(7).integers(120, 255, (120, 120, 3), dtype=np.uint8)
    frame = background.copy()
    x = 100 + 8 * i
    frame[120:240, x : x + 120] = texture
    return frame


def test_the_prompt_follows_the_subject_and_carries_its_last_mask(sam):
    seg = PointSegmenter(*sam, (160.0, 180.0))  # the square's centre in the first frame
    fed: list[dict[str, np.ndarray]] = []
    real_run = seg.decoder.run

    def spy(feeds):
        fed.append({k: np.array(v) for k, v in feeds.items()})
        return real_run(feeds)

    seg.decoder.run = spy  # type: ignore[method-assign]
    for i in range(10):
        alpha = seg(_moving_square(i))
        assert np.abs(_centroid(alpha) - (160 + 8 * i, 180)).max() < 4, i
    assert fed[0]["has_mask_input"][0] == 0 and fed[0]["point_labels"].tolist() == [[1, -1]]
    assert fed[1]["has_mask_input"][0] == 1 and fed[1]["point_labels"].tolist() == [[1, 2, 3]]
    box = fed[1]["point_coords"][0, 1:] / 1.6  # the previous mask's box, grown, in frame px
    assert box[0, 0] < 130 and box[1, 0] > 190 and box[0, 1] < 150 and box[1, 1] > 210


def test_bad_points_are_one_line():
    for text in ("12", "a,b", "-3,4"):
        with pytest.raises(MoviolaError):
            parse_point(text)


@pytest.fixture
def fetched_sam(tmp_path, monkeypatch, sam):
    built = {path.name: path for path in sam}
    with stand_in_model(SAM_MODEL, built, tmp_path / "home", monkeypatch) as real:
        yield real


def _clip(tmp_path: Path) -> Path:
    import av

    path = tmp_path / "square.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv444p"
        stream.options = {"crf": "10"}
        for i in range(6):
            frame = av.VideoFrame.from_ndarray(_moving_square(i), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_matte_point_end_to_end(tmp_path, fetched_sam):
    src = _clip(tmp_path)
    clip = api.open(src).apply("matte", point="160,180", matte_only=True)
    frames = [f.image for f in clip.frames()]
    assert len(frames) == 6
    for i, image in enumerate(frames):
        alpha = image[..., 0].astype(np.float32) / 255
        assert np.abs(_centroid(alpha) - (160 + 8 * i, 180)).max() < 4, i


def test_matte_point_without_the_model_names_the_fetch(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIOLA_HOME", str(tmp_path / "empty"))
    with pytest.raises(MoviolaError) as err:
        next(api.open(_clip(tmp_path)).apply("matte", point="10,10").frames())
    assert "moviola models fetch mobilesam" in str(err.value) and "\n" not in str(err.value)
