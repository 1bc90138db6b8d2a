"""RIFE's flow network (IFNet, the "HDv3" release) in PyTorch, written for moviola.

Used only to turn the published checkpoint (``flownet.pkl``, a state dict) into the ONNX file
that the ``interpolate`` effect runs with ONNX Runtime; nothing at run time imports torch.
``import moviola.models.ifnet`` itself needs no torch: the network classes are built on first
use.

The network (Huang et al., "Real-Time Intermediate Flow Estimation for Video Frame
Interpolation", ECCV 2022) estimates, for the moment halfway between two frames, where each of
its pixels comes from in the first frame and in the second (two backward flows), plus a blend
mask. Three blocks refine the estimate coarse to fine: block ``i`` works at 1/``level[i]`` of the
frame size (levels 4, 2, 1, divided by ``scale``), sees both frames warped by the flows so far,
and adds a correction. Each block runs twice, on (frame 0, frame 1) and on the mirrored pair, and
the two answers are averaged, which keeps the result symmetric in time. The checkpoint also holds
a "teacher" block used only in training; it is not part of this network.

The exported graph takes ``img0`` and ``img1`` (N x 3 x H x W, RGB in 0..1, H and W multiples of
``pad_multiple(scale)``) and returns ``flow`` (N x 4 x H x W: x/y pixel offsets from the middle
moment into frame 0, then into frame 1), ``mask`` (N x 1 x H x W, weight of warped frame 0, in
0..1) and ``middle`` (N x 3 x H x W, the frame at the middle moment: both frames warped and
blended by the mask).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError

#: Resolution of each block's flow estimate relative to the frame, at scale 1.
LEVELS = (4, 2, 1)
#: Feature channels inside a block.
WIDTH = 90
#: Flow scales the exported graphs are made for (RIFE's ``--scale``).
SCALES = (0.25, 0.5, 1.0, 2.0)
INPUT_NAMES = ("img0", "img1", "scale")
OUTPUT_NAMES = ("flow", "mask", "middle")
OPSET = 17


def pad_multiple(scale: float) -> int:
    """Frame sides must be multiples of this for the flow pyramid at ``scale`` to line up."""
    return max(32, int(round(32 / scale)))


def _torch():
    from moviola.models.convert import require

    return require("torch")


@functools.cache
def _classes() -> tuple[type, type]:
    """Define the network's modules (needs torch; done once)."""
    torch = _torch()
    nn = torch.nn
    fn = torch.nn.functional

    def conv_prelu(cin: int, cout: int, stride: int = 1) -> Any:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.PReLU(cout))

    def resize(x: Any, size: tuple[Any, Any]) -> Any:
        return fn.interpolate(x, size=size, mode="bilinear", align_corners=False)

    def backward_warp(image: Any, flow: Any) -> Any:
        """Sample ``image`` at each pixel's position plus ``flow`` (bilinear, edges clamped)."""
        n, _, h, w = image.shape
        ys = torch.arange(h, dtype=image.dtype, device=image.device).view(1, h, 1)
        xs = torch.arange(w, dtype=image.dtype, device=image.device).view(1, 1, w)
        # grid_sample with align_corners=True maps -1..1 onto the first..last pixel centres
        gx = (xs + flow[:, 0]) * (2.0 / (w - 1)) - 1.0
        gy = (ys + flow[:, 1]) * (2.0 / (h - 1)) - 1.0
        grid = torch.stack((gx, gy), dim=3)
        return fn.grid_sample(
            image, grid, mode="bilinear", padding_mode="border", align_corners=True
        )

    class Block(nn.Module):
        """One refinement step: features at 1/(4 * level) size, flow and mask at 1/level."""

        def __init__(self, cin: int, width: int = WIDTH) -> None:
            super().__init__()
            self.down = nn.Sequential(
                conv_prelu(cin, width // 2, 2), conv_prelu(width // 2, width, 2)
            )
            self.res = nn.ModuleList(
                nn.Sequential(conv_prelu(width, width), conv_prelu(width, width)) for _ in range(4)
            )
            self.flow_head = nn.Sequential(
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1),
                nn.PReLU(width // 2),
                nn.ConvTranspose2d(width // 2, 4, 4, 2, 1),
            )
            self.mask_head = nn.Sequential(
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1),
                nn.PReLU(width // 2),
                nn.ConvTranspose2d(width // 2, 1, 4, 2, 1),
            )

        def forward(self, images: Any, flow: Any, factor: Any) -> tuple[Any, Any]:
            """``factor``: this block's resolution relative to the frame (a 0-d tensor)."""
            h, w = images.shape[2], images.shape[3]
            # sizes computed from the input's shape and the factor, so that the exported graph
            # takes any frame size and any scale
            small = ((h * factor).floor().long(), (w * factor).floor().long())
            x = torch.cat((resize(images, small), resize(flow, small) * factor), 1)
            feat = self.down(x)
            for unit in self.res:
                feat = unit(feat) + feat
            delta = resize(self.flow_head(feat), (h, w)) / factor
            mask = resize(self.mask_head(feat), (h, w))
            return delta, mask

    class IFNet(nn.Module):
        """Flow, mask and middle frame between two frames (see the module's docstring)."""

        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList(Block(3 + 3 + 1 + 4) for _ in LEVELS)

        def forward(self, img0: Any, img1: Any, scale: Any) -> tuple[Any, Any, Any]:
            """``scale``: 0-d float tensor, flow resolution (1: RIFE's default; see SCALES)."""
            n, _, h, w = img0.shape
            scale = scale.reshape(()).to(img0.dtype)
            flow = img0.new_zeros((n, 4, h, w))
            mask = img0.new_zeros((n, 1, h, w))
            warped0, warped1 = img0, img1
            for block, level in zip(self.blocks, LEVELS, strict=True):
                # the pair and its mirror image go through the block as one batch of 2n
                images = torch.cat(
                    (
                        torch.cat((warped0, warped1, mask), 1),
                        torch.cat((warped1, warped0, -mask), 1),
                    ),
                    0,
                )
                flows = torch.cat((flow, torch.cat((flow[:, 2:], flow[:, :2]), 1)), 0)
                delta, dmask = block(images, flows, scale / level)
                there, back = delta[:n], delta[n:]
                flow = flow + (there + torch.cat((back[:, 2:], back[:, :2]), 1)) * 0.5
                mask = mask + (dmask[:n] - dmask[n:]) * 0.5
                warped0 = backward_warp(img0, flow[:, :2])
                warped1 = backward_warp(img1, flow[:, 2:])
            weight = torch.sigmoid(mask)
            middle = warped0 * weight + warped1 * (1 - weight)
            return flow, weight, middle

    return Block, IFNet


# --- checkpoint ---------------------------------------------------------------------------------

_KEY_RULES = (
    (re.compile(r"^block(\d)\.conv0\."), r"blocks.\1.down."),
    (re.compile(r"^block(\d)\.convblock(\d)\."), r"blocks.\1.res.\2."),
    (re.compile(r"^block(\d)\.conv1\."), r"blocks.\1.flow_head."),
    (re.compile(r"^block(\d)\.conv2\."), r"blocks.\1.mask_head."),
)
#: Checkpoint entries that belong to training only (the distillation teacher).
_TRAINING_ONLY = re.compile(r"^block_tea\.")


def rename_checkpoint(state: Mapping[str, Any]) -> dict[str, Any]:
    """The checkpoint's tensors under this module's names (training-only entries left out).

    Raises MoviolaError when an entry fits nowhere: the file is not an IFNet HDv3 state dict.
    """
    out = {}
    for key, value in state.items():
        name = key.removeprefix("module.")
        if _TRAINING_ONLY.match(name):
            continue
        for pattern, repl in _KEY_RULES:
            new, hits = pattern.subn(repl, name)
            if hits:
                out[new] = value
                break
        else:
            raise MoviolaError(f"not an IFNet HDv3 checkpoint: unexpected entry {key!r}")
    return out


def build_ifnet(state: Mapping[str, Any] | None = None) -> Any:
    """The network in eval mode, with the checkpoint's weights when ``state`` is given.

    Every weight of the network must come from ``state`` and every entry of ``state`` (but the
    training-only teacher) must be used, else MoviolaError.
    """
    _, IFNet = _classes()
    net = IFNet()
    if state is not None:
        from moviola.models.convert import load_exactly

        load_exactly(net, rename_checkpoint(state), "an IFNet HDv3 checkpoint")
    return net.eval()


# --- export -------------------------------------------------------------------------------------

#: The torch release whose exporter writes the byte-identical ONNX file the catalog records.
#: Largest difference allowed between ONNX Runtime and torch on the check input (0..1 images).
TOLERANCE = 2e-3


def export_onnx(net: Any, path: str | Path) -> None:
    """Write ``net`` as an ONNX graph (opset 17) taking any batch, frame size and scale."""
    torch = _torch()
    import warnings

    g = torch.Generator().manual_seed(0)
    img0 = torch.rand(1, 3, 64, 96, generator=g)
    img1 = torch.rand(1, 3, 64, 96, generator=g)
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(
            net,
            (img0, img1, torch.tensor(1.0)),
            str(path),
            dynamo=False,
            opset_version=OPSET,
            input_names=list(INPUT_NAMES),
            output_names=list(OUTPUT_NAMES),
            dynamic_axes={name: axes for name in (*INPUT_NAMES[:2], *OUTPUT_NAMES)},
            do_constant_folding=True,
        )


def check_onnx(net: Any, path: str | Path, size: tuple[int, int] = (96, 128)) -> float:
    """Largest difference between ONNX Runtime and ``net`` on a moving random pattern.

    Runs two sizes other than the one traced and two scales, so that a graph frozen to the
    trace's shapes fails here.
    """
    torch = _torch()
    import numpy as np
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    g = torch.Generator().manual_seed(1)
    worst = 0.0
    for (h, w), scale in ((size, 1.0), ((size[0] * 2, size[1]), 0.5)):
        base = torch.rand(1, 3, h // 8, w // 8, generator=g)
        img0 = torch.nn.functional.interpolate(base, size=(h, w), mode="bilinear")
        img1 = torch.roll(img0, shifts=(2, 5), dims=(2, 3))
        s = torch.tensor(scale)
        with torch.no_grad():
            expected = [t.numpy() for t in net(img0, img1, s)]
        got = sess.run(
            None, {"img0": img0.numpy(), "img1": img1.numpy(), "scale": np.array(scale, np.float32)}
        )
        for e, o in zip(expected, map(np.asarray, got), strict=True):
            if e.shape != o.shape:
                raise MoviolaError(f"ONNX export of IFNet is wrong: shape {o.shape} for {e.shape}")
            worst = max(worst, float(np.abs(e - o).max()))
    return worst


def convert_checkpoint(inputs: Mapping[str, Path], out_dir: Path, name: str) -> Path:
    """The ``rife-hdv3`` conversion: checkpoint -> verified ONNX file ``out_dir / name``."""
    from moviola.models.convert import checkpoint_to_onnx

    return checkpoint_to_onnx(
        inputs["flownet.pkl"],
        Path(out_dir) / name,
        what="RIFE",
        build=build_ifnet,
        export=export_onnx,
        check=check_onnx,
        tolerance=TOLERANCE,
    )
