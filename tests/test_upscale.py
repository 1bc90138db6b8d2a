"""upscale: Real-ESRGAN through ncnn (tiny frames), tiling seams, sizes, classical mode, errors."""

from __future__ import annotations

import sys
from fractions import Fraction

import cv2
import numpy as np
import pytest
from helpers import moviola_cli

import moviola
from moviola.effects import upscale as up
from moviola.errors import MoviolaError
from moviola.media import Frame, StreamInfo, probe, synth
from moviola.models import runtime as session_mod
from moviola.pipeline import create

FAST = "realesr-animevideov3-x2"


def drive(effect, images, rate=Fraction(10)):
    """Run an effect over a list of arrays, as the pipeline would; returns (info, images)."""
    h, w = images[0].shape[:2]
    info = effect.configure(StreamInfo(w, h, rate, 1 / rate))
    try:
        out = [
            effect.process(Frame(img, Fraction(i) / rate, 1 / rate, i)).image
            for i, img in enumerate(images)
        ]
    finally:
        effect.close()
    return info, out


@pytest.fixture(scope="module")
def ncnn_runtime():
    return pytest.importorskip("ncnn", reason="ncnn runtime not installed (moviola[upscale])")


@pytest.fixture(scope="module")
def texture() -> np.ndarray:
    """A 96x64 picture with edges, text-like strokes and noise: something to enlarge."""
    img = synth.picture(96, 64, 3, 0.1)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 12, img.shape)
    img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    cv2.putText(img, "moviola", (4, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (20, 240, 30), 1)
    return img


def sharpness(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


# -- parameters and errors ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw, message",
    [
        ({"model": "waifu2x"}, "not one of"),
        ({"tile": 8}, "at least 32"),
        ({"scale": 0.5}, "below the minimum"),
        ({"scale": 2, "width": 640}, "not both"),
        ({"sharpen": 0.5}, "lanczos only"),
        ({"model": "lanczos", "sharpen": 9}, "above the maximum"),
        ({"model_path": "model.pth"}, r"\.param or an \.onnx"),
        ({"model": "lanczos", "model_path": "m.param"}, "needs a model"),
    ],
)
def test_bad_parameters_raise_one_line(kw, message):
    with pytest.raises(MoviolaError, match=message) as err:
        create("upscale", **kw)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"width": 40}, "smaller than the input"),
        ({"width": 200, "height": 200}, "aspect ratio"),
        ({"model_path": "/nonexistent/x.param"}, "model file not found"),
    ],
)
def test_bad_geometry_is_refused_at_configure(kw, message):
    effect = create("upscale", **kw)
    with pytest.raises(MoviolaError, match=message):
        effect.configure(StreamInfo(64, 48, Fraction(10), Fraction(1, 10)))


def test_missing_runtime_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ncnn", None)  # import ncnn -> ImportError
    session_mod.close_sessions()
    effect = create("upscale", model=FAST)
    with pytest.raises(MoviolaError) as err:
        effect.configure(StreamInfo(64, 48, Fraction(10), Fraction(1, 10)))
    text = str(err.value)
    assert "\n" not in text
    assert "ncnn" in text and "pip install 'moviola[upscale]'" in text


def test_kind_is_per_instance():
    assert create("upscale").kind == "model"
    assert create("upscale", model="lanczos").kind == "classical"
    assert up.Upscale.describe()["kind"] == "model"


# -- geometry and tiling ----------------------------------------------------------------------------
def test_output_sizes():
    effect = create("upscale", model="lanczos")
    assert effect.output_size(64, 48) == (128, 96)  # lanczos default x2
    assert create("upscale", scale=2.5).output_size(64, 48) == (160, 120)
    assert create("upscale", width=200).output_size(64, 48) == (200, 150)
    assert create("upscale", height=1440).output_size(640, 480) == (1920, 1440)
    assert create("upscale", width=1920, height=1440).output_size(640, 480) == (1920, 1440)
    assert create("upscale", model="realesrgan-x4plus").output_size(64, 48, 4) == (256, 192)


def test_auto_picks_the_smallest_model_that_reaches_the_factor():
    effect = create("upscale")
    assert effect._choose_model(1.5) == "realesr-animevideov3-x2"
    assert effect._choose_model(2.5) == "realesr-animevideov3-x3"
    assert effect._choose_model(3.0) == "realesr-animevideov3-x3"
    assert effect._choose_model(6.0) == "realesr-animevideov3-x4"


def test_blending_weights_sum_to_one():
    length, scale, band = 100, 3, 6
    edges = up.tile_edges(length, 32)
    assert edges[0] == 0 and edges[-1] == length and len(edges) == 5
    total = np.zeros(length * scale, np.float32)
    for lo, hi in zip(edges, edges[1:], strict=False):
        start, stop, weight = up._ramp(lo, hi, length, band, scale)
        total[start:stop] += weight
    np.testing.assert_allclose(total, 1.0, atol=1e-6)


def test_auto_tile_follows_memory():
    small = up.MODELS["realesr-animevideov3-x4"]
    big = up.MODELS["realesrgan-x4plus"]
    assert up.auto_tile(small, 640, 480, budget=2 << 30) == 0  # the whole frame fits
    tile = up.auto_tile(big, 640, 480, budget=2 << 30)
    assert up.MIN_TILE <= tile < 480
    assert (tile + 2 * big.pad) ** 2 * big.bytes_per_pixel <= 2 << 30


