"""Speakers: the GE2E encoder's conversion, its mel front end, clustering, and telling real
voices apart (samples/speech and Megamind.avi's two characters)."""

from __future__ import annotations

import numpy as np
import pytest

from moviola.errors import MoviolaError
from moviola.speech import speakers as S
from tests.test_speech import _audio


def test_conversion_matches_torch_on_random_weights(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from moviola.models import ge2e

    torch.manual_seed(0)
    net = ge2e._encoder_class()().eval()
    state = {
        **net.state_dict(),
        "similarity_weight": torch.ones(1),
        "similarity_bias": torch.ones(1),
    }
    rebuilt = ge2e.build_encoder(state)
    ge2e.export_onnx(rebuilt, tmp_path / "g.onnx")
    assert ge2e.check_onnx(rebuilt, tmp_path / "g.onnx") < ge2e.TOLERANCE
    with pytest.raises(MoviolaError, match="not GE2E"):
        ge2e.build_encoder({k: v for k, v in state.items() if k != "linear.bias"})


def test_mel_front_end():
    t = np.arange(S.RATE * 2) / S.RATE
    tone = (0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    mels = S.mel_spectrogram(tone)
    assert mels.shape == (1 + len(tone) // S.HOP, S.MELS)
    band = int(np.argmax(mels[50]))
    edges = S._mel_to_hz(np.linspace(0, S._hz_to_mel(np.array(8000.0)), S.MELS + 2))
    assert edges[band] < 1000 < edges[band + 2]  # the 1 kHz tone lands in the band around it
    fb = S.mel_filters()
    assert fb.shape == (S.MELS, S.N_FFT // 2 + 1) and (fb >= 0).all()
    quiet = tone * 0.001
    assert np.sqrt(np.mean(S.normalize_volume(quiet) ** 2)) == pytest.approx(10 ** (-30 / 20), 0.01)
    assert S.normalize_volume(tone) is tone  # louder than -30 dBFS: left alone


def test_partial_windows():
    assert S.partials(np.ones((301, S.MELS), np.float32)).shape == (3, S.PARTIAL, S.MELS)
    assert S.partials(np.ones((50, S.MELS), np.float32)).shape == (1, S.PARTIAL, S.MELS)
    # a last window under 75 % full is dropped (it starts at frame 154: 96 / 160 frames full)
    assert len(S.partials(np.ones((250, S.MELS), np.float32))) == 2
    assert len(S.partials(np.ones((280, S.MELS), np.float32))) == 3  # 126 / 160: kept


def test_assign_speakers():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(256), rng.standard_normal(256)
    x = np.stack([a, b, a, a, b] + [c + rng.standard_normal(256) * 0.05 for c in (b, a)])
    assert S.assign_speakers(x) == [0, 1, 0, 0, 1, 1, 0]
    assert S.assign_speakers(x, count=2) == [0, 1, 0, 0, 1, 1, 0]
    assert S.assign_speakers(x, count=1) == [0] * 7
    same = np.stack([a + rng.standard_normal(256) * 0.05 for _ in range(6)])
    assert S.assign_speakers(same) == [0] * 6  # one voice: one speaker, not two
    assert S.assign_speakers(x[:1]) == [0] and S.assign_speakers(x[:0]) == []
    assert S.speaker_name(0) == "S1"


@pytest.fixture(scope="module")
def encoder():
    return S.SpeakerEncoder()


def test_real_voices_are_told_apart(encoder, speech_dir):
    reader = [_audio(p) for p in sorted(speech_dir.glob("librivox-*.wav"))]
    other = np.fromfile(speech_dir / "goforward.raw", np.int16).astype(np.float32) / 32768
    v = encoder.embed_many([*reader, other])
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-4)
    sim = v @ v.T
    same = sim[:5, :5][~np.eye(5, dtype=bool)]
    cross = sim[5, :5]
    assert same.min() > cross.max()  # measured: same reader 0.75..0.92, other speaker 0.54..0.73
    assert S.assign_speakers(v) == [0, 0, 0, 0, 0, 1]
    with pytest.raises(MoviolaError, match="0.5 s"):
        encoder.embed(other[:4000])


def test_transcript_speakers_on_real_dialogue(megamind):
    """Megamind's trailer: Roxanne, Bernard, Roxanne, Bernard, one sentence each."""
    pytest.importorskip("faster_whisper")
    from moviola.speech.transcribe import Transcriber

    tr = Transcriber()
    for speakers in (2, "auto"):
        t = tr.transcribe(megamind, speakers=speakers)
        assert [s.speaker for s in t.segments] == ["S1", "S2", "S1", "S2"]
        assert t.speakers == ["S1", "S2"]
        assert all(w.speaker == s.speaker for s in t.segments for w in s.words)
    assert "[S2]" in t.format(".srt") and "S1: Of course" in t.format(".txt")
