"""stylize: keyframe look carried along real motion, flicker vs per-frame synthesis, two-keyframe
blending, style transfer, classical filters, the user ONNX model slot, errors."""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from helpers import moviola_cli

from moviola.effects import stylize as st
from moviola.errors import MoviolaError
from moviola.media import Frame, StreamInfo
from moviola.pipeline import create
from moviola.vision.flicker import warping_error

SIZE = (240, 176)  # Megamind's 720x528, a third
RATE = Fraction(24)


@pytest.fixture(scope="module")
def shot(megamind) -> list[np.ndarray]:
    """16 frames of Megamind's first shot (a woman talking, camera and people moving)."""
    out = []
    with av.open(str(megamind)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i >= 30:
                img = f.to_ndarray(format="rgb24")
                out.append(cv2.resize(img, SIZE, interpolation=cv2.INTER_AREA))
            if len(out) == 16:
                break
    return out


def paint(rgb: np.ndarray) -> np.ndarray:
    """A made-up 'painted' keyframe: edge-preserving wash, strong warm/green shift, ink lines."""
    s = cv2.stylization(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), sigma_s=60, sigma_r=0.5)
    s = cv2.cvtColor(s, cv2.COLOR_BGR2RGB).astype(np.float32)
    s = s * np.array([0.6, 1.3, 0.5]) + np.array([10, 40, 0])
    edges = cv2.Canny(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 60, 120) > 0
    s[edges] *= 0.2
    return np.clip(s, 0, 255).astype(np.uint8)


def save(path, rgb):
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def drive(effect, images):
    h, w = images[0].shape[:2]
    effect.configure(StreamInfo(w, h, RATE, 1 / RATE))
    out = []
    try:
        for i, img in enumerate(images):
            r = effect.process(Frame(img, Fraction(i) / RATE, 1 / RATE, i))
            out.extend([r] if isinstance(r, Frame) else r)
        out.extend(effect.flush())
    finally:
        effect.close()
    assert [f.index for f in out] == list(range(len(images)))  # all frames, in order
    return [f.image for f in out]


def lab_stats(rgb):
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).reshape(-1, 3).astype(np.float32)
    return np.concatenate([lab.mean(0), lab.std(0)])


@pytest.fixture(scope="module")
def carried(shot, tmp_path_factory):
    d = tmp_path_factory.mktemp("stylize")
    key = paint(shot[0])
    path = save(d / "key.png", key)
    ours = drive(st.Stylize(keyframe=(f"0={path}",)), shot)
    per_frame = drive(st.Stylize(keyframe=(f"0={path}",), temporal=False), shot)
    return key, path, ours, per_frame


def test_keyframe_look_is_carried(shot, carried):
    key, _, ours, _ = carried
    assert np.array_equal(ours[0], key)  # the keyframe frame is the keyframe
    far = ours[-1]
    # far from the keyframe the colour statistics are the keyframe's, not the input's
    to_key = np.abs(lab_stats(far) - lab_stats(key)).mean()
    to_input = np.abs(lab_stats(far) - lab_stats(shot[-1])).mean()
    assert to_key < 4 and to_key < to_input / 3, (to_key, to_input)
    # and it follows the motion: closer to the painting of that very frame than the keyframe is
    target = paint(shot[-1]).astype(np.float32)
    err_ours = np.abs(far.astype(np.float32) - target).mean()
    err_still = np.abs(key.astype(np.float32) - target).mean()
    assert err_ours < 0.85 * err_still, (err_ours, err_still)


def test_flicker_lower_than_per_frame(shot, carried):
    _, _, ours, per_frame = carried
    e_ours = warping_error(shot, ours)
    e_per_frame = warping_error(shot, per_frame)
    assert e_ours < 0.6 * e_per_frame, (e_ours, e_per_frame)


