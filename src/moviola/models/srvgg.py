"""Real-ESRGAN general-x4v3 and its weak-denoise twin as one ONNX model with a ``strength`` input.

The network is SRVGGNetCompact (written here from its description, not copied): a 3x3
convolution to 64 features and a PReLU, 32 times a 3x3 convolution and a PReLU, a 3x3
convolution to 3 x 4 x 4 channels, a pixel shuffle to 4x the size, and the input enlarged by
nearest neighbour added. Real-ESRGAN's ``--denoise_strength S`` does not mix pictures: it mixes
the two checkpoints' weights, every parameter ``S * x4v3 + (1 - S) * wdn`` (its ``dni``), then
runs the mixed network. To offer any strength without a re-export and without torch at run time,
the exported graph holds both weight sets and computes each layer's mixed weights from the
``strength`` input (1 x 1.2 M multiply-adds, nothing beside the convolutions); the file is twice
the size of one network (10 MB).

Checked on random weights against Real-ESRGAN's own code (basicsr 1.4.2's ``SRVGGNetCompact``
run from its downloaded sdist, never installed, with realesrgan 0.3.0's ``dni`` rule):
``bench/srvgg_reference.py`` gives a largest difference of 5.5e-07 over strengths 0, 0.25, 0.5
and 1. tests/test_upscale_denoise.py checks the blend against the unblended networks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError

NUM_FEAT, NUM_CONV, UPSCALE = 64, 32, 4
ONNX_NAME = "realesr-general-x4v3-dni.onnx"


def _state(path: Path) -> Mapping[str, Any]:
    from moviola.models.convert import load_torch_checkpoint

    loaded = load_torch_checkpoint(path)
    for key in ("params", "params_ema"):
        if isinstance(loaded, Mapping) and key in loaded:
            return loaded[key]
    raise MoviolaError(f"{path.name} is not a Real-ESRGAN checkpoint (no 'params' inside)")


def build(strong: Mapping[str, Any], weak: Mapping[str, Any]) -> Any:
    """The blending network (torch): ``net(x, strength)``; x N x 3 x H x W RGB 0..1."""
    import torch
    import torch.nn.functional as F

    n_layers = 2 * NUM_CONV + 3  # conv, prelu, (conv, prelu) * NUM_CONV, conv
    wanted = {f"body.{i}.weight" for i in range(n_layers)}
    wanted |= {f"body.{i}.bias" for i in range(0, n_layers, 2)}
    for name, state in (("x4v3", strong), ("wdn-x4v3", weak)):
        if set(state) != wanted:
            missing, extra = wanted - set(state), set(state) - wanted
            raise MoviolaError(
                f"not a realesr-general {name} checkpoint: {len(missing)} weights missing, "
                f"{len(extra)} unexpected"
            )

    class Blended(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            for key in sorted(wanted):
                safe = key.replace(".", "_")
                self.register_buffer(f"a_{safe}", strong[key].float().clone())
                self.register_buffer(f"b_{safe}", weak[key].float().clone())

        def mixed(self, key: str, s: Any) -> Any:
            safe = key.replace(".", "_")
            return s * getattr(self, f"a_{safe}") + (1 - s) * getattr(self, f"b_{safe}")

        def forward(self, x: Any, strength: Any) -> Any:
            s = strength.reshape(())
            out = x
            for i in range(0, n_layers, 2):
                w, b = self.mixed(f"body.{i}.weight", s), self.mixed(f"body.{i}.bias", s)
                out = F.conv2d(out, w, b, padding=1)
                if i + 1 < n_layers:
                    out = F.prelu(out, self.mixed(f"body.{i + 1}.weight", s))
            out = F.pixel_shuffle(out, UPSCALE)
            return out + F.interpolate(x, scale_factor=UPSCALE, mode="nearest")

    return Blended().eval()


def convert(inputs: Mapping[str, Path], out_dir: Path, strong: str, weak: str) -> None:
    """Conversion step of the store entry: both checkpoints -> one ONNX with ``strength``."""
    import numpy as np
    import torch

    from moviola.models.convert import require

    require("onnx")
    net = build(_state(inputs[strong]), _state(inputs[weak]))
    out = out_dir / ONNX_NAME
    x = torch.rand(1, 3, 24, 32)
    s = torch.tensor([0.5])
    torch.onnx.export(
        net,
        (x, s),
        str(out),
        input_names=["input", "strength"],
        output_names=["output"],
        dynamic_axes={"input": {0: "n", 2: "h", 3: "w"}, "output": {0: "n", 2: "h4", 3: "w4"}},
        opset_version=17,
        dynamo=False,
    )
    import onnxruntime as ort

    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    worst = 0.0
    for strength in (0.0, 0.3, 1.0):
        st = np.array([strength], np.float32)
        with torch.no_grad():
            ref = net(x, torch.from_numpy(st)).numpy()
        got = sess.run(None, {"input": x.numpy(), "strength": st})[0]
        worst = max(worst, float(np.abs(ref - got).max()))
    if worst > 1e-4:
        raise MoviolaError(f"ONNX export of realesr-general-x4v3 differs from torch by {worst}")
