"""moviola score: the plan puts cuts on beats; the rendered music is exactly as long as the
video, at -14 LUFS without clipping, with its MIDI and stems; the picture is copied; the music
ducks under speech; bad input is one line and exit 2."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import av
import mido
import numpy as np
import pyloudnorm
import pytest
from helpers import moviola_cli
from test_montage import _shot_clip, _tint

from moviola.errors import MoviolaError
from moviola.generate.score import make_music, score_video
from moviola.generate.score.plan import Cut, Tempo, make_plan, ring_time
from moviola.generate.score.render import DUCK, duck_envelope
from moviola.media.loudness import LoudnessMeter, PeakLimiter
from moviola.media.pcm import decode_pcm

pytestmark = pytest.mark.skipif(
    not Path("/usr/share/sounds/sf2/FluidR3_GM.sf2").exists(),
    reason="needs Debian's fluid-soundfont-gm (scripts/setup.sh installs it)",
)


# -- the plan (no audio) ------------------------------------------------------------------------
def _cuts(seed: int, seconds: float, fps: float, gap=(0.8, 4.0)) -> list[Cut]:
    rng = np.random.default_rng(seed)
    t, out = 0.0, []
    while True:
        t += rng.uniform(*gap)
        if t >= seconds - 3:
            return out
        out.append(Cut(round(t * fps) / fps, float(rng.random())))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_plan_puts_most_cuts_on_beats_and_strong_cuts_on_bar_lines(seed):
    fps, seconds = 24000 / 1001, 90.0
    cuts = _cuts(seed, seconds, fps)
    tempo = Tempo(90, 132, 110)
    plan = make_plan(seconds, fps, cuts, np.full(900, 0.5), 10.0, tempo)
    beats, bars = plan.beat_times(), plan.bar_times()
    assert plan.on_grid(beats) >= 0.75, plan.on_grid(beats)
    # a steady grid at the favourite tempo would put about a fifth of them there
    steady = np.arange(0, seconds, 60 / 110)
    assert plan.on_grid(beats) > plan.on_grid(steady) + 0.3
    for s in plan.sections[1:]:
        assert any(abs(c.time - s.start) < 1e-9 for c in cuts)  # a section starts on a cut...
        assert np.min(np.abs(bars - s.start)) < 1e-9  # ...on a bar line
    for s in plan.sections:
        bpm = 60 / np.diff(s.times)
        assert bpm.min() >= tempo.low * 0.92 - 1e-6 and bpm.max() <= tempo.high * 1.08 + 1e-6
        assert np.all(np.diff(s.times) > 0) and len(s.times) == s.beats + 1
        assert sum(s.bars) == s.beats
    # the final chord: on the last cut of the closing seconds, else ring_time before the end
    late = [
        c.time for c in cuts if seconds - max(2 * ring_time(seconds), 2) <= c.time <= seconds - 0.5
    ]
    assert plan.final == pytest.approx(late[-1] if late else seconds - ring_time(seconds))
    assert plan.sections[-1].end == plan.final


def test_fixed_tempo_stays_within_three_percent():
    fps = 25.0
    cuts = _cuts(4, 60, fps)
    plan = make_plan(60.0, fps, cuts, np.full(600, 0.5), 10.0, Tempo(97, 103, 100, fixed=True))
    for s in plan.sections:
        bpm = 60 / np.diff(s.times)
        assert np.all(np.abs(bpm / 100 - 1) <= 0.0301)


def test_a_video_shorter_than_a_bar_is_refused():
    with pytest.raises(MoviolaError, match="shorter than a bar"):
        make_plan(1.5, 25.0, [], np.full(15, 0.5), 10.0, Tempo(60, 120, 90))


# -- the audio tools ---------------------------------------------------------------------------
def test_limiter_holds_the_ceiling_and_leaves_quiet_audio_alone():
    rng = np.random.default_rng(0)
    loud = (rng.standard_normal((48000 * 3, 2)) * 0.5).astype(np.float32)
    for x, changed in ((loud, True), (loud * 0.1, False)):
        lim = PeakLimiter(48000, -1.0)
        pieces = [lim.process(x[i : i + 7001]) for i in range(0, len(x), 7001)]
        y = np.concatenate([*pieces, lim.finish()])
        assert y.shape == x.shape
        assert np.abs(y).max() <= 10 ** (-1 / 20) + 1e-6
        assert (np.abs(y - x).max() > 0.01) == changed


def test_stereo_loudness_equals_pyloudnorm():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((48000 * 4, 2)) * np.array([0.2, 0.05])
    meter = LoudnessMeter(48000)
    for i in range(0, len(x), 9999):
        meter.add(x[i : i + 9999])
    assert meter.integrated == pytest.approx(
        pyloudnorm.Meter(48000).integrated_loudness(x), abs=0.01
    )


def test_duck_envelope_is_down_during_speech_and_back_after():
    g = duck_envelope([(1.0, 2.0)], 0, 48000 * 4)
    at = lambda t: g[int(t * 48000)]  # noqa: E731
    assert at(0.5) == 1.0 and at(3.5) == 1.0
    assert at(1.0) == pytest.approx(10 ** (DUCK / 20), abs=1e-6)
    assert at(1.9) == pytest.approx(10 ** (DUCK / 20), abs=1e-6)
    assert 10 ** (DUCK / 20) < at(2.25) < 1.0


# -- music alone -------------------------------------------------------------------------------
def _lufs(path: Path) -> tuple[float, float, int]:
    x = np.concatenate(list(decode_pcm(path, 48000, channels=2)))
    return (
        pyloudnorm.Meter(48000).integrated_loudness(x.astype(np.float64)),
        np.abs(x).max(),
        len(x),
    )


def test_music_alone_is_exact_in_length_loudness_and_has_midi_and_stems(tmp_path):
    r = make_music(
        14.0,
        tmp_path / "m.wav",
        mood="happy",
        seed=3,
        midi=tmp_path / "m.mid",
        stems=tmp_path / "st",
    )
    loud, peak, n = _lufs(r.output)
    assert n == 14 * 48000
    assert loud == pytest.approx(-14.0, abs=0.5)
    assert peak <= 10 ** (-1 / 20) + 1e-3
    assert {p.name for p in r.stems} >= {"melody.wav", "harmony.wav", "bass.wav"}
    midi = mido.MidiFile(str(r.midi))
    notes = [m for t in midi.tracks for m in t if m.type == "note_on" and m.velocity > 0]
    assert len(notes) == r.notes
    # the MIDI file's tempo map puts its last note-off where the audio's final chord ends
    assert midi.length == pytest.approx(14.0 - 0.15, abs=0.02)
    # reproducible per seed, different across seeds
    again = make_music(14.0, tmp_path / "m2.wav", mood="happy", seed=3, midi=tmp_path / "m2.mid")
    make_music(14.0, tmp_path / "m3.wav", mood="happy", seed=4, midi=tmp_path / "m3.mid")
    assert (tmp_path / "m2.mid").read_bytes() == (tmp_path / "m.mid").read_bytes()
    assert (tmp_path / "m3.mid").read_bytes() != (tmp_path / "m.mid").read_bytes()
    assert again.key == r.key


def test_moods_differ_in_key_mode_and_tempo(tmp_path):
    sad = make_music(10.0, tmp_path / "s.wav", mood="sad", seed=1)
    happy = make_music(10.0, tmp_path / "h.wav", mood="happy", seed=1)
    assert sad.key.endswith("minor") and happy.key.endswith("major")
    assert sad.sections[0]["bpm"] < happy.sections[0]["bpm"]


# -- scoring a video ---------------------------------------------------------------------------
def _with_speech(video: Path, speech: Path, out: Path) -> Path:
    """``video`` with ``speech`` as its sound (the picture copied: media.remux)."""
    from moviola.media.remux import with_audio

    return with_audio(video, speech, out)


@pytest.fixture(scope="module")
def edit(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("score")
    levels = (30, 90, 150, 60, 120, 180, 40)  # the fast detector finds all six cuts
    colours = [_tint(v, i % 3) for i, v in enumerate(levels)]
    return _shot_clip(d / "edit.mp4", colours, 2.2, 5)


def test_score_puts_the_cuts_on_beats_and_copies_the_picture(edit, tmp_path):
    out = tmp_path / "scored.mp4"
    r = score_video(edit, out, mood="tense", seed=1, replace_audio=True)
    assert r.cuts == 6 and r.on_beat == 1.0
    with av.open(str(edit)) as a, av.open(str(out)) as b:
        pa = [bytes(p) for p in a.demux(a.streams.video[0]) if p.size]
        pb = [bytes(p) for p in b.demux(b.streams.video[0]) if p.size]
        assert pa == pb  # stream copy: the picture is untouched
        audio = b.streams.audio[0]
        assert audio.duration is not None and audio.time_base is not None
        assert float(audio.duration * audio.time_base) == pytest.approx(7 * 2.2, abs=0.05)
    loud, peak, _ = _lufs(out)
    assert loud == pytest.approx(-14.0, abs=0.7) and peak < 1.0


def test_score_ducks_under_speech_and_keeps_the_dialogue(edit, tmp_path, speech_dir):
    video = _with_speech(edit, speech_dir / "librivox-0880.wav", tmp_path / "talk.mp4")
    out = tmp_path / "mixed.mp4"
    r = score_video(video, out, mood="calm", seed=2)
    assert r.audio == "mixed" and r.ducked >= 1
    talk = np.concatenate(list(decode_pcm(video, 48000)))
    mixed = np.concatenate(list(decode_pcm(out, 48000)))
    db = lambda x, a, b: 10 * np.log10(np.mean(x[int(a * 48000) : int(b * 48000)] ** 2))  # noqa: E731
    speaking = np.flatnonzero(np.abs(talk) > 0.05)
    a, b = speaking[0] / 48000 + 0.3, speaking[-1] / 48000 - 0.3
    n = min(len(talk), len(mixed))
    music = mixed[:n] - talk[:n]  # what the score added (and the codec's noise)
    # the dialogue keeps its level: the mix under speech is within 1 dB of the speech alone
    assert abs(db(mixed, a, b) - db(talk, a, b)) < 1.0
    # the music is ducked under speech: at least 8 dB down from where it plays alone (after
    # the dialogue track ends)
    alone = db(mixed, n / 48000 + 1.0, 13.0)
    assert alone > -45  # it does play
    assert db(music, a, b) < alone - 8
    assert np.abs(mixed).max() <= 1.0


def test_cli_json_and_bad_input(edit, tmp_path, monkeypatch):
    # With $CI set, pyfluidsynth prints where it found the library on import: stdout stays JSON.
    monkeypatch.setenv("CI", "1")
    out = tmp_path / "m.flac"
    p = moviola_cli("score", "--seconds", "6", "--mood", "epic", "-o", str(out), "--json")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["seconds"] == 6 and math.isclose(info["loudness_lufs"], -14, abs_tol=0.5)
    cases = [
        (["score", str(edit), "--mood", "grumpy", "-o", str(tmp_path / "x.mp4")], "unknown mood"),
        (["score", "--seconds", "1", "-o", str(tmp_path / "x.wav")], "shorter than a bar"),
        (["score", "--seconds", "5", "-o", str(tmp_path / "x.mp4")], "cannot write music"),
        (["score", str(out), "-o", str(tmp_path / "x.mp4")], "no video stream"),
        (["score", "-o", str(tmp_path / "x.wav")], "give a VIDEO"),
        (["score", str(edit), "--tempo", "fast", "-o", str(tmp_path / "x.mp4")], "--tempo"),
    ]
    for args, message in cases:
        p = moviola_cli(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert message in p.stderr and "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not list(tmp_path.glob("x.*"))


def test_rates_are_exact_for_ntsc(tmp_path):
    """Cut times are frame times of a 30000/1001 video: on-beat means within one such frame."""
    fps = Fraction(30000, 1001)
    cuts = [Cut(float(Fraction(k * 41) / fps), 0.6) for k in range(1, 12)]
    plan = make_plan(
        float(Fraction(500) / fps), float(fps), cuts, np.full(170, 0.5), 10.0, Tempo(80, 120, 100)
    )
    assert plan.on_grid(plan.beat_times()) >= 0.9


def test_every_instrument_and_kit_used_is_in_the_soundfont():
    import fluidsynth

    from moviola.generate.score.moods import STYLES
    from moviola.generate.score.render import soundfont

    synth = fluidsynth.Synth()
    sfid = synth.sfload(str(soundfont()))
    try:
        for style in STYLES.values():
            voices = (style.melody, style.counter, style.pad, style.arp, style.bass, style.stab)
            for v in voices:
                assert synth.sfpreset_name(sfid, 0, v.program), (style.name, v.program)
            if style.kit is not None:
                assert synth.sfpreset_name(sfid, 128, style.kit), (style.name, style.kit)
        assert synth.sfpreset_name(sfid, 0, 47) == "Timpani"
    finally:
        synth.delete()


def test_a_fixed_tempo_holds_on_a_short_clip_without_cuts():
    plan = make_plan(3.0, 25.0, [], np.full(30, 0.5), 10.0, Tempo(106.7, 113.3, 110, fixed=True))
    assert plan.sections[0].bpm == pytest.approx(110, rel=1e-9)
    assert plan.final <= 3.0 - 0.25


def test_strong_cuts_get_a_hit_and_the_piece_ends_on_the_tonic():
    from moviola.generate.score.arrange import CRASH, arrange
    from moviola.generate.score.moods import MOODS, STYLES

    cuts = _cuts(5, 40.0, 25.0)
    plan = make_plan(40.0, 25.0, cuts, np.full(400, 0.7), 10.0, Tempo(90, 132, 110))
    assert plan.hits, "some strong cuts fall on beats"
    score = arrange(plan, MOODS["epic"], STYLES["orchestral"], np.random.default_rng(0))
    drums = next(p for p in score.parts if p.name == "drums")
    crashes = [score.seconds(e.beat) for e in drums.events if e.pitch == CRASH]
    for time, _ in plan.hits:
        assert min(abs(c - time) for c in crashes) < 1e-6
    # the final chord: the tonic in the bass, struck on the final downbeat
    bass = next(p for p in score.parts if p.name == "bass")
    last = max(bass.events, key=lambda e: e.beat)
    assert last.pitch % 12 == score.tonic
    assert score.seconds(last.beat) == pytest.approx(plan.final)
    # every part's notes stay within the piece
    for part in score.parts:
        for e in part.events:
            assert 0 <= score.seconds(e.beat) < 40.0
            assert score.seconds(e.beat + e.length) <= 40.0 + 1e-6
