"""colorize: reference (example-based), hints (edge-aware optimization), user ONNX model slot."""

from __future__ import annotations

import json
from fractions import Fraction

import cv2
import numpy as np
import pytest
from helpers import moviola_cli, save_onnx

from moviola.effects.colorize import Colorize, ModelColorizer, levin_solve, load_hints
from moviola.errors import MoviolaError
from moviola.media import Frame, StreamInfo, VideoReader, probe
from moviola.media.frame import to_float, to_uint8
from moviola.vision.color import delta_e2000, lab_to_rgb, match_histograms, rgb_to_lab

RATE = Fraction(10)
SIZE = (384, 288)


def gray_of(rgb: np.ndarray) -> np.ndarray:
    lab = rgb_to_lab(to_float(rgb))
    lab[..., 1:] = 0
    return to_uint8(lab_to_rgb(lab))


def drive(effect, images):
    h, w = images[0].shape[:2]
    effect.configure(StreamInfo(w, h, RATE, 1 / RATE))
    try:
        return [
            effect.process(Frame(img, Fraction(i) / RATE, 1 / RATE, i)).image
            for i, img in enumerate(images)
        ]
    finally:
        effect.close()


@pytest.fixture(scope="module")
def vtest_small(real_footage):
    """The first 9 frames of vtest.avi at 384x288 (colour)."""
    with VideoReader(real_footage, end=0.9) as reader:
        return [cv2.resize(f.image, SIZE, interpolation=cv2.INTER_AREA) for f in reader]


@pytest.fixture(scope="module")
def reference_png(vtest_small, tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "ref.png"
    cv2.imwrite(str(path), cv2.cvtColor(vtest_small[0], cv2.COLOR_RGB2BGR))
    return path


# -- reference mode on real footage -----------------------------------------------------------------
def test_reference_beats_histogram_transfer_and_flickers_less_than_per_frame(
    vtest_small, reference_png
):
    truth = vtest_small[1:]
    grays = [gray_of(f) for f in truth]
    ours = drive(Colorize(reference=[str(reference_png)]), grays)
    per_frame = drive(Colorize(reference=[str(reference_png)], temporal=0.0), grays)
    ref = to_float(vtest_small[0])
    base = [to_uint8(np.clip(match_histograms(to_float(g), ref), 0, 1)) for g in grays]

    def error(outs):
        return np.mean(
            [
                delta_e2000(rgb_to_lab(to_float(o)), rgb_to_lab(to_float(t))).mean()
                for o, t in zip(outs, truth, strict=True)
            ]
        )

    e_ours, e_base = error(ours), error(base)
    assert e_ours < 0.6 * e_base, (e_ours, e_base)
    # the lightness is the input's: only chroma is made up
    lum_in = rgb_to_lab(to_float(grays[-1]))[..., 0]
    lum_out = rgb_to_lab(to_float(ours[-1]))[..., 0]
    assert np.abs(lum_in - lum_out).mean() < 1.0

    def flicker(outs):
        changes = []
        for t in range(1, len(outs)):
            a, b = rgb_to_lab(to_float(truth[t - 1])), rgb_to_lab(to_float(truth[t]))
            static = (
                cv2.erode(
                    (np.linalg.norm(a - b, axis=-1) < 1).astype(np.uint8), np.ones((5, 5), np.uint8)
                )
                > 0
            )
            x = rgb_to_lab(to_float(outs[t - 1]))[..., 1:]
            y = rgb_to_lab(to_float(outs[t]))[..., 1:]
            changes.append(np.abs(x - y).sum(-1)[static].mean())
        return float(np.mean(changes))

    f_ours, f_frame = flicker(ours), flicker(per_frame)
    assert f_ours < 0.8 * f_frame, (f_ours, f_frame)


def test_colour_stays_on_a_moving_object(vtest_small, reference_png):
    """A pan: the picture moves 6 px per frame; the grass's colour must follow it."""
    base = vtest_small[0]
    shifted = [np.roll(base, 6 * i, axis=1) for i in range(6)]
    out = drive(
        Colorize(reference=[str(reference_png)], locality=0.0), [gray_of(f) for f in shifted]
    )
    truth_ab = rgb_to_lab(to_float(shifted[-1]))[..., 1:]
    got_ab = rgb_to_lab(to_float(out[-1]))[..., 1:]
    assert np.sqrt(((truth_ab - got_ab) ** 2).sum(-1).mean()) < 8


# -- hints ----------------------------------------------------------------------------------------
def test_hints_json_parsing(tmp_path):
    path = tmp_path / "h.json"
    path.write_text(
        json.dumps(
            [
                {"frame": 3, "points": [[10, 20, "#ff0000"]]},
                {
                    "time": "00:00:01.5",
                    "width": 200,
                    "height": 100,
                    "scribbles": [{"color": "00ff00", "points": [[0, 50], [199, 50]], "width": 4}],
                },
            ]
        )
    )
    keys = load_hints(path)
    assert keys[0].frame == 3 and keys[0].points == [(10.0, 20.0, (255, 0, 0))]
    assert keys[1].time == Fraction(3, 2) and keys[1].space == (200, 100)
    raster = keys[1].rasterize((400, 200), (200, 100))
    # a horizontal green line across the middle, scaled to the frame
    assert raster.mask[50].mean() > 0.9 and raster.mask[10].max() == 0
    assert raster.ab[50, 100, 0] < -40  # green: negative a
    assert raster.matches(15, Fraction(3, 2), Fraction(1, 10))
    assert not raster.matches(14, Fraction(14, 10), Fraction(1, 10))


def test_hints_png_parsing(tmp_path):
    rgba = np.zeros((60, 80, 4), np.uint8)
    rgba[10:20, 10:20] = (0, 0, 255, 255)  # BGR(A): red, opaque
    cv2.imwrite(str(tmp_path / "a.png"), rgba)
    (key,) = load_hints(tmp_path / "a.png")
    assert key.frame == 0 and key.image_mask.sum() == 100
    raster = key.rasterize((80, 60), (80, 60))
    assert raster.ab[15, 15, 0] > 40 and raster.mask[40, 40] == 0

    rgb = np.full((60, 80, 3), 128, np.uint8)  # gray paper, coloured strokes are the hints
    rgb[30:33, :] = (255, 80, 0)  # BGR: blue
    cv2.imwrite(str(tmp_path / "b.png"), rgb)
    (key,) = load_hints(tmp_path / "b.png")
    assert key.image_mask.sum() == 3 * 80


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ('{"points": [[1, 2]]}', 'must be [x, y, "#rrggbb"]'),
        ('{"points": [[1, 2, "red-ish"]]}', "colour must be '#rrggbb'"),
        ('{"frame": -2, "points": [[1, 2, "#ff0000"]]}', "frame must be a whole number"),
        ('{"frame": 1}', "no points or scribbles"),
        ('{"scribbles": [{"points": [[1, 2]]}]}', "scribble 1 must be"),
        ('{"pointz": []}', "unknown keys pointz"),
        ("[]", "has no keyframes"),
    ],
)
def test_bad_hints_file_is_one_line_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(MoviolaError, match=message.replace("[", r"\[").replace("(", r"\(")) as e:
        Colorize(hints=str(path))
    assert "\n" not in str(e.value)


