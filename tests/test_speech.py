"""Speech: voice activity (Silero), transcription (Whisper via faster-whisper), its formats and
command, on real recordings (samples/speech, from `make samples`)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moviola.errors import MoviolaError
from moviola.media.pcm import decode_mono
from moviola.speech import transcribe as tmod
from moviola.speech.transcript import Segment, Transcript, Word, load_transcript
from moviola.speech.vad import RATE, SpeechDetector
from tests.helpers import moviola_cli


def _audio(path) -> np.ndarray:
    return np.concatenate(list(decode_mono(path, RATE)))


def _write_wav(path, samples: np.ndarray) -> None:
    import av

    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1),
            format="s16",
            layout="mono",
        )
        frame.sample_rate = RATE
        for p in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(p)


def _regions(samples: np.ndarray, sizes=(4000,), **kw) -> list[tuple[float, float]]:
    det = SpeechDetector(**kw)
    out, i, k = [], 0, 0
    while i < len(samples):
        n = sizes[k % len(sizes)]
        out += [r.seconds for r in det.feed(samples[i : i + n])]
        i, k = i + n, k + 1
    return out + [r.seconds for r in det.finish()]


@pytest.fixture(scope="module")
def reading(speech_dir) -> np.ndarray:
    """1.5 s of silence, a LibriVox sentence (2.99 s), 2 s of silence, another (3.29 s)."""
    return np.concatenate(
        [
            np.zeros(int(1.5 * RATE), np.float32),
            _audio(speech_dir / "librivox-0880.wav"),
            np.zeros(2 * RATE, np.float32),
            _audio(speech_dir / "librivox-0930.wav"),
        ]
    )


def test_vad_finds_the_two_sentences_and_nothing_in_silence(reading):
    regions = _regions(reading)
    assert len(regions) == 2
    (a0, a1), (b0, b1) = regions
    assert 1.2 < a0 < 1.8 and 3.8 < a1 < 4.8  # the first sentence lies at 1.5..4.5 s
    assert 6.3 < b0 < 6.9 and b1 > 9.0
    assert _regions(np.zeros(10 * RATE, np.float32)) == []
    noise = np.random.default_rng(0).standard_normal(10 * RATE).astype(np.float32) * 0.01
    assert _regions(noise) == []


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(1, 9000), min_size=1, max_size=5))
def test_vad_regions_do_not_depend_on_how_audio_is_fed(sizes):
    rng = np.random.default_rng(1)
    t = np.arange(6 * RATE) / RATE
    # a voiced-sounding buzz with syllable-rate amplitude changes, between silences
    buzz = np.sign(np.sin(2 * np.pi * 140 * t)) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
    sig = np.where((t > 1) & (t < 4), buzz * 0.3, 0) + rng.standard_normal(len(t)) * 0.001
    sig = sig.astype(np.float32)
    assert _regions(sig, tuple(sizes)) == _regions(sig, (len(sig),))


def test_vad_splits_endless_speech_and_bounds_what_it_keeps(reading):
    talk = np.tile(_audio_no_gaps(reading), 4)  # ~25 s with no long pause
    det = SpeechDetector(max_speech=5.0, min_silence=3.0)
    regions, kept_back = [], 0
    for i in range(0, len(talk), 4000):
        regions += list(det.feed(talk[i : i + 4000]))
        kept_back = max(kept_back, i + 4000 - det.keep_from())
    regions += list(det.finish())
    assert all((r.end - r.start) / RATE <= 5.0 + 0.6 for r in regions)
    assert kept_back <= 6 * RATE  # never more than a region's worth behind
    starts = [r.start for r in regions]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in zip(regions, regions[1:], strict=False))


def _audio_no_gaps(reading: np.ndarray) -> np.ndarray:
    return reading[np.abs(reading) > 1e-4]


def test_transcript_json_round_trip(tmp_path):
    t = Transcript(
        segments=[
            Segment(0.5, 1.5, "Hello there.", [Word(0.5, 0.9, " Hello", 0.9, "S1")], "S1"),
        ],
        language="en",
        model="whisper-tiny-en",
        duration=2.0,
        speakers=["S1"],
    )
    path = tmp_path / "t.json"
    path.write_text(t.format(".json"))
    back = load_transcript(path)
    assert back == t
    assert t.format(".txt") == "Hello there.\n"
    bad = tmp_path / "bad.json"
    bad.write_text('{"segments": [{"start": 1}]}')
    with pytest.raises(MoviolaError, match="not a moviola transcript"):
        load_transcript(bad)


# --- with the real models ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def transcriber():
    pytest.importorskip("faster_whisper")
    return tmod.Transcriber("whisper-tiny-en")


def _words(text: str) -> list[str]:
    import re

    return re.findall(r"[a-z']+", text.lower().replace("-", " "))


def test_transcribes_real_speech_with_word_times(transcriber, reading, tmp_path):
    path = tmp_path / "reading.wav"
    _write_wav(path, reading)
    t = transcriber.transcribe(path)
    ref = _words(
        "He was not an ill disposed young man. He might even have been made amiable himself."
    )
    import difflib

    match = difflib.SequenceMatcher(None, ref, _words(t.text))
    assert sum(b.size for b in match.get_matching_blocks()) >= len(ref) - 2, t.text
    words = t.words
    assert len(words) >= 14
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= len(reading) / RATE + 0.05 for w in words)
    # the words of each sentence lie where the sentence is (1.5..4.5 s and 6.5..9.8 s)
    first = next(w for w in words if "He" in w.text)
    last = words[-1]
    assert 1.3 < first.start < 2.2
    assert 8.8 < last.end < 10.2
    assert all(w.end < 4.8 or w.start > 6.2 for w in words)  # nothing in the pause


def test_silence_and_noise_give_an_empty_transcript(transcriber, tmp_path):
    path = tmp_path / "hum.wav"
    t = np.arange(20 * RATE) / RATE
    hum = 0.2 * np.sin(2 * np.pi * 50 * t) + 0.05 * np.sin(2 * np.pi * 100 * t)
    _write_wav(path, (hum + np.random.default_rng(0).standard_normal(len(t)) * 0.003))
    assert transcriber.transcribe(path).segments == []
    _write_wav(path, np.zeros(5 * RATE, np.float32))
    assert transcriber.transcribe(path).segments == []


def test_memory_stays_flat_on_long_audio(transcriber, speech_dir, tmp_path, monkeypatch):
    """Ten minutes of audio (a sentence every 30 s): the buffer never holds more than about a
    window, however long the file, and every sentence is found where it is."""
    sentences = [_audio(p) for p in sorted(speech_dir.glob("librivox-*.wav"))]
    blocks = []
    for k in range(20):
        block = np.zeros(30 * RATE, np.float32)
        block[5 * RATE : 5 * RATE + len(sentences[k % 5])] = sentences[k % 5]
        blocks.append(block)
    path = tmp_path / "long.wav"
    _write_wav(path, np.concatenate(blocks))
    peak = {"buf": 0, "window": 0}
    feed = tmod._Run.feed

    def spy(self, chunk):
        feed(self, chunk)
        peak["buf"] = max(peak["buf"], len(self.buf))
        peak["window"] = max(peak["window"], self.window.size)

    monkeypatch.setattr(tmod._Run, "feed", spy)
    t = transcriber.transcribe(path)
    starts = sorted({int(s.start // 30) for s in t.segments})
    assert starts == list(range(20))  # a sentence found in every 30 s block
    assert all(4.5 < s.start % 30 < 12.5 for s in t.segments)  # and where it is in the block
    # the audio held is the open sentence and its padding, not the ten minutes
    assert peak["buf"] < max(map(len, sentences)) + RATE
    assert peak["window"] <= tmod.WINDOW


def test_transcribe_cli_formats_and_errors(speech_dir, tmp_path, clips):
    pytest.importorskip("faster_whisper")
    src = speech_dir / "librivox-0930.wav"
    for suffix in (".json", ".srt", ".vtt", ".txt"):
        out = tmp_path / f"t{suffix}"
        r = moviola_cli("transcribe", src, "-o", out, "-q")
        assert r.returncode == 0, r.stderr
        text = out.read_text()
        assert "amiable" in text.lower()
        if suffix == ".json":
            data = json.loads(text)
            assert data["segments"][0]["words"][0]["probability"] > 0
        if suffix == ".srt":
            assert " --> " in text and text.startswith("1\n")
        if suffix == ".vtt":
            assert text.startswith("WEBVTT")
    r = moviola_cli("transcribe", clips["silent"], "-o", tmp_path / "x.json")
    assert r.returncode == 2 and "no audio to transcribe" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.json").exists()
    r = moviola_cli("transcribe", src, "-o", tmp_path / "x.json", "--language", "fr")
    assert r.returncode == 2 and "English only" in r.stderr
    r = moviola_cli("transcribe", src, "-o", tmp_path / "x.doc")
    assert r.returncode == 2 and ".json" in r.stderr
    r = moviola_cli("transcribe", "--help")
    assert "ENGLISH ONLY" in r.stdout
