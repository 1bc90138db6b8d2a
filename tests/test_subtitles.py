"""Subtitles: reading (with line-numbered errors), writing, line breaking, retiming, subtitle
tracks, their passage through effects, and `moviola subtitle`."""

from __future__ import annotations

import time
from fractions import Fraction as F

import av
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import moviola
from moviola.errors import MoviolaError
from moviola.media import cues as cues_module
from moviola.media.probe import probe
from moviola.media.splice import frame_times
from moviola.media.subtitles import (
    Cue,
    decode_track,
    format_srt,
    format_vtt,
    mux_subtitles,
    read_subtitles,
    read_tracks,
    retime,
    split_for_reading,
    wrap_text,
    write_srt,
    write_vtt,
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


ASS = (
    "[Events]\n"
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n\n"
    "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,x\n"
)


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


def test_read_vtt_header_lines_srt_without_spaces_and_ass(tmp_path):
    vtt = "WEBVTT\nKind: captions\nLanguage: en\n\nSTYLE\n::cue { color: red }\n\n"
    vtt += "1\n00:01.000 --> 00:02.000 line:0\n<c.big>big</c> <00:01.500>word &lt;3\n"
    assert read_subtitles(_write(tmp_path, "h.vtt", vtt)) == [Cue(F(1), F(2), "big word <3")]
    srt = "1\n00:00:01,000-->00:00:02,5 X1:10 Y1:20\n{\\an8}top & <b>bold</b>\n"
    assert read_subtitles(_write(tmp_path, "n.srt", srt)) == [Cue(F(1), F(5, 2), "top & bold")]
    ass = (
        "[Script Info]\nFormat: ignored\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        "Dialogue: 0,0:00:03.50,0:00:04.00,Default,Bob,0,0,0,,{\\i1}later, then\\Nmore\n"
        "Dialogue: 0,0:00:01.00,0:00:02.25,Default,,0,0,0,,first\n"
    )
    assert read_subtitles(_write(tmp_path, "a.ass", ass)) == [
        Cue(F(1), F(9, 4), "first"),
        Cue(F(7, 2), F(4), "later, then\nmore", "Bob"),
    ]


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
        ("b.vtt", VTT.replace("00:01.250", "00:01.2x0"), 7, "bad time '00:01.2x0'"),
        ("b.srt", SRT.replace("00:00:01,250\n", "\n"), 2, "START --> END"),
        ("b.srt", SRT + "\n3\n", 10, "no times"),
        ("b.ass", "[Events]\nDialogue: 0,0:00:01.00,0:00:02.00,,,0,0,0,,x\n", 2, "Format"),
        ("b.ass", ASS.replace("0:00:02.00", "0:00:0x.00"), 4, "bad Start or End"),
        ("b.ass", ASS.replace("0:00:02.00", "0:00:00.50"), 4, "ends before"),
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


@pytest.mark.parametrize(
    "name,text",
    [  # each made a backtracking pattern take minutes (quadratic in the line's length)
        ("g.srt", "1\n00:00:01,000 --> 00:00:02,000\n" + "<" * 2_000_000 + "\n"),
        ("g.vtt", "WEBVTT\n\n00:01.000 --> 00:02.000\n" + "<v " * 700_000 + "\n"),
        ("g.vtt", "WEBVTT\n\n00:01.000 --> 00:02.000\n<v" + " " * 2_000_000 + "\n"),
        ("g.ass", ASS.replace(",,x", ",," + "{" * 2_000_000)),
        ("g.srt", "1\n" + "0" * 2_000_000 + " --> 00:00:01,000\n"),
    ],
)
def test_pathological_lines_are_read_in_linear_time(tmp_path, name, text):
    began = time.perf_counter()
    try:
        read_subtitles(_write(tmp_path, name, text))
    except MoviolaError as e:
        assert "line 2" in str(e) and len(str(e)) < 200
    assert time.perf_counter() - began < 3


def test_too_many_cues(tmp_path, monkeypatch):
    monkeypatch.setattr(cues_module, "MAX_CUES", 3)
    text = "".join(f"{i}\n00:00:0{i},000 --> 00:00:0{i},500\nx\n\n" for i in range(1, 5))
    with pytest.raises(MoviolaError, match="t.srt line 13: more than 3 cues"):
        read_subtitles(_write(tmp_path, "t.srt", text))


def test_write_round_trip(tmp_path):
    cues = [Cue(F(1, 3), F(2), "a < b & c", "S1"), Cue(F(3), F(4, 1), "two\nlines")]
    for name, text in (("r.srt", format_srt(cues)), ("r.vtt", format_vtt(cues))):
        back = read_subtitles(_write(tmp_path, name, text))
        assert [c.text for c in back] == ["a < b & c", "two\nlines"]
        assert back[0].start == F(333, 1000) and back[1].end == 4
    assert read_subtitles(_write(tmp_path, "r.vtt", format_vtt(cues)))[0].speaker == "S1"
    # a blank line inside a cue's text would end the cue: it is left out
    assert format_srt([Cue(F(0), F(1), "a\n\nb")]).endswith("a\nb\n")


def test_write_srt_and_vtt_are_atomic(tmp_path):
    cues = [Cue(F(1, 2), F(1), "one"), Cue(F(3, 2), F(2), "two <&>", "Ann")]
    for write, name in ((write_srt, "w.srt"), (write_vtt, "w.vtt")):
        target = tmp_path / name
        target.write_text("old")
        assert write(cues, target) == target
        back = read_subtitles(target)
        assert [(c.start, c.end, c.text) for c in back] == [(c.start, c.end, c.text) for c in cues]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.srt", "w.vtt"]  # no temporary left
    assert read_subtitles(tmp_path / "w.vtt")[1].speaker == "Ann"


_WORD = st.text("abcdefghij", min_size=1, max_size=15)


@settings(max_examples=150, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=40), st.integers(8, 60), st.integers(1, 4))
def test_wrap_text_properties(words, width, max_lines):
    text = " ".join(words)
    lines = wrap_text(text, width, max_lines)
    assert " ".join(lines).split() == words  # no word lost or reordered
    assert all(len(line) <= width or " " not in line for line in lines)  # long words alone
    greedy = len(wrap_text(text, width, 10**6))  # the fewest lines possible
    assert len(lines) == greedy
    if len(text) <= width:
        assert lines == [text]
    if len(lines) == 2:  # balanced: no other break is more even
        halves = [(" ".join(words[:k]), " ".join(words[k:])) for k in range(1, len(words))]
        even = min(
            abs(len(a) - len(b))
            for a, b in halves
            if all(len(x) <= width or " " not in x for x in (a, b))
        )
        assert abs(len(lines[0]) - len(lines[1])) == even
        assert len(lines[0]) <= len(lines[1]) or len(lines[0]) - len(lines[1]) == even


