"""Sentence embeddings (analysis/embed.py): the model's tokenizer.json read by `tokenizers`
gives BERT uncased WordPiece ids, and the ONNX encoder puts paraphrases close together."""

from __future__ import annotations

import numpy as np

from moviola.analysis import embed as E

# Token ids of moviola's former hand-written BERT WordPiece tokenizer (vocab.txt of the same
# model): accents stripped, CJK split per character, punctuation split, unknown pieces [UNK].
IDS = {
    "Crème brûlée at the café in Zürich": [
        101, 13675, 21382, 7987, 9307, 2063, 2012, 1996, 7668, 1999, 10204, 102,
    ],
    "北京欢迎你, 東京タワーの夜景": [
        101, 1781, 1755, 100, 100, 100, 1010, 1879, 1755, 1709, 30262, 30265, 30197, 100, 100, 102,
    ],
    "C'est l'été... n'est-ce pas?!": [
        101, 1039, 1005, 9765, 1048, 1005, 3802, 2063, 1012, 1012, 1012, 1050, 1005, 9765, 1011,
        8292, 14674, 1029, 999, 102,
    ],
    'a (very) long—dash; "quotes" & #1 @home $5 100%': [
        101, 1037, 1006, 2200, 1007, 2146, 1517, 11454, 1025, 1000, 16614, 1000, 1004, 1001, 1015,
        1030, 2188, 1002, 1019, 2531, 1003, 102,
    ],
    "tab\tand\nnewline, emoji 🎬 film": [
        101, 21628, 1998, 2047, 4179, 1010, 7861, 29147, 2072, 100, 2143, 102,
    ],
    "supercalifragilisticexpialidocious": [
        101, 3565, 9289, 10128, 29181, 24411, 4588, 10288, 19312, 21273, 10085, 6313, 102,
    ],
}  # fmt: skip

# The sentences of the measurement in analysis/embed.py's docstring (numpy vs ONNX Runtime).
SENTENCES = [
    *IDS,
    "close-up of a face at night",
    "wide static shot, 5 people, tags: person, car",
    "Héllo, wörld! Don't 東京 3.5km",
    "naïve résumé façade",
    "서울의 밤거리",
    "Привет, мир!",
    "¿Dónde está la biblioteca?",
    "UPPER CASE SHOUTING",
    "medium shot, handheld camera, warm light",
    "mid-key lighting, olive and light gray and gray tones",
    "a dog runs across a snowy field",
    "3.14159 2,718 1e-9 0x1F",
    "",
    "x" * 300,
]
LONG = ["word " * 600, " ".join(f"token{i}" for i in range(3000))]


def test_token_ids_match_bert_wordpiece():
    tok = E.encoder().tokenizer
    got = E.tokenize(tok, list(IDS))
    for text, ids in zip(IDS, got, strict=True):
        assert ids == IDS[text], text


def test_long_inputs_are_cut_at_256_tokens():
    tok = E.encoder().tokenizer
    for ids in E.tokenize(tok, LONG):
        assert len(ids) == E.MAX_TOKENS
        assert ids[0] == 101 and ids[-1] == 102  # [CLS] ... [SEP]


def test_paraphrase_is_closer_than_an_unrelated_sentence():
    v = E.embed(
        [
            "a man walks his dog in the park",
            "someone is walking a dog through a park",
            "a plate of spaghetti on a kitchen table",
        ]
    )
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3
    # order and batch composition do not change a sentence's vector
    np.testing.assert_allclose(E.embed(SENTENCES)[::-1], E.embed(SENTENCES[::-1]), atol=1e-5)
