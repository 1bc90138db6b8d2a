"""OpenVoice V2's tone-colour converter (models/openvoice.py, speech/voices/convert.py).

The real checkpoint (131 MB on Hugging Face) cannot be downloaded here, so: our network in the
real shapes with random weights, laid out as the upstream checkpoint is (weight-norm pairs), is
exported and ONNX Runtime checked against torch; a small network of the same structure is
served through the fake hub and fetched and converted by the store end to end, then run by the
numpy runtime (spectrogram, chunks, noise) and compared with torch; the upstream-only entry and
``speak --convert`` without it are one line. Against OpenVoice's own code:
bench/openvoice_reference.py.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from moviola import models
from moviola.errors import MoviolaError
from moviola.models import openvoice
from moviola.speech.voices import convert
from tests.helpers import moviola_cli

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

V2_CONFIG = openvoice.V2_CONFIG
# the same structure, narrow (fast): the STFT, the upsampling and the embeddings stay V2's
SMALL_CONFIG = json.loads(json.dumps(V2_CONFIG))
SMALL_CONFIG["model"].update(
    inter_channels=16,
    hidden_channels=16,
    upsample_initial_channel=32,
    resblock_kernel_sizes=[3],
    resblock_dilation_sizes=[[1, 3, 5]],
)
REPO, REV = "myshell-ai/OpenVoiceV2", "f36e7edfe1684461a8343844af60babc2efbb727"


def random_checkpoint(hp: openvoice.Hyper, seed: int) -> dict:
    """A state dict named and shaped as the upstream checkpoint's 'model' (weight_g, weight_v)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in openvoice.upstream_keys(hp).items():
        if name.endswith("weight_g"):
            state[name] = torch.rand(shape, generator=g) * 0.5 + 0.2
        elif "layernorm" in name:
            state[name] = torch.ones(shape) if name.endswith("weight") else torch.zeros(shape)
        else:
            fan = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            state[name] = torch.randn(shape, generator=g) * 0.5 / fan**0.5
    return state


def test_the_checkpoint_layout_is_upstreams():
    """Names and shapes as OpenVoice's SynthesizerTrn (n_speakers 0) holds them; the bench
    compares the whole list with the upstream code (486 entries, all equal)."""
    keys = openvoice.upstream_keys(openvoice.Hyper.from_config(V2_CONFIG))
    assert len(keys) == 486
    assert keys["enc_q.pre.weight"] == (192, 513, 1)
    assert keys["enc_q.enc.cond_layer.weight_v"] == (2 * 192 * 16, 256, 1)
    assert keys["enc_q.enc.in_layers.15.weight_g"] == (384, 1, 1)
    assert keys["enc_q.enc.res_skip_layers.15.weight_v"] == (192, 192, 1)
    assert keys["flow.flows.6.post.weight"] == (96, 192, 1)
    assert "flow.flows.1.pre.weight" not in keys  # flips hold nothing
    assert keys["dec.ups.0.weight_v"] == (512, 256, 16)
    assert keys["dec.resblocks.11.convs2.2.weight_v"] == (32, 32, 11)
    assert keys["dec.conv_post.weight"] == (1, 32, 7) and "dec.conv_post.bias" not in keys
    assert keys["dec.cond.weight"] == (512, 256, 1)
    assert keys["ref_enc.convs.5.weight_v"] == (128, 128, 3, 3)
    assert keys["ref_enc.gru.weight_ih_l0"] == (384, 128 * 9)
    assert keys["ref_enc.proj.weight"] == (256, 128)
    assert keys["ref_enc.layernorm.weight"] == (513,)
    # about the size of the published file (131 320 490 bytes of float32 and pickle)
    total = sum(int(np.prod(s)) for s in keys.values()) * 4
    assert 130e6 < total < 131.32e6


def test_weight_norm_pairs_fold_into_the_weight_torch_would_use():
    conv = torch.nn.utils.weight_norm(torch.nn.ConvTranspose1d(6, 4, 5))
    with torch.no_grad():
        conv.weight_g.mul_(torch.rand_like(conv.weight_g) + 0.5)
        conv.weight_v.add_(torch.randn_like(conv.weight_v))
    state = {f"x.{k}": v.detach() for k, v in conv.state_dict().items()}
    folded = openvoice.fold_weight_norm(state)
    assert set(folded) == {"x.weight", "x.bias"}
    with torch.no_grad():
        conv(torch.zeros(1, 6, 3))  # the hook computes .weight
    assert torch.allclose(folded["x.weight"], conv.weight, atol=1e-6)


def test_a_checkpoint_of_another_network_is_refused():
    hp = openvoice.Hyper.from_config(SMALL_CONFIG)
    state = random_checkpoint(hp, 0)
    del state["flow.flows.2.enc.cond_layer.weight_v"]
    with pytest.raises(MoviolaError):
        openvoice.build(state, hp)
    with pytest.raises(MoviolaError, match="resblock 1"):
        openvoice.Hyper.from_config({**V2_CONFIG, "model": {**V2_CONFIG["model"], "resblock": "2"}})


