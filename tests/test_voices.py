"""moviola speak / voices: text read aloud as a person would, Kokoro-82M and Piper, loudness,
phoneme timings, saved voices, and the command's bad input. The spoken audio is checked by ear's
stand-in: Whisper must hear the words."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from moviola.errors import MoviolaError
from moviola.media.loudness import LoudnessMeter
from moviola.media.pcm import decode_mono
from moviola.speech import voices
from moviola.speech.voices import bank
from moviola.speech.voices.text import normalize, sentences
from tests.helpers import moviola_cli


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Dr. Smith paid $12.50.", "Doctor Smith paid twelve dollars and fifty cents."),
        ("It was 1905.", "It was nineteen oh-five."),
        ("On March 3rd, 2024 we met.", "On March third, twenty twenty-four we met."),
        (
            "Sales rose 12.5% to 1,200.",
            "Sales rose twelve point five percent to one thousand two hundred.",
        ),
        ("Meet at 9:05 a.m. Then go.", "Meet at nine oh five a m. Then go."),
        ("It happened on 2021-07-04.", "It happened on July fourth, twenty twenty-one."),
        ("The 1990s, the 21st century.", "The nineteen nineties, the twenty-first century."),
        ("Pages 10-12 and -4 degrees.", "Pages ten to twelve and minus four degrees."),
        (
            "We raised $2.5m from St. Jude on Baker St.",
            "We raised two point five million dollars from Saint Jude on Baker Street",
        ),
        (
            "Mr. and Mrs. Jones, e.g. us, vs. them.",
            "Mister and Missus Jones, for example us, versus them.",
        ),
    ],
)
def test_text_is_read_as_a_person_reads_it(text, said):
    assert normalize(text).rstrip(".") == said.rstrip(".")


def test_sentences_split_at_ends_not_abbreviations_and_mark_paragraphs():
    got = list(sentences("Hello there. Dr. Who came! Did he?\n\nYes. He did."))
    assert [s.text for s in got] == [
        "Hello there.",
        "Doctor Who came!",
        "Did he?",
        "Yes.",
        "He did.",
    ]
    assert [s.paragraph_end for s in got] == [False, False, True, False, True]


def test_loudness_meter_matches_pyloudnorm_on_chunks():
    import pyloudnorm

    rng = np.random.default_rng(3)
    for rate in (22050, 24000, 48000):
        t = np.arange(rate * 6) / rate
        signal = 0.2 * np.sin(2 * np.pi * 220 * t) * (t % 1 < 0.6) + rng.normal(0, 0.01, t.size)
        meter = LoudnessMeter(rate)
        for i in range(0, t.size, 3001):
            meter.add(signal[i : i + 3001])
        assert meter.integrated == pytest.approx(
            pyloudnorm.Meter(rate).integrated_loudness(signal), abs=0.05
        )


def test_voice_bank_blends_and_saved_voices(tmp_path, monkeypatch):
    monkeypatch.setattr(bank, "voices_dir", lambda: tmp_path)
    names = [v.name for v in voices.all_voices()]
    assert {"alpha", "kumo", "joe", "harbor"} <= set(names)
    blend = voices.get_voice("alpha:3+kumo")
    assert blend.engine == "kokoro" and blend.weights == {"jf_alpha": 3.0, "jm_kumo": 1.0}
    for bad in ("nobody", "alpha:x", "alpha:0", "zed:1+alpha"):
        with pytest.raises(MoviolaError):
            voices.get_voice(bad)
    style = np.random.default_rng(0).normal(0, 0.1, (510, 1, 256)).astype(np.float32)
    voices.save_voice("mine", style, similarity=0.7)
    got = voices.get_voice("mine")
    assert got.engine == "kokoro" and np.array_equal(got.style, style)
    with pytest.raises(MoviolaError):
        voices.save_voice("alpha", style)
    with pytest.raises(MoviolaError):
        voices.save_voice("../evil", style)


@pytest.mark.models
def test_kokoro_speech_has_phoneme_timings_and_sentences():
    speech = voices.synthesize("Hello there. Good morning!", voice="kumo")
    assert speech.sample_rate == 24000 and speech.duration > 1.0
    phones = speech.phonemes
    assert len(phones) > 10
    starts = [p.start for p in phones]
    assert starts == sorted(starts) and phones[-1].end <= speech.duration + 1e-6
    # the two sentences follow each other with the sentence pause between them
    (t1, s1, e1), (t2, s2, e2) = speech.sentences
    assert t1 == "Hello there." and s1 == 0 and s2 - e1 == pytest.approx(voices.SENTENCE_PAUSE)
    # the second sentence's phonemes lie inside its span: timings are global, not per sentence
    assert any(s2 <= p.start < e2 for p in phones if p.phoneme.strip())
    # and they are where the sound is: the audio under the vowels is louder than under pauses
    vowels = [p for p in phones if p.phoneme in "aeiouəɪʊɛæɑɔʌ"]
    level = [np.abs(speech.audio[int(p.start * 24000) : int(p.end * 24000)]).mean() for p in vowels]
    pause = speech.audio[int(e1 * 24000) + 100 : int(s2 * 24000) - 100]
    assert np.median(level) > 10 * np.abs(pause).mean()


@pytest.mark.models
def test_duration_output_leaves_the_audio_bit_identical():
    """The conversion only adds an output: Kokoro's audio is what the shipped graph gives."""
    import onnxruntime as ort

    from moviola import models
    from moviola.models.kokoro import add_duration_output

    folder = models.ensure("kokoro-82m").parent
    patched = ort.InferenceSession(str(folder / "kokoro-v1.0.int8.onnx"))
    assert [o.name for o in patched.get_outputs()] == ["audio", "duration"]
    tokens = np.array([[0, 50, 83, 54, 156, 57, 135, 4, 0]], np.int64)
    style = np.load(folder / "voices_ja.npz")["jm_kumo"][7]
    feeds = {"tokens": tokens, "style": style, "speed": np.ones(1, np.float32)}
    audio, duration = patched.run(None, feeds)
    assert duration.shape[-1] == tokens.shape[1] and (duration >= 1).all()
    assert audio.size == int(duration.sum()) * 600  # 600 samples per frame at 24 kHz
    add_duration_output(folder / "kokoro-v1.0.int8.onnx")  # idempotent: already there


