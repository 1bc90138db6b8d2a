"""OpenVoice V2's tone-colour converter (MyShell, MIT) as two ONNX graphs, converted on fetch.

The network is the voice-conversion half of OpenVoice's ``SynthesizerTrn`` with no speakers
(``n_speakers`` 0), written here from reading the upstream code (myshell-ai/OpenVoice,
openvoice/models.py and modules.py), not copied:

- ``ref_enc``, the tone-colour extractor: a LayerNorm over the 513 frequency bins of a linear
  magnitude spectrogram, six 3 x 3 stride-2 convolutions (32, 32, 64, 64, 128, 128 filters,
  ReLU), a GRU of 128 over the remaining frames (128 x 9 features each) and a linear map of its
  last state to the 256-d tone colour;
- ``enc_q``, the posterior encoder: a 1 x 1 convolution to 192 channels, a 16-layer gated
  WaveNet (kernel 5) conditioned on an embedding, a 1 x 1 convolution to mean and log-scale;
  ``z = mean + noise * tau * exp(log-scale)``;
- ``flow``: four mean-only affine couplings (each a 4-layer conditioned WaveNet on half of the
  channels), each followed by a channel flip; run forward with the source tone colour, then in
  reverse with the target's;
- ``dec``: the HiFi-GAN generator (upsampling 8, 8, 2, 2 from 512 channels, multi-receptive
  field blocks of kernels 3, 7, 11 with dilations 1, 3, 5), conditioned on an embedding.

V2's config sets ``zero_g``: the posterior encoder and the generator get a zero embedding
(their conditioning is the bias alone), so only the flow sees the two tone colours.

Parameter names are the upstream checkpoint's (``dec.ups.0``, ``enc_q.enc.in_layers.3``,
``flow.flows.2.enc.cond_layer``, ``ref_enc.gru.weight_ih_l0``...): weight-normalised layers are
stored as ``weight_g`` / ``weight_v`` and folded into one ``weight`` here before loading
(:func:`fold_weight_norm`). Exported graphs:

- ``tone_color.onnx``: ``spec`` N x frames x 513 -> ``tone_color`` N x 256;
- ``converter.onnx``: ``spec`` N x 513 x frames, ``lengths`` N (int64), ``source`` and
  ``target`` N x 256, ``noise`` N x 192 x frames (standard normal), ``tau`` 1 -> ``audio``
  N x 1 x (frames x 256), at 22.05 kHz.

Checked on random weights in the real shapes against OpenVoice's own code (run from the
openvoice-cli 0.0.5 wheel, MIT, which ships openvoice's models.py; downloaded, never installed):
``bench/openvoice_reference.py``. tests/test_openvoice.py checks ONNX Runtime against this
module. The real checkpoint was never run on the project's machines (no internet there).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError

TONE_COLOR_ONNX = "tone_color.onnx"
CONVERTER_ONNX = "converter.onnx"
CONFIG_NAME = "config.json"
PREFIXES = ("dec.", "enc_q.", "flow.", "ref_enc.")
REF_FILTERS = (32, 32, 64, 64, 128, 128)
GRU_SIZE = 128
POSTERIOR_LAYERS, FLOW_LAYERS, N_FLOWS, WN_KERNEL = 16, 4, 4, 5
LRELU_SLOPE = 0.1

# converter/config.json of myshell-ai/OpenVoiceV2 (838 bytes, sha256 9dfff603...): the
# hyperparameters the tests and bench/openvoice_reference.py build random-weight models with
V2_CONFIG = {
    "_version_": "v2",
    "data": {
        "sampling_rate": 22050,
        "filter_length": 1024,
        "hop_length": 256,
        "win_length": 1024,
        "n_speakers": 0,
    },
    "model": {
        "zero_g": True,
        "inter_channels": 192,
        "hidden_channels": 192,
        "filter_channels": 768,
        "n_heads": 2,
        "n_layers": 6,
        "kernel_size": 3,
        "p_dropout": 0.1,
        "resblock": "1",
        "resblock_kernel_sizes": [3, 7, 11],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "upsample_rates": [8, 8, 2, 2],
        "upsample_initial_channel": 512,
        "upsample_kernel_sizes": [16, 16, 4, 4],
        "gin_channels": 256,
    },
}

TOLERANCE = 2e-3  # ONNX Runtime against torch, on the exported graphs (audio in -1..1)


@dataclass(frozen=True)
class Hyper:
    """The hyperparameters the converter's config.json sets (V2's values by default)."""

    sampling_rate: int = 22050
    filter_length: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    inter_channels: int = 192
    hidden_channels: int = 192
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    upsample_rates: tuple[int, ...] = (8, 8, 2, 2)
    upsample_initial_channel: int = 512
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 4, 4)
    gin_channels: int = 256
    zero_g: bool = True

    @property
    def spec_channels(self) -> int:
        return self.filter_length // 2 + 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Hyper:
        """From a parsed converter config.json (its ``data`` and ``model`` sections)."""
        try:
            data, model = config["data"], config["model"]
            if str(model.get("resblock", "1")) != "1" or int(data.get("n_speakers", 0)) != 0:
                raise MoviolaError("not a tone-colour converter config (resblock 1, no speakers)")
            return cls(
                sampling_rate=int(data["sampling_rate"]),
                filter_length=int(data["filter_length"]),
                hop_length=int(data["hop_length"]),
                win_length=int(data["win_length"]),
                inter_channels=int(model["inter_channels"]),
                hidden_channels=int(model["hidden_channels"]),
                resblock_kernel_sizes=tuple(int(k) for k in model["resblock_kernel_sizes"]),
                resblock_dilation_sizes=tuple(
                    tuple(int(d) for d in ds) for ds in model["resblock_dilation_sizes"]
                ),
                upsample_rates=tuple(int(u) for u in model["upsample_rates"]),
                upsample_initial_channel=int(model["upsample_initial_channel"]),
                upsample_kernel_sizes=tuple(int(k) for k in model["upsample_kernel_sizes"]),
                gin_channels=int(model["gin_channels"]),
                zero_g=bool(model.get("zero_g", False)),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise MoviolaError(f"not an OpenVoice converter config: {e!r}") from None

    @classmethod
    def read(cls, path: Path) -> Hyper:
        try:
            return cls.from_config(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as e:
            raise MoviolaError(f"cannot read OpenVoice config {path}: {e}") from None


def fold_weight_norm(state: Mapping[str, Any]) -> dict[str, Any]:
    """Weight-normalised entries (``X.weight_g`` + ``X.weight_v``, or the newer
    ``X.parametrizations.weight.original0/1``) folded into ``X.weight = g * v / |v|``, the norm
    taken over every axis but the first; other entries kept as they are."""
    import torch

    pairs = {
        ".weight_g": ".weight_v",
        ".parametrizations.weight.original0": ".parametrizations.weight.original1",
    }
    out: dict[str, Any] = {}
    used: set[str] = set()
    for key, value in state.items():
        for g_suffix, v_suffix in pairs.items():
            if key.endswith(g_suffix):
                base = key[: -len(g_suffix)]
                v = state.get(base + v_suffix)
                if v is None:
                    raise MoviolaError(f"weight-norm entry {key} has no {base + v_suffix}")
                g = value.float()
                v = v.float()
                dims = tuple(range(1, v.dim()))
                norm = torch.linalg.vector_norm(v, dim=dims, keepdim=True)
                out[base + ".weight"] = v * (g / norm)
                used |= {key, base + v_suffix}
                break
    for key, value in state.items():
        if key not in used:
            out[key] = value
    return out


@functools.cache
def _flow_parts() -> dict[str, type]:
    """The posterior encoder and the flow (defined on first use: torch is imported only when
    converting)."""
    import torch
    from torch import nn

    class WaveNet(nn.Module):
        """Gated dilated convolutions with a shared conditioning layer sliced per layer."""

        def __init__(self, hidden: int, kernel: int, layers: int, gin: int, rate: int = 1):
            super().__init__()
            self.hidden, self.layers = hidden, layers
            self.in_layers = nn.ModuleList()
            self.res_skip_layers = nn.ModuleList()
            for i in range(layers):
                d = rate**i
                self.in_layers.append(
                    nn.Conv1d(hidden, 2 * hidden, kernel, dilation=d, padding=(kernel * d - d) // 2)
                )
                width = 2 * hidden if i < layers - 1 else hidden
                self.res_skip_layers.append(nn.Conv1d(hidden, width, 1))
            self.cond_layer = nn.Conv1d(gin, 2 * hidden * layers, 1)

        def forward(self, x: Any, mask: Any, g: Any) -> Any:
            h = self.hidden
            cond = self.cond_layer(g)
            out = torch.zeros_like(x)
            for i in range(self.layers):
                a = self.in_layers[i](x) + cond[:, 2 * h * i : 2 * h * (i + 1)]
                gated = torch.tanh(a[:, :h]) * torch.sigmoid(a[:, h:])
                r = self.res_skip_layers[i](gated)
                if i < self.layers - 1:
                    x = (x + r[:, :h]) * mask
                    out = out + r[:, h:]
                else:
                    out = out + r
            return out * mask

    class Posterior(nn.Module):
        def __init__(self, hp: Hyper):
            super().__init__()
            self.out = hp.inter_channels
            self.pre = nn.Conv1d(hp.spec_channels, hp.hidden_channels, 1)
            self.enc = WaveNet(hp.hidden_channels, WN_KERNEL, POSTERIOR_LAYERS, hp.gin_channels)
            self.proj = nn.Conv1d(hp.hidden_channels, 2 * hp.inter_channels, 1)

        def forward(self, spec: Any, mask: Any, g: Any, noise: Any) -> Any:
            x = self.enc(self.pre(spec) * mask, mask, g)
            stats = self.proj(x) * mask
            mean, log_scale = stats[:, : self.out], stats[:, self.out :]
            return (mean + noise * torch.exp(log_scale)) * mask

    class Coupling(nn.Module):
        """A mean-only affine coupling: the second half shifted by a function of the first."""

        def __init__(self, hp: Hyper):
            super().__init__()
            self.n_half = hp.inter_channels // 2
            self.pre = nn.Conv1d(self.n_half, hp.hidden_channels, 1)
            self.enc = WaveNet(hp.hidden_channels, WN_KERNEL, FLOW_LAYERS, hp.gin_channels)
            self.post = nn.Conv1d(hp.hidden_channels, self.n_half, 1)

        def forward(self, x: Any, mask: Any, g: Any, reverse: bool) -> Any:
            first, second = x[:, : self.n_half], x[:, self.n_half :]
            shift = self.post(self.enc(self.pre(first) * mask, mask, g)) * mask
            second = (second - shift) * mask if reverse else shift + second * mask
            return torch.cat([first, second], 1)

    class Flip(nn.Module):
        def forward(self, x: Any, *_: Any) -> Any:
            return torch.flip(x, [1])

    class Flow(nn.Module):
        def __init__(self, hp: Hyper):
            super().__init__()
            self.flows = nn.ModuleList()
            for _ in range(N_FLOWS):
                self.flows.append(Coupling(hp))
                self.flows.append(Flip())

        def forward(self, x: Any, mask: Any, g: Any, reverse: bool = False) -> Any:
            steps = list(self.flows)
            for step in reversed(steps) if reverse else steps:
                x = step(x, mask, g, reverse) if isinstance(step, Coupling) else step(x)
            return x

    return {"Posterior": Posterior, "Flow": Flow}


@functools.cache
def _generator() -> type:
    """HiFi-GAN's generator."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class MultiReceptive(nn.Module):
        """HiFi-GAN's residual block with three dilated pairs of convolutions."""

        def __init__(self, ch: int, k: int, dilations: tuple[int, ...]):
            super().__init__()
            self.convs1 = nn.ModuleList(
                nn.Conv1d(ch, ch, k, 1, dilation=d, padding=(k * d - d) // 2) for d in dilations
            )
            self.convs2 = nn.ModuleList(
                nn.Conv1d(ch, ch, k, 1, dilation=1, padding=(k - 1) // 2) for _ in dilations
            )

        def forward(self, x: Any) -> Any:
            for c1, c2 in zip(self.convs1, self.convs2, strict=True):
                y = c1(F.leaky_relu(x, LRELU_SLOPE))
                x = x + c2(F.leaky_relu(y, LRELU_SLOPE))
            return x

    class Decoder(nn.Module):
        def __init__(self, hp: Hyper):
            super().__init__()
            c0 = hp.upsample_initial_channel
            self.conv_pre = nn.Conv1d(hp.inter_channels, c0, 7, 1, padding=3)
            self.cond = nn.Conv1d(hp.gin_channels, c0, 1)
            self.ups = nn.ModuleList()
            self.resblocks = nn.ModuleList()
            self.n_kernels = len(hp.resblock_kernel_sizes)
            ch = c0
            for i, (u, k) in enumerate(
                zip(hp.upsample_rates, hp.upsample_kernel_sizes, strict=True)
            ):
                ch = c0 // 2 ** (i + 1)
                self.ups.append(nn.ConvTranspose1d(ch * 2, ch, k, u, padding=(k - u) // 2))
                for k2, ds in zip(
                    hp.resblock_kernel_sizes, hp.resblock_dilation_sizes, strict=True
                ):
                    self.resblocks.append(MultiReceptive(ch, k2, ds))
            self.conv_post = nn.Conv1d(ch, 1, 7, 1, padding=3, bias=False)

        def forward(self, x: Any, g: Any) -> Any:
            x = self.conv_pre(x) + self.cond(g)
            n = self.n_kernels
            for i, up in enumerate(self.ups):
                x = up(F.leaky_relu(x, LRELU_SLOPE))
                total = self.resblocks[i * n](x)
                for j in range(1, n):
                    total = total + self.resblocks[i * n + j](x)
                x = total / n
            return torch.tanh(self.conv_post(F.leaky_relu(x)))  # torch's default slope here

    return Decoder


@functools.cache
def _nets() -> dict[str, type]:
    """The whole network under the upstream names, and the two exported graphs."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    parts = _flow_parts()
    Decoder, Posterior, Flow = _generator(), parts["Posterior"], parts["Flow"]

    class ToneColorEncoder(nn.Module):
        def __init__(self, hp: Hyper):
            super().__init__()
            filters = (1, *REF_FILTERS)
            self.convs = nn.ModuleList(
                nn.Conv2d(filters[i], filters[i + 1], 3, 2, 1) for i in range(len(REF_FILTERS))
            )
            bins = hp.spec_channels
            for _ in REF_FILTERS:
                bins = (bins - 3 + 2) // 2 + 1
            self.gru = nn.GRU(REF_FILTERS[-1] * bins, GRU_SIZE, batch_first=True)
            self.proj = nn.Linear(GRU_SIZE, hp.gin_channels)
            self.layernorm = nn.LayerNorm(hp.spec_channels)

        def forward(self, spec: Any) -> Any:  # N x frames x bins
            x = self.layernorm(spec.unsqueeze(1))
            for conv in self.convs:
                x = F.relu(conv(x))
            x = x.transpose(1, 2).flatten(2)  # N x frames/64 x (128 * bins/64)
            _, last = self.gru(x)
            return self.proj(last[0])

    class Converter(nn.Module):
        """The four parts under the upstream checkpoint's names."""

        def __init__(self, hp: Hyper):
            super().__init__()
            self.hp = hp
            self.dec = Decoder(hp)
            self.enc_q = Posterior(hp)
            self.flow = Flow(hp)
            self.ref_enc = ToneColorEncoder(hp)

        def convert(
            self, spec: Any, lengths: Any, source: Any, target: Any, noise: Any, tau: Any
        ) -> Any:
            frames = torch.arange(spec.shape[2], device=spec.device)
            mask = (frames[None, :] < lengths[:, None]).unsqueeze(1).to(spec.dtype)
            g_src, g_tgt = source.unsqueeze(-1), target.unsqueeze(-1)
            zero = torch.zeros_like(g_src)
            z = self.enc_q(
                spec, mask, zero if self.hp.zero_g else g_src, noise * tau.reshape(-1, 1, 1)
            )
            z_hat = self.flow(self.flow(z, mask, g_src), mask, g_tgt, reverse=True)
            return self.dec(z_hat * mask, zero if self.hp.zero_g else g_tgt)

    class ToneColorGraph(nn.Module):
        def __init__(self, net: Converter):
            super().__init__()
            self.net = net

        def forward(self, spec: Any) -> Any:
            return self.net.ref_enc(spec)

    class ConverterGraph(nn.Module):
        def __init__(self, net: Converter):
            super().__init__()
            self.net = net

        def forward(self, *args: Any) -> Any:
            return self.net.convert(*args)

    return {"Converter": Converter, "ToneColor": ToneColorGraph, "Convert": ConverterGraph}


def build(state: Mapping[str, Any] | None, hp: Hyper | None = None) -> Any:
    """Our network (torch, eval mode) with ``state`` (an upstream state dict: weight-norm pairs
    folded, entries outside dec / enc_q / flow / ref_enc ignored as upstream's non-strict load
    does); ``state`` None leaves torch's initial weights."""
    from moviola.models.convert import load_exactly

    net = _nets()["Converter"](hp or Hyper())
    if state is not None:
        folded = fold_weight_norm(state)
        wanted = {k: v for k, v in folded.items() if k.startswith(PREFIXES)}
        load_exactly(net, wanted, "an OpenVoice tone-colour converter checkpoint")
    return net.eval()


def upstream_keys(hp: Hyper | None = None) -> dict[str, tuple[int, ...]]:
    """The state-dict entries (name -> shape) an upstream checkpoint holds for this network:
    ours, with each weight-normalised layer's ``weight`` as ``weight_g`` and ``weight_v``."""
    net = build(None, hp)
    normed = (".ups.", ".resblocks.", ".enc.in_layers.", ".enc.res_skip_layers.")
    normed += (".enc.cond_layer.", "ref_enc.convs.")
    out: dict[str, tuple[int, ...]] = {}
    for key, value in net.state_dict().items():
        shape = tuple(value.shape)
        if key.endswith(".weight") and any(n in key for n in normed):
            base = key[: -len(".weight")]
            out[base + ".weight_g"] = (shape[0],) + (1,) * (len(shape) - 1)
            out[base + ".weight_v"] = shape
        else:
            out[key] = shape
    return out


def export(net: Any, out_dir: Path) -> tuple[Path, Path]:
    """Both ONNX graphs of ``net`` into ``out_dir``; frames (and batch) dynamic."""
    import torch

    hp: Hyper = net.hp
    nets = _nets()
    frames = 70  # > 64, so the extractor's GRU sees two steps
    spec = torch.rand(1, frames, hp.spec_channels) * 3
    tone = Path(out_dir) / TONE_COLOR_ONNX
    conv = Path(out_dir) / CONVERTER_ONNX
    with torch.no_grad():
        torch.onnx.export(
            nets["ToneColor"](net),
            (spec,),
            str(tone),
            input_names=["spec"],
            output_names=["tone_color"],
            dynamic_axes={"spec": {0: "n", 1: "frames"}, "tone_color": {0: "n"}},
            opset_version=17,
            dynamo=False,
        )
        torch.onnx.export(
            nets["Convert"](net),
            _convert_args(hp, frames),
            str(conv),
            input_names=["spec", "lengths", "source", "target", "noise", "tau"],
            output_names=["audio"],
            dynamic_axes={
                "spec": {0: "n", 2: "frames"},
                "lengths": {0: "n"},
                "source": {0: "n"},
                "target": {0: "n"},
                "noise": {0: "n", 2: "frames"},
                "audio": {0: "n", 2: "samples"},
            },
            opset_version=17,
            dynamo=False,
        )
    return tone, conv


def _convert_args(hp: Hyper, frames: int, seed: int = 0) -> tuple[Any, ...]:
    import torch

    g = torch.Generator().manual_seed(seed)
    return (
        torch.rand(1, hp.spec_channels, frames, generator=g) * 3,
        torch.tensor([frames], dtype=torch.int64),
        torch.randn(1, hp.gin_channels, generator=g) * 0.1,
        torch.randn(1, hp.gin_channels, generator=g) * 0.1,
        torch.randn(1, hp.inter_channels, frames, generator=g),
        torch.tensor([0.3]),
    )


def compare(net: Any, out_dir: Path, frames: int = 97) -> float:
    """Largest difference between ONNX Runtime and torch over both graphs, on random inputs
    of a length other than the export's (the tone colour scaled to the audio's -1..1)."""
    import numpy as np
    import onnxruntime as ort
    import torch

    hp: Hyper = net.hp
    args = _convert_args(hp, frames, seed=1)
    spec_tf = args[0].transpose(1, 2).contiguous()
    with torch.no_grad():
        want_tone = net.ref_enc(spec_tf).numpy()
        want_audio = net.convert(*args).numpy()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    cpu = ["CPUExecutionProvider"]
    tone = ort.InferenceSession(str(Path(out_dir) / TONE_COLOR_ONNX), opts, providers=cpu)
    conv = ort.InferenceSession(str(Path(out_dir) / CONVERTER_ONNX), opts, providers=cpu)
    got_tone = np.asarray(tone.run(None, {"spec": spec_tf.numpy()})[0])
    names = ["spec", "lengths", "source", "target", "noise", "tau"]
    got_audio = np.asarray(
        conv.run(None, {n: a.numpy() for n, a in zip(names, args, strict=True)})[0]
    )
    if got_audio.shape != want_audio.shape or got_tone.shape != want_tone.shape:
        return float("inf")
    scale = max(float(np.abs(want_tone).max()), 1e-6)
    return max(
        float(np.abs(got_audio - want_audio).max()),
        float(np.abs(got_tone - want_tone).max()) / scale,
    )


def convert(inputs: Mapping[str, Path], out_dir: Path, checkpoint: str, config: str) -> None:
    """Conversion step of the store entry: checkpoint.pth + config.json -> tone_color.onnx,
    converter.onnx and the config beside them, checked against torch."""
    from moviola.models.convert import load_torch_checkpoint, require

    require("onnx")
    hp = Hyper.read(inputs[config])
    loaded = load_torch_checkpoint(inputs[checkpoint])
    state = loaded.get("model") if isinstance(loaded, Mapping) else None
    if not isinstance(state, Mapping):
        raise MoviolaError(f"{inputs[checkpoint].name} is not an OpenVoice checkpoint (no 'model')")
    net = build(state, hp)
    export(net, out_dir)
    worst = compare(net, out_dir)
    if worst > TOLERANCE:
        raise MoviolaError(f"ONNX export of the OpenVoice converter differs from torch by {worst}")
    (Path(out_dir) / CONFIG_NAME).write_bytes(Path(inputs[config]).read_bytes())
