"""The GE2E speaker encoder (Resemblyzer) in PyTorch, written for moviola, and its conversion to
ONNX.

Used only to turn Resemblyzer's published weights (``pretrained.pt``: a dict whose
``model_state`` holds the network's state dict, beside training state) into
the ONNX file that :mod:`moviola.speech.speakers` runs with ONNX Runtime; nothing at run time
imports torch, and ``import moviola.models.ge2e`` needs no torch either.

The network (Wan et al., "Generalized End-to-End Loss for Speaker Verification", 2018): a
three-layer LSTM (40 mel channels in, 256 hidden units) reads a mel spectrogram; the last
layer's final hidden state goes through a 256 x 256 linear layer and a ReLU and is scaled to
unit length. Two cosine-similarity scalars in the checkpoint (``similarity_weight``/``_bias``)
only served the training loss and are left out.

The exported graph takes ``mels`` (N x T x 40 float32, mel power spectra, 10 ms frames) and
returns ``embedding`` (N x 256 unit vectors); N and T are free.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

INPUT_NAME = "mels"
OUTPUT_NAME = "embedding"
OPSET = 17
MELS, HIDDEN, LAYERS, EMBEDDING = 40, 256, 3, 256
TRAINING_ONLY = ("similarity_weight", "similarity_bias")
#: Largest difference allowed between ONNX Runtime and torch (components of unit vectors).
TOLERANCE = 1e-4


def _torch():
    from moviola.models.convert import require

    return require("torch")


@functools.cache
def _encoder_class() -> type:
    torch = _torch()
    nn = torch.nn

    class SpeakerEncoder(nn.Module):
        """Mel spectrogram (N x T x 40) -> speaker embedding (N x 256, unit length)."""

        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(MELS, HIDDEN, LAYERS, batch_first=True)
            self.linear = nn.Linear(HIDDEN, EMBEDDING)
            self.relu = nn.ReLU()

        def forward(self, mels):
            _, (hidden, _) = self.lstm(mels)
            raw = self.relu(self.linear(hidden[-1]))
            return raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-12)

    return SpeakerEncoder


def build_encoder(state: Mapping[str, Any]) -> Any:
    """Our network with the checkpoint's weights (every key but the training-only ones)."""
    from moviola.models.convert import load_exactly

    net = _encoder_class()()
    weights = {k: v for k, v in state.items() if k not in TRAINING_ONLY}
    return load_exactly(net, weights, "GE2E speaker encoder").eval()


def export_onnx(net: Any, path: str | Path) -> None:
    torch = _torch()
    example = torch.rand(2, 160, MELS)
    with torch.no_grad():
        torch.onnx.export(
            net,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "n", 1: "frames"}, OUTPUT_NAME: {0: "n"}},
            opset_version=OPSET,
            dynamo=False,
        )


def check_onnx(net: Any, path: str | Path) -> float:
    """Largest difference between torch and ONNX Runtime on random mel spectrograms."""
    import numpy as np
    import onnxruntime as ort

    torch = _torch()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for n, t in ((1, 160), (3, 97)):
        x = (np.random.default_rng(n).random((n, t, MELS)) * 5).astype(np.float32)
        with torch.no_grad():
            want = net(torch.from_numpy(x)).numpy()
        got = np.asarray(sess.run([OUTPUT_NAME], {INPUT_NAME: x})[0])
        worst = max(worst, float(np.abs(got - want).max()))
    return worst


def convert_checkpoint(inputs: Mapping[str, Path], out_dir: Path, name: str) -> Path:
    """The ``ge2e-speaker-encoder`` conversion: ``pretrained.pt`` -> verified ONNX file."""
    from moviola.models.convert import checkpoint_to_onnx

    return checkpoint_to_onnx(
        Path(inputs["pretrained.pt"]),
        Path(out_dir) / name,
        what="GE2E speaker encoder",
        build=build_encoder,
        export=export_onnx,
        check=check_onnx,
        tolerance=TOLERANCE,
        state_key="model_state",
    )
