"""Sentence embeddings (all-MiniLM-L6-v2 in ONNX Runtime), the SQLite shot library,
`moviola index` and `moviola search` on a small folder of real footage."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import av
import numpy as np
import pytest
from helpers import moviola_cli

from moviola.analysis import embed as E
from moviola.analysis.library import Filters, Library
from moviola.errors import MoviolaError
from moviola.media.reader import VideoReader

# sentence-transformers 6.2.0 (torch 2.13 CPU) on the same model files, normalize_embeddings=True:
# the first 6 components of each sentence's vector, and their dot product.
REFERENCE = {
    "close-up of a face at night": [0.0098, 0.0586, 0.0089, 0.0545, -0.0212, -0.0334],
    "wide static shot, 5 people, tags: person, car": [
        -0.0392,
        0.0298,
        -0.0155,
        -0.0522,
        0.0704,
        0.0332,
    ],
}
REFERENCE_DOT = 0.15185  # dot product of the two reference vectors


def test_tokenizer_matches_bert_uncased():
    tok = E.encoder().tokenizer
    ids = E.tokenize(tok, ["Héllo, wörld! Don't 東京 3.5km"])[0]
    words = [tok.id_to_token(i) for i in ids]
    assert words == [
        "[CLS]",
        "hello",
        ",",
        "world",
        "!",
        "don",
        "'",
        "t",
        "東",
        "京",
        "3",
        ".",
        "5",
        "##km",
        "[SEP]",
    ]
    assert len(E.tokenize(tok, ["word " * 600])[0]) == E.MAX_TOKENS


def test_embeddings_match_sentence_transformers():
    texts = list(REFERENCE)
    vecs = E.embed(texts)
    assert vecs.shape == (2, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    for v, want in zip(vecs, REFERENCE.values(), strict=True):
        np.testing.assert_allclose(v[:6], want, atol=2e-4)
    assert float(vecs[0] @ vecs[1]) == pytest.approx(REFERENCE_DOT, abs=1e-4)
    # batching and padding do not change a sentence's vector
    alone = E.embed(texts[0])
    np.testing.assert_allclose(alone, vecs[0], atol=1e-5)
    sims = E.embed(["a close-up of a face", "a face in close-up", "a wide shot of a field"])
    assert sims[0] @ sims[1] > sims[0] @ sims[2] + 0.2


def _write_clip(src: Path, dst: Path, first: int, last: int, width: int) -> None:
    with VideoReader(src) as reader, av.open(str(dst), "w") as out:
        rate = reader.stream_info.rate
        stream = out.add_stream("libx264", rate=rate)
        h = reader.stream_info.height * width // reader.stream_info.width // 2 * 2
        stream.width, stream.height, stream.pix_fmt = width, h, "yuv420p"
        stream.options = {"crf": "20", "preset": "ultrafast"}
        for i, frame in enumerate(reader):
            if i > last:
                break
            if i >= first:
                vf = av.VideoFrame.from_ndarray(frame.image, format="rgb24").reformat(width, h)
                out.mux(stream.encode(vf))
        out.mux(stream.encode())


@pytest.fixture(scope="module")
def footage(tmp_path_factory, real_footage, megamind) -> Path:
    """street.mp4: 6 s of vtest (one wide static shot of pedestrians); faces.mp4: the last two
    shots of Megamind (a close shot of a woman, then a close-up of a man)."""
    folder = tmp_path_factory.mktemp("footage")
    _write_clip(real_footage, folder / "street.mp4", 0, 59, 384)
    _write_clip(megamind, folder / "faces.mp4", 154, 269, 360)
    return folder


@pytest.fixture(scope="module")
def library(footage, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("db") / "lib.sqlite"
    r = moviola_cli("index", footage, "--db", db, "--json")  # TransNetV2 shots
    assert r.returncode == 0, r.stderr
    counts = json.loads(r.stdout)
    assert counts["indexed"] == 2 and counts["failed"] == 0
    return db


def _search(db: Path, *args) -> list[dict]:
    r = moviola_cli("search", *args, "--db", db, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_index_stores_shots(library):
    with Library(library) as lib:
        files = {Path(f["path"]).name: f for f in lib.files()}
        assert set(files) == {"street.mp4", "faces.mp4"}
        assert files["street.mp4"]["shots"] == 1
        assert files["faces.mp4"]["shots"] >= 2  # the cut at Megamind's frame 200
    rows = (
        sqlite3.connect(library)
        .execute("SELECT summary, length(embedding), description FROM shots")
        .fetchall()
    )
    assert all(n == 384 * 4 for _, n, _ in rows)
    assert all(json.loads(desc)["summary"] == summary for summary, _, desc in rows)


def test_search_ranks_expected_shot_first(library):
    hits = _search(library, "close-up of a face at night")
    assert Path(hits[0]["path"]).name == "faces.mp4"
    assert hits[0]["description"]["scale"] in ("close-up", "extreme close-up")
    assert hits[0]["score"] >= hits[0]["similarity"] > 0.2
    text = moviola_cli(
        "search", "wide shot of people walking outside", "--db", library, "--limit", "2"
    )
    assert text.returncode == 0, text.stderr
    first, second = text.stdout.splitlines()[0], text.stdout.splitlines()[2]
    assert "street.mp4" in first and "00:00:00:00" in first
    assert float(first.split()[1]) > float(second.split()[1])
    assert "  3. " not in text.stdout


def _names(hits) -> list[str]:
    return [Path(h.path).name for h in hits]


def test_search_filters(library):
    with Library(library) as lib:
        close = lib.search("", Filters(scale=["close-up", "extreme close-up"]))
        assert close and set(_names(close)) == {"faces.mp4"}
        assert _names(lib.search("people", Filters(people="3+"))) == ["street.mp4"]
        assert _names(lib.search("people", Filters(people="0-1"))) == _names(
            lib.search("people", Filters(path="faces"))
        )
        assert _names(lib.search("car", Filters(tags=["car", "person"]))) == ["street.mp4"]
        assert lib.search("anything", Filters(motion=["pan"])) == []
        # street.mp4 is one 6 s shot; Megamind's are under 3 s
        assert _names(lib.search("", Filters(min_duration=4))) == ["street.mp4"]
        short = lib.search("", Filters(max_duration=4))
        assert set(_names(short)) == {"faces.mp4"} and all(h.duration <= 4 for h in short)
        assert len(lib.search("face", limit=1)) == 1
    r = moviola_cli("search", "x", "--db", library, "--people", "many")
    assert r.returncode == 2 and "--people" in r.stderr
    r = moviola_cli("search", "x", "--db", library.parent / "none.sqlite")
    assert r.returncode == 2 and "moviola index" in r.stderr


def test_query_hints():
    from moviola.analysis.library import hint_bonus, query_hints

    hints = query_hints("Extreme close-up of a face at night, camera panning")
    assert hints == {"scale": "extreme close-up", "motion": "pan", "key": "low-key", "who": "face"}
    assert query_hints("an extremely wide establishing shot")["scale"] == "extreme wide"
    desc = {
        "scale": "close-up",
        "camera_motion": "pan",
        "faces": 1,
        "people": 1,
        "lighting": {"key": "low-key", "color_temperature": "warm"},
        "tags": ["cup"],
    }
    assert hint_bonus(hints, desc, {"cup"}) == pytest.approx(0.05 + 0.1 + 0.1 + 0.1 + 0.1)


def test_reindex_skips_unchanged_and_replaces_changed(library, footage, tmp_path):
    db = tmp_path / "copy.sqlite"
    db.write_bytes(library.read_bytes())
    with Library(db) as lib:
        before = {Path(f["path"]).name: f for f in lib.files()}
        counts = lib.index_folder(footage)
        assert counts["skipped"] == 2 and counts["indexed"] == counts["updated"] == 0
        street = footage / "street.mp4"
        st = street.stat()
        os.utime(street, (st.st_atime, st.st_mtime + 10))
        try:
            counts = lib.index_folder(footage)
        finally:
            os.utime(street, (st.st_atime, st.st_mtime))
        assert counts["updated"] == 1 and counts["skipped"] == 1
        after = {Path(f["path"]).name: f for f in lib.files()}
        assert after["street.mp4"]["mtime"] == st.st_mtime + 10
        assert after["street.mp4"]["shots"] == before["street.mp4"]["shots"]
        n = lib.conn.execute("SELECT COUNT(*) FROM shots").fetchone()[0]
        assert n == sum(f["shots"] for f in after.values())  # old rows replaced, not added


def test_library_errors(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a database" * 100)
    with pytest.raises(MoviolaError, match="not a moviola library"):
        Library(bad)
    with Library(tmp_path / "new.sqlite") as lib:
        assert lib.search("anything") == []
        with pytest.raises(MoviolaError, match="not a folder"):
            lib.index_folder(tmp_path / "nowhere")
        with pytest.raises(MoviolaError, match="--people"):
            lib.search("x", Filters(people="lots"))
