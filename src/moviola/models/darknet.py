"""Darknet (YOLOv3-tiny) checkpoints to ONNX, for the ``yolov3-tiny-coco`` model.

OpenCV 5 dropped ``readNetFromDarknet``, so the ``.cfg`` + ``.weights`` pair is turned into an
ONNX graph once, at fetch: the cfg is parsed, the network built in torch (convolutional with
batch norm and leaky ReLU, maxpool, route, upsample, yolo heads), the weights read in Darknet's
order, and the graph exported. The ONNX graph outputs the raw head maps
(``head0``: N x 255 x H/32 x W/32, ``head1``: N x 255 x H/16 x W/16); decoding (anchors,
sigmoid, class scores, NMS) is done in numpy by :mod:`moviola.analysis.detect`.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from moviola.errors import MoviolaError

OPSET = 17


def parse_cfg(text: str) -> list[dict[str, str]]:
    """Sections of a Darknet cfg, in order: ``[{"type": "convolutional", "filters": ...}]``."""
    blocks: list[dict[str, str]] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            blocks.append({"type": line.strip("[]").strip()})
        elif "=" in line and blocks:
            key, value = line.split("=", 1)
            blocks[-1][key.strip()] = value.strip()
    return blocks


def yolo_heads(cfg_text: str) -> list[dict[str, Any]]:
    """Anchors (pixels at the network's input size) and class count of each yolo layer."""
    blocks = parse_cfg(cfg_text)
    net = blocks[0]
    heads = []
    for b in blocks[1:]:
        if b["type"] == "yolo":
            anchors = [float(v) for v in b["anchors"].split(",")]
            pairs = list(zip(anchors[::2], anchors[1::2], strict=True))
            mask = [int(v) for v in b["mask"].split(",")]
            heads.append({"anchors": [pairs[m] for m in mask], "classes": int(b["classes"])})
    return [dict(h, width=int(net["width"]), height=int(net["height"])) for h in heads]


def build(cfg_text: str, weights: bytes) -> Any:
    """A torch module for the cfg, with the Darknet weights loaded."""
    import torch
    from torch import nn

    blocks = parse_cfg(cfg_text)
    channels = [int(blocks[0].get("channels", 3))]
    layers = nn.ModuleList()
    kinds: list[tuple[str, Any]] = []
    out_channels: list[int] = []
    arr = np.frombuffer(weights, dtype="<i4", count=3)
    major, minor = int(arr[0]), int(arr[1])
    offset = 20 if major * 10 + minor >= 2 else 16
    data = np.frombuffer(weights, dtype="<f4", offset=offset)
    pos = 0

    def take(n: int) -> Any:
        nonlocal pos
        if pos + n > data.size:
            raise MoviolaError("Darknet weights file is shorter than its cfg needs")
        chunk = torch.from_numpy(data[pos : pos + n].copy())
        pos += n
        return chunk

    prev = channels[0]
    for b in blocks[1:]:
        t = b["type"]
        if t == "convolutional":
            filters, size = int(b["filters"]), int(b["size"])
            stride = int(b.get("stride", 1))
            pad = size // 2 if int(b.get("pad", 0)) else 0
            bn = int(b.get("batch_normalize", 0))
            conv = nn.Conv2d(prev, filters, size, stride, pad, bias=not bn)
            seq = nn.Sequential(conv)
            if bn:
                norm = nn.BatchNorm2d(filters, eps=1e-5)
                # Darknet's order: bias, scale, running mean, running variance
                stats = {
                    k: take(filters) for k in ("bias", "weight", "running_mean", "running_var")
                }
                norm.load_state_dict(stats, strict=False)  # (num_batches_tracked: unused)
                seq.append(norm)
            else:
                conv.load_state_dict({"bias": take(filters)}, strict=False)
            conv.weight.data = take(conv.weight.numel()).view_as(conv.weight)
            if b.get("activation", "linear") == "leaky":
                seq.append(nn.LeakyReLU(0.1))
            layers.append(seq)
            kinds.append(("layer", None))
            prev = filters
        elif t == "maxpool":
            size, stride = int(b["size"]), int(b["stride"])
            layers.append(nn.MaxPool2d(size, stride))
            kinds.append(("pool", (size, stride)))
        elif t == "upsample":
            layers.append(nn.Upsample(scale_factor=int(b["stride"]), mode="nearest"))
            kinds.append(("layer", None))
        elif t == "route":
            idx = [int(v) for v in b["layers"].split(",")]
            idx = [i if i >= 0 else len(out_channels) + i for i in idx]
            layers.append(nn.Identity())
            kinds.append(("route", idx))
            prev = sum(out_channels[i] for i in idx)
        elif t == "yolo":
            layers.append(nn.Identity())
            kinds.append(("yolo", None))
        else:
            raise MoviolaError(f"unsupported Darknet layer type: [{t}]")
        out_channels.append(prev)
    if pos != data.size:
        raise MoviolaError(f"Darknet weights do not fit the cfg ({data.size - pos} values left)")

    class Darknet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = layers

        def forward(self, x: Any) -> tuple[Any, ...]:
            outs: list[Any] = []
            heads = []
            for layer, (kind, arg) in zip(self.layers, kinds, strict=True):
                if kind == "route":
                    x = torch.cat([outs[i] for i in arg], 1) if len(arg) > 1 else outs[arg[0]]
                elif kind == "pool" and arg[1] == 1:
                    # Darknet pads a stride-1 pool on the right/bottom so the size is kept.
                    x = layer(nn.functional.pad(x, (0, arg[0] - 1, 0, arg[0] - 1), "replicate"))
                elif kind == "yolo":
                    heads.append(x)
                else:
                    x = layer(x)
                outs.append(x)
            return tuple(heads)

    return Darknet().eval()


def convert(
    inputs: Mapping[str, Path], out_dir: Path, cfg: str, weights: str, names: str, onnx_name: str
) -> Path:
    """Conversion step of a Darknet model spec: writes ``onnx_name`` and copies ``names``."""
    from moviola.models.convert import require

    torch = require("torch")
    cfg_text = Path(inputs[cfg]).read_text()
    net = build(cfg_text, Path(inputs[weights]).read_bytes())
    path = Path(out_dir) / onnx_name
    heads = len(yolo_heads(cfg_text))
    out_names = [f"head{i}" for i in range(heads)]
    axes = {0: "batch", 2: "height", 3: "width"}
    x = torch.rand(1, 3, 320, 416, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (x,),
            str(path),
            dynamo=False,
            opset_version=OPSET,
            input_names=["image"],
            output_names=out_names,
            dynamic_axes={n: axes for n in ["image", *out_names]},
            do_constant_folding=True,
        )
        import onnxruntime as ort

        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        probe = torch.rand(1, 3, 256, 352, generator=torch.Generator().manual_seed(1))
        got = sess.run(None, {"image": probe.numpy()})
        want = net(probe)
        worst = max(float(np.abs(g - w.numpy()).max()) for g, w in zip(got, want, strict=True))
    if worst > 1e-3:
        raise MoviolaError(f"ONNX export of the Darknet model differs from torch by {worst:.4f}")
    shutil.copyfile(inputs[names], Path(out_dir) / names)
    (Path(out_dir) / cfg).write_text(cfg_text)
    return path
