"""A small feed-forward style network in PyTorch, written for moviola, and its export to ONNX.

After Johnson, Alahi and Fei-Fei, "Perceptual Losses for Real-Time Style Transfer and
Super-Resolution" (2016), made smaller for CPUs: a 9x9 convolution to ``width`` features; two
3x3 stride-2 convolutions doubling them (a quarter of the size); ``blocks`` residual blocks;
two nearest-neighbour 2x upsamplings each followed by a 3x3 convolution (no transposed
convolutions: no checkerboard); a 9x9 convolution to RGB and a sigmoid. Reflection padding
throughout, instance normalisation with a learned scale and shift after every convolution but
the last, ReLU after every normalisation outside the residual branches' ends. With the default
width 16 and 5 blocks: 0.45 M parameters, 1.8 MB as float32.

The exported graph (:func:`export_onnx`): input ``image`` 1 x 3 x H x W, RGB in 0..1, H and W
free (multiples of 4 give an output of the same size; others come back 0-3 pixels off and are
resized by the runner); output ``output``, the same layout and range. The ONNX metadata says
``range`` "0,1", so ``stylize --model`` needs no flag, and carries the training's description.
Training and export need torch (``moviola[convert]``); running the file needs only ONNX Runtime.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

INPUT_NAME, OUTPUT_NAME = "image", "output"
OPSET = 17
WIDTH, BLOCKS = 16, 5
CLAMP = 0.02
#: Largest difference allowed between ONNX Runtime and torch (pixels in 0..1).
TOLERANCE = 1e-4


def _torch() -> Any:
    from moviola.models.convert import require

    return require("torch")


@functools.cache
def _net_class() -> type:
    torch = _torch()
    nn = torch.nn

    def conv(cin: int, cout: int, kernel: int, stride: int = 1, bias: bool = False) -> Any:
        # no bias before instance norm: it would cancel (and its gradient is only rounding noise)
        pad = nn.ReflectionPad2d(kernel // 2)
        return nn.Sequential(pad, nn.Conv2d(cin, cout, kernel, stride, bias=bias))

    def layer(cin: int, cout: int, kernel: int, stride: int = 1, up: bool = False) -> Any:
        parts = [nn.Upsample(scale_factor=2, mode="nearest")] if up else []
        parts += [conv(cin, cout, kernel, stride), nn.InstanceNorm2d(cout, affine=True), nn.ReLU()]
        return nn.Sequential(*parts)

    class Residual(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                conv(dim, dim, 3),
                nn.InstanceNorm2d(dim, affine=True),
                nn.ReLU(),
                conv(dim, dim, 3),
                nn.InstanceNorm2d(dim, affine=True),
            )

        def forward(self, x: Any) -> Any:
            return x + self.body(x)

    class StyleNet(nn.Module):
        def __init__(self, width: int = WIDTH, blocks: int = BLOCKS) -> None:
            super().__init__()
            w = width
            self.width, self.blocks = width, blocks
            self.body = nn.Sequential(
                layer(3, w, 9),
                layer(w, 2 * w, 3, 2),
                layer(2 * w, 4 * w, 3, 2),
                *[Residual(4 * w) for _ in range(blocks)],
                layer(4 * w, 2 * w, 3, up=True),
                layer(2 * w, w, 3, up=True),
                conv(w, 3, 9, bias=True),
            )
            last = self.body[-1][1]
            nn.init.zeros_(last.weight)  # the identity at first (with the input's logit added)
            nn.init.zeros_(last.bias)

        def forward(self, x: Any) -> Any:
            xc = x.clamp(CLAMP, 1 - CLAMP)  # the input's logit: the network starts near identity
            return torch.sigmoid(self.body(x) + torch.log(xc) - torch.log(1 - xc))

    return StyleNet


def style_net(width: int = WIDTH, blocks: int = BLOCKS, seed: int = 0) -> Any:
    """A freshly initialised network (torch's default initialisation under ``seed``)."""
    torch = _torch()
    torch.manual_seed(seed)
    return _net_class()(width, blocks)


def parameter_count(net: Any) -> int:
    return sum(int(p.numel()) for p in net.parameters())


def export_onnx(net: Any, path: str | Path, metadata: Mapping[str, str] | None = None) -> None:
    """Write ``net`` as ONNX (opset 17, free height and width, metadata ``range`` "0,1" and
    ``metadata``), then check ONNX Runtime against torch (MoviolaError when they differ)."""
    torch = _torch()
    import onnx

    from moviola.errors import MoviolaError

    was_training = net.training
    net.eval()
    image = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    axes = {2: "height", 3: "width"}
    path = Path(path)
    from moviola.models.convert import trace_to_onnx

    trace_to_onnx(
        net,
        (image,),
        path,
        opset=OPSET,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes},
    )
    model = onnx.load(str(path))
    props = {"range": "0,1", "layout": "NCHW", **(metadata or {})}
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.save(model, str(path))
    diff = check_onnx(net, path)
    net.train(was_training)
    if diff > TOLERANCE:
        raise MoviolaError(f"style network export: ONNX Runtime differs from torch by {diff:.2g}")


def check_onnx(net: Any, path: str | Path) -> float:
    """Largest difference between ONNX Runtime and torch on a picture of an untraced size."""
    torch = _torch()
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    image = torch.rand(1, 3, 52, 68, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = net(image).numpy()
    got = sess.run(None, {INPUT_NAME: image.numpy()})[0]
    return float(np.abs(np.asarray(got) - expected).max())
