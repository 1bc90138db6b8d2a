"""A CycleGAN ResNet generator in PyTorch, written for moviola, and its conversion to ONNX.

Used only to turn the published checkpoint of ``vintagify-cyclegan`` (vintagify's
``G_A2B_epoch33.pth``, "modern photo to vintage film") into the ONNX file that ``moviola
stylize --filter vintage`` runs with ONNX Runtime; nothing at run time imports torch, and
``import moviola.models.cyclegan`` itself needs no torch (the network class is built on first
use).

The network (Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
Networks", 2017, after Johnson et al.'s transformer): a 7x7 convolution to ``ngf`` features
after reflection padding of 3; two 3x3 stride-2 convolutions doubling the features and halving
the size; ``blocks`` residual blocks (reflection pad 1, 3x3 convolution, normalisation, ReLU,
reflection pad 1, 3x3 convolution, normalisation, added to the block's input); two 3x3 stride-2
transposed convolutions (output padding 1) back to ``ngf`` features and the input's size; a 7x7
convolution to RGB after reflection padding of 3, and tanh. Every normalisation but the last
layer's is instance normalisation with a learned scale and shift (no running statistics), ReLU
after it outside the residual branch's end. Layer positions follow the checkpoint's keys
(``model.<i>`` for the trunk, ``model.<i>.block.<j>`` inside the residual blocks).

Instance normalisation makes every frame's look depend on that frame's own feature statistics,
which is what makes per-frame video output flicker. The exported graph therefore lets the caller
supply them: inputs ``image`` (1 x 3 x H x W, RGB in -1..1; H and W multiples of 4 give an
output of the same size), ``stats`` (2 x :data:`STAT_CHANNELS`: per-channel mean, then variance,
of every normalisation layer in order) and ``shared`` (1 value, 0..1); each layer normalises
with ``shared * stats + (1 - shared) * its own statistics``. Outputs: ``output`` (the picture,
-1..1) and ``frame_stats`` (the statistics this pass met, the same layout as ``stats``). With
``shared = 0`` the graph is the plain generator (checked against torch's own instance norm at
conversion); feeding a shot's statistics back with ``shared = 1`` holds the look steady.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from moviola.errors import MoviolaError

INPUT_NAME, STATS_NAME, SHARED_NAME = "image", "stats", "shared"
OUTPUT_NAME, FRAME_STATS_NAME = "output", "frame_stats"
OPSET = 17
NGF, BLOCKS = 64, 9
EPS = 1e-5  # torch's InstanceNorm2d default
#: Largest difference allowed between ONNX Runtime and torch (pixels in -1..1).
TOLERANCE = 2e-4


def norm_widths(ngf: int = NGF, blocks: int = BLOCKS) -> tuple[int, ...]:
    """The channel count of every normalisation layer, in order."""
    return (ngf, 2 * ngf, 4 * ngf, *([4 * ngf] * (2 * blocks)), 2 * ngf, ngf)


#: Channels of all normalisation layers together: the width of ``stats``.
STAT_CHANNELS = sum(norm_widths())


def _torch():
    from moviola.models.convert import require

    return require("torch")


class _Pass:
    """What one forward pass hands its normalisation layers: the given statistics, one slice
    per layer in order (None: torch's own instance norm), the share given to them, and the
    statistics met (appended by each layer)."""

    def __init__(self, slices: list[Any] | None, shared: Any) -> None:
        self.slices = slices
        self.shared = shared
        self.met: list[Any] = []

    def next(self) -> Any:
        return None if self.slices is None else self.slices.pop(0)


@functools.cache
def _generator_class() -> type:
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional

    class Norm(nn.Module):
        """Instance normalisation with a learned scale and shift (the checkpoint's ``weight``
        and ``bias``) whose statistics may be given: each channel is normalised with
        ``shared * given + (1 - shared) * own`` mean and variance, and the own ones are
        recorded; with none given, torch's own instance norm."""

        def __init__(self, channels: int) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(channels))
            self.bias = nn.Parameter(torch.zeros(channels))

        def forward(self, x: Any, run: _Pass) -> Any:
            given = run.next()
            if given is None:
                return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=EPS)
            mean = x.mean(dim=(2, 3), keepdim=True)
            var = ((x - mean) ** 2).mean(dim=(2, 3), keepdim=True)
            run.met.append(torch.stack([mean.reshape(-1), var.reshape(-1)]))
            c = self.weight.shape[0]
            m = run.shared * given[0].reshape(1, c, 1, 1) + (1 - run.shared) * mean
            v = run.shared * given[1].reshape(1, c, 1, 1) + (1 - run.shared) * var
            scale = self.weight.reshape(1, c, 1, 1) * torch.rsqrt(v + EPS)
            return (x - m) * scale + self.bias.reshape(1, c, 1, 1)

    class Block(nn.Module):
        """A residual block: x + (pad, conv 3x3, norm, ReLU, pad, conv 3x3, norm)(x)."""

        def __init__(self, dim: int) -> None:
            super().__init__()
            self.block = nn.Sequential(
                nn.ReflectionPad2d(1),
                nn.Conv2d(dim, dim, 3),
                Norm(dim),
                nn.ReLU(),
                nn.ReflectionPad2d(1),
                nn.Conv2d(dim, dim, 3),
                Norm(dim),
            )

        def forward(self, x: Any, run: _Pass) -> Any:
            y = x
            for layer in self.block:
                y = layer(y, run) if isinstance(layer, Norm) else layer(y)
            return x + y

    class Generator(nn.Module):
        """``forward(image)``: the plain generator (image 1 x 3 x H x W in -1..1 to a picture
        in -1..1); ``forward(image, stats, shared)``: normalised with given statistics, returns
        (picture, the statistics met)."""

        def __init__(self, ngf: int = NGF, blocks: int = BLOCKS) -> None:
            super().__init__()
            self.widths = norm_widths(ngf, blocks)
            layers: list[Any] = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), Norm(ngf), nn.ReLU()]
            for cin, cout in ((ngf, 2 * ngf), (2 * ngf, 4 * ngf)):  # down, size / 2 each
                layers += [nn.Conv2d(cin, cout, 3, 2, 1), Norm(cout), nn.ReLU()]
            layers += [Block(4 * ngf) for _ in range(blocks)]
            for cin, cout in ((4 * ngf, 2 * ngf), (2 * ngf, ngf)):  # up, size x 2 each
                layers += [nn.ConvTranspose2d(cin, cout, 3, 2, 1, 1), Norm(cout), nn.ReLU()]
            layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
            # one Sequential named "model": the checkpoint's keys are model.<i>[.block.<j>].<t>
            self.model = nn.Sequential(*layers)

        def forward(self, image: Any, stats: Any = None, shared: Any = None) -> Any:
            slices = None
            if stats is not None:
                ends = np.cumsum((0, *self.widths)).tolist()
                slices = [stats[:, a:b] for a, b in zip(ends[:-1], ends[1:], strict=True)]
            run = _Pass(slices, shared)
            x = image
            for layer in self.model:
                x = layer(x, run) if isinstance(layer, Norm | Block) else layer(x)
            return x if stats is None else (x, torch.cat(run.met, dim=1))

    return Generator


