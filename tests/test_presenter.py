"""moviola presenter: a talking head from one portrait.

The portrait is the astronaut photo (docs/faces/astronaut.jpg, NASA, public domain). Speech is
Kokoro-82M's (phoneme timings exact) or a LibriVox recording (samples/speech, aligned by
Whisper + espeak-ng). What is checked: the picture's mouth, measured by the repo's own face
tracker on the rendered frames, follows the speech envelope; length, audio and subtitles; the
labels; one clear line for each bad input.
"""

from __future__ import annotations

import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.helpers import moviola_cli

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "docs" / "faces" / "astronaut.jpg"
LIBRIVOX = ROOT / "samples" / "speech" / "librivox-0870.wav"
TEXT = "Hello there. My name is Paula, and I bring you the morning news from the space station."

pytestmark = pytest.mark.models


def _decode(path: Path) -> tuple[list[np.ndarray], np.ndarray, int, dict]:
    """Video frames, mono audio, its rate and the container's tags."""
    frames, chunks, rate = [], [], 0
    with av.open(str(path)) as c:
        tags = dict(c.metadata)
        for f in c.decode(video=0):
            frames.append(f.to_ndarray(format="rgb24"))
    with av.open(str(path)) as c:
        for f in c.decode(audio=0):
            a = f.to_ndarray()
            rate = f.sample_rate
            chunks.append(a.reshape(-1) if a.shape[0] == 1 else a.mean(0))
    return frames, np.concatenate(chunks).astype(np.float64), rate, tags


def _opening(frames: list[np.ndarray]) -> np.ndarray:
    from moviola.generate.presenter import opening_series

    return opening_series(iter(frames))


def _envelope(audio: np.ndarray, rate: int, count: int, fps: float) -> np.ndarray:
    from moviola.vision.faces.mouth import envelope

    env = envelope(audio, rate, count, fps)
    return np.convolve(env, np.ones(3) / 3, mode="same")


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("presenter") / "paula.mp4"
    r = moviola_cli(
        "presenter", PHOTO, "-o", out, "--text", TEXT, "--name", "Paula Bauer, news anchor"
    )
    assert r.returncode == 0, r.stderr
    return out


def test_length_audio_subtitles_and_tags(spoken: Path) -> None:
    from moviola.media.probe import probe
    from moviola.media.subtitles import read_tracks

    info = probe(spoken)
    v, a = info.video[0], info.audio[0]
    assert (v.width, v.height) == (512, 512)  # the astronaut photo is square
    assert v.rate == Fraction(25)
    video_len = v.frames / Fraction(25)
    assert a.duration is not None
    assert abs(float(a.duration) - float(video_len)) <= 1 / 25 + 1e-3  # within a frame
    tracks = read_tracks(spoken)
    assert len(tracks) == 1
    cues = tracks[0][2]
    assert len(cues) == 2 and cues[0].text.startswith("Hello there")
    assert float(cues[-1].end) <= float(video_len) + 1e-3
    frames, _, _, tags = _decode(spoken)
    assert "presenter" in tags.get("moviola_synthetic", "")
    # the visible label: a dark band with white text, bottom left
    corner = frames[0][-14:, :120].astype(float)
    assert corner.min() < 60 and corner.max() > 200


def test_mouth_follows_the_speech(spoken: Path) -> None:
    """Mouth opening measured on the output by the face tracker vs the output's own audio."""
    frames, audio, rate, _ = _decode(spoken)
    opening = _opening(frames)
    assert np.isfinite(opening).mean() > 0.95
    env = _envelope(audio, rate, len(frames), 25.0)
    r = _corr(opening, env)
    # in sync: the best lag is within two frames
    lags = range(-4, 5)
    best = max(lags, key=lambda k: _corr(np.roll(opening, k)[4:-4], env[4:-4]))
    print(f"presenter (Kokoro): opening vs envelope r = {r:.2f}, best lag {best} frames")
    assert r > 0.3
    assert abs(best) <= 2
    # the mouth moves: open frames and closed frames both occur
    assert np.nanmax(opening) - np.nanmin(opening) > 0.08
    # and smoothly: measured on the picture, no frame opens or closes by more than half of a
    # full opening (MAX_GAP eye distances)
    from moviola.vision.faces.mouth import MAX_GAP

    jumps = np.abs(np.diff(opening))
    print(f"largest frame-to-frame change of the measured opening: {np.nanmax(jumps):.3f}")
    assert np.nanmax(jumps) <= 0.5 * MAX_GAP


