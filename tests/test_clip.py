"""Search by what a shot looks like (analysis/clip.py), on stand-ins with the interfaces of the
ONNX CLIP towers the store fetches (vision: pixel_values N x 3 x 224 x 224 -> image_embeds
N x 512; text: input_ids N x 77, with or without attention_mask, -> text_embeds N x 512) and a
tokenizer.json in CLIP's structure (NFC, whitespace and lower-case normaliser, CLIP's split
pattern, byte-level BPE with </w> word ends, <|startoftext|> ... <|endoftext|> added around the
words, those two the largest ids) over a small vocabulary. No real CLIP file runs here.

The stand-in vision tower embeds a picture's mean (normalised) colour; the text tower maps
"sunset" to red, "forest" to green and "ocean" to blue, words no shot summary contains, so the
tests see CLIP's part of the ranking alone. <|endoftext|> carries a fourth, unrelated direction:
a text tower that pooled over the padding, or anywhere but the first end token, would drown the
word in it. One text tower pools at argmax(input_ids) as transformers' CLIP export does; the
other sums the tokens its attention_mask keeps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import save_onnx, stand_in_model

from moviola import models
from moviola.analysis import clip

COLOUR_WORDS = ("sunset", "forest", "ocean")  # red, green, blue
END_WEIGHT = 0.3  # the length of <|endoftext|>'s vector
SPLIT = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def _basis() -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(512, 4)))
    return q.T.astype(np.float32)  # 4 x 512 orthonormal rows: red, green, blue, the end token's


def build_tokenizer(path: Path) -> dict[str, int]:
    """A tokenizer.json in CLIP's structure; returns its vocabulary."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, processors
    from tokenizers import pre_tokenizers as pre
    from tokenizers.models import BPE

    alphabet = sorted(pre.ByteLevel.alphabet())
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    vocab.update({ch + "</w>": len(alphabet) + i for i, ch in enumerate(alphabet)})
    merges = []
    for word in COLOUR_WORDS:  # merged letter by letter, as CLIP's merges build its words
        built = word[0]
        for k, ch in enumerate(word[1:], 1):
            piece = ch + ("</w>" if k == len(word) - 1 else "")
            merges.append((built, piece))
            built += piece
            vocab.setdefault(built, len(vocab))
    bos, eos = "<|startoftext|>", "<|endoftext|>"
    vocab[bos], vocab[eos] = len(vocab), len(vocab) + 1
    tok = Tokenizer(
        BPE(vocab, merges, unk_token=eos, end_of_word_suffix="</w>", continuing_subword_prefix="")
    )
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre.Sequence(
        [
            pre.Split(Regex(SPLIT), behavior="removed", invert=True),
            pre.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.post_processor = processors.RobertaProcessing(
        (eos, vocab[eos]), (bos, vocab[bos]), trim_offsets=False, add_prefix_space=False
    )
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(bos, special=True), AddedToken(eos, special=True)])
    tok.save(str(path))
    return vocab