# -- the models ---------------------------------------------------------------------------------
def test_exact_size_for_a_fractional_scale_and_a_width(ncnn_runtime, texture):
    info, (out,) = drive(create("upscale", scale=2.5), [texture])
    assert (info.width, info.height) == (240, 160)
    assert out.shape == (160, 240, 3) and out.dtype == np.uint8
    info, (out,) = drive(create("upscale", model=FAST, width=150), [texture])
    assert out.shape == (100, 150, 3) == (info.height, info.width, 3)


def test_tiled_equals_untiled(ncnn_runtime, texture):
    _, (whole,) = drive(create("upscale", model=FAST), [texture])
    effect = create("upscale", model=FAST, tile=32)
    _, (tiled,) = drive(effect, [texture])
    assert effect._tile == 32
    diff = np.abs(whole.astype(int) - tiled.astype(int))
    assert diff.max() <= 1  # rounding only: no seam


def test_model_output_is_the_picture_enlarged(ncnn_runtime, texture):
    """Reduced back to the input size, the model's output matches the input (no colour noise,
    no channel swap) and it is sharper than plain bicubic."""
    _, (out,) = drive(create("upscale", model=FAST), [texture])
    back = cv2.resize(out, (96, 64), interpolation=cv2.INTER_AREA)
    psnr = cv2.PSNR(back, texture)
    assert psnr > 24, psnr
    for c in range(3):
        assert abs(float(back[..., c].mean()) - float(texture[..., c].mean())) < 3
    bicubic = cv2.resize(texture, (192, 128), interpolation=cv2.INTER_CUBIC)
    assert sharpness(out) > sharpness(bicubic)


def test_alpha_and_sixteen_bits(ncnn_runtime):
    rgba = np.zeros((32, 48, 4), np.uint16)
    rgba[..., :3] = synth.picture(48, 32, 0, 0.0).astype(np.uint16) * 257
    rgba[8:24, 12:36, 3] = 65535
    _, (out,) = drive(create("upscale", model=FAST), [rgba])
    assert out.shape == (64, 96, 4) and out.dtype == np.uint16
    assert out[32, 48, 3] == 65535 and out[2, 2, 3] == 0


def test_model_path_uses_the_given_file(ncnn_runtime, texture):
    from moviola.models.store import ensure

    path = ensure("realesr-animevideov3-x3")
    effect = create("upscale", model_path=str(path))
    info, (out,) = drive(effect, [texture])
    assert effect._info.scale == 3  # found by running it
    assert out.shape == (192, 288, 3) == (info.height, info.width, 3)


def test_ncnn_session_ranks_and_blobs(ncnn_runtime):
    from moviola.models.runtime import open_session
    from moviola.models.runtime.ncnn import read_param_blobs

    sess = open_session(FAST)
    assert sess.provider == "ncnn-cpu"
    assert sess.input_names == ["data"] and sess.output_names == ["output"]
    x = np.random.default_rng(1).random((2, 3, 8, 10), dtype=np.float32)
    batch = sess.run({"data": x})["output"]
    single = sess.run({"data": x[1]})["output"]
    assert batch.shape == (2, 3, 16, 20) and single.shape == (3, 16, 20)
    np.testing.assert_allclose(batch[1], single, atol=1e-6)
    with pytest.raises(MoviolaError, match="takes inputs data"):
        sess.run({"input": x})
    assert read_param_blobs(sess.path) == (["data"], ["output"])


def test_bad_param_file_is_one_line(tmp_path):
    from moviola.models.runtime.ncnn import read_param_blobs

    bad = tmp_path / "x.param"
    bad.write_text("hello\n")
    with pytest.raises(MoviolaError, match="bad magic"):
        read_param_blobs(bad)


# -- classical ----------------------------------------------------------------------------------
def test_lanczos_mode_is_sharpened_lanczos(texture):
    effect = create("upscale", model="lanczos", scale=3)
    _, (out,) = drive(effect, [texture])
    assert out.shape == (192, 288, 3)
    assert effect._session is None  # no model involved
    _, (plain,) = drive(create("upscale", model="lanczos", scale=3, sharpen=0), [texture])
    lanczos = cv2.resize(texture, (288, 192), interpolation=cv2.INTER_LANCZOS4)
    assert np.abs(plain.astype(int) - lanczos.astype(int)).max() <= 1
    assert sharpness(out) > 1.3 * sharpness(plain)


# -- end to end -----------------------------------------------------------------------------------
def test_audio_passes_through(ncnn_runtime, tmp_path):
    src = tmp_path / "talk.mp4"
    synth.make_clip(src, width=64, height=48, duration=0.6, flashes=(0.3,))
    result = moviola.open(src).apply("upscale", model=FAST).save(tmp_path / "out.mp4")
    assert result.audio in ("copied", "re-encoded")
    info = probe(result.output)
    assert (info.video[0].width, info.video[0].height) == (128, 96)
    assert info.audio, "audio was dropped"
    assert abs(float(info.audio[0].duration) - 0.6) < 0.05
    assert result.frames_out == result.frames_in


def test_cli(tmp_path):
    out = moviola_cli("upscale", "--help")
    assert out.returncode == 0
    for option in ("--model", "--scale", "--width", "--height", "--tile", "--sharpen"):
        assert option in out.stdout
    src = tmp_path / "in.mp4"
    synth.make_clip(src, width=64, height=48, duration=0.4, flashes=())
    done = moviola_cli(
        "upscale", src, "-o", tmp_path / "o.mp4", "--model", "lanczos", "--width", "160", "-q"
    )
    assert done.returncode == 0, done.stderr
    assert probe(tmp_path / "o.mp4").video[0].width == 160
    bad = moviola_cli("upscale", src, "-o", tmp_path / "b.mp4", "--tile", "5")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1
