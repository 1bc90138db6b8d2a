"""Cutting by speech: the kept stretches (silence, fillers, text), frame-exact splicing in sync,
the command and its timeline outputs."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from moviola.errors import MoviolaError
from moviola.media.probe import probe
from moviola.media.splice import frame_times, snap, splice
from moviola.media.synth import click_times, flash_times
from moviola.speech import edit
from moviola.speech.transcript import Segment, Transcript, Word
from tests.helpers import moviola_cli
from tests.test_speech import _audio, _write_wav

RATE = 16000


def _t(*words: tuple[float, float, str]) -> Transcript:
    ws = [Word(a, b, t, 0.9) for a, b, t in words]
    return Transcript([Segment(ws[0].start, ws[-1].end, "", ws)], "en", "test", 10.0)


def test_span_arithmetic():
    assert edit.without([(0, 10)], [(2, 3), (5, 6)]) == [(0, 2), (3, 5), (6, 10)]
    assert edit.without([(0, 1), (2, 4)], [(0.5, 3)]) == [(0, 0.5), (3, 4)]
    assert edit.intersect([(0, 5), (6, 9)], [(1, 7)]) == [(1, 5), (6, 7)]


def test_fillers_and_text_selection():
    t = _t(
        (0.0, 0.3, " So,"),
        (0.4, 0.6, " um,"),
        (0.7, 1.0, " hello."),
        (1.5, 1.8, " Uh"),
        (1.9, 2.2, " The"),
        (2.2, 2.5, " best"),
        (2.5, 2.9, " of"),
        (2.9, 3.3, " times."),
        (4.0, 4.4, " Goodbye"),
        (4.4, 4.8, " now."),
    )
    assert [w.text for w in edit.filler_words(t)] == [" um,", " Uh"]
    spans = edit.keep_text(t, ["best of times", "goodbye now"], margin=0.1)
    assert np.allclose(spans, [(1.4, 3.4), (3.9, 4.9)])
    with pytest.raises(MoviolaError, match="matches"):
        edit.keep_text(t, ["goodbye now", "best of times"])  # not in that order
    with pytest.raises(MoviolaError, match="no words"):
        edit.keep_text(t, ["!!"])


def test_snap_keeps_whole_frames():
    times = [Fraction(i, 25) for i in range(100)]
    cut = snap([(0.5, 1.0), (2.01, 3.0)], times, Fraction(4))
    assert cut.frames == [(12, 24), (50, 74)]  # frames whose middle lies inside
    assert cut.spans == [(Fraction(12, 25), Fraction(1)), (Fraction(2), Fraction(3))]
    assert cut.kept == Fraction(13, 25) + 1
    assert cut.to_output(Fraction(2)) == Fraction(13, 25)
    assert cut.to_output(Fraction(1, 10)) is None


@pytest.mark.parametrize("name", ["ntsc", "vfr"])
def test_splice_is_frame_exact_and_in_sync(clips, tmp_path, name):
    """Keep 0..1 s and 2..3 s of a clip whose flashes and clicks fall at 0.5, 1.5 and 2.5 s:
    the first and last flash survive, at 0.5 s and 1.5 s, each still on its click."""
    src = clips[name]
    times, end = frame_times(src)
    cut = snap([(0.0, 1.0), (2.0, 3.0)], times, end)
    out = splice(src, cut, tmp_path / f"cut-{name}.mkv")
    flashes, clicks = flash_times(out), click_times(out)
    assert len(flashes) == 2 and len(clicks) == 2, (flashes, clicks)
    first, second = cut.spans
    want = [0.5005 - float(first[0]), float(first[1] - first[0]) + 2.5025 - float(second[0])]
    for got, w, c in zip(flashes, want, clicks, strict=True):
        assert abs(got - w) < 1 / 24
        assert abs(got - c) < 0.025  # the sound moved with the picture
    info = probe(out)
    assert info.video[0].frames in (None, sum(b - a + 1 for a, b in cut.frames))
    assert abs(float(info.audio[0].duration or 0) - float(cut.kept)) < 0.03
    # the source's own frame durations are kept (variable frame rate stays variable)
    src_gaps = np.diff([float(t) for t in times if float(first[0]) <= t < float(first[1])])
    out_times, _ = frame_times(out)
    out_gaps = np.diff([float(t) for t in out_times][: len(src_gaps) + 1])
    assert np.allclose(src_gaps, out_gaps, atol=1e-3)


@pytest.fixture(scope="module")
def talk(speech_dir, tmp_path_factory):
    """A 25 fps clip: 1.5 s pause, sentence (2.99 s), 2 s pause, sentence (3.29 s), 1.5 s."""
    d = tmp_path_factory.mktemp("talk")
    z = lambda s: np.zeros(int(s * RATE), np.float32)  # noqa: E731
    audio = np.concatenate(
        [
            z(1.5),
            _audio(speech_dir / "librivox-0880.wav"),
            z(2.0),
            _audio(speech_dir / "librivox-0930.wav"),
            z(1.5),
        ]
    )
    wav = d / "talk.wav"
    _write_wav(wav, audio)
    out = d / "talk.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=25", "-i",
         str(wav), "-t", f"{len(audio) / RATE:.3f}", "-c:v", "libx264", "-pix_fmt", "yuv420p",
         "-c:a", "aac", str(out)],
        check=True,
    )  # fmt: skip
    return out


def test_cut_silence_removes_the_pauses_and_keeps_every_word(talk, tmp_path):
    out = tmp_path / "tight.mp4"
    r = moviola_cli("cut", talk, "-o", out, "--silence", "-q")
    assert r.returncode == 0, r.stderr
    before, after = probe(talk), probe(out)
    removed = float(before.duration or 0) - float(after.duration or 0)
    # pauses of 1.5 + 2 + 1.5 s, minus the margins (0.15 s each side of speech) and the
    # quiet edges of the recordings themselves
    assert 4.2 < removed < 6.0, r.stderr
    assert abs(float(after.audio[0].duration or 0) - float(after.video[0].duration or 0)) < 0.05
    t = moviola_cli("transcribe", out, "--json", "-q")
    text = json.loads(t.stdout)
    said = " ".join(s["text"] for s in text["segments"]).lower()
    for word in ("young man", "amiable himself"):
        assert word in said


def test_cut_keep_text_and_timeline_output(talk, tmp_path):
    out = tmp_path / "one.mp4"
    r = moviola_cli("cut", talk, "-o", out, "--keep", "amiable himself", "-q")
    assert r.returncode == 0, r.stderr
    assert 3.0 < float(probe(out).duration or 0) < 4.0  # the second sentence alone
    otio = pytest.importorskip("opentimelineio")
    tl_path = tmp_path / "tight.otio"
    r = moviola_cli("cut", talk, "-o", tl_path, "--silence")
    assert r.returncode == 0, r.stderr
    clips = list(otio.adapters.read_from_file(str(tl_path)).find_clips())
    assert len(clips) >= 4  # two sentences, on the video and the audio track
    first = clips[0].source_range
    assert 1.2 < first.start_time.to_seconds() < 1.9  # speech starts at 1.5 s + its quiet edge


def test_cut_bad_input(clips, talk, tmp_path):
    r = moviola_cli("cut", clips["silent"], "-o", tmp_path / "x.mp4", "--silence")
    assert r.returncode == 2 and "no audio" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = moviola_cli("cut", talk, "-o", tmp_path / "x.mp4")
    assert r.returncode == 2 and "--silence" in r.stderr
    r = moviola_cli("cut", clips["ntsc"], "-o", tmp_path / "x.mp4", "--silence")
    assert r.returncode == 2 and "nothing would be left" in r.stderr  # clicks are not speech
    assert not (tmp_path / "x.mp4").exists()


def test_cut_carries_subtitles_along(talk, tmp_path):
    from moviola.media.subtitles import Cue, decode_track, mux_subtitles

    subbed = tmp_path / "subbed.mp4"
    cues = [Cue(Fraction(2), Fraction(4), "young man"), Cue(Fraction(5), Fraction(6), "pause")]
    mux_subtitles(talk, cues, subbed)
    out = tmp_path / "tight.mp4"
    r = moviola_cli("cut", subbed, "-o", out, "--silence", "-q")
    assert r.returncode == 0, r.stderr
    info = probe(out)
    got = decode_track(out, info.subtitles[0].index, info.video[0].start_time)
    assert [c.text for c in got] == ["young man"]  # the cue in the removed pause is gone
    # the sentence's speech starts about 1.6 s into the source and at about 0.1 s in the cut
    assert 0.2 < float(got[0].start) < 0.7 and float(got[0].end - got[0].start) == 2.0