@pytest.mark.slow
def test_the_full_size_network_exports_and_onnx_runtime_agrees(tmp_path):
    hp = openvoice.Hyper.from_config(V2_CONFIG)
    net = openvoice.build(random_checkpoint(hp, 1), hp)
    openvoice.export(net, tmp_path)
    worst = openvoice.compare(net, tmp_path)
    assert worst < 1e-4, worst


def test_the_spectrogram_is_openvoices(tmp_path):
    """spectrogram_torch's recipe (reflect pad (n_fft - hop) / 2, stft without centring, Hann,
    sqrt(|X|^2 + 1e-6)) in torch, against the numpy one, whole and frame range by range."""
    (tmp_path / "config.json").write_text(json.dumps(V2_CONFIG))
    s = convert.Settings(tmp_path)
    x = (np.random.default_rng(0).random(22050) - 0.5).astype(np.float32)
    y = torch.nn.functional.pad(torch.from_numpy(x)[None, None], (384, 384), mode="reflect")[0]
    window = torch.hann_window(1024)
    spec = torch.stft(y, 1024, 256, 1024, window, center=False, return_complex=True)
    want = torch.sqrt(spec.real**2 + spec.imag**2 + 1e-6)[0].numpy()
    got = convert.spectrogram(x, s)
    assert got.shape == want.shape == (513, 86) and s.frames(x.size) == 86
    assert np.abs(got - want).max() < 1e-5 * np.abs(want).max()
    parts = np.concatenate(
        [convert.spectrogram(x, s, a, min(a + 17, 86)) for a in range(0, 86, 17)], 1
    )
    assert np.array_equal(parts, got)


@pytest.fixture(scope="module")
def small_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("openvoice")
    hp = openvoice.Hyper.from_config(SMALL_CONFIG)
    state = random_checkpoint(hp, 2)
    torch.save({"model": state, "iteration": 1}, d / "checkpoint.pth")
    (d / "config.json").write_text(json.dumps(SMALL_CONFIG, indent=2))
    return {
        "checkpoint.pth": d / "checkpoint.pth",
        "config.json": d / "config.json",
        "state": state,
    }


@pytest.fixture(scope="module")
def fetched(small_files, tmp_path_factory):
    """The store's real entry, its two files served by the fake hub at the pinned revision
    (their digests put in place of the real ones), fetched and converted."""
    from tests.fakehub import FakeHub

    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("home")
    mp.setenv("MOVIOLA_HOME", str(home))
    mp.delenv("HF_HUB_OFFLINE", raising=False)
    mp.delenv("MOVIOLA_OFFLINE", raising=False)
    hub = FakeHub().start()
    mp.setenv("HF_ENDPOINT", hub.url)
    real = models.get_spec(convert.MODEL_ID)
    assert real.conversion is not None
    pinned = []
    for name, upstream in (
        ("checkpoint.pth", "converter/checkpoint.pth"),
        ("config.json", "converter/config.json"),
    ):
        data = Path(small_files[name]).read_bytes()
        pinned.append(models.ModelFile(name, hub.add(REPO, REV, upstream, data), len(data)))
    conversion = dataclasses.replace(real.conversion, inputs=pinned)
    models.register(dataclasses.replace(real, conversion=conversion), replace=True)
    try:
        path = models.fetch(convert.MODEL_ID)
        again = models.ensure(convert.MODEL_ID)  # cached now: found, not fetched again
    finally:
        models.register(real, replace=True)
        hub.stop()
        mp.undo()
    assert again == path
    # the runtime is then given the folder (model_path): the real entry is back for the others
    yield path


def test_the_store_fetches_from_the_hub_and_converts(fetched, small_files):
    folder = fetched.parent
    assert fetched.name == openvoice.CONVERTER_ONNX
    names = {p.name for p in folder.iterdir()}
    assert {openvoice.CONVERTER_ONNX, openvoice.TONE_COLOR_ONNX, "config.json"} <= names
    meta = json.loads((folder / "MODEL.json").read_text())
    assert meta["source"] == f"Hugging Face {REPO}@{REV[:7]}"
    assert meta["conversion_inputs"]["config.json"] is not None
    assert models.get_spec(convert.MODEL_ID).license == "MIT"


def _speechlike(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    voiced = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / rate) / k for k in range(1, 8))
    return (
        0.2 * voiced * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) + 0.01 * rng.standard_normal(t.size)
    ).astype(np.float32)


