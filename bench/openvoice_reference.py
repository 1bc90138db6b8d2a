"""OpenVoice V2's tone-colour converter: moviola's own network (models/openvoice.py), its ONNX
export and its numpy spectrogram (speech/voices/convert.py) against OpenVoice's code, on random
weights in the real shapes (converter/config.json of myshell-ai/OpenVoiceV2).

The reference is OpenVoice's models.py, modules.py and mel_processing.py as the openvoice-cli
0.0.5 wheel ships them (MIT; its models.py has V2's ``zero_g``), run from the downloaded wheel,
never installed (librosa, which mel_processing imports for its mel filters, is stubbed):

    mkdir -p /tmp/ovref && cd /tmp/ovref
    python -m pip download --no-deps openvoice-cli==0.0.5 -d .
    unzip -o -q openvoice_cli-0.0.5-py3-none-any.whl -d whl
    /work/main/.venv/bin/python /work/main/bench/openvoice_reference.py [--ref /tmp/ovref/whl]

What it checks: (1) the upstream network's state-dict names and shapes are exactly those
``openvoice.upstream_keys()`` lists (so the real checkpoint's 'model' loads); (2) that state
dict, loaded by ``openvoice.build``, gives the same tone colour (``ref_enc``) and the same
converted audio (``voice_conversion``, tau 0.3, the same noise) as the upstream network;
(3) the exported ONNX graphs give the same again; (4) the numpy spectrogram equals upstream's
``spectrogram_torch``; (5) the runtime's speed with the full-size graphs (weights do not change it).

Last run (torch 2.13.0 CPU, onnxruntime 1.32.0): 486 entries, names and shapes equal; torch vs
upstream: audio 1.9e-07 (its peak 0.20), tone colour 7.8e-08 of its peak; ONNX vs upstream: audio
3.4e-07, tone colour 1.6e-07 of its peak; spectrogram 1.9e-07 of its peak (301 frames); (5) speed
with the full-size graphs on the shared 2-core machine (load about 5): 10 s of audio converted in
12.7 s (0.8x real time), its tone colour in 0.46 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from moviola.models import openvoice  # noqa: E402
from moviola.speech.voices import convert  # noqa: E402

CONFIG = openvoice.V2_CONFIG


def reference(folder: Path):
    """Upstream's SynthesizerTrn and spectrogram_torch, from the unpacked wheel."""
    librosa = types.ModuleType("librosa")
    filters = types.ModuleType("librosa.filters")
    filters.mel = None  # type: ignore[attr-defined]
    librosa.filters = filters  # type: ignore[attr-defined]
    sys.modules.setdefault("librosa", librosa)
    sys.modules.setdefault("librosa.filters", filters)
    sys.path.insert(0, str(folder))
    from openvoice_cli.mel_processing import spectrogram_torch  # type: ignore[import-not-found]
    from openvoice_cli.models import SynthesizerTrn  # type: ignore[import-not-found]

    return SynthesizerTrn, spectrogram_torch