def test_wrap_text_examples():
    assert wrap_text("") == []
    assert wrap_text("It was the best of times, it was the worst of times, it was") == [
        "It was the best of times,",
        "it was the worst of times, it was",
    ]
    assert wrap_text("a " + "x" * 50 + " b", 42) == ["a", "x" * 50, "b"]
    # a clause break wins over an exact balance only near the centre
    assert wrap_text("Yes, I think that we should all go to the party later tonight")[0] == (
        "Yes, I think that we should all"
    )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text("abcdefghij", min_size=1, max_size=50), min_size=1, max_size=80),
    st.integers(10, 60),
    st.integers(1, 3),
)
def test_split_for_reading_properties(words, width, max_lines):
    text = " ".join(words)
    cue = Cue(F(1), F(1 + len(words)), text, "S1")
    parts = split_for_reading([cue], width, max_lines)
    assert " ".join(p.text for p in parts).split() == words  # no word lost or reordered
    for p in parts:
        lines = p.text.split("\n")
        assert len(lines) <= max_lines or len(p.text.split()) == 1
        assert all(len(line) <= width or " " not in line for line in lines)
        assert p.speaker == "S1" and p.start <= p.end
    assert parts[0].start == 1 and parts[-1].end == 1 + len(words)
    assert all(a.end <= b.start for a, b in zip(parts, parts[1:], strict=False))
    # time in proportion to characters: each part's share is within a word of its text's share
    total = sum(len(w) + 1 for w in words)
    for p in parts:
        share = sum(len(w) + 1 for w in p.text.split()) / total * len(words)
        assert (
            abs(float(p.end - p.start) - share)
            <= (max(map(len, words)) + 1) / total * len(words) * 2 + 1e-9
        )