def build_generator(state: Mapping[str, Any] | None = None) -> Any:
    """The generator in eval mode, with the checkpoint's weights when ``state`` is given
    (every weight from ``state``, every entry used, same shapes; else MoviolaError)."""
    Generator = _generator_class()
    if state is None:
        return Generator().eval()
    try:
        ngf = int(state["model.1.weight"].shape[0])
        blocks = len({k.split(".")[1] for k in state if ".block." in k})
    except (KeyError, AttributeError, IndexError) as e:
        raise MoviolaError(f"not a CycleGAN ResNet generator checkpoint: no entry {e}") from None
    from moviola.models.convert import load_exactly

    return load_exactly(Generator(ngf, blocks), state, "a CycleGAN ResNet generator").eval()


def export_onnx(net: Any, path: str | Path) -> None:
    """Write ``net`` as an ONNX graph (opset 17) with free height and width, taking the
    statistics inputs (see the module's description)."""
    torch = _torch()
    g = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 64, 96, generator=g) * 2 - 1
    stats = torch.ones(2, sum(net.widths))
    shared = torch.zeros(1)
    axes = {2: "height", 3: "width"}
    from moviola.models.convert import trace_to_onnx

    trace_to_onnx(
        net,
        (image, stats, shared),
        path,
        opset=OPSET,
        input_names=[INPUT_NAME, STATS_NAME, SHARED_NAME],
        output_names=[OUTPUT_NAME, FRAME_STATS_NAME],
        dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes},
    )


def check_onnx(net: Any, path: str | Path) -> float:
    """Largest difference between ONNX Runtime (statistics not shared) and torch's own
    instance norm, on a random picture of a size other than the traced one; and, statistics
    shared, between the graph fed its own statistics back and the plain one."""
    torch = _torch()
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    g = torch.Generator().manual_seed(1)
    image = torch.rand(1, 3, 52, 68, generator=g) * 2 - 1
    with torch.no_grad():
        expected = net(image).numpy()
    feeds = {
        INPUT_NAME: image.numpy(),
        STATS_NAME: np.zeros((2, sum(net.widths)), np.float32),
        SHARED_NAME: np.zeros(1, np.float32),
    }
    got, met = (np.asarray(v) for v in sess.run(None, feeds))
    if got.shape != expected.shape or met.shape != feeds[STATS_NAME].shape:
        raise MoviolaError(f"ONNX export of CycleGAN is wrong: shape {got.shape}, {met.shape}")
    again = np.asarray(
        sess.run(None, {**feeds, STATS_NAME: met, SHARED_NAME: np.ones(1, np.float32)})[0]
    )
    return float(max(np.abs(got - expected).max(), np.abs(again - expected).max()))


def convert_checkpoint(inputs: Mapping[str, Path], out_dir: Path, name: str) -> Path:
    """The ``vintagify-cyclegan`` conversion: ``G_A2B_epoch33.pth`` -> verified ONNX file
    ``out_dir/name``."""
    from moviola.models.convert import checkpoint_to_onnx

    (checkpoint,) = inputs.values()
    return checkpoint_to_onnx(
        checkpoint,
        Path(out_dir) / name,
        what="CycleGAN generator",
        build=build_generator,
        export=export_onnx,
        check=check_onnx,
        tolerance=TOLERANCE,
    )
