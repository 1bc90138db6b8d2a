"""Search by what a shot looks like (analysis/clip.py), on stand-ins with the interfaces of the
ONNX CLIP towers the store fetches (vision: pixel_values N x 3 x 224 x 224 -> image_embeds
N x 512; text: input_ids and attention_mask N x 77 -> text_embeds N x 512) and a small word-level
tokenizer.json. The stand-in vision tower embeds a picture's mean colour; the text tower maps
"sunset" to red, "forest" to green and "ocean" to blue, words no shot summary contains, so the
tests see CLIP's part of the ranking alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import save_onnx, stand_in_model

from moviola import models
from moviola.analysis import clip

WORDS = {"<|endoftext|>": 0, "[UNK]": 1, "sunset": 2, "forest": 3, "ocean": 4}


def _basis() -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(512, 3)))
    return q.T.astype(np.float32)  # 3 x 512, orthonormal rows: red, green, blue directions


def build_stand_ins(folder: Path) -> dict[str, Path]:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    w = _basis()
    vis = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["pixel_values"], ["m"], axes=[2, 3], keepdims=0),
            helper.make_node("MatMul", ["m", "w"], ["image_embeds"]),
        ],
        "vision",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["n", 3, 224, 224])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["n", 512])],
        [numpy_helper.from_array(w, "w")],
    )
    table = np.zeros((len(WORDS), 512), np.float32)
    table[WORDS["sunset"]], table[WORDS["forest"]], table[WORDS["ocean"]] = w
    txt = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "input_ids"], ["vectors"]),
            helper.make_node("ReduceSum", ["vectors", "axis1"], ["text_embeds"], keepdims=0),
            helper.make_node("Identity", ["attention_mask"], ["mask_seen"]),
        ],
        "text",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["n", "s"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["n", "s"]),
        ],
        [
            helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["n", 512]),
            helper.make_tensor_value_info("mask_seen", TensorProto.INT64, ["n", "s"]),
        ],
        [
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        ],
    )
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers import models as tmodels

    tok = Tokenizer(tmodels.WordLevel(WORDS, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(folder / "tokenizer.json"))
    return {
        "vision.onnx": save_onnx(vis, folder / "vision.onnx"),
        "text.onnx": save_onnx(txt, folder / "text.onnx"),
        "tokenizer.json": folder / "tokenizer.json",
    }


@pytest.fixture
def fetched_clip(tmp_path, monkeypatch):
    built = build_stand_ins(tmp_path / "stand-ins")
    clip._shared.clear()
    with stand_in_model(clip.CLIP_MODEL, built, tmp_path / "home", monkeypatch) as real:
        yield real
    clip._shared.clear()


def test_preprocessing_is_clips_crop_and_normalisation():
    image = np.zeros((200, 400, 3), np.uint8)
    image[:, :50] = (255, 0, 0)  # a red band on the left, cropped away
    image[:, 50:] = (0, 0, 255)
    x = clip.preprocess(image)
    assert x.shape == (3, 224, 224) and x.dtype == np.float32
    blue = (np.array([0, 0, 1], np.float32) - clip.MEAN) / clip.STD
    assert np.allclose(x[:, 112, 112], blue, atol=1e-3)  # the centre: blue
    assert np.allclose(x[:, 112, 0], blue, atol=0.05)  # the red band lies outside the crop


def test_encoder_tokenises_pads_and_embeds_in_one_space(fetched_clip):
    enc = clip.encoder()
    assert enc is not None
    ids = enc.tokenizer.encode("ocean " * 200).ids
    assert len(ids) == clip.CONTEXT  # truncated
    assert enc.tokenizer.encode("ocean").ids[1:] == [0] * (clip.CONTEXT - 1)  # padded
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
