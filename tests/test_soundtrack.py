"""The declared way for an effect to change the sound (media/timeline.py): gains over ranges of
the source audio and added sound (layers), moved by later trims and speed changes with the
picture, rendered into the output's audio track.

The source is a synthetic clip: a quiet 220 Hz tone with loud 5 ms clicks at 0.5, 1.5 and 2.5 s.
The added sound is one second of a 1 kHz tone.
"""

from __future__ import annotations

import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from moviola.media import synth
from moviola.media.timeline import Timeline
from moviola.pipeline import Effect, run
from moviola.pipeline.registry import create

RATE = 48000
TONE = 1000.0


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tone") / "tone.wav"
    t = np.arange(RATE) / RATE
    samples = (0.3 * np.sin(2 * np.pi * TONE * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "clicks.mkv"
    synth.make_clip(path, width=64, height=48, audio_codec="flac")
    return path


class Sound(Effect):
    """A stand-in for a score or a dub: declares its sound on the timeline, keeps the frames."""

    name = "test-sound"

    def __init__(self, change) -> None:
        super().__init__()
        self.change = change

    def map_timeline(self, timeline: Timeline) -> Timeline:
        return self.change(timeline)

    def process(self, frame):
        return frame


def _audio(path: Path) -> np.ndarray:
    """The output's audio as mono float at 48 kHz, from its first sample."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    out = []
    with av.open(str(path)) as c:
        for frame in c.decode(audio=0):
            for f in resampler.resample(frame):
                out.append(f.to_ndarray().reshape(-1))
    return np.concatenate(out)


def _tone_level(audio: np.ndarray, start: float, end: float, freq: float = TONE) -> float:
    """Amplitude of the ``freq`` component over [start, end) seconds."""
    seg = audio[int(start * RATE) : int(end * RATE)]
    t = np.arange(seg.size) / RATE
    return float(2 * np.abs(np.mean(seg * np.exp(-2j * np.pi * freq * t))))


def _peak(audio: np.ndarray, at: float, width: float = 0.05) -> float:
    return float(np.abs(audio[max(0, int((at - width) * RATE)) : int((at + width) * RATE)]).max())


def test_a_gain_lowers_the_source_audio_over_its_range(clip, tmp_path):
    out = tmp_path / "ducked.mkv"
    run(clip, out, [Sound(lambda tl: tl.ducked(Fraction(1), Fraction(2), -20))])
    audio = _audio(out)
    assert _peak(audio, 0.5) > 0.8 and _peak(audio, 2.5) > 0.8
    assert 0.06 < _peak(audio, 1.5) < 0.12  # 0.9 at -20 dB
    assert _tone_level(audio, 0.1, 0.4, 220) == pytest.approx(0.05, rel=0.1)
    assert _tone_level(audio, 1.1, 1.4, 220) == pytest.approx(0.005, rel=0.2)


def test_added_sound_is_mixed_in_at_its_place(clip, tone, tmp_path):
    out = tmp_path / "mixed.mkv"
    result = run(clip, out, [Sound(lambda tl: tl.mixed(str(tone), at=Fraction(1)))])
    assert result.audio == "re-encoded"
    audio = _audio(out)
    assert _tone_level(audio, 1.05, 1.95) == pytest.approx(0.3, rel=0.05)
    assert _tone_level(audio, 0.1, 0.95) < 0.01 and _tone_level(audio, 2.05, 2.9) < 0.01
    assert _peak(audio, 0.5) > 0.8  # the source is still heard, at its own level
    assert audio.size == pytest.approx(3 * RATE, abs=0.1 * RATE)  # the source audio (+ FLAC frame)


def test_later_trims_and_speed_changes_move_the_sound_with_the_picture(clip, tone, tmp_path):
    out = tmp_path / "moved.mkv"
    effects = [
        Sound(lambda tl: tl.mixed(str(tone), at=Fraction(1)).ducked(1, 2, -20)),
        create("trim", start="0.5"),
        create("speed", factor="2"),
    ]
    run(clip, out, effects)
    audio = _audio(out)
    # source 1.0 s -> output (1.0 - 0.5) / 2 = 0.25 s; the tone lasts 0.5 s, its pitch kept
    assert _tone_level(audio, 0.28, 0.72) == pytest.approx(0.3, rel=0.1)
    assert _tone_level(audio, 0.02, 0.22) < 0.02 and _tone_level(audio, 0.78, 0.98) < 0.02
    assert _peak(audio, 0.0, 0.02) > 0.8  # the click at 0.5 s is now at 0
    assert _peak(audio, 1.0, 0.02) > 0.8  # 2.5 s -> 1.0 s


def test_sound_replaced_over_a_silent_clip_ends_with_the_picture(tone, tmp_path):
    silent = tmp_path / "silent.mp4"
    synth.make_clip(silent, width=64, height=48, duration=2.0, audio=False)
    out = tmp_path / "dubbed.mp4"
    result = run(silent, out, [Sound(lambda tl: tl.replaced(str(tone), at=Fraction(3, 2)))])
    assert result.audio == "re-encoded"
    audio = _audio(out)
    assert _tone_level(audio, 1.55, 1.95) == pytest.approx(0.3, rel=0.1)
    assert _tone_level(audio, 0.1, 1.4) < 0.01
    assert audio.size <= 2.05 * RATE  # the tone would run to 2.5 s: cut at the picture's end


def test_a_layer_that_is_not_audio_is_one_clear_error(clip, tmp_path):
    from moviola.errors import MoviolaError

    out = tmp_path / "bad.mkv"
    not_audio = tmp_path / "x.txt"
    not_audio.write_text("hello")
    with pytest.raises(MoviolaError, match="cannot read the audio to mix in"):
        run(clip, out, [Sound(lambda tl: tl.mixed(str(not_audio)))])
    assert not out.exists()


def test_the_timeline_keeps_positions_in_source_time() -> None:
    tl = Timeline().trimmed(Fraction(2), None).sped(Fraction(2))
    tl = tl.mixed("a.wav", at=Fraction(1)).ducked(Fraction(1), Fraction(3, 2), -6)
    assert tl.layers[0].at == 4 and tl.layers[0].speed == 2  # output 1 s = source 2 + 1 * 2
    assert (tl.gains[0].start, tl.gains[0].end) == (4, 5)
    assert tl.to_output(Fraction(4)) == 1 and tl.keeps(Fraction(4)) and not tl.keeps(Fraction(1))
    assert tl.changes_sound and tl.has_audio and not Timeline().changes_sound
    assert Timeline().without_audio().mixed("b.wav").has_audio
