"""Subtitles: reading (with line-numbered errors), writing, line breaking, retiming, subtitle
tracks, their passage through effects, and `moviola subtitle`."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import moviola
from moviola.errors import MoviolaError
from moviola.media.probe import probe
from moviola.media.splice import frame_times
from moviola.media.subtitles import (
    Cue,
    decode_track,
    format_srt,
    format_vtt,
    mux_subtitles,
    read_subtitles,
    retime,
    split_for_reading,
    wrap_text,
)
from moviola.media.timeline import Timeline
from tests.helpers import moviola_cli

SRT = """1
00:00:00,500 --> 00:00:01,250
Hello <i>there</i>

2
00:00:02,000 --> 00:00:03,000
Two
lines
"""
VTT = """WEBVTT - a title

NOTE a comment
spanning lines

intro
00:00.500 --> 00:01.250 align:start
<v Ann>Hello there

00:00:02.000 --> 00:00:03.000
Two &amp; more
"""


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_read_srt_and_vtt(tmp_path):
    cues = read_subtitles(_write(tmp_path, "a.srt", "\ufeff" + SRT.replace("\n", "\r\n")))
    assert cues == [
        Cue(F(1, 2), F(5, 4), "Hello there"),
        Cue(F(2), F(3), "Two\nlines"),
    ]
    cues = read_subtitles(_write(tmp_path, "a.vtt", VTT))
    assert cues == [Cue(F(1, 2), F(5, 4), "Hello there", "Ann"), Cue(F(2), F(3), "Two & more")]


@pytest.mark.parametrize(
    "name,text,line,what",
    [
        ("b.srt", SRT.replace("00:00:02,000", "00:00:0x,000"), 6, "bad time"),
        ("b.srt", SRT.replace("00:00:03,000", "00:00:01,000"), 6, "ends"),
        ("b.srt", SRT.replace("2\n", "two\n"), 5, "cue number"),
        ("b.srt", SRT.replace(" --> ", " -> "), 2, "START --> END"),
        ("b.srt", SRT.replace("00:00:00,500", "00:61:00,500"), 2, "bad time"),
        ("b.vtt", VTT.replace("WEBVTT", "WEBVT"), 1, "WEBVTT"),
        ("b.vtt", VTT.replace("00:00:02.000 -->", "00:00:02.000 =>"), 10, "START --> END"),
    ],
)
def test_broken_files_name_the_line(tmp_path, name, text, line, what):
    with pytest.raises(MoviolaError, match=f"{name} line {line}: .*{what}"):
        read_subtitles(_write(tmp_path, name, text))


def test_hostile_files_are_refused_quickly(tmp_path):
    with pytest.raises(MoviolaError, match="line 1: not a text file"):
        read_subtitles(_write(tmp_path, "c.srt", "\x00\x01" * 100))
    with pytest.raises(MoviolaError, match="line 3: not UTF-8"):
        read_subtitles(_write(tmp_path, "d.srt", "1\n2\n\xff", "latin-1"))
    big = tmp_path / "e.srt"
    with open(big, "wb") as f:
        f.truncate(25 * 2**20)
    with pytest.raises(MoviolaError, match="too large"):
        read_subtitles(big)
    with pytest.raises(MoviolaError, match="use .srt"):
        read_subtitles(_write(tmp_path, "f.txt", SRT))


def test_write_round_trip(tmp_path):
    cues = [Cue(F(1, 3), F(2), "a < b & c", "S1"), Cue(F(3), F(4, 1), "two\nlines")]
    for name, text in (("r.srt", format_srt(cues)), ("r.vtt", format_vtt(cues))):
        back = read_subtitles(_write(tmp_path, name, text))
        assert [c.text for c in back] == ["a < b & c", "two\nlines"]
        assert back[0].start == F(333, 1000) and back[1].end == 4
    assert read_subtitles(_write(tmp_path, "r.vtt", format_vtt(cues)))[0].speaker == "S1"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text("abcdefghij", min_size=1, max_size=15), min_size=1, max_size=40))
def test_wrap_text_properties(words):
    text = " ".join(words)
    lines = wrap_text(text)
    assert " ".join(lines).split() == text.split()  # no word lost or reordered
    assert all(len(line) <= 42 or " " not in line for line in lines)
    if len(text) <= 42:
        assert lines == [text]
    elif len(text) <= 84 and len(lines) == 2:
        assert abs(len(lines[0]) - len(lines[1])) <= max(len(w) for w in words) + 1  # balanced


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60))
def test_split_for_reading_keeps_words_times_and_limits(n):
    text = " ".join(f"word{i}" for i in range(n))
    cue = Cue(F(1), F(1 + n), text)
    parts = split_for_reading([cue])
    assert " ".join(" ".join(p.text.split()) for p in parts) == text
    assert all(len(p.text.split("\n")) <= 2 for p in parts)
    assert all(len(line) <= 42 for p in parts for line in p.text.split("\n"))
    assert parts[0].start == 1 and parts[-1].end == 1 + n
    assert all(a.end <= b.start for a, b in zip(parts, parts[1:], strict=False))


def test_split_at_word_times():
    words = [(F(i), F(i) + F(1, 2), f" w{i:02d}xxxxxxxx") for i in range(10)]
    parts = split_for_reading([Cue(F(0), F(10), "")], words=words, width=24, max_lines=1)
    assert [p.start for p in parts] == [F(0), F(2), F(4), F(6), F(8)]
    assert parts[1].text == "w02xxxxxxxx w03xxxxxxxx"


def test_retime_follows_trim_and_speed():
    cues = [Cue(F(1), F(2), "a"), Cue(F(3), F(5), "b"), Cue(F(9), F(10), "c")]
    t = Timeline().trimmed(F(4), F(9.5)).sped(F(2))
    assert retime(cues, t) == [Cue(F(0), F(1, 2), "b"), Cue(F(5, 2), F(11, 4), "c")]


@pytest.mark.parametrize("suffix,codec", [(".mp4", "mov_text"), (".mkv", "subrip")])
def test_mux_adds_a_track_and_keeps_the_rest(clips, tmp_path, suffix, codec):
    out = tmp_path / f"subbed{suffix}"
    cues = [Cue(F(1, 2), F(3, 2), "first"), Cue(F(2), F(11, 4), "second\nline")]
    mux_subtitles(clips["ntsc"], cues, out, language="fra", title="French")
    info = probe(out)
    assert [s.codec.replace("srt", "subrip") for s in info.subtitles] == [codec]
    assert info.subtitles[0].language == "fra"
    src = probe(clips["ntsc"])
    assert len(frame_times(out)[0]) == len(frame_times(clips["ntsc"])[0]) and len(info.audio) == 1
    assert src.audio[0].codec == info.audio[0].codec  # copied, not re-encoded
    # times from the first picture (a muxer may shift the picture, e.g. B-frames in Matroska)
    got = decode_track(out, info.subtitles[0].index, info.video[0].start_time)
    assert [(c.text, round(float(c.start), 2), round(float(c.end), 2)) for c in got] == [
        ("first", 0.5, 1.5),
        ("second\nline", 2.0, 2.75),
    ]
    with pytest.raises(MoviolaError, match=".mp4, .mov"):
        mux_subtitles(clips["ntsc"], cues, tmp_path / "x.avi")
    assert not (tmp_path / "x.avi").exists()


@pytest.mark.parametrize(
    "steps,out,want",
    [
        ([("resize", {"width": 64})], "a.mkv", [(0.5, 1.5), (2.0, 2.75)]),
        ([("trim", {"start": "1", "end": "3"})], "b.mp4", [(0.0, 0.5), (1.0, 1.75)]),
        ([("speed", {"factor": 2})], "c.mkv", [(0.25, 0.75), (1.0, 1.375)]),
    ],
)
def test_subtitles_pass_through_effects(clips, tmp_path, steps, out, want):
    subbed = tmp_path / "subbed.mp4"
    cues = [Cue(F(1, 2), F(3, 2), "first"), Cue(F(2), F(11, 4), "second")]
    mux_subtitles(clips["ntsc"], cues, subbed)
    clip = moviola.open(subbed)
    for name, params in steps:
        clip = clip.apply(name, **params)
    clip.save(tmp_path / out)
    info = probe(tmp_path / out)
    assert len(info.subtitles) == 1 and info.subtitles[0].language == "eng"
    got = decode_track(tmp_path / out, info.subtitles[0].index, info.video[0].start_time)
    assert [c.text for c in got] == ["first", "second"]
    for c, (a, b) in zip(got, want, strict=True):
        assert abs(float(c.start) - a) < 0.04 and abs(float(c.end) - b) < 0.04


def test_subtitle_command(clips, tmp_path):
    srt = _write(tmp_path, "s.srt", SRT)
    out = tmp_path / "out.mkv"
    r = moviola_cli("subtitle", clips["ntsc"], "-o", out, "--from", srt, "--language", "de")
    assert r.returncode == 0, r.stderr
    info = probe(out)
    assert info.subtitles[0].codec in ("subrip", "srt") and info.subtitles[0].language == "deu"
    bad = _write(tmp_path, "bad.srt", SRT.replace("00:00:02,000", "00:00:0x,000"))
    r = moviola_cli("subtitle", clips["ntsc"], "-o", tmp_path / "x.mp4", "--from", bad)
    assert r.returncode == 2 and "bad.srt line 6" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.mp4").exists()
    r = moviola_cli(
        "subtitle", clips["ntsc"], "-o", tmp_path / "x.mp4", "--from", srt, "--style", "box"
    )
    assert r.returncode == 2 and "--burn" in r.stderr