def test_conversion_runs_in_onnx_runtime_as_torch_runs_it(fetched, small_files):
    m = fetched.parent
    hp = openvoice.Hyper.from_config(SMALL_CONFIG)
    net = openvoice.build(small_files["state"], hp)
    s = convert.converter(fetched.parent).settings
    x = _speechlike(2.0, 22050)
    src = convert.extract_tone_color(x, 22050, model_path=m)
    tgt = convert.extract_tone_color(
        _speechlike(1.5, 22050, seed=3)[::-1].copy(), 22050, model_path=m
    )
    assert src.shape == (256,) and np.abs(src - tgt).max() > 1e-3
    with torch.no_grad():
        spec = torch.from_numpy(convert.spectrogram(x, s))[None]
        want_tone = net.ref_enc(spec.transpose(1, 2))[0].numpy()
        frames = spec.shape[-1]
        noise = torch.from_numpy(convert._noise(5, 0, frames, hp.inter_channels))[None]
        want = net.convert(
            spec,
            torch.tensor([frames]),
            torch.from_numpy(src)[None],
            torch.from_numpy(tgt)[None],
            noise,
            torch.tensor([0.3]),
        )[0, 0].numpy()
    assert np.abs(src - want_tone).max() < 1e-4 * max(1.0, np.abs(want_tone).max())
    got, rate = convert.convert_voice(x, 22050, src, tgt, seed=5, chunking=(10**6, 0), model_path=m)
    assert rate == 22050 and got.shape == x.shape
    n = frames * 256
    assert np.abs(got[:n] - want).max() < 1e-4 and not got[n:].any()
    assert np.abs(want).max() > 1e-3  # the comparison is not of silence


def test_long_audio_is_converted_in_chunks_that_join_seamlessly(fetched):
    m = fetched.parent
    x = _speechlike(4.0, 24000)  # another rate: resampled to 22.05 kHz
    src = convert.extract_tone_color(x, 24000, model_path=m)
    tgt = -src
    whole, _ = convert.convert_voice(x, 24000, src, tgt, chunking=(10**6, 0), model_path=m)
    chunked, rate = convert.convert_voice(x, 24000, src, tgt, chunking=(64, 160), model_path=m)
    assert rate == 22050 and whole.size == chunked.size == round(x.size * 22050 / 24000)
    assert np.abs(whole - chunked).max() < 1e-4 * max(1.0, np.abs(whole).max())
    pieces = list(convert.iter_convert(x, 24000, src, tgt, chunking=(64, 96), model_path=m))
    assert len(pieces) >= 5 and max(p.size for p in pieces) <= 64 * 256
    near = np.concatenate(pieces)
    assert np.abs(near - whole).max() < 0.02 * max(np.abs(whole).max(), 1e-3)
    again, _ = convert.convert_voice(x, 24000, src, tgt, chunking=(64, 160), tau=0.0, model_path=m)
    assert np.abs(again - whole).max() > 0  # tau reaches the noise


def test_bad_embeddings_and_tiny_audio_are_one_line(fetched):
    m = fetched.parent
    with pytest.raises(MoviolaError, match="256 finite"):
        convert.convert_voice(
            np.zeros(4000, np.float32), 22050, np.zeros(10), np.zeros(256), model_path=m
        )
    with pytest.raises(MoviolaError, match="too little"):
        convert.extract_tone_color(np.zeros(100, np.float32), 22050, model_path=m)


def test_the_upstream_entry_is_never_fetched_behind_the_users_back(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIOLA_HOME", str(tmp_path / "empty"))
    spec = models.get_spec(convert.MODEL_ID)
    assert spec.source_kind == "upstream" and spec.license == "MIT" and not spec.gated
    assert spec.download_size == 131320490 + 838
    with pytest.raises(MoviolaError) as err:
        convert.require_converter()
    msg = str(err.value)
    assert "\n" not in msg and f"moviola models fetch {convert.MODEL_ID}" in msg
    assert "131 MB" in msg and "MIT" in msg
    assert not (tmp_path / "empty" / "models" / convert.MODEL_ID).exists()


def test_speak_convert_without_the_model_is_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIOLA_HOME", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ref = tmp_path / "ref.wav"
    ref.write_bytes(b"")
    out = tmp_path / "a.wav"
    r = moviola_cli("speak", "hello", "--like", ref, "--convert", "-o", out)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"moviola models fetch {convert.MODEL_ID}" in lines[0]
    assert "MIT" in lines[0] and "131 MB" in lines[0]
    assert not out.exists()
    r = moviola_cli("speak", "hello", "--convert", "-o", out)
    assert r.returncode == 2 and "--convert needs --like" in r.stderr


@pytest.mark.models
@pytest.mark.slow
def test_speak_converts_each_sentence_toward_the_reference(fetched, speech_dir, tmp_path):
    """Kokoro's sentences through the (random-weight) converter: the file is the converter's
    22.05 kHz audio, every sentence converted, none fetched."""
    import wave

    from moviola.speech import voices

    m = fetched.parent
    voice = voices.get_voice("alpha")
    apply = convert.toward(speech_dir / "librivox-0870.wav", voice, model_path=m)
    seen: list[int] = []

    def counted(audio: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
        seen.append(rate)
        return apply(audio, rate)

    out = tmp_path / "converted.wav"
    result = voices.speak("Hello there. It works.", out, voice, loudness=None, convert=counted)
    assert seen == [24000, 24000] and result.sentences == 2
    with wave.open(str(out)) as w:
        assert w.getframerate() == 22050 and w.getnframes() > 22050 * 0.5
