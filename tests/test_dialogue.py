"""Dialogue in the editing assistant: words shared out among shots, phrase search, the library
(with its schema upgrade), describe/index/search on real footage with speech, and exports."""

from __future__ import annotations

import json
import sqlite3
from fractions import Fraction
from pathlib import Path

import cv2
import pytest

from moviola.analysis.dialogue import attach_dialogue, find_phrase
from moviola.analysis.export.tables import describe
from moviola.analysis.library import Library
from moviola.analysis.model import Shot, ShotList
from moviola.speech.transcript import Segment, Transcript, Word
from tests.helpers import moviola_cli


def _shots(*bounds: tuple[float, float]) -> ShotList:
    rate = Fraction(25)
    shots = [
        Shot(i, round(a * 25), round(b * 25) - 1, Fraction(a), Fraction(b))
        for i, (a, b) in enumerate(bounds)
    ]
    return ShotList("x.mp4", rate, 64, 48, shots[-1].end_frame + 1, shots)


def _transcript(*words: tuple[float, float, str]) -> Transcript:
    ws = [Word(a, b, t, 0.9) for a, b, t in words]
    return Transcript([Segment(ws[0].start, ws[-1].end, "", ws)], "en", "test", 10.0)


def test_words_go_to_the_shot_they_are_said_in():
    shots = _shots((0, 2), (2, 5), (5, 6))
    t = _transcript((0.5, 0.9, " It"), (0.9, 1.2, " was"), (1.9, 2.3, " the"), (2.4, 2.8, " best"))
    attach_dialogue("x.mp4", shots, transcript=t)
    assert shots.shots[0].extra["dialogue"] == "It was"
    assert shots.shots[1].extra["dialogue"] == "the best"  # "the" is mostly after the cut
    assert shots.shots[1].extra["words"][0] == [1.9, 2.3, " the"]
    assert "dialogue" not in shots.shots[2].extra
    assert 'said: "the best"' in describe(shots.shots[1])


def test_find_phrase():
    words = [[0.0, 0.3, " It"], [0.3, 0.5, " was"], [0.5, 0.7, " the"], [0.7, 1.0, " best,"]]
    words += [[1.0, 1.2, " of"], [1.2, 1.6, " times."]]
    share, at, text = find_phrase("best of times", words) or (0, 0, "")
    assert share == 1.0 and at == 0.7 and text == "best, of times."
    share, _, _ = find_phrase("the worst of times", words) or (0, 0, "")
    assert share == 0.75
    assert find_phrase("nothing here", words) is None
    assert find_phrase("", words) is None


def test_schema_1_library_is_upgraded(tmp_path):
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema', '1');"
        "CREATE TABLE shots (id INTEGER PRIMARY KEY, file_id INTEGER, summary TEXT);"
    )
    con.commit()
    con.close()
    with Library(db) as lib:
        cols = {r[1] for r in lib.conn.execute("PRAGMA table_info(shots)")}
        assert {"dialogue", "dialogue_embedding"} <= cols
        assert lib.conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == "2"


@pytest.fixture(scope="module")
def library(megamind, tmp_path_factory) -> Path:
    pytest.importorskip("faster_whisper")
    folder = tmp_path_factory.mktemp("talking")
    (folder / "megamind.avi").symlink_to(megamind)
    db = tmp_path_factory.mktemp("db") / "lib.sqlite"
    r = moviola_cli("index", folder, "--db", db, "--json")
    assert r.returncode == 0, r.stderr
    return db


def test_search_finds_the_shot_and_time_of_what_is_said(library):
    """Megamind's trailer: "You don't judge a book by its cover" is said in the first shot,
    about 1.3 s in; "that seems kind of petty" in the last, about 9.7 s in."""
    r = moviola_cli("search", "judge a book by its cover", "--db", library, "--json")
    hits = json.loads(r.stdout)
    assert hits[0]["shot"] == 0 and hits[0]["score"] == 1.0
    assert 0.8 < hits[0]["said_at"] < 2.0
    assert "book by its cover" in hits[0]["said"]
    r = moviola_cli("search", "that seems petty", "--db", library, "--json")
    hits = json.loads(r.stdout)
    last = max(
        h["shot"]
        for h in json.loads(
            moviola_cli("search", "--db", library, "--json", "--limit", "99").stdout
        )
    )
    assert hits[0]["shot"] == last and 9.0 < hits[0]["said_at"] < 10.5
    assert hits[1]["score"] < 0.6  # the other shots do not say it
    r = moviola_cli("search", "judge a book by its cover", "--db", library)
    assert "said at 1." in r.stdout and "book by its cover" in r.stdout


def test_describe_and_exports_carry_the_dialogue(megamind, tmp_path):
    pytest.importorskip("faster_whisper")
    out = tmp_path / "mm.json"
    r = moviola_cli("describe", megamind, "-o", out, "--fast", "-q")
    assert r.returncode == 0, r.stderr
    shots = json.loads(out.read_text())["shots"]
    said = " ".join(s.get("dialogue", "") for s in shots).lower()
    for phrase in ("judge a book by its cover", "actions", "petty"):
        assert phrase in said
    assert all(w[0] <= w[1] for s in shots for w in s.get("words", []))
    html = tmp_path / "report.html"
    r = moviola_cli("export", megamind, "--shots", out, "-o", html)
    assert r.returncode == 0, r.stderr
    assert "book by its cover" in html.read_text()
    sheet, bare = tmp_path / "sheet.png", tmp_path / "bare.png"
    assert moviola_cli("export", megamind, "--shots", out, "-o", sheet).returncode == 0
    for s in shots:
        s.pop("dialogue", None)
        s.pop("words", None)
    nodial = tmp_path / "nodial.json"
    data = json.loads(out.read_text())
    data["shots"] = shots
    nodial.write_text(json.dumps(data))
    assert moviola_cli("export", megamind, "--shots", nodial, "-o", bare).returncode == 0
    a, b = cv2.imread(str(sheet)), cv2.imread(str(bare))
    assert a.shape[0] > b.shape[0]  # a line of dialogue under each thumbnail