def _transcript(path) -> str:
    from moviola.speech.transcribe import transcribe

    words = " ".join(s.text for s in transcribe(path).segments)
    return re.sub(r"[^a-z ]", "", words.lower())


@pytest.mark.models
@pytest.mark.parametrize("voice", ["alpha", "joe"])
def test_speak_writes_normalised_tagged_speech_whisper_understands(tmp_path, voice):
    out = tmp_path / "narration.wav"
    script = tmp_path / "script.txt"
    script.write_text(
        "The quick brown fox jumps over the lazy dog.\n\nIt was a bright cold day in April."
    )
    r = moviola_cli("speak", "--script", script, "--voice", voice, "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    audio = np.concatenate(list(decode_mono(out, 24000)))
    meter = LoudnessMeter(24000)
    meter.add(audio)
    assert meter.integrated == pytest.approx(-23.0, abs=0.5)
    assert np.abs(audio).max() < 0.95
    heard = _transcript(out)
    for word in ("quick", "brown", "fox", "lazy", "dog", "bright", "cold", "april"):
        assert word in heard, heard
    import av

    with av.open(str(out)) as c:
        # WAV's INFO chunk keeps only standard tags: the comment says it (and C2PA signs it)
        assert "synthetic speech made with moviola speak" in c.metadata.get("comment", "")
    from moviola.media import provenance

    credentials = provenance.read(out)
    assert credentials["synthetic"] and credentials["kind"] == "speech"
    assert credentials["manifest"]["store"] == "embedded"
    assert credentials["manifest"]["actions"][0]["digitalSourceType"].endswith(
        "trainedAlgorithmicMedia"
    )


@pytest.mark.models
def test_speak_other_containers_and_speed(tmp_path):
    slow, fast = tmp_path / "slow.mp3", tmp_path / "fast.flac"
    assert moviola_cli("speak", "Good evening.", "--speed", "0.7", "-o", slow, "-q").returncode == 0
    assert moviola_cli("speak", "Good evening.", "--speed", "1.4", "-o", fast, "-q").returncode == 0
    n_slow = sum(c.size for c in decode_mono(slow, 16000))
    n_fast = sum(c.size for c in decode_mono(fast, 16000))
    assert n_slow > 1.4 * n_fast


def test_voices_command_lists_json():
    r = moviola_cli("voices", "--json")
    assert r.returncode == 0
    listed = {v["name"]: v for v in json.loads(r.stdout)}
    assert listed["kumo"]["gender"] == "male" and listed["joe"]["engine"] == "piper"
    assert listed["alpha"]["sample_rate"] == 24000 and listed["alpha"]["license"] == "Apache-2.0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["", "-o", "{d}/a.wav"], "the text is empty"),
        (["!!! ???", "-o", "{d}/a.wav"], "no letters or digits"),
        (["hello", "-o", "{d}/a.doc"], "cannot write audio"),
        (["hello", "-o", "{d}/missing/a.wav"], "no folder"),
        (["hello", "--voice", "nobody", "-o", "{d}/a.wav"], "no voice named"),
        (["hello", "--speed", "9", "-o", "{d}/a.wav"], "--speed"),
        (["--script", "{d}/none.txt", "-o", "{d}/a.wav"], "cannot read script"),
        (["hello", "--save-voice", "x", "-o", "{d}/a.wav"], "--save-voice needs --like"),
    ],
)
def test_speak_bad_input_is_one_line(tmp_path, args, message):
    r = moviola_cli("speak", *[a.format(d=tmp_path) for a in args])
    assert r.returncode == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "a.wav").exists()