def test_bad_hints_on_the_command_line(tmp_path, real_footage):
    path = tmp_path / "bad.json"
    path.write_text('{"points": [[1, 2, 3]]}')
    run = moviola_cli("colorize", real_footage, "-o", tmp_path / "o.mp4", "--hints", path)
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "colour must be" in run.stderr
    assert not (tmp_path / "o.mp4").exists()


def test_levin_propagation_follows_edges():
    """Two regions split by an edge, one hint in each: each fills with its own colour."""
    lum = np.full((40, 60), 30, np.float32)
    lum[:, 30:] = 70
    lum += np.random.default_rng(0).normal(0, 0.5, lum.shape).astype(np.float32)
    target = np.zeros((40, 60, 2), np.float32)
    weight = np.zeros((40, 60), np.float32)
    target[5, 5], weight[5, 5] = (40, 20), 100
    target[35, 55], weight[35, 55] = (-30, 10), 100
    ab = levin_solve(lum, target, weight)
    assert np.abs(ab[:, :28] - (40, 20)).max() < 3
    assert np.abs(ab[:, 32:] - (-30, 10)).max() < 3


def test_hints_colour_real_footage_and_carry_through_time(vtest_small, tmp_path):
    """Hints on frame 0 of vtest: grass green, pavement gray, wall brick; 8 frames later the
    grass far from its hint is still green and the pavement still nearly gray."""
    hints = tmp_path / "hints.json"
    hints.write_text(
        json.dumps(
            {
                "frame": 0,
                "width": 768,
                "height": 576,
                "points": [
                    [100, 450, "#3f7a2a"],
                    [600, 520, "#3f7a2a"],
                    [420, 260, "#8c8a88"],
                    [450, 30, "#9a5a40"],
                ],
                "scribbles": [{"color": "#3f7a2a", "points": [[50, 400], [300, 520]], "width": 6}],
            }
        )
    )
    grays = [gray_of(f) for f in vtest_small]
    out = drive(Colorize(hints=str(hints)), grays)
    truth = rgb_to_lab(to_float(vtest_small[-1]))
    got = rgb_to_lab(to_float(out[-1]))
    grass = (truth[..., 1] < -8) & (truth[..., 2] > 8)
    grass[:, : SIZE[0] // 2] = False  # the right half: away from most hints
    assert grass.sum() > 1000
    assert got[..., 1][grass].mean() < -5 and got[..., 2][grass].mean() > 5
    pavement = got[120:150, 160:240]
    assert np.abs(pavement[..., 1:]).mean() < 6


# -- model slot -----------------------------------------------------------------------------------
def _tiny_model(path, in_channels: int, out_channels: int, bias, fixed: int | None = None):
    """An ONNX model with a colorization model's interface: NCHW image in, NCHW chroma out.
    One 1x1 convolution: out = bias + 0 * input (so the answer is known)."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    dim = fixed if fixed else "H"
    dim2 = fixed if fixed else "W"
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, in_channels, dim, dim2])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, out_channels, dim, dim2])
    w = numpy_helper.from_array(np.zeros((out_channels, in_channels, 1, 1), np.float32), "w")
    b = numpy_helper.from_array(np.array(bias, np.float32), "b")
    node = helper.make_node("Conv", ["image", "w", "b"], ["out"])
    graph = helper.make_graph([node], "colorizer", [x], [y], [w, b])
    return save_onnx(graph, path)


def test_model_slot_ab_output(tmp_path, vtest_small):
    pytest.importorskip("onnxruntime")
    path = _tiny_model(tmp_path / "ddcolor_like.onnx", 3, 2, [25.0, -20.0])
    effect = Colorize(model=str(path))
    assert effect.kind == "model" and "ddcolor_like.onnx" in effect.tags()["moviola_colorize"]
    gray = gray_of(vtest_small[3])
    (out,) = drive(effect, [gray])
    lab = rgb_to_lab(to_float(out))
    mid = (lab[..., 0] > 35) & (lab[..., 0] < 75)  # away from the gamut's ends
    assert abs(np.median(lab[..., 1][mid]) - 25) < 3 and abs(np.median(lab[..., 2][mid]) + 20) < 3
    lum_in = rgb_to_lab(to_float(gray))[..., 0]
    assert np.abs(lab[..., 0] - lum_in).mean() < 1.0


def test_model_slot_rgb_output_and_fixed_size(tmp_path):
    pytest.importorskip("onnxruntime")
    colour = np.array([0.2, 0.5, 0.8], np.float32)  # a blue
    path = _tiny_model(tmp_path / "deoldify_like.onnx", 1, 3, colour, fixed=64)
    model = ModelColorizer(path, 512)
    assert model.in_size == (64, 64) and model.channels == 1
    lum = np.linspace(20, 80, 100 * 120, dtype=np.float32).reshape(100, 120)
    x = model.prepare(lum)
    assert x.shape == (1, 1, 64, 64) and x.min() > 0.15 and x.max() < 0.85
    ab = model(lum)
    assert ab.shape == (100, 120, 2)
    expect = rgb_to_lab(colour[None, None])[0, 0, 1:]
    assert np.allclose(ab[50, 60], expect, atol=0.5)


def test_model_with_a_foreign_interface_is_refused(tmp_path):
    pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("v", TensorProto.FLOAT, [1, 10])
    y = helper.make_tensor_value_info("o", TensorProto.FLOAT, [1, 10])
    graph = helper.make_graph([helper.make_node("Relu", ["v"], ["o"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "m.onnx"))
    with pytest.raises(MoviolaError, match="must take one NCHW image"):
        Colorize(model=str(tmp_path / "m.onnx")).configure(StreamInfo(64, 48, RATE, 1 / RATE))


# -- parameters and the command line ----------------------------------------------------------------
def _ddcolor_like(path):
    """A model with the interface of the ddcolor-tiny export (input 1x3x512x512 gray RGB 0..1,
    output 1x2x512x512 a, b) whose chroma swings with the picture's mean brightness: a per-frame
    network that flickers when the exposure does."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 512, 512])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 2, 512, 512])
    consts = [
        numpy_helper.from_array(np.array(0.45, np.float32), "c"),
        numpy_helper.from_array(np.array(400.0, np.float32), "k"),
        numpy_helper.from_array(np.array(-1.0, np.float32), "neg"),
        numpy_helper.from_array(np.array([1, 2, 512, 512], np.int64), "shape"),
    ]
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["m"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Sub", ["m", "c"], ["d"]),
        helper.make_node("Mul", ["d", "k"], ["a"]),
        helper.make_node("Mul", ["a", "neg"], ["b"]),
        helper.make_node("Concat", ["a", "b"], ["ab"], axis=1),
        helper.make_node("Expand", ["ab", "shape"], ["output"]),
    ]
    graph = helper.make_graph(nodes, "ddcolor_like", [x], [y], consts)
    return save_onnx(graph, path)


@pytest.fixture
def fetched_ddcolor(tmp_path, monkeypatch):
    """The store's ddcolor-tiny entry served by the stand-in, fetched into a temporary cache."""
    from helpers import stand_in_model

    stand_in = _ddcolor_like(tmp_path / "stand-in.onnx")
    with stand_in_model(
        "ddcolor-tiny", {"ddcolor_tiny_512_int8.onnx": stand_in}, tmp_path / "home", monkeypatch
    ) as real:
        yield real


def test_without_reference_or_hints_the_fetched_network_colours_stably(
    fetched_ddcolor, vtest_small
):
    effect = Colorize()
    assert effect.kind == "model" and "ddcolor-tiny" in effect.tags()["moviola_colorize"]
    gray = gray_of(vtest_small[3]).astype(np.int16)
    rng = np.random.default_rng(0)
    frames = [np.clip(gray + int(rng.integers(-4, 5)), 0, 255).astype(np.uint8) for _ in range(12)]
    outs = drive(effect, frames)
    ours = [np.median(rgb_to_lab(to_float(o))[..., 1]) for o in outs]
    raw_model = ModelColorizer(models_path("ddcolor-tiny"), 512)
    raw = [np.median(raw_model(rgb_to_lab(to_float(f))[..., 0])[..., 0]) for f in frames]
    assert np.std(raw) > 2.0  # the network alone flickers with the exposure
    assert np.std(ours[2:]) < 0.5 * np.std(raw[2:])  # carried along motion, it does not
    assert abs(np.mean(ours) - np.mean(raw)) < 0.5 * abs(np.mean(raw)) + 3  # its colour, kept


def models_path(model_id: str):
    from moviola import models

    return models.ensure(model_id)


def test_exactly_one_method(tmp_path, reference_png, monkeypatch):
    monkeypatch.setenv("MOVIOLA_HOME", str(tmp_path / "empty"))
    with pytest.raises(MoviolaError, match="moviola models fetch ddcolor-tiny"):
        Colorize()
    hints = tmp_path / "h.json"
    hints.write_text('{"points": [[1, 2, "#ff0000"]]}')
    with pytest.raises(MoviolaError, match="not"):
        Colorize(reference=[str(reference_png)], hints=str(hints))
    with pytest.raises(MoviolaError, match="must be an image"):
        Colorize(reference=[str(hints)])


def test_cli_records_the_method(real_footage, reference_png, tmp_path):
    out = tmp_path / "c.mp4"
    run = moviola_cli(
        "colorize",
        real_footage,
        "-o",
        out,
        "--end",
        "0.3",
        "--reference",
        reference_png,
        "--reference",
        reference_png,
        "--work",
        "128",
        "--json",
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert "reference (classical" in result["effects"][0]
    assert "reference (classical" in probe(out).tags.get("moviola_colorize", "")
    with VideoReader(out) as reader:
        frame = next(iter(reader)).image
    assert rgb_to_lab(to_float(frame))[..., 1:].std() > 2  # it has colour


def test_odd_sizes_sixteen_bits_and_alpha(reference_png):
    """161 x 91, uint16 RGBA frames: same size, dtype and alpha out; lightness kept."""
    rng = np.random.default_rng(3)
    base = cv2.resize(rng.integers(0, 65535, (12, 20, 3), dtype=np.uint16), (161, 91))
    alpha = np.full((91, 161, 1), 40000, np.uint16)
    frames = [np.concatenate([np.roll(base, i, axis=1), alpha], axis=2) for i in range(3)]
    out = drive(Colorize(reference=[str(reference_png)], work=64), frames)
    assert out[-1].shape == (91, 161, 4) and out[-1].dtype == np.uint16
    assert np.array_equal(out[-1][..., 3], frames[-1][..., 3])
    lum_in = rgb_to_lab(to_float(frames[-1][..., :3]))[..., 0]
    lum_out = rgb_to_lab(to_float(out[-1][..., :3]))[..., 0]
    assert np.abs(lum_in - lum_out).mean() < 1.5
