"""A BERT sentence encoder (all-MiniLM-L6-v2) in PyTorch, written for moviola, and its
conversion to ONNX.

Used only to turn the published safetensors weights of ``all-minilm-l6-v2`` into the ONNX file
that :mod:`moviola.analysis.embed` runs with ONNX Runtime; nothing at run time imports torch.
``import moviola.models.minilm`` itself needs no torch: the network class is built on first use.

The network is BERT (Devlin et al., 2019) as sentence-transformers uses it: token, position and
token-type (always type 0) embeddings summed and layer-normalised, then transformer layers
(multi-head self-attention over the unpadded tokens and a GELU feed-forward layer, each added
back and layer-normalised), then the sentence vector: the mean of the last hidden states over
the real tokens, scaled to unit length. Widths and depth are read off the weights, the number
of attention heads and the layer-norm epsilon off ``config.json``. BERT's pooler (trained for
next-sentence prediction) is not used.

The exported graph takes ``input_ids`` and ``attention_mask`` (N x T, int64; T at most the
512 positions BERT knows) and returns ``embedding`` (N x 384 float32, unit vectors); batch and
length are free. The conversion copies every fetched file (tokenizer, config, the weights
themselves) beside it, so the cached folder stays a sentence-transformers model folder.
"""

from __future__ import annotations

import functools
import json
import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError

INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "embedding"
OPSET = 17
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
#: Entries of the checkpoint the sentence encoder does not use.
UNUSED = ("pooler.dense.weight", "pooler.dense.bias", "embeddings.position_ids")
#: Largest difference allowed between ONNX Runtime and torch (components of unit vectors).
TOLERANCE = 1e-4


def _torch() -> Any:
    from moviola.models.convert import require

    return require("torch")


@functools.cache
def _encoder_class() -> type:
    torch = _torch()
    nn = torch.nn

    def add_norm(width_in: int, width: int, eps: float) -> Any:
        return nn.ModuleDict(
            {"dense": nn.Linear(width_in, width), "LayerNorm": nn.LayerNorm(width, eps=eps)}
        )

    def layer(width: int, inner: int, eps: float) -> Any:
        # module names as in the checkpoint: encoder.layer.<i>.attention.self.query.weight ...
        attend = {name: nn.Linear(width, width) for name in ("query", "key", "value")}
        return nn.ModuleDict(
            {
                "attention": nn.ModuleDict(
                    {"self": nn.ModuleDict(attend), "output": add_norm(width, width, eps)}
                ),
                "intermediate": nn.ModuleDict({"dense": nn.Linear(width, inner)}),
                "output": add_norm(inner, width, eps),
            }
        )

    class SentenceEncoder(nn.Module):
        """(input_ids, attention_mask) (N x T) -> unit sentence vectors (N x width)."""

        def __init__(self, sizes: Mapping[str, int], heads: int, eps: float) -> None:
            super().__init__()
            width = sizes["width"]
            self.heads = heads
            self.embeddings = nn.ModuleDict(
                {
                    "word_embeddings": nn.Embedding(sizes["vocab"], width),
                    "position_embeddings": nn.Embedding(sizes["positions"], width),
                    "token_type_embeddings": nn.Embedding(sizes["types"], width),
                    "LayerNorm": nn.LayerNorm(width, eps=eps),
                }
            )
            layers = [layer(width, sizes["inner"], eps) for _ in range(sizes["layers"])]
            self.encoder = nn.ModuleDict({"layer": nn.ModuleList(layers)})

        def attention(self, x: Any, bias: Any, block: Any) -> Any:
            batch, n, width = x.shape

            def split(name: str) -> Any:
                t = block["self"][name](x).reshape(batch, n, self.heads, width // self.heads)
                return t.transpose(1, 2)

            q, k, v = split("query"), split("key"), split("value")
            scores = q @ k.transpose(-1, -2) * (1.0 / (width // self.heads) ** 0.5) + bias
            ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, n, width)
            return block["output"]["LayerNorm"](x + block["output"]["dense"](ctx))

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            e = self.embeddings
            n = input_ids.shape[1]
            x = (
                e["word_embeddings"](input_ids)
                + e["position_embeddings"].weight[:n].unsqueeze(0)
                + e["token_type_embeddings"].weight[0]
            )
            x = e["LayerNorm"](x)
            mask = attention_mask.to(x.dtype)
            bias = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
            for block in self.encoder["layer"]:
                x = self.attention(x, bias, block["attention"])
                h = nn.functional.gelu(block["intermediate"]["dense"](x))
                x = block["output"]["LayerNorm"](x + block["output"]["dense"](h))
            m = mask.unsqueeze(-1)
            pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return pooled / pooled.norm(dim=1, keepdim=True).clamp(min=1e-12)

    return SentenceEncoder


def _sizes(state: Mapping[str, Any]) -> dict[str, int]:
    """Vocabulary, width, positions, token types, inner width and depth from the weights."""
    try:
        vocab, width = state["embeddings.word_embeddings.weight"].shape
        positions = state["embeddings.position_embeddings.weight"].shape[0]
        types = state["embeddings.token_type_embeddings.weight"].shape[0]
        inner = state["encoder.layer.0.intermediate.dense.weight"].shape[0]
    except (KeyError, AttributeError, ValueError) as e:
        raise MoviolaError(f"not BERT weights: no entry {e}") from None
    layers = 0
    while f"encoder.layer.{layers}.attention.self.query.weight" in state:
        layers += 1
    return {
        "vocab": int(vocab),
        "width": int(width),
        "positions": int(positions),
        "types": int(types),
        "inner": int(inner),
        "layers": layers,
    }


def build_encoder(state: Mapping[str, Any], config: Mapping[str, Any]) -> Any:
    """The encoder in eval mode with the weights of ``state`` (a safetensors state dict) and
    the heads and epsilon of ``config`` (BERT's config.json); every weight must be used."""
    from moviola.models.convert import load_exactly

    sizes = _sizes(state)
    heads = int(config.get("num_attention_heads", 0))
    if heads <= 0 or sizes["width"] % heads:
        raise MoviolaError(f"BERT config: {heads} attention heads for width {sizes['width']}")
    net = _encoder_class()(sizes, heads, float(config.get("layer_norm_eps", 1e-12)))
    used = {k: v for k, v in state.items() if k not in UNUSED}
    return load_exactly(net, used, "BERT weights").eval()


def export_onnx(net: Any, path: str | Path) -> None:
    """Write ``net`` as an ONNX graph (opset 17) with free batch size and length."""
    torch = _torch()
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 2000, (2, 16), generator=gen)
    mask = torch.ones(2, 16, dtype=torch.int64)
    mask[1, 11:] = 0
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(
            net,
            (ids, mask),
            str(path),
            dynamo=False,
            opset_version=OPSET,
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAMES[0]: axes, INPUT_NAMES[1]: axes, OUTPUT_NAME: {0: "batch"}},
            do_constant_folding=True,
        )


