"""Depth: the ONNX model slot (on small models built here), depth from motion on a synthetic
scene with exact depth, supplied depth maps and videos, temporal smoothing, the depth effect."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from helpers import moviola_cli, save_onnx, stand_in_model

from moviola.errors import MoviolaError
from moviola.media.frame import Frame
from moviola.vision.depth import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    DepthFile,
    DepthModel,
    DepthStream,
    MotionDepth,
    TemporalSmoother,
    flow_magnitude_depth,
    read_depth_image,
)
from moviola.vision.scene import Scene, scale_invariant_errors


# --- helpers -------------------------------------------------------------------------------------
def channel_mean_model(
    path: Path, size: tuple[int, int] | None, names: tuple[str, str] = ("image", "depth")
) -> Path:
    """An ONNX model with a depth network's interface: image N x 3 x H x W (ImageNet-normalised)
    in, N x H x W out (here: the mean of the three normalised channels, so bright = near)."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    h, w = (size[1], size[0]) if size else ("height", "width")
    x = helper.make_tensor_value_info(names[0], TensorProto.FLOAT, ["batch", 3, h, w])
    y = helper.make_tensor_value_info(names[1], TensorProto.FLOAT, ["batch", h, w])
    node = helper.make_node("ReduceMean", [names[0]], [names[1]], axes=[1], keepdims=0)
    graph = helper.make_graph([node], "depth_stub", [x], [y])
    return save_onnx(graph, path)


def write_video(path: Path, images, rate=25, codec="libx264", pix_fmt="yuv420p") -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.height, stream.width = images[0].shape[:2]
        stream.pix_fmt = pix_fmt
        if codec == "libx264":
            stream.options = {"crf": "12"}
        for img in images:
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


@pytest.fixture(scope="module")
def scene() -> Scene:
    return Scene.default(width=320, height=192)


@pytest.fixture(scope="module")
def camera_clip(tmp_path_factory, scene) -> Path:
    """12 frames of the synthetic scene from a camera moving sideways and forwards."""
    path = tmp_path_factory.mktemp("depth") / "camera.mp4"
    write_video(path, [scene.render((0.03 * i - 0.15, 0.0, 0.02 * i))[0] for i in range(12)])
    return path


# --- (a) the ONNX slot ---------------------------------------------------------------------------
def test_model_slot_dynamic_input_uses_depth_anything_rules(tmp_path):
    model = DepthModel(channel_mean_model(tmp_path / "da.onnx", None))
    assert model.profile.name == "depth-anything-v2"
    x = model.prepare(np.zeros((480, 640, 3), np.uint8))
    assert x.shape[:2] == (1, 3) and x.dtype == np.float32
    h, w = x.shape[2:]
    assert h % 14 == 0 and w % 14 == 0 and h == 518 and abs(w / h - 640 / 480) < 0.03
    # ImageNet normalisation: a uniform grey v gives mean((v - mean) / std) everywhere
    v = 0.6
    raw = model.raw(np.full((60, 80, 3), round(v * 255), np.uint8))
    expected = float(np.mean((round(v * 255) / 255 - IMAGENET_MEAN) / IMAGENET_STD))
    assert raw.shape == (60, 80)
    assert np.allclose(raw, expected, atol=1e-3)


def test_model_slot_fixed_input_uses_midas_size_and_orients_near_bright(tmp_path):
    model = DepthModel(channel_mean_model(tmp_path / "midas.onnx", (256, 256)))
    assert model.profile.name == "midas-small"
    image = np.zeros((90, 160, 3), np.uint8)
    image[:, :80] = 230  # bright left half: the stub calls it near
    assert model.prepare(image).shape == (1, 3, 256, 256)
    depth = model(image)
    assert depth.shape == (90, 160) and depth.dtype == np.float32
    assert depth.min() >= 0 and depth.max() <= 1
    assert depth[:, :60].mean() > 0.9 and depth[:, 100:].mean() < 0.1


