"""Sentence embeddings for text search: all-MiniLM-L6-v2 run in numpy, without torch.

The model store entry ``all-minilm-l6-v2`` provides the safetensors weights and the BERT
vocabulary. This module holds its own WordPiece tokenizer (BERT uncased: clean, split CJK
characters, lower case, strip accents, split on punctuation, greedy longest-match word pieces)
and the 6-layer BERT encoder forward pass; the sentence vector is the attention-masked mean of
the last hidden states, L2-normalised (what sentence-transformers does for this model). Checked
against sentence-transformers' own output in tests/test_search.py's reference figures and
docs/describe.md.

    from moviola.analysis.embed import embed
    vectors = embed(["wide shot of a street", "close-up of a face"])  # (2, 384) float32
"""

from __future__ import annotations

import json
import struct
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MODEL_ID = "all-minilm-l6-v2"
DIM = 384
MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def load_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Read a .safetensors file into numpy arrays (a plain format: u64 header size, JSON
    header with dtype/shape/offsets, then the raw little-endian tensor bytes)."""
    data = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    base = 8 + size
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        begin, end = meta["data_offsets"]
        dtype = np.dtype(_DTYPES[meta["dtype"]]).newbyteorder("<")
        arr = np.frombuffer(
            data, dtype=dtype, count=(end - begin) // dtype.itemsize, offset=base + begin
        )
        out[name] = arr.reshape(meta["shape"]).astype(dtype.newbyteorder("="))
    return out


# --- tokenizer ---------------------------------------------------------------------------------


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


class WordPieceTokenizer:
    """BERT's uncased tokenizer (what ``tokenizer.json`` of all-MiniLM-L6-v2 describes)."""

    def __init__(self, vocab_path: str | Path, max_chars_per_word: int = 100) -> None:
        words = Path(vocab_path).read_text(encoding="utf-8").split("\n")
        if words and words[-1] == "":
            words.pop()
        self.vocab = {w: i for i, w in enumerate(words)}
        self.max_chars = max_chars_per_word
        self.cls = self.vocab["[CLS]"]
        self.sep = self.vocab["[SEP]"]
        self.unk = self.vocab["[UNK]"]
        self.pad = self.vocab["[PAD]"]

    def _normalize(self, text: str) -> str:
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_whitespace(ch):
                out.append(" ")
            elif _is_cjk(cp):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        text = "".join(out).lower()
        text = unicodedata.normalize("NFD", text)
        return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")

    def _words(self, text: str) -> list[str]:
        words: list[str] = []
        for chunk in self._normalize(text).split():
            current = ""
            for ch in chunk:
                if _is_punctuation(ch):
                    if current:
                        words.append(current)
                        current = ""
                    words.append(ch)
                else:
                    current += ch
            if current:
                words.append(current)
        return words

    def _pieces(self, word: str) -> list[int]:
        if len(word) > self.max_chars:
            return [self.unk]
        ids = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> list[int]:
        """Token ids with [CLS] ... [SEP], truncated to ``max_tokens`` in all."""
        ids: list[int] = []
        for word in self._words(text):
            ids.extend(self._pieces(word))
        return [self.cls, *ids[: max_tokens - 2], self.sep]


# --- encoder -----------------------------------------------------------------------------------


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), enough for float32 activations.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


class SentenceEncoder:
    """all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide, 12 heads) as numpy matrix products."""

    def __init__(self, model_dir: str | Path) -> None:
        model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.w = load_safetensors(model_dir / "model.safetensors")
        self.tokenizer = WordPieceTokenizer(model_dir / "vocab.txt")
        for i in range(self.layers):  # pre-transpose dense weights once: x @ W
            for name in (
                "attention.self.query",
                "attention.self.key",
                "attention.self.value",
                "attention.output.dense",
                "intermediate.dense",
                "output.dense",
            ):
                key = f"encoder.layer.{i}.{name}.weight"
                self.w[key] = np.ascontiguousarray(self.w[key].T)

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"] + self.w[name + ".bias"]

    def _ln(self, x: np.ndarray, name: str) -> np.ndarray:
        return _layer_norm(x, self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states (batch, tokens, 384) of padded ``ids`` with 0/1 ``mask``."""
        w = self.w
        batch, n = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = self._ln(x, "embeddings.LayerNorm")
        hidden = x.shape[-1]
        hd = hidden // self.heads
        bias = (1.0 - mask[:, None, None, :].astype(np.float32)) * np.float32(
            np.finfo(np.float32).min
        )
        scale = np.float32(1.0 / np.sqrt(hd))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, n, self.heads, hd).transpose(0, 2, 1, 3)

            q = split(self._dense(x, p + "attention.self.query"))
            k = split(self._dense(x, p + "attention.self.key"))
            v = split(self._dense(x, p + "attention.self.value"))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, n, hidden)
            x = self._ln(
                x + self._dense(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm"
            )
            h = _gelu(self._dense(x, p + "intermediate.dense"))
            x = self._ln(x + self._dense(h, p + "output.dense"), p + "output.LayerNorm")
        return x

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors."""
        encoded = [self.tokenizer.encode(t) for t in texts]
        out = np.zeros((len(encoded), DIM), np.float32)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        for s in range(0, len(order), batch_size):
            chunk = order[s : s + batch_size]
            n = max(len(encoded[i]) for i in chunk)
            ids = np.zeros((len(chunk), n), np.int64)
            mask = np.zeros((len(chunk), n), np.int64)
            for row, i in enumerate(chunk):
                ids[row, : len(encoded[i])] = encoded[i]
                mask[row, : len(encoded[i])] = 1
            hidden = self.forward(ids, mask)
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[chunk] = pooled / norms
        return out


_ENCODER: SentenceEncoder | None = None
_LOCK = threading.Lock()


def encoder(model_dir: str | Path | None = None) -> SentenceEncoder:
    """The shared encoder (weights fetched into the model store on first use)."""
    global _ENCODER
    with _LOCK:
        if model_dir is not None:
            return SentenceEncoder(model_dir)
        if _ENCODER is None:
            from moviola import models

            _ENCODER = SentenceEncoder(Path(models.ensure(MODEL_ID)).parent)
        return _ENCODER


def embed(texts: str | Sequence[str]) -> np.ndarray:
    """Unit-length 384-d float32 embeddings of one text (1-D) or several (2-D)."""
    if isinstance(texts, str):
        return encoder().encode([texts])[0]
    return encoder().encode(list(texts))