def check_onnx(net: Any, path: str | Path) -> float:
    """Largest difference between ONNX Runtime and ``net`` on padded random ids of another
    batch size and length than the traced ones (a graph frozen to the trace fails here)."""
    torch = _torch()
    import numpy as np
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ids = torch.randint(1000, 2000, (3, 23), generator=torch.Generator().manual_seed(1))
    mask = torch.ones(3, 23, dtype=torch.int64)
    mask[0, 7:] = 0
    mask[2, 19:] = 0
    with torch.no_grad():
        expected = net(ids, mask).numpy()
    feeds = {INPUT_NAMES[0]: ids.numpy(), INPUT_NAMES[1]: mask.numpy()}
    got = np.asarray(sess.run([OUTPUT_NAME], feeds)[0])
    if got.shape != expected.shape:
        raise MoviolaError(f"ONNX export of BERT is wrong: shape {got.shape} for {expected.shape}")
    return float(abs(got - expected).max())


def convert_checkpoint(inputs: Mapping[str, Path], out_dir: Path, name: str) -> Path:
    """The ``all-minilm-l6-v2`` conversion: ``model.safetensors`` + ``config.json`` -> verified
    ONNX file ``out_dir/name``, with every input file copied beside it."""
    from safetensors.torch import load_file

    _torch()
    try:
        state = load_file(str(inputs[WEIGHTS]))
    except Exception as e:  # safetensors raises its own error types for a malformed file
        raise MoviolaError(f"cannot read {WEIGHTS}: {e}") from e
    config = json.loads(Path(inputs[CONFIG]).read_text(encoding="utf-8"))
    net = build_encoder(state, config)
    out = Path(out_dir) / name
    export_onnx(net, out)
    worst = check_onnx(net, out)
    if worst > TOLERANCE:
        raise MoviolaError(f"ONNX export of BERT differs from torch by {worst:.6f}")
    for file_name, src in inputs.items():
        target = Path(out_dir) / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return out
