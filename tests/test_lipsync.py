"""moviola lipsync: a filmed face dubbed with new speech.

Footage: Megamind.avi (make samples; an animated face that talks). Speech: a LibriVox reading
(samples/speech). The mouth measured by the face tracker on the output should follow the new
speech's envelope, and do so better than the film's own mouth did.
"""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np
import pytest

from tests.helpers import moviola_cli

ROOT = Path(__file__).resolve().parent.parent
MEGAMIND = ROOT / "samples" / "Megamind.avi"
SPEECH = ROOT / "samples" / "speech" / "librivox-0870.wav"

pytestmark = [
    pytest.mark.models,
    pytest.mark.skipif(not MEGAMIND.exists(), reason="make samples"),
]


def _frames(path: Path) -> tuple[list[np.ndarray], float]:
    with av.open(str(path)) as c:
        rate = float(c.streams.video[0].average_rate or 25)
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)], rate


def _audio(path: Path) -> tuple[np.ndarray, int]:
    chunks, rate = [], 0
    with av.open(str(path)) as c:
        for f in c.decode(audio=0):
            a = f.to_ndarray()
            rate = f.sample_rate
            chunks.append(a.reshape(-1) if a.shape[0] == 1 else a.mean(0))
    return np.concatenate(chunks).astype(np.float64), rate


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


@pytest.fixture(scope="module")
def dubbed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lipsync") / "dub.mp4"
    r = moviola_cli("lipsync", MEGAMIND, "--audio", SPEECH, "-o", out, "--end", "7")
    assert r.returncode == 0, r.stderr
    return out


def test_sound_replaced_length_kept_and_labelled(dubbed: Path) -> None:
    from moviola.media.probe import probe

    info = probe(dubbed)
    assert info.audio and info.audio[0].sample_rate == 16000  # the reading's, not the film's
    assert abs(float(info.duration or 0) - 7.0) < 0.1
    assert "lipsync" in info.tags.get("moviola_synthetic", "")


@pytest.mark.slow
def test_mouth_follows_the_new_speech(dubbed: Path, tmp_path: Path) -> None:
    from moviola.generate.presenter import opening_series
    from moviola.vision.faces.mouth import envelope

    out, fps = _frames(dubbed)
    audio, rate = _audio(SPEECH)
    env = np.convolve(envelope(audio, rate, len(out), fps), np.ones(3) / 3, mode="same")
    ours = opening_series(iter(out))
    src = moviola_cli("trim", MEGAMIND, "-o", tmp_path / "src.mp4", "--end", "7")
    assert src.returncode == 0, src.stderr
    before = opening_series(iter(_frames(tmp_path / "src.mp4")[0][: len(out)]))
    r_ours, r_film = _corr(ours, env), _corr(before, env)
    print(f"lipsync (Megamind + LibriVox 0870): ours r = {r_ours:.2f}, the film's own {r_film:.2f}")
    assert r_ours > 0.3 and r_ours > r_film + 0.2


def test_mix_keeps_both(tmp_path: Path) -> None:
    out = tmp_path / "mix.mkv"
    r = moviola_cli(
        "lipsync", MEGAMIND, "--audio", SPEECH, "-o", out, "--end", "2", "--mix", "--no-label"
    )
    assert r.returncode == 0, r.stderr
    from moviola.media.probe import probe

    assert probe(out).audio


def test_no_speech_is_one_line(tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"
    t = np.arange(32000) / 16000
    with wave.open(str(tone), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16000)
        f.writeframes((0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2").tobytes())
    r = moviola_cli("lipsync", MEGAMIND, "--audio", tone, "-o", tmp_path / "o.mp4", "--end", "1")
    assert r.returncode == 2
    lines = [x for x in r.stderr.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and "no speech" in lines[0]
    r = moviola_cli("lipsync", MEGAMIND, "--audio", tmp_path / "nope.wav", "-o", tmp_path / "o.mp4")
    assert r.returncode == 2 and "no such file" in r.stderr