def build_stand_ins(folder: Path, text_pooling: str = "mask") -> dict[str, Path]:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    w = _basis()
    vis = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["pixel_values"], ["m"], axes=[2, 3], keepdims=0),
            helper.make_node("MatMul", ["m", "w3"], ["image_embeds"]),
        ],
        "vision",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["n", 3, 224, 224])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["n", 512])],
        [numpy_helper.from_array(w[:3], "w3")],
    )
    vocab = build_tokenizer(folder / "tokenizer.json")
    table = np.zeros((len(vocab), 512), np.float32)
    for word, direction in zip(COLOUR_WORDS, w[:3], strict=True):
        table[vocab[word + "</w>"]] = direction
    table[vocab["<|endoftext|>"]] = END_WEIGHT * w[3]
    consts = [
        numpy_helper.from_array(table, "table"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        numpy_helper.from_array(np.array(1, np.int64), "one"),
        numpy_helper.from_array(np.array(0, np.int64), "zero"),
        numpy_helper.from_array(np.array([2], np.int64), "axis2"),
    ]
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["n", "s"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["n", "s"])
    if text_pooling == "mask":  # the sum of the tokens the mask keeps
        nodes = [
            helper.make_node("Gather", ["table", "input_ids"], ["vectors"]),
            helper.make_node("Cast", ["attention_mask"], ["keep"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["keep", "axis2"], ["keep3"]),
            helper.make_node("Mul", ["vectors", "keep3"], ["kept"]),
            helper.make_node("ReduceSum", ["kept", "axis1"], ["text_embeds"], keepdims=0),
        ]
        inputs = [ids, mask]
    else:  # transformers' CLIP text tower: the causal state at argmax(input_ids)
        nodes = [
            helper.make_node("Gather", ["table", "input_ids"], ["vectors"]),
            helper.make_node("CumSum", ["vectors", "one"], ["states"]),
            helper.make_node("Cast", ["input_ids"], ["ids32"], to=TensorProto.INT32),
            helper.make_node("ArgMax", ["ids32"], ["at"], axis=1, keepdims=1),
            helper.make_node("Shape", ["input_ids"], ["shape"]),
            helper.make_node("Gather", ["shape", "one"], ["length"], axis=0),
            helper.make_node("Range", ["zero", "length", "one"], ["positions"]),
            helper.make_node("Equal", ["positions", "at"], ["here"]),
            helper.make_node("Cast", ["here"], ["pick"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["pick", "axis2"], ["pick3"]),
            helper.make_node("Mul", ["states", "pick3"], ["picked"]),
            helper.make_node("ReduceSum", ["picked", "axis1"], ["text_embeds"], keepdims=0),
        ]
        inputs = [ids]
    txt = helper.make_graph(
        nodes,
        "text",
        inputs,
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["n", 512])],
        consts,
    )
    return {
        "vision.onnx": save_onnx(vis, folder / "vision.onnx"),
        "text.onnx": save_onnx(txt, folder / "text.onnx"),
        "tokenizer.json": folder / "tokenizer.json",
    }


@pytest.fixture(params=["mask", "eos"])
def fetched_clip(request, tmp_path, monkeypatch):
    built = build_stand_ins(tmp_path / "stand-ins", request.param)
    clip._shared.clear()
    with stand_in_model(clip.CLIP_MODEL, built, tmp_path / "home", monkeypatch) as real:
        yield real
    clip._shared.clear()


@pytest.fixture
def unfetched_clip(tmp_path, monkeypatch):
    """The stand-ins registered in an empty cache: `models.fetch` brings them."""
    built = build_stand_ins(tmp_path / "stand-ins", "eos")
    clip._shared.clear()
    with stand_in_model(clip.CLIP_MODEL, built, tmp_path / "home", monkeypatch, fetch=False):
        yield
    clip._shared.clear()


def _pixels(x: np.ndarray) -> np.ndarray:
    """preprocess's output back to 0..255 RGB, H x W x 3."""
    return (x.transpose(1, 2, 0) * clip.STD + clip.MEAN) * 255


def test_preprocessing_is_clips_resize_crop_and_normalisation():
    rng = np.random.default_rng(0)
    exact = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)  # no resize, no crop
    want = ((exact.astype(np.float32) / 255 - clip.MEAN) / clip.STD).transpose(2, 0, 1)
    got = clip.preprocess(exact)
    assert got.shape == (3, 224, 224) and got.dtype == np.float32
    assert np.allclose(got, want, atol=1e-6)
    alpha = np.dstack([exact, np.full((224, 224), 7, np.uint8)])
    assert np.array_equal(clip.preprocess(alpha), got)  # RGBA: the alpha is dropped
    # short side 224, long side int(224 * long / short), as transformers' processor rounds
    assert clip.resized_size(1920, 1080) == (398, 224)
    assert clip.resized_size(1080, 1920) == (224, 398)
    assert clip.resized_size(299, 300) == (224, 224)
    # centre crop at (448 - 224) // 2 = 112: the red quarter ends at 112, only column 0 sees it
    bands = np.zeros((448, 896, 3), np.uint8)
    bands[:, :224] = (255, 0, 0)
    bands[:, 224:] = (0, 0, 255)
    px = _pixels(clip.preprocess(bands))
    assert np.allclose(px[:, 1:], (0, 0, 255), atol=1e-3)
    assert px[:, 0, 0].min() > 10  # the bicubic kernel's reach across the band's edge
    # shrunk 4x with a widened (antialiasing) kernel, as Pillow does: one-in-four white
    # columns become their mean grey; cv2's INTER_CUBIC samples between them and gives black
    lines = np.zeros((896, 896, 3), np.uint8)
    lines[:, ::4] = 255
    assert np.allclose(_pixels(clip.preprocess(lines))[:, 4:-4], 64, atol=1e-3)


def test_tokenizer_pads_with_the_end_token_and_keeps_it_when_truncating(fetched_clip):
    enc = clip.encoder()
    assert enc is not None
    start, end = (
        enc.tokenizer.token_to_id("<|startoftext|>"),
        enc.tokenizer.token_to_id("<|endoftext|>"),
    )
    ocean = enc.tokenizer.token_to_id("ocean</w>")
    short = enc.tokenizer.encode("  Ocean ")
    assert short.ids == [start, ocean] + [end] * (clip.CONTEXT - 2)
    assert short.attention_mask == [1, 1, 1] + [0] * (clip.CONTEXT - 3)
    long = enc.tokenizer.encode("ocean " * 200)
    assert long.ids == [start] + [ocean] * (clip.CONTEXT - 2) + [end]
    # pooled at the first end token (or over the kept tokens): the word, not the padding
    blue = _basis()[2]
    texts = enc.texts(["ocean", "OCEAN!", "ocean " * 200])
    assert np.allclose(np.linalg.norm(texts, axis=1), 1, atol=1e-5)
    assert texts[0] @ blue == pytest.approx(1 / np.hypot(1, END_WEIGHT), abs=1e-5)
    assert texts[2] @ blue > 0.99  # 75 oceans and one end token
    assert texts[1] @ blue > 0.8  # lower-cased; "!" is a token of its own