def randomize(net: torch.nn.Module, seed: int) -> None:
    """Every parameter random (upstream zero-initialises the couplings' output layers, which
    would make the flow the identity and hide it from the comparison)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("weight_g"):
                p.copy_(torch.rand(p.shape, generator=g) * 0.5 + 0.2)
            elif "layernorm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                fan = p[0].numel() if p.dim() > 1 else 1
                p.copy_(torch.randn(p.shape, generator=g) / max(fan, 1) ** 0.5 * 0.5)


def timing(folder: Path, seconds: float = 10.0) -> str:
    """Seconds of work per second of speech: extract a tone colour and convert ``seconds`` of
    noise-like audio with the exported full-size graphs (ONNX Runtime, CPU, default chunks)."""
    import time

    rng = np.random.default_rng(0)
    x = (rng.standard_normal(int(seconds * 22050)) * 0.1).astype(np.float32)
    t0 = time.perf_counter()
    colour = convert.extract_tone_color(x, 22050, model_path=folder)
    t1 = time.perf_counter()
    out, _ = convert.convert_voice(x, 22050, colour, -colour, model_path=folder)
    t2 = time.perf_counter()
    assert out.size == x.size
    return (
        f"{seconds:.0f} s of audio: tone colour {t1 - t0:.2f} s, conversion {t2 - t1:.2f} s "
        f"({seconds / (t2 - t1):.1f}x real time)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ref", type=Path, default=Path("/tmp/ovref/whl"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    synth_class, spectrogram_torch = reference(args.ref)
    hp = openvoice.Hyper.from_config(CONFIG)
    upstream = synth_class(0, hp.spec_channels, n_speakers=0, **CONFIG["model"]).eval()
    randomize(upstream, 0)
    state = upstream.state_dict()

    want = openvoice.upstream_keys(hp)
    got = {k: tuple(v.shape) for k, v in state.items()}
    same = got == want
    print(f"(1) {len(got)} upstream entries; names and shapes equal to upstream_keys(): {same}")
    if not same:
        print("  only upstream:", sorted(set(got) - set(want))[:10])
        print("  only ours:", sorted(set(want) - set(got))[:10])
        print("  shapes:", [k for k in got if k in want and got[k] != want[k]][:10])

    ours = openvoice.build(state, hp)
    frames = 301
    g = torch.Generator().manual_seed(1)
    audio = (torch.rand(1, frames * hp.hop_length, generator=g) - 0.5) * 0.6
    spec = spectrogram_torch(audio, 1024, 22050, 256, 1024, center=False)
    src = upstream.ref_enc(spec.transpose(1, 2)).unsqueeze(-1).detach()
    tgt = torch.randn(1, hp.gin_channels, 1, generator=g) * 0.3
    lengths = torch.tensor([spec.shape[-1]])
    with torch.no_grad():
        tone_ref = upstream.ref_enc(spec.transpose(1, 2))
        tone_ours = ours.ref_enc(spec.transpose(1, 2))
        torch.manual_seed(7)  # upstream draws its posterior noise with randn_like
        conv_ref = upstream.voice_conversion(spec, lengths, sid_src=src, sid_tgt=tgt, tau=0.3)[0]
        torch.manual_seed(7)
        noise = torch.randn(1, hp.inter_channels, spec.shape[-1])
        tau = torch.tensor([0.3])
        conv_ours = ours.convert(spec, lengths, src[..., 0], tgt[..., 0], noise, tau)
    peak = float(tone_ref.abs().max())
    print(
        f"(2) torch vs upstream: audio {float((conv_ours - conv_ref).abs().max()):.2g} "
        f"(peak {float(conv_ref.abs().max()):.2f}), tone colour "
        f"{float((tone_ours - tone_ref).abs().max()) / peak:.2g} of its peak {peak:.2f}"
    )

    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as d:
        openvoice.export(ours, Path(d))
        cpu = ["CPUExecutionProvider"]
        tone_s = ort.InferenceSession(str(Path(d) / openvoice.TONE_COLOR_ONNX), providers=cpu)
        conv_s = ort.InferenceSession(str(Path(d) / openvoice.CONVERTER_ONNX), providers=cpu)
        tone_onnx = tone_s.run(None, {"spec": spec.transpose(1, 2).numpy()})[0]
        feeds = {
            "spec": spec.numpy(),
            "lengths": lengths.numpy(),
            "source": src[..., 0].numpy(),
            "target": tgt[..., 0].numpy(),
            "noise": noise.numpy(),
            "tau": tau.numpy(),
        }
        conv_onnx = conv_s.run(None, feeds)[0]
        (Path(d) / openvoice.CONFIG_NAME).write_text(json.dumps(CONFIG))
        speed = timing(Path(d))
    print(
        f"(3) ONNX vs upstream: audio {np.abs(conv_onnx - conv_ref.numpy()).max():.2g}, tone "
        f"colour {np.abs(tone_onnx - tone_ref.numpy()).max() / peak:.2g} of its peak"
    )

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / openvoice.CONFIG_NAME).write_text(json.dumps(CONFIG))
        settings = convert.Settings(Path(d))
        mine = convert.spectrogram(audio[0].numpy(), settings)
    theirs = spectrogram_torch(audio, 1024, 22050, 256, 1024, center=False)[0].numpy()
    rel = np.abs(mine - theirs).max() / np.abs(theirs).max()
    print(f"(4) spectrogram {mine.shape} vs {theirs.shape}: {rel:.2g} of its peak")
    print(f"(5) {speed}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