def test_split_at_word_times():
    words = [(F(i), F(i) + F(1, 2), f" w{i:02d}xxxxxxxx") for i in range(10)]
    parts = split_for_reading([Cue(F(0), F(10), "")], words=words, width=24, max_lines=1)
    assert [p.start for p in parts] == [F(0), F(2), F(4), F(6), F(8)]
    assert parts[1].text == "w02xxxxxxxx w03xxxxxxxx"


def test_split_words_go_to_their_cues():
    cues = [Cue(F(0), F(2), "alpha beta"), Cue(F(2), F(4), "gamma delta")]
    words = [(F(i, 2), F(i, 2) + F(1, 3), f" {w}") for i, w in enumerate(["a1", "b1", "c1"])]
    words += [(F(5, 2), F(3), " d2"), (F(3), F(7, 2), "x")]  # "x" continues "d2"
    parts = split_for_reading(cues, words=words)
    assert [(p.start, p.end, p.text) for p in parts] == [
        (F(0), F(2), "a1 b1 c1"),
        (F(2), F(4), "d2x"),
    ]


def test_split_ends_cues_at_clause_ends():
    parts = split_for_reading([Cue(F(0), F(20), "aaa bbb ccc, ddd eee")], width=16, max_lines=1)
    assert [p.text for p in parts] == ["aaa bbb ccc,", "ddd eee"]
    assert parts[0].end == parts[1].start == F(13, 21) * 20  # 13 of the 21 characters
    parts = split_for_reading([Cue(F(0), F(20), "aaa, bbb ccc ddd eee")], width=16, max_lines=1)
    assert [p.text for p in parts] == ["aaa, bbb ccc ddd", "eee"]  # too early: filled instead


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


