"""stylize --filter vintage: the CycleGAN generator converted through our own definition (ONNX
Runtime against torch), its look on a real frame, statistics shared over a shot flickering less
than per frame on a real clip, the effect's kind following the filter, and the missing model."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

import av
import cv2
import numpy as np
import pytest

from moviola.effects import stylize as st
from moviola.effects.stylize import vintage
from moviola.errors import MoviolaError
from moviola.media import Frame, StreamInfo
from moviola.pipeline import create
from moviola.vision.flicker import warping_error


def _decode(path, count: int, start: int = 0, size: tuple[int, int] | None = None) -> list:
    out = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i >= start:
                img = f.to_ndarray(format="rgb24")
                out.append(cv2.resize(img, size, interpolation=cv2.INTER_AREA) if size else img)
            if len(out) == count:
                break
    return out


def _breathing(images: list, outputs: list) -> float:
    """Mean frame-to-frame change of (mean output colour - mean input colour), levels."""
    pairs = zip(images, outputs, strict=True)
    shift = [o.reshape(-1, 3).mean(0) - i.reshape(-1, 3).mean(0) for i, o in pairs]
    return float(np.mean([np.abs(b - a).mean() for a, b in pairwise(shift)]))


# -- declarations (no model) -------------------------------------------------------------------
def test_the_kind_follows_the_filter_and_the_class_stays_classical():
    assert create("stylize", filter="vintage").kind == "model"
    assert create("stylize", filter="cartoon").kind == "classical"
    assert st.Stylize.kind == "classical" == st.Stylize.describe()["kind"]
    assert "vintage" in (next(p for p in st.Stylize.params if p.name == "filter").choices or ())
    assert set(st.MODEL_FILTERS) == {"vintage"} and not set(st.MODEL_FILTERS) & set(st.FILTERS)
    assert st.Stylize(filter="vintage").method == "filter:vintage"
    assert st.Stylize(filter="vintage", temporal=False).method == "filter:vintage:per-frame"


def test_large_frames_run_in_tiles_and_sides_are_padded_to_multiples_of_4():
    assert vintage.auto_tile(1920, 1080, 0) == 0
    assert vintage.auto_tile(3840, 2160, 0) == vintage.AUTO_TILE
    assert vintage.auto_tile(1920, 1080, 300) == 300
    with pytest.raises(MoviolaError, match="tile"):
        create("stylize", filter="vintage", tile=16)
    padded = vintage.pad_to(np.zeros((53, 70, 3), np.uint8), 4)
    assert padded.shape == (56, 72, 3)


def test_a_missing_model_is_one_line_naming_the_fetch(tmp_path, monkeypatch):
    from moviola.models import store

    monkeypatch.setenv("MOVIOLA_HOME", str(tmp_path / "empty-home"))

    def offline(model_id, *a, **k):
        raise MoviolaError("no network")

    monkeypatch.setattr(store, "fetch", offline)
    effect = create("stylize", filter="vintage")
    with pytest.raises(MoviolaError) as err:
        effect.configure(StreamInfo(64, 48, Fraction(10), Fraction(1, 10)))
    msg = str(err.value)
    assert "moviola models fetch vintagify-cyclegan" in msg and "\n" not in msg


# -- conversion (torch, random weights) --------------------------------------------------------
def test_the_onnx_graph_equals_our_torch_definition(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort

    from moviola.models import cyclegan

    torch.manual_seed(0)
    net = cyclegan._generator_class()(8, 2)  # small widths, same structure
    # norms with scales and shifts other than 1 and 0 (also: the exporter would share equal
    # tensors through Identity nodes, which ONNX Runtime 1.32's basic optimiser rejects)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if p.ndim == 1:
                p.copy_(torch.randn_like(p) * 0.3 + (1.0 if name.endswith(".weight") else 0.0))
    net.eval()
    path = tmp_path / "g.onnx"
    cyclegan.export_onnx(net, path)
    assert cyclegan.check_onnx(net, path) < cyclegan.TOLERANCE
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    width = sum(net.widths)
    a, b = (torch.rand(1, 3, 40, 56) * 2 - 1 for _ in range(2))
    zero = np.zeros(1, np.float32)
    # b normalised with a's statistics: what torch gives with a's statistics forced on it
    _, stats_a = sess.run(
        None, {"image": a.numpy(), "stats": np.zeros((2, width), np.float32), "shared": zero}
    )
    shared, _ = sess.run(None, {"image": b.numpy(), "stats": stats_a, "shared": zero + 1})
    with torch.no_grad():
        expected, _ = net(b, torch.from_numpy(stats_a), torch.ones(1))
        plain = net(b)
    assert np.abs(shared - expected.numpy()).max() < cyclegan.TOLERANCE
    assert np.abs(shared - plain.numpy()).mean() > 1e-3  # the statistics matter


# -- the fetched model ---------------------------------------------------------------------------
@pytest.mark.models
def test_the_vintage_look_on_a_real_frame(real_footage):
    (frame,) = _decode(real_footage, 1, size=(192, 144))
    out = vintage.Vintage(shared=False)(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8
    lab_in, lab_out = (
        cv2.cvtColor(x, cv2.COLOR_RGB2Lab).reshape(-1, 3).astype(float) for x in (frame, out)
    )
    assert lab_out[:, 1].mean() > lab_in[:, 1].mean() + 5  # warmer: the greens toward red-brown
    chroma_in, chroma_out = (
        np.hypot(x[:, 1] - 128, x[:, 2] - 128).mean() for x in (lab_in, lab_out)
    )
    assert chroma_out < 0.8 * chroma_in  # faded colours
    assert np.abs(out.astype(float) - frame).mean() > 8  # not the input
    gray = [cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).astype(float).ravel() for x in (frame, out)]
    assert np.corrcoef(gray[0], gray[1])[0, 1] > 0.8  # the picture kept


@pytest.mark.models
def test_shot_statistics_flicker_less_than_per_frame_on_a_real_clip(megamind):
    images = _decode(megamind, 8, start=12, size=(160, 120))  # one shot, the camera moving
    per = vintage.Vintage(shared=False)
    shot = vintage.Vintage()
    per_out = [per(i) for i in images]
    shot_out = [shot(i) for i in images]
    assert shot.shots == 1
    assert np.array_equal(per_out[0], shot_out[0])  # a shot's first frame is the plain generator
    steady, flicker = warping_error(images, shot_out), warping_error(images, per_out)
    assert steady < 0.95 * flicker, (steady, flicker)
    # the global part, what instance norm adds: the output's mean colour moving beyond the input's
    assert _breathing(images, shot_out) < 0.5 * _breathing(images, per_out)


@pytest.mark.models
def test_the_effect_runs_tiles_and_starts_a_new_shot_at_a_cut(real_footage, megamind):
    a = _decode(real_footage, 2, size=(128, 96))
    b = _decode(megamind, 2, start=12, size=(128, 96))
    effect = st.Stylize(filter="vintage", tile=64)
    effect.configure(StreamInfo(128, 96, Fraction(10), Fraction(1, 10)))
    out = [
        effect.process(Frame(img, Fraction(i, 10), Fraction(1, 10), i))
        for i, img in enumerate(a + b)
    ]
    assert all(isinstance(f, Frame) and f.image.shape == (96, 128, 3) for f in out)
    model = effect._per_frame
    assert isinstance(model, vintage.Vintage) and model.tile == 64
    assert model.shots == 2  # vtest, then Megamind
    assert effect.tags()["moviola_stylize"] == "filter:vintage"