def test_frames_change_only_round_the_head(spoken: Path) -> None:
    """Idle motion moves the head, not the picture's edges (the background stays put)."""
    frames, _, _, _ = _decode(spoken)
    a, b = frames[10].astype(int), frames[60].astype(int)
    diff = np.abs(a - b).max(2)
    assert diff[:, :20].mean() < 2 and diff[:, -20:].mean() < 2 and diff[:20].mean() < 2
    assert diff[80:250, 150:330].mean() > 1  # the face moved


def test_recorded_audio(tmp_path: Path) -> None:
    """--audio: a LibriVox reading; the output is as long as it, its sound the same."""
    from moviola.media.probe import probe

    out = tmp_path / "read.mp4"
    r = moviola_cli("presenter", PHOTO, "-o", out, "--audio", LIBRIVOX, "--size", "256")
    assert r.returncode == 0, r.stderr
    src = probe(LIBRIVOX).audio[0]
    info = probe(out)
    assert src.duration is not None
    assert abs(info.video[0].frames / 25 - float(src.duration)) <= 1 / 25 + 1e-3
    assert info.audio and info.subtitles


def _tone(path: Path, seconds: float = 2.0) -> Path:
    t = np.arange(int(16000 * seconds)) / 16000
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16000)
        f.writeframes(pcm.tobytes())
    return path


def _one_line(r) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [x for x in r.stderr.strip().splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_bad_inputs_are_one_line(tmp_path: Path) -> None:
    no_face = tmp_path / "wall.png"
    import cv2

    yy, xx = np.mgrid[0:256, 0:256]
    cv2.imwrite(str(no_face), np.dstack([xx, yy, (xx + yy) // 2]).astype(np.uint8))
    out = tmp_path / "o.mp4"
    assert "no face" in _one_line(moviola_cli("presenter", no_face, "-o", out, "--text", "Hi."))
    assert "nothing to say" in _one_line(moviola_cli("presenter", PHOTO, "-o", out, "--text", " "))
    assert "nothing to say" in _one_line(
        moviola_cli("presenter", PHOTO, "-o", out, "--text", "?!... --")
    )
    tone = _tone(tmp_path / "tone.wav")
    assert "no speech" in _one_line(moviola_cli("presenter", PHOTO, "-o", out, "--audio", tone))
    line = _one_line(
        moviola_cli("presenter", PHOTO, "-o", out, "--text", "Hi.", "--face-index", "3")
    )
    assert "--face-index" in line
    assert "one of" in _one_line(moviola_cli("presenter", PHOTO, "-o", out))
    assert not out.exists()


def test_output_size() -> None:
    from moviola.generate.presenter import output_size

    assert output_size(384, 384, "512") == (512, 512, False)
    assert output_size(600, 800, "720p") == (540, 720, False)
    assert output_size(1000, 500, "512") == (512, 256, False)
    assert output_size(500, 500, "1280x720") == (1280, 720, True)


def test_several_faces(tmp_path: Path) -> None:
    """Two faces: the largest speaks unless --face-index says; the other stays still."""
    import cv2

    from moviola.generate.presenter.render import find_face
    from moviola.media.still import read_rgb

    a = read_rgb(PHOTO, "photo")
    two = np.full((384, 768, 3), 200, np.uint8)
    two[:, :384] = a
    two[64:320, 448:704] = cv2.resize(a, (256, 256), interpolation=cv2.INTER_AREA)
    mesh, index, count = find_face(two, None, "two")
    assert (index, count) == (0, 2) and mesh[1, 0] < 384
    mesh, index, _ = find_face(two, 1, "two")
    assert index == 1 and mesh[1, 0] > 448
    path = tmp_path / "two.png"
    cv2.imwrite(str(path), cv2.cvtColor(two, cv2.COLOR_RGB2BGR))
    out = tmp_path / "two.mp4"
    r = moviola_cli("presenter", path, "-o", out, "--text", "Hi.", "--size", "384")
    assert r.returncode == 0, r.stderr
    assert "2 faces" in r.stderr and "largest" in r.stderr


def test_background_replaced(tmp_path: Path) -> None:
    """--background: the subject's matte moves with the head over the new picture."""
    import cv2

    bg = tmp_path / "green.png"
    cv2.imwrite(str(bg), np.full((200, 300, 3), (40, 200, 40), np.uint8))  # BGR: green
    out = tmp_path / "bg.mp4"
    r = moviola_cli(
        "presenter", PHOTO, "-o", out, "--text", "Hi there.", "--size", "256",
        "--background", bg, "--no-label",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    frames, _, _, _ = _decode(out)
    first = frames[len(frames) // 2].astype(int)
    sky = first[10:40, 200:250].reshape(-1, 3).mean(0)  # the photo's backdrop, top right
    assert sky[1] > 150 and sky[0] < 100 and sky[2] < 100
    face = first[40:70, 95:120].reshape(-1, 3).mean(0)  # the face is still the photo's
    assert face[0] > face[1]