def test_mux_keeps_and_converts_the_tracks_already_there(clips, tmp_path):
    first = tmp_path / "first.mp4"
    mux_subtitles(clips["ntsc"], [Cue(F(1, 2), F(1), "english")], first, title="English")
    cues = [Cue(F(2), F(5, 2), "deutsch")]
    for suffix, codec in ((".mkv", "subrip"), (".mov", "mov_text")):
        out = tmp_path / f"both{suffix}"
        mux_subtitles(first, cues, out, language="ger")  # mov_text cannot go in Matroska
        info = probe(out)
        assert [s.codec.replace("srt", "subrip") for s in info.subtitles] == [codec, codec]
        tracks = read_tracks(out)
        assert [(lang, [(c.start, c.end, c.text) for c in got]) for _, lang, got in tracks] == [
            ("eng", [(F(1, 2), F(1), "english")]),
            ("ger", [(F(2), F(5, 2), "deutsch")]),
        ]
        with av.open(str(out)) as container:
            meta = container.streams.subtitles[0].metadata
            assert meta.get("title", meta.get("name")) == "English"  # MP4/MOV: "name"
    with pytest.raises(MoviolaError, match="WebM takes only .*use .mkv"):
        mux_subtitles(first, cues, tmp_path / "x.webm")
    with pytest.raises(MoviolaError, match="is the input"):
        mux_subtitles(first, cues, first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["both.mkv", "both.mov", "first.mp4"]


CUES = [Cue(F(1, 2), F(3, 2), "first"), Cue(F(2), F(11, 4), "second")]
FRAME = F(1001, 30000)


def _cues_of(path):
    """The text subtitle tracks of ``path``: (codec, language, [(text, start, end)]), times
    from its first picture (a muxer may shift the picture, e.g. B-frames in Matroska)."""
    info = probe(path)
    origin = info.video[0].start_time
    return [
        (s.codec.replace("srt", "subrip"), s.language, decode_track(path, s.index, origin))
        for s in info.subtitles
    ]


@pytest.mark.parametrize(
    "args,out,codec,want",
    [
        (["trim", "--start", "1", "--end", "3"], "trim.mp4", "mov_text", [(0, 0.5), (1, 1.75)]),
        (["speed", "--factor", "2"], "speed.mkv", "subrip", [(0.25, 0.75), (1, 1.375)]),
        (["resize", "--width", "64"], "resize.webm", "webvtt", [(0.5, 1.5), (2, 2.75)]),
        (
            ["resize", "--width", "64", "--start", "0.75"],
            "s.mov",
            "mov_text",
            [(0, 0.75), (1.25, 2)],
        ),
        (["trim", "--start", "1.6"], "late.mkv", "subrip", [(0.4, 1.15)]),
    ],
)
def test_subtitles_pass_through_effects(clips, tmp_path, args, out, codec, want):
    subbed = tmp_path / "subbed.mp4"
    mux_subtitles(clips["ntsc"], CUES, subbed)
    r = moviola_cli(args[0], subbed, "-o", tmp_path / out, "-q", *args[1:])
    assert r.returncode == 0, r.stderr
    [(got_codec, language, got)] = _cues_of(tmp_path / out)
    assert got_codec == codec and language == "eng"
    assert [c.text for c in got] == ["first", "second"][-len(want) :]
    for c, (a, b) in zip(got, want, strict=True):  # within a frame
        assert abs(c.start - F(a)) <= FRAME and abs(c.end - F(b)) <= FRAME, (c, a, b)


def _with_ass_track(src, dst):
    """``src``'s video and an ASS subtitle track (with a speaker) in Matroska."""
    from moviola.media.subtitles import add_track

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        video = out.add_stream_from_template(inp.streams.video[0])
        track = add_track(out, "ass", "fra")
        packet = av.Packet(b"0,0,Default,Bob,0,0,0,,{\\an8}Bonjour\\Nmonde")
        packet.pts = packet.dts = 1500
        packet.duration = 1000
        packet.time_base = F(1, 1000)
        packet.stream = track
        for p in inp.demux(inp.streams.video[0]):
            if p.dts is None:
                continue
            if packet is not None and p.dts * p.time_base >= 1.5:
                out.mux(packet)
                packet = None
            p.stream = video
            out.mux(p)


def test_chains_and_other_source_formats(clips, tmp_path):
    # trim then speed compose: [1, 3) of the source at twice the speed
    subbed = tmp_path / "subbed.mkv"
    mux_subtitles(clips["ntsc"], CUES, subbed, language=None)
    moviola.open(subbed).apply("trim", start="1", end="3").apply("speed", factor=2).save(
        tmp_path / "chain.mp4"
    )
    [(codec, language, got)] = _cues_of(tmp_path / "chain.mp4")
    assert codec == "mov_text" and language in (None, "und")
    want = [(0, 0.25), (0.5, 0.875)]
    for c, (a, b) in zip(got, want, strict=True):
        assert abs(c.start - F(a)) <= FRAME and abs(c.end - F(b)) <= FRAME
    # an ASS track in Matroska becomes mov_text in MP4, override tags gone, line break kept
    ass = tmp_path / "ass.mkv"
    _with_ass_track(clips["ntsc"], ass)
    moviola.open(ass).apply("resize", width=64).save(tmp_path / "ass.mp4")
    [(codec, language, got)] = _cues_of(tmp_path / "ass.mp4")
    assert (codec, language, [c.text for c in got]) == ("mov_text", "fra", ["Bonjour\nmonde"])
    assert abs(got[0].start - F(3, 2)) <= FRAME and abs(got[0].end - F(5, 2)) <= FRAME
    assert decode_track(ass, 1)[0].speaker == "Bob"
    # outputs that take no subtitle track say so and still succeed
    r = moviola_cli("resize", subbed, "-o", tmp_path / "x.avi", "--width", "64")
    assert r.returncode == 0 and "cannot carry subtitle tracks" in r.stderr


def test_chunked_engine_carries_them_in_sync(tmp_path):
    from moviola.engines.job import local_executor, run_chunked
    from moviola.media.synth import click_times, flash_times, make_clip
    from moviola.pipeline import registry

    keyed = tmp_path / "keyed.mp4"  # a keyframe every second: three chunks
    make_clip(keyed, duration=3.0, flashes=(0.5, 1.5, 2.5), options={"g": "30"})
    subbed = tmp_path / "subbed.mp4"
    mux_subtitles(keyed, CUES, subbed)
    out = tmp_path / "chunked.mp4"
    effects = [registry.parse_spec("resize:width=64")]
    run_chunked(subbed, out, effects, local_executor, start="1", chunk_seconds=1)
    # picture, sound and text all start at --start (the picture kept source times before)
    assert flash_times(out) == pytest.approx([0.5, 1.5], abs=0.04)
    assert click_times(out) == pytest.approx([0.5, 1.5], abs=0.04)
    [(codec, language, got)] = _cues_of(out)
    assert [c.text for c in got] == ["first", "second"]
    for c, (a, b) in zip(got, [(0, 0.5), (1, 1.75)], strict=True):
        assert abs(c.start - F(a)) <= FRAME and abs(c.end - F(b)) <= FRAME


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
