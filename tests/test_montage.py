"""moviola montage: cuts on the beats and bars of a music track, frame-exact, the music as the
soundtrack; downbeats of a synthetic drum track; bad input is one line and exit 2."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from helpers import moviola_cli

from moviola.analysis.shots import detect_shots
from moviola.errors import MoviolaError
from moviola.generate import montage
from moviola.generate.bars import drum_track, find_bars
from moviola.generate.beats import detect_beats
from moviola.media import probe
from moviola.media.pcm import decode_mono, encode_mono

RATE = Fraction(25)
BPM = 120.0
FIRST, DOWNBEAT = 0.25, 1  # the track's first beat (s) and which beat is the first downbeat


def _tint(level: int, channel: int) -> tuple[int, ...]:
    """A colour of grey ``level`` leaning to one channel: the fast cut detector needs a change
    of brightness, so every shot has its own."""
    return tuple(level + (20 if c == channel else -10) for c in range(3))


def _shot_clip(path: Path, colours, seconds_each: float, seed: int) -> Path:
    """Shots of flat colours under a moving texture, hard cuts between them."""
    rng = np.random.default_rng(seed)
    w, h = 160, 96
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=RATE)
        st.width, st.height, st.pix_fmt = w, h, "yuv420p"
        i = 0
        for colour in colours:
            tex = (rng.random((h, w, 1)) * 60).astype(np.float32)
            for f in range(int(seconds_each * RATE)):
                img = np.clip(np.array(colour, np.float32) + np.roll(tex, 3 * f, axis=1), 0, 255)
                frame = av.VideoFrame.from_ndarray(img.astype(np.uint8), format="rgb24")
                frame.pts = i
                i += 1
                out.mux(st.encode(frame))
        out.mux(st.encode(None))
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("montage")
    a = _shot_clip(d / "a.mp4", [_tint(30, 0), _tint(90, 1), _tint(150, 2)], 2.2, 1)
    b = _shot_clip(d / "b.mp4", [_tint(60, 1), _tint(120, 2), _tint(180, 0)], 2.2, 2)
    samples, _, _ = drum_track(6.0, BPM, first=FIRST, downbeat=DOWNBEAT, backbeat=True)
    music = encode_mono(d / "drums.wav", [samples], 44100)
    quiet = encode_mono(d / "hum.wav", [0.1 * np.sin(np.arange(44100 * 3) * 0.05)], 44100)
    return {"a": a, "b": b, "music": music, "hum": quiet, "dir": d}


def _detected_cuts(path: Path) -> list[int]:
    return [s.start_frame for s in detect_shots(path, method="fast").shots[1:]]


def test_downbeats_of_a_drum_track(media) -> None:
    beats = detect_beats(media["music"])
    bars = find_bars(media["music"], beats)
    _, true_beats, true_downs = drum_track(6.0, BPM, first=FIRST, downbeat=DOWNBEAT)
    assert abs(beats.bpm - BPM) < 1
    assert np.max(np.abs(bars.times[:, None] - true_downs[None]).min(axis=1)) < 0.03
    assert len(bars.times) == len(true_downs)
    assert np.allclose(np.diff(bars.times), 4 * 60 / BPM, atol=0.03)  # every 4 beats
    assert bars.confidence > 0.05


def test_cut_frames_are_nearest_to_the_beats() -> None:
    fps = Fraction(30000, 1001)
    times = np.array([0.0, 0.49, 1.0, 1.51, 9.0])
    frames = montage.cut_frames(times, 100, fps)
    assert 0 not in frames and all(0 < c < 100 for c in frames)
    for c in frames:
        t = times[np.argmin(np.abs(times - c / float(fps)))]
        assert abs(c / float(fps) - t) <= 0.5 / float(fps) + 1e-9


@pytest.mark.parametrize("cuts", ["beat", "bar"])
def test_montage_cuts_on_the_beat(media, cuts) -> None:
    out = media["dir"] / f"montage-{cuts}.mp4"
    result = montage.render([media["a"], media["b"]], media["music"], out, cuts=cuts, seed=3)
    info = probe(out)
    # the length is the music's; the frame rate is the first clip's
    assert result.frames == 150 and info.video[0].rate == RATE
    assert abs(float(info.video[0].duration or 0) - 6.0) < 0.05
    assert info.audio and abs(float(info.audio[0].duration or 0) - 6.0) < 0.1
    marks = result.cut_times
    step = 60 / BPM * (4 if cuts == "bar" else 1)
    assert len(marks) >= (2 if cuts == "bar" else 10)
    assert np.allclose(np.diff(marks), step, atol=0.03)
    if cuts == "bar":
        _, _, downs = drum_track(6.0, BPM, first=FIRST, downbeat=DOWNBEAT)
        assert np.abs(np.array(marks)[:, None] - downs[None]).min(axis=1).max() < 0.03
    # every cut found in the output lies within one frame of a beat / bar line, and all are found
    found = _detected_cuts(out)
    assert found == result.cuts
    for c in found:
        assert min(abs(c / float(RATE) - t) for t in marks) <= 1 / float(RATE)
    # the sound is the music (and fades out at the end)
    music = np.concatenate(list(decode_mono(media["music"], 8000)))[: 8000 * 5]
    sound = np.concatenate(list(decode_mono(out, 8000)))[: 8000 * 5]
    n = min(len(music), len(sound))
    r = np.corrcoef(music[:n], sound[:n])[0, 1]
    assert r > 0.9
    tail = np.concatenate(list(decode_mono(out, 8000)))[-800:]
    assert np.abs(tail).max() < 0.2 * np.abs(sound).max()


def test_stretches_respect_shots_and_cycle(media) -> None:
    clips = [montage.analyse_clip(media["a"]), montage.analyse_clip(media["b"])]
    assert [len(c.shots) for c in clips] == [3, 3]
    chosen = montage.choose_stretches(clips, [12] * 9, RATE, seed=1)
    keys = [(s.clip, s.shot) for s in chosen]
    assert len(set(keys[:6])) == 6  # every shot once before any again
    assert all(a != b for a, b in zip(keys, keys[1:], strict=False))
    for s in chosen:
        first, last = clips[s.clip].shots[s.shot]
        assert first <= s.first and s.first + 12 - 1 <= last and not s.held
    # a shot used again gives another stretch
    again = [s for s in chosen if (s.clip, s.shot) == keys[6]]
    assert len(again) == 2 and abs(again[0].first - again[1].first) >= 12


def test_no_beat_falls_back_to_a_steady_grid(media, caplog) -> None:
    out = media["dir"] / "hum.mp4"
    with caplog.at_level("WARNING", logger="moviola"):
        result = montage.render([media["a"]], media["hum"], out)
    assert result.fallback and result.bpm == 120
    assert "steady 120 BPM" in caplog.text
    assert result.cuts == [int(t * 25 + 0.5) for t in np.arange(0.5, 2.99, 0.5)]  # half up


def test_bad_input_is_one_line(media, tmp_path) -> None:
    short = _shot_clip(tmp_path / "short.mp4", [(100, 100, 100)], 0.2, 0)
    cases = [
        ([media["music"]], "has no video stream"),
        ([short], "shorter than a beat"),
    ]
    for clips, message in cases:
        r = moviola_cli("montage", *clips, "--music", media["music"], "-o", tmp_path / "x.mp4")
        assert r.returncode == 2 and message in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    r = moviola_cli(
        "montage",
        media["a"],
        "--music",
        media["music"],
        "--cuts",
        "phrase",
        "-o",
        tmp_path / "x.mp4",
    )
    assert r.returncode == 2 and "unknown --cuts 'phrase'" in r.stderr
    assert not (tmp_path / "x.mp4").exists()
    with pytest.raises(MoviolaError, match="no audio stream"):
        montage.render([media["a"]], media["b"], tmp_path / "y.mp4")  # silent


def test_long_shots_take_turns_in_pieces() -> None:
    times = [Fraction(i, 25) for i in range(250)]
    clip = montage.Clip("x.mp4", RATE, 64, 36, times, np.zeros(250), [(0, 249)])
    assert montage.pieces(clip, Fraction(4)) == [(0, 0, 124), (0, 125, 249)]
    clip.shots = [(0, 99)]
    assert montage.pieces(clip, Fraction(4)) == [(0, 0, 99)]


def test_command_size_fps_length(media, tmp_path) -> None:
    out = tmp_path / "small.mp4"
    r = moviola_cli(
        "montage", media["a"], media["b"], "--music", media["music"], "-o", out,
        "--cuts", "bar", "--size", "200x200", "--fps", "30", "--length", "4", "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    import json

    result = json.loads(r.stdout)
    assert (result["frames"], result["width"], result["height"]) == (120, 200, 200)
    assert result["rate"] == "30/1" and result["bar_phase"] == DOWNBEAT
    for c, t in zip(result["cuts"], result["cut_times"], strict=True):
        assert abs(c / 30 - t) <= 0.5 / 30 + 1e-6
    with av.open(str(out)) as c:
        image = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert image[:30].max() < 30 and image[-30:].max() < 30  # letterboxed: 160x96 in 200x200
    assert image[80:120].mean() > 20
