"""upscale --denoise: Real-ESRGAN general-x4v3 and its weak-denoise twin as one ONNX whose
``strength`` input mixes the two networks' weights (models/srvgg.py), as Real-ESRGAN's
--denoise_strength does. Checked here on random weights (torch is in the test environment): the
blend at 1 and 0 is each network alone and at 0.5 the network of the averaged weights, the store
converts the two checkpoints on fetch, and the effect feeds the strength. (Against Real-ESRGAN's
own code: bench/srvgg_reference.py.)"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from helpers import stand_in_model

from moviola import api
from moviola.errors import MoviolaError
from moviola.models import srvgg

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

N_LAYERS = 2 * srvgg.NUM_CONV + 3


def random_state(seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    state = {}
    for i in range(0, N_LAYERS, 2):
        c_in = 3 if i == 0 else srvgg.NUM_FEAT
        c_out = 3 * srvgg.UPSCALE**2 if i == N_LAYERS - 1 else srvgg.NUM_FEAT
        state[f"body.{i}.weight"] = torch.randn(c_out, c_in, 3, 3, generator=g) * 0.05
        state[f"body.{i}.bias"] = torch.randn(c_out, generator=g) * 0.01
        if i + 1 < N_LAYERS:
            state[f"body.{i + 1}.weight"] = torch.rand(srvgg.NUM_FEAT, generator=g) * 0.3
    return state


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("srvgg")
    paths = {}
    for name, seed in (("realesr-general-x4v3.pth", 1), ("realesr-general-wdn-x4v3.pth", 2)):
        torch.save({"params": random_state(seed)}, d / name)
        paths[name] = d / name
    return paths


def test_the_blend_is_each_network_at_the_ends_and_the_mixed_weights_between(checkpoints, tmp_path):
    import onnxruntime as ort

    strong, weak = random_state(1), random_state(2)
    srvgg.convert(checkpoints, tmp_path, "realesr-general-x4v3.pth", "realesr-general-wdn-x4v3.pth")
    sess = ort.InferenceSession(str(tmp_path / srvgg.ONNX_NAME), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["input", "strength"]
    x = torch.rand(1, 3, 20, 28)
    half = {k: 0.5 * strong[k] + 0.5 * weak[k] for k in strong}
    for s, state in ((1.0, strong), (0.0, weak), (0.5, half)):
        alone = srvgg.build(state, state)
        with torch.no_grad():
            want = alone(x, torch.tensor([1.0])).numpy()
        got = np.asarray(
            sess.run(None, {"input": x.numpy(), "strength": np.array([s], np.float32)})[0]
        )
        assert got.shape == (1, 3, 80, 112)
        assert np.abs(got - want).max() < 1e-4, s
    a = np.asarray(sess.run(None, {"input": x.numpy(), "strength": np.array([0.0], np.float32)})[0])
    b = np.asarray(sess.run(None, {"input": x.numpy(), "strength": np.array([1.0], np.float32)})[0])
    assert np.abs(a - b).mean() > 1e-3  # the two networks differ


def test_a_checkpoint_of_another_network_is_refused(tmp_path):
    bad = random_state(1)
    bad.pop("body.4.bias")
    torch.save({"params": bad}, tmp_path / "a.pth")
    torch.save({"params": random_state(2)}, tmp_path / "b.pth")
    with pytest.raises(MoviolaError, match="1 weights missing"):
        srvgg.convert({"a": tmp_path / "a.pth", "b": tmp_path / "b.pth"}, tmp_path, "a", "b")


@pytest.fixture
def fetched_general(tmp_path, monkeypatch, checkpoints):
    """The store's entry with random-weight checkpoints at file: URLs, converted on fetch."""
    with stand_in_model(srvgg_id(), checkpoints, tmp_path / "home", monkeypatch) as real:
        yield real


def srvgg_id() -> str:
    from moviola.effects.upscale import DENOISE_MODEL

    return DENOISE_MODEL


def _clip(tmp_path: Path) -> Path:
    from moviola.media import synth

    path = tmp_path / "small.mp4"
    synth.make_clip(path, width=64, height=48, duration=Fraction(2, 10), audio=False)
    return path


def test_upscale_denoise_runs_the_blend_at_the_asked_strength(tmp_path, fetched_general):
    src = _clip(tmp_path)
    outs = {}
    for strength in (0.0, 1.0):
        clip = api.open(src).apply("upscale", denoise=strength)
        frames = [f.image for f in clip.frames()]
        assert frames and frames[0].shape == (96, 128, 3)  # the default 2x (the network: 4x)
        outs[strength] = frames[0].astype(int)
    assert np.abs(outs[0.0] - outs[1.0]).mean() > 0.5  # the strength reaches the network


def test_denoise_without_the_model_is_one_line_naming_the_fetch(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIOLA_HOME", str(tmp_path / "empty"))
    with pytest.raises(MoviolaError) as err:
        next(api.open(_clip(tmp_path)).apply("upscale", denoise=0.5).frames())
    msg = str(err.value)
    assert f"moviola models fetch {srvgg_id()}" in msg and "\n" not in msg


def test_denoise_with_another_model_is_refused():
    from moviola.pipeline.registry import create

    with pytest.raises(MoviolaError, match="denoise needs"):
        create("upscale", model="lanczos", denoise=0.5)