def test_encoder_embeds_pictures_and_words_in_one_space(fetched_clip):
    enc = clip.encoder()
    assert enc is not None
    red = np.zeros((50, 60, 3), np.uint8)
    red[..., 0] = 230
    blue = np.zeros((50, 60, 3), np.uint8)
    blue[..., 2] = 230
    images = enc.images([red, blue])
    texts = enc.texts(["sunset", "ocean"])
    assert np.allclose(np.linalg.norm(images, axis=1), 1, atol=1e-5)
    sims = images @ texts.T
    assert sims[0, 0] > 0.5 > sims[0, 1] and sims[1, 1] > 0.5 > sims[1, 0]
    assert clip.look_score(np.array([0.10, 0.25, 0.40])).tolist() == pytest.approx([0, 0.45, 1.0])
    assert np.allclose(clip.unpack(clip.pack(images[0])), images[0], atol=1e-3)


def _three_shots(path: Path) -> None:
    import av

    colours = [(220, 40, 30), (30, 200, 50), (30, 60, 220)]
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for colour in colours:
            for _ in range(25):
                frame = np.clip(np.array(colour) + rng.normal(0, 8, (120, 160, 3)), 0, 255).astype(
                    np.uint8
                )
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_search_finds_shots_by_what_they_look_like(tmp_path, fetched_clip):
    from moviola.analysis.library import Library

    video = tmp_path / "colours.mp4"
    _three_shots(video)
    with Library(tmp_path / "lib.sqlite") as lib:
        status, n = lib.index_file(video, fast=True, speech=False)
        assert status == "indexed" and n == 3
        hits = lib.search("ocean", limit=3)
        assert [h.index for h in hits][0] == 2 and hits[0].score > 0.85  # the blue shot
        assert "image_embedding" in hits[0].description
        assert lib.search("forest", limit=1)[0].index == 1
        assert lib.search("sunset", limit=1)[0].index == 0
        models.remove(clip.CLIP_MODEL)  # without the model: the text scores alone
        clip._shared.clear()
        assert lib.search("ocean", limit=1)[0].score < 0.5


def test_a_library_indexed_without_the_model_gets_the_looks_once_it_is_fetched(
    tmp_path, unfetched_clip
):
    from moviola.analysis.library import Library

    video = tmp_path / "colours.mp4"
    _three_shots(video)
    with Library(tmp_path / "lib.sqlite") as lib:
        assert lib.index_file(video, fast=True, speech=False) == ("indexed", 3)
        assert all("image_embedding" not in h.description for h in lib.search("", limit=9))
        assert lib.search("ocean", limit=1)[0].score < 0.5  # as before the feature
        assert lib.index_file(video, fast=True, speech=False) == ("skipped", 0)  # no model
        summaries = [h.description["summary"] for h in lib.search("", limit=9)]
        models.fetch(clip.CLIP_MODEL)
        assert lib.index_file(video, fast=True, speech=False) == ("updated", 3)  # looks only
        hits = lib.search("ocean", limit=3)
        assert hits[0].index == 2 and hits[0].score > 0.85
        assert lib.search("sunset", limit=1)[0].index == 0
        assert [h.description["summary"] for h in lib.search("", limit=9)] == summaries
        assert lib.index_file(video, fast=True, speech=False) == ("skipped", 0)  # done once


def test_the_frame_the_upgrade_embeds_is_the_one_describe_embeds():
    from fractions import Fraction

    from moviola.analysis.describe import _plan
    from moviola.analysis.model import Shot

    for start, end in [(0, 0), (5, 6), (10, 12), (0, 24), (100, 399)]:
        shot = Shot(0, start, end, Fraction(start, 25), Fraction(end + 1, 25))
        assert clip.middle_frame(start, end) == _plan(shot, 3, 12, 2).middle, (start, end)


def test_the_command_line_says_when_nothing_matches(tmp_path, fetched_clip, capsys):
    from moviola.cli import main

    video = tmp_path / "colours.mp4"
    _three_shots(video)
    db = str(tmp_path / "lib.sqlite")
    assert main(["index", str(tmp_path), "--db", db, "--fast", "--no-speech", "-q"]) == 0
    capsys.readouterr()
    assert main(["search", "zebra", "--db", db]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no good match for 'zebra'")
    assert main(["search", "ocean", "--db", db, "--json"]) == 0
    best = json.loads(capsys.readouterr().out)[0]
    assert best["shot"] == 2 and best["score"] > 0.85


def test_search_help_says_how_to_get_the_model(capsys):
    from moviola.cli import main

    with pytest.raises(SystemExit):
        main(["search", "--help"])
    assert "moviola models fetch clip-vit-b32" in " ".join(capsys.readouterr().out.split())