def _tone(path, seconds: float) -> None:
    from moviola.media.pcm import encode_mono

    t = np.arange(int(seconds * 16000)) / 16000
    chord = sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)) * 0.2
    encode_mono(path, [chord.astype(np.float32)], 16000)


@pytest.mark.models
def test_like_refuses_short_or_speechless_references(tmp_path):
    from moviola.speech.voices.match import reference_speech

    _tone(tmp_path / "short.wav", 1.5)
    _tone(tmp_path / "music.wav", 6.0)
    with pytest.raises(MoviolaError, match="at least 2 s"):
        reference_speech(tmp_path / "short.wav")
    with pytest.raises(MoviolaError, match="music or silence"):
        reference_speech(tmp_path / "music.wav")
    r = moviola_cli("speak", "hi", "--like", tmp_path / "music.wav", "-o", tmp_path / "a.wav")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.models
@pytest.mark.slow
def test_like_moves_the_voice_toward_the_reference(speech_dir, tmp_path, monkeypatch):
    """A short search from 9 s of a LibriVox reader beats the best built-in voice on a sentence it
    never used, stays intelligible, and can be saved and used by name."""
    from moviola.media.pcm import encode_mono
    from moviola.speech.voices.match import match_voice

    monkeypatch.setattr(bank, "voices_dir", lambda: tmp_path)
    clips = [
        np.concatenate(list(decode_mono(speech_dir / f"librivox-{n}.wav", 16000)))
        for n in ("0880", "0890", "0920")
    ]
    ref = encode_mono(tmp_path / "reader.wav", [np.concatenate(clips)], 16000)
    found = match_voice(ref, steps=28)
    assert found.wer <= 0.2
    assert found.similarity > found.baseline + 0.01, (found.similarity, found.baseline)
    voices.save_voice("reader", found.style, **found.meta())
    assert voices.get_voice("reader").style is not None
    assert "reader" in [v.name for v in voices.all_voices()]
