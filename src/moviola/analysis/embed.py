"""Sentence embeddings for text search: all-MiniLM-L6-v2 in ONNX Runtime.

The model store entry ``all-minilm-l6-v2`` converts the published safetensors weights to ONNX
on fetch (:mod:`moviola.models.minilm`: the BERT encoder with the attention-masked mean pooling
and L2 normalisation sentence-transformers applies to this model) and keeps the model's own
``tokenizer.json`` beside it, which the ``tokenizers`` library reads (BERT uncased WordPiece).
Inputs are truncated at 256 tokens (sentence_bert_config.json's max_seq_length; the
tokenizer.json itself says 128). Checked against sentence-transformers' own output in
tests/test_search.py's reference figures.

This replaced a hand-written safetensors reader, WordPiece tokenizer and numpy BERT (commit
df1f698). Measured before removing them, on the cached model folder (which still holds the
safetensors weights and vocab.txt the numpy code read): the same token ids on the 22 texts of
tests/test_embed.py (accents, CJK, punctuation, emoji, inputs of 600 and 3000 words cut at 256
tokens); on its 20 SENTENCES the embeddings differ by at most 2.1e-7 per component, cosine
>= 0.9999997; a batch of 64 short sentences, one thread each on a shared 2-core x86 machine
under load (numpy 2.4, onnxruntime 1.32, tokenizers 0.23): numpy 38 sentences/s, ONNX Runtime
62 sentences/s, best of 3 (the rounds vary by a third under that load). The command::

    git show df1f698:src/moviola/analysis/embed.py > /tmp/numpy_embed.py
    OMP_NUM_THREADS=1 MOVIOLA_THREADS=1 PYTHONPATH=/tmp:tests python -c "
    import time, numpy_embed as old
    from moviola import models; from moviola.analysis import embed as new
    from test_embed import LONG, SENTENCES
    o, n = old.SentenceEncoder(models.model_dir('all-minilm-l6-v2')), new.encoder()
    texts = SENTENCES + LONG
    print(all(o.tokenizer.encode(t) == i for t, i in zip(texts, new.tokenize(n.tokenizer, texts))))
    a, b = o.encode(SENTENCES), n.encode(SENTENCES)
    print(abs(a - b).max(), (a * b).sum(1).min())
    batch = [f'shot {i}: ' + SENTENCES[i % 20][:80] for i in range(64)]
    for e in (o, n) * 3:
        t = time.perf_counter(); e.encode(batch); print(64 / (time.perf_counter() - t))"

Use::

    from moviola.analysis.embed import embed
    vectors = embed(["wide shot of a street", "close-up of a face"])  # (2, 384) float32
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from moviola.models.runtime import Session

MODEL_ID = "all-minilm-l6-v2"
DIM = 384
MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length
ONNX_NAME = "model.onnx"
TOKENIZER_NAME = "tokenizer.json"


def load_tokenizer(path: str | Path) -> Tokenizer:
    """The model's tokenizer from its ``tokenizer.json``: truncated at ``MAX_TOKENS`` tokens
    ([CLS] and [SEP] included), not padded (batches are padded by :func:`encode`)."""
    from moviola.models.convert import require

    tokenizers = require("tokenizers", "analysis")
    tok = tokenizers.Tokenizer.from_file(str(path))
    tok.enable_truncation(MAX_TOKENS)
    tok.no_padding()
    return tok


def tokenize(tokenizer: Tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text, [CLS] ... [SEP], at most ``MAX_TOKENS`` in all."""
    return [list(e.ids) for e in tokenizer.encode_batch(list(texts))]


def encode(
    session: Session, tokenizer: Tokenizer, texts: Sequence[str], batch_size: int = 32
) -> np.ndarray:
    """(len(texts), 384) float32 unit vectors; texts of similar length are batched together."""
    encoded = tokenize(tokenizer, texts)
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
        result = session.run({"input_ids": ids, "attention_mask": mask})
        out[chunk] = result["embedding"]
    return out


class SentenceEncoder:
    """The tokenizer and the ONNX session of one model folder, with :func:`encode` as a method."""

    def __init__(self, model_dir: str | Path) -> None:
        from moviola.models.runtime import open_session

        model_dir = Path(model_dir)
        self.tokenizer = load_tokenizer(model_dir / TOKENIZER_NAME)
        self.session = open_session(model_dir / ONNX_NAME)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors."""
        return encode(self.session, self.tokenizer, texts, batch_size)


_ENCODER: SentenceEncoder | None = None
_LOCK = threading.Lock()


def encoder(model_dir: str | Path | None = None) -> SentenceEncoder:
    """The shared encoder (the model fetched and converted into the store on first use), or
    one for the model folder ``model_dir``."""
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