def test_model_slot_rejects_other_interfaces(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a model")
    with pytest.raises(MoviolaError, match="ONNX"):
        DepthModel(bad)
    with pytest.raises(MoviolaError, match="not found"):
        DepthModel(tmp_path / "missing.onnx")


def test_depth_cli_with_model_on_an_image(tmp_path):
    model = channel_mean_model(tmp_path / "m.onnx", None)
    image = np.full((64, 96, 3), 30, np.uint8)
    image[16:48, 24:72] = 220
    src = tmp_path / "photo.png"
    cv2.imwrite(str(src), image)
    out = tmp_path / "depth_out"
    r = moviola_cli("depth", src, "-o", f"{out}/", "--model", model, "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert "source='model (m.onnx, depth-anything-v2)'" in info["effects"][0]
    png = cv2.imread(str(next(out.glob("*.png"))), cv2.IMREAD_UNCHANGED)
    assert png.shape[:2] == (64, 96)
    assert png[32, 48].mean() > 200 and png[4, 4].mean() < 50  # near (bright) in the middle


def test_method_model_with_nothing_fetched_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIOLA_HOME", str(tmp_path / "home"))
    src = tmp_path / "photo.png"
    cv2.imwrite(str(src), np.zeros((32, 32, 3), np.uint8))
    r = moviola_cli("depth", src, "-o", f"{tmp_path / 'o'}/", "--method", "model")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1
    assert "moviola models fetch depth-anything-v2-small" in r.stderr and "Apache-2.0" in r.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.fixture
def cached_depth_anything(tmp_path, monkeypatch):
    """The store's depth-anything-v2-small entry, served by a model with the real export's
    interface (pixel_values N x 3 x H x W -> predicted_depth N x H x W) and fetched into a
    temporary cache (the real 99 MB file is never run in the tests)."""
    stub = channel_mean_model(tmp_path / "da.onnx", None, ("pixel_values", "predicted_depth"))
    with stand_in_model(
        "depth-anything-v2-small", {"model.onnx": stub}, tmp_path / "home", monkeypatch
    ) as real:
        yield real


def test_a_photo_gets_depth_from_the_fetched_network_by_default(tmp_path, cached_depth_anything):
    from moviola import api

    image = np.full((64, 96, 3), 30, np.uint8)
    image[16:48, 24:72] = 220
    src = tmp_path / "photo.png"
    cv2.imwrite(str(src), image)
    clip = api.open(src).apply("depth")
    frame = next(clip.frames())
    depth = frame.image[..., 0] if frame.image.ndim == 3 else frame.image
    # the network ran (depth from motion refuses a still): the bright square is near
    assert depth[32, 48] > 200 and depth[4, 4] < 50


# --- (b) depth from motion -----------------------------------------------------------------------
def test_motion_depth_orders_near_and_far_with_small_error(scene):
    a, truth = scene.render((0.0, 0.0, 0.0))
    b, _ = scene.render((0.12, 0.01, 0.04), yaw=0.015)  # moves and turns a little
    est = MotionDepth().estimate(a, b)
    assert est.ok and est.parallax > 2
    err = scale_invariant_errors(est.depth, truth)
    assert err["absrel"] < 0.15 and err["delta125"] > 0.8, err
    # the near panel, the far panel and the wall, by their exact inverse depth
    near = np.isclose(truth, 1 / 2.5, atol=1e-4)
    mid = np.isclose(truth, 1 / 4.0, atol=1e-4)
    wall = np.isclose(truth, 1 / 9.0, atol=1e-4)
    d = est.depth
    assert np.median(d[near]) > np.median(d[mid]) + 0.1 > np.median(d[wall]) + 0.2


def test_motion_depth_beats_flow_magnitude_when_the_camera_moves_forward(scene):
    a, truth = scene.render((0.0, 0.0, 0.0))
    b, _ = scene.render((0.0, 0.0, 0.3))
    ours = scale_invariant_errors(MotionDepth().estimate(a, b).depth, truth)
    naive = scale_invariant_errors(flow_magnitude_depth(a, b), truth)
    assert ours["absrel"] < 0.7 * naive["absrel"], (ours, naive)


def test_motion_without_camera_motion_is_not_trusted(scene):
    a, _ = scene.render((0.0, 0.0, 0.0))
    est = MotionDepth().estimate(a, a.copy())
    assert not est.ok


def test_depth_stream_motion_keeps_order_and_times(scene):
    frames = [
        Frame(scene.render((0.03 * i, 0, 0))[0], Fraction(i, 25), Fraction(1, 25), i)
        for i in range(7)
    ]
    stream = DepthStream("motion", gap=2, smooth=0.5)
    out = []
    for f in frames:
        out += stream.push(f)
        assert len(stream._pending) <= 2 * stream.gap  # bounded: never the whole clip
    out += stream.flush()
    assert [f.time for f, _ in out] == [f.time for f in frames]
    assert all(d.shape == (192, 320) for _, d in out)


def test_depth_cli_on_video_with_camera_motion(tmp_path, camera_clip, scene):
    out = tmp_path / "d.mkv"
    r = moviola_cli("depth", camera_clip, "-o", out, "--colormap", "turbo", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["frames_out"] == 12
    with av.open(str(out)) as c:
        tags = {k.lower(): v for k, v in c.metadata.items()}  # Matroska upper-cases keys
        assert "motion" in tags.get("moviola_depth_source", "").lower()
        assert c.streams.video[0].frames in (0, 12)
    # --deep: 16-bit grey depth in a PNG sequence, near (the left panel) brighter than the wall
    folder = tmp_path / "deep"
    r = moviola_cli("depth", camera_clip, "-o", f"{folder}/", "--deep", "-q", "--end", "0.2")
    assert r.returncode == 0, r.stderr
    png = cv2.imread(str(sorted(folder.glob("*.png"))[-1]), cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint16
    _, truth = scene.render((0.0, 0.0, 0.0))
    near = png[..., 0][np.isclose(truth, 0.4, atol=1e-4)]
    wall = png[..., 0][np.isclose(truth, 1 / 9, atol=1e-4)]
    assert np.median(near) > np.median(wall) + 20000


def test_motion_on_a_still_image_is_one_clear_line(tmp_path):
    src = tmp_path / "still.png"
    cv2.imwrite(str(src), np.zeros((32, 32, 3), np.uint8))
    r = moviola_cli("depth", src, "-o", f"{tmp_path / 'o'}/")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "single image" in r.stderr


# --- (c) supplied depth --------------------------------------------------------------------------
def test_supplied_depth_maps_8_and_16_bit_and_near_black(tmp_path):
    ramp16 = np.tile(np.linspace(0, 65535, 50).astype(np.uint16), (20, 1))
    cv2.imwrite(str(tmp_path / "d16.png"), ramp16)
    d = read_depth_image(tmp_path / "d16.png")
    assert d.dtype == np.float32 and d[0, 0] == 0 and d[0, -1] == 1
    assert len(np.unique(d)) == 50  # 16-bit precision kept
    cv2.imwrite(str(tmp_path / "d8.png"), (ramp16 // 257).astype(np.uint8))
    black = read_depth_image(tmp_path / "d8.png", near="black")
    assert black[0, 0] == 1 and black[0, -1] == 0
    # resized to the frame
    assert DepthFile(tmp_path / "d16.png").at(Fraction(0), 100, 40).shape == (40, 100)


def test_supplied_depth_video_follows_the_frame_times(tmp_path):
    levels = [0, 80, 160, 240]
    images = [np.full((32, 48, 3), v, np.uint8) for v in levels]
    path = tmp_path / "depth.mkv"
    write_video(path, images, rate=10, codec="ffv1", pix_fmt="bgr0")
    src = DepthFile(path)
    got = [src.at(Fraction(k, 20), 48, 32).mean() * 255 for k in range(8)]
    assert np.allclose(got, [0, 0, 80, 80, 160, 160, 240, 240], atol=2)
    src.close()


def test_bad_depth_file_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG broken")
    src = tmp_path / "photo.png"
    cv2.imwrite(str(src), np.zeros((32, 32, 3), np.uint8))
    r = moviola_cli("depth", src, "-o", f"{tmp_path / 'o'}/", "--depth", bad)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "cannot read the depth map" in r.stderr
    r = moviola_cli("parallax", src, "-o", tmp_path / "o.mp4", "--depth", tmp_path / "none.png")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no such file" in r.stderr


# --- temporal smoothing --------------------------------------------------------------------------
def test_temporal_smoothing_reduces_flicker(scene):
    image, truth = scene.render((0.0, 0.0, 0.0))
    base = truth / truth.max()
    rng = np.random.default_rng(1)
    smoother = TemporalSmoother(0.7)
    raw, smooth = [], []
    for _ in range(8):
        noisy = np.clip(base * rng.uniform(0.85, 1.15) + rng.normal(0, 0.05, base.shape), 0, 1)
        raw.append(noisy.astype(np.float32))
        smooth.append(smoother(image, raw[-1]))
    flicker = lambda xs: float(np.mean(np.abs(np.diff(np.stack(xs), axis=0))))  # noqa: E731
    assert flicker(smooth) < 0.6 * flicker(raw)
    err_raw = np.abs(np.stack(raw[4:]) - base).mean()
    err_smooth = np.abs(np.stack(smooth[4:]) - base).mean()
    assert err_smooth < err_raw  # smoother and no less accurate


def test_static_camera_is_reported(tmp_path, scene):
    still = scene.render((0.0, 0.0, 0.0))[0]
    path = tmp_path / "static.mp4"
    write_video(path, [still] * 6)
    r = moviola_cli("depth", path, "-o", tmp_path / "d.mp4", "-q")
    assert r.returncode == 0, r.stderr
    assert "no camera motion could be measured for 6 of 6 frames" in r.stderr