def test_two_keyframes_blend_without_pop(shot, tmp_path):
    n = 10
    frames = [cv2.resize(f, (160, 116), interpolation=cv2.INTER_AREA) for f in shot[:n]]
    a = save(tmp_path / "a.png", paint(frames[0]))
    b_img = 255 - paint(frames[n - 1])  # a very different look at the end
    b = save(tmp_path / "b.png", b_img)
    eff = st.Stylize(keyframe=(f"0={a}", f"{(n - 1) / 24}s={b}"), max_gap=50)
    out = drive(eff, frames)
    assert eff.keys_used == [0, n - 1]
    assert np.array_equal(out[-1], b_img)
    means = np.array([o.astype(np.float32).mean() for o in out])
    steps = np.abs(np.diff(means))
    # the look moves from one keyframe to the other gradually: no step carries most of it
    assert steps.max() < 0.3 * abs(means[-1] - means[0]), (steps, means)
    assert min(means[0], means[-1]) < means[n // 2] < max(means[0], means[-1])


def test_keyframe_not_at_start_carried_backward(shot, tmp_path):
    frames = [cv2.resize(f, (160, 116), interpolation=cv2.INTER_AREA) for f in shot[:6]]
    key = paint(frames[5])
    path = save(tmp_path / "k.png", key)
    out = drive(st.Stylize(keyframe=(f"5={path}",)), frames)
    assert np.array_equal(out[5], key)
    assert np.abs(lab_stats(out[0]) - lab_stats(key)).mean() < 4


def test_max_gap_bounds_what_is_held(shot, tmp_path):
    path = save(tmp_path / "k.png", paint(shot[0]))
    eff = st.Stylize(keyframe=(f"0={path}", f"100={path}"), max_gap=3, work=64)
    h, w = shot[0].shape[:2]
    eff.configure(StreamInfo(w, h, RATE, 1 / RATE))
    for i, img in enumerate(shot[:6]):
        eff.process(Frame(img, Fraction(i) / RATE, 1 / RATE, i))
        assert len(eff._held) <= 3
    assert len(eff.flush()) == 3


def brush_style(h=120, w=160, seed=1):
    """A style image: short strokes of saturated colours, from dark to light, over all of it."""
    rng = np.random.default_rng(seed)
    hsv = np.zeros((h, w, 3), np.uint8)
    hsv[..., 0] = 100
    hsv[..., 1] = 200
    hsv[..., 2] = np.linspace(20, 250, w, dtype=np.uint8)[None]
    for _ in range(600):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        color = (int(rng.integers(0, 180)), 220, int(np.clip(x / w * 230 + 20, 0, 255)))
        cv2.line(hsv, (x, y), (x + 10, y + 4), color, 3)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def hue_histogram(image):
    """Hues of the saturated pixels, 12 bins, normalised."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    mask = (hsv[..., 1] > 60).astype(np.uint8)
    h = cv2.calcHist([hsv], [0], mask, [12], [0, 180]).ravel()
    return h / max(1.0, h.sum())


def test_style_image(shot, tmp_path):
    style = brush_style()
    path = save(tmp_path / "style.png", style)
    eff = st.Stylize(style=str(path))
    out = drive(eff, shot[:4])
    assert eff.tags() == {"moviola_stylize": "style:guided-patchmatch"}
    # the frames are painted with the style's hues, not the input's
    d_out = 0.5 * np.abs(hue_histogram(out[0]) - hue_histogram(style)).sum()
    d_in = 0.5 * np.abs(hue_histogram(shot[0]) - hue_histogram(style)).sum()
    assert d_out < 0.35 and d_out < d_in / 2, (d_out, d_in)
    # and keep the frame's shading: brightness follows the input's
    lum_out = cv2.cvtColor(out[0], cv2.COLOR_RGB2GRAY).astype(np.float32)
    lum_in = cv2.cvtColor(shot[0], cv2.COLOR_RGB2GRAY).astype(np.float32)
    assert (
        np.corrcoef(cv2.blur(lum_out, (9, 9)).ravel(), cv2.blur(lum_in, (9, 9)).ravel())[0, 1] > 0.6
    )


@pytest.mark.parametrize("name", st.FILTERS)
def test_filters_run_and_differ(shot, name):
    eff = st.Stylize(filter=name, smooth=0.5 if name == "watercolor" else 0.0)
    out = drive(eff, shot[:3])
    assert out[0].shape == shot[0].shape and out[0].dtype == np.uint8
    assert np.abs(out[1].astype(np.float32) - shot[1]).mean() > 4
    assert eff.tags() == {"moviola_stylize": f"filter:{name}"}


def test_posterize_palette_fixed(shot):
    out = drive(st.Stylize(filter="posterize", colors=6), shot[:4])
    palettes = [set(map(tuple, o.reshape(-1, 3))) for o in out]
    assert len(palettes[0]) >= 4
    assert len(set.union(*palettes)) <= 6  # one palette for every frame


def test_smoothing_lowers_filter_flicker(shot):
    plain = drive(st.Stylize(filter="halftone"), shot[:8])
    smooth = drive(st.Stylize(filter="halftone", smooth=0.8), shot[:8])
    assert warping_error(shot[:8], smooth) < 0.8 * warping_error(shot[:8], plain)


# -- the ONNX model slot --------------------------------------------------------------------------
def _inverter(path, layout: str, lo: float, hi: float, meta: str | None = None, size=None):
    """y = (lo + hi) - x: inverts colours in the model's value range; a 1x1 conv for NCHW."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    h, w = size or ("H", "W")
    if layout == "NCHW":
        shape = [1, 3, h, w]
        weight = helper.make_tensor(
            "w", TensorProto.FLOAT, [3, 3, 1, 1], (-np.eye(3, dtype=np.float32)).ravel().tolist()
        )
        bias = helper.make_tensor("b", TensorProto.FLOAT, [3], [lo + hi] * 3)
        nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"])]
        inits = [weight, bias]
    else:
        shape = [1, h, w, 3]
        c = helper.make_tensor("c", TensorProto.FLOAT, [], [lo + hi])
        nodes = [helper.make_node("Sub", ["c", "x"], ["y"])]
        inits = [c]
    graph = helper.make_graph(
        nodes,
        "invert",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if meta:
        onnx.helper.set_model_props(model, {"range": meta})
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(
    "layout, lo, hi, param, meta",
    [("NCHW", 0, 255, "auto", None), ("NHWC", -1, 1, "-1,1", None), ("NHWC", 0, 1, "auto", "0,1")],
)
def test_onnx_model_slot(shot, tmp_path, layout, lo, hi, param, meta):
    pytest.importorskip("onnxruntime")
    path = _inverter(tmp_path / f"inv_{layout}.onnx", layout, lo, hi, meta)
    eff = st.Stylize(model=str(path), model_range=param)
    out = drive(eff, shot[:2])
    assert eff._model.layout == layout and eff._model.range == (lo, hi)
    assert np.abs(out[0].astype(int) - (255 - shot[0].astype(int))).max() <= 1
    assert eff.tags()["moviola_stylize"] == f"model:{path.name}"


def test_onnx_model_tiles_and_fixed_size(shot, tmp_path):
    pytest.importorskip("onnxruntime")
    path = _inverter(tmp_path / "inv.onnx", "NCHW", 0, 255)
    out = drive(st.Stylize(model=str(path), tile=64), shot[:1])
    assert np.abs(out[0].astype(int) - (255 - shot[0].astype(int))).max() <= 1
    fixed = _inverter(tmp_path / "fixed.onnx", "NCHW", 0, 255, size=(64, 64))
    out = drive(st.Stylize(model=str(fixed)), shot[:1])
    assert out[0].shape == shot[0].shape
    # resized through 64x64 and back: inverted, blurred
    assert np.abs(out[0].astype(float).mean() - (255 - shot[0].astype(float).mean())) < 3


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw, message",
    [
        ({"keyframe": ("painted.png",)}, "FRAME=IMAGE"),
        ({"keyframe": ("abc=x.png",)}, "neither a frame number nor a time"),
        ({"keyframe": ("3=/nonexistent/x.png",)}, "not found"),
        ({}, "give one of"),
        ({"filter": "cartoon", "style": __file__}, "give one of"),
        ({"filter": "mosaic"}, "not one of"),
    ],
)
def test_bad_parameters(kw, message):
    with pytest.raises(MoviolaError, match=message):
        create("stylize", **kw)


def test_keyframe_aspect_and_missing_frame(shot, tmp_path):
    wrong = save(tmp_path / "w.png", np.zeros((100, 100, 3), np.uint8))
    with pytest.raises(MoviolaError, match="aspect"):
        drive(st.Stylize(keyframe=(f"0={wrong}",)), shot[:2])
    ok = save(tmp_path / "k.png", shot[0])
    with pytest.raises(MoviolaError, match="no frame of the clip"):
        drive(st.Stylize(keyframe=(f"50={ok}",)), shot[:3])


def test_cli_bad_keyframe_one_line(megamind, tmp_path):
    r = moviola_cli("stylize", megamind, "-o", tmp_path / "o.mp4", "--keyframe", "nonsense")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "FRAME=IMAGE" in r.stderr
