"""Phoneme timings of recorded speech: what a mouth needs to follow a voice it did not make.

Whisper (:mod:`moviola.speech.transcribe`: VAD-packed windows, word timestamps) says which words
are spoken and when; espeak-ng (through ``phonemizer``, the library kokoro-onnx also uses, with
the espeak-ng build ``espeakng-loader`` ships) says each word's phonemes; each word's span is
shared among its phonemes, vowels twice as long as consonants (a lengthened vowel three times),
stress marks taking no time. The result is the same list of
:class:`~moviola.speech.voices.PhonemeTiming` a Kokoro voice gives, with a ``" "`` between words.

It is an approximation: inside a word the phonemes are spread evenly by class, not found in the
sound; word edges are Whisper's (about +-0.1 s). A forced aligner would do better inside words.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass

from moviola.errors import MoviolaError
from moviola.speech.transcript import Transcript, Word
from moviola.speech.voices import PhonemeTiming

VOWELS = set("aɑæɐʌɒɔɛeəɜɚoɪiᵻʊuɨy")
STRESS_MARKS = {"ˈ", "ˌ"}
_WORD = re.compile(r"[^\w'’-]+")
_lock = threading.Lock()  # espeak-ng holds process-wide state


@dataclass
class Alignment:
    """Timed phonemes of a recording and the transcript they came from."""

    phonemes: list[PhonemeTiming]
    transcript: Transcript

    @property
    def sentences(self) -> list[tuple[str, float, float]]:
        """Whisper's segments as (text, start, end): subtitles for the recording."""
        return [(s.text.strip(), s.start, s.end) for s in self.transcript.segments if s.text]


def _espeak_ready() -> None:
    import espeakng_loader
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    EspeakWrapper.set_library(espeakng_loader.get_library_path())


def phonemize_words(words: list[str], language: str = "en-us") -> list[str]:
    """Each word's IPA (espeak-ng, with stress marks); an empty string for a word it cannot
    read (a number left as digits is read as espeak-ng reads it)."""
    import phonemizer

    clean = [_WORD.sub(" ", w).strip() for w in words]
    todo = [i for i, w in enumerate(clean) if w]
    out = [""] * len(words)
    if not todo:
        return out
    with _lock:
        _espeak_ready()
        said = phonemizer.phonemize(
            [clean[i] for i in todo],
            language=language,
            backend="espeak",
            with_stress=True,
            strip=True,
            preserve_punctuation=False,
            njobs=1,
        )
    for i, ipa in zip(todo, said, strict=True):
        out[i] = str(ipa).replace(" ", "")
    return out


def spread(ipa: str, start: float, end: float) -> list[PhonemeTiming]:
    """The symbols of one word's ``ipa`` over [start, end): vowels 2 shares, a length mark 1,
    consonants 1, stress marks none (placed where the next symbol starts)."""
    shares = []
    for ch in ipa:
        if ch in STRESS_MARKS:
            shares.append(0.0)
        elif ch in VOWELS:
            shares.append(2.0)
        else:
            shares.append(1.0)
    total = sum(shares)
    if total <= 0 or end <= start:
        return []
    out, t = [], start
    step = (end - start) / total
    for ch, share in zip(ipa, shares, strict=True):
        out.append(PhonemeTiming(ch, t, t + share * step))
        t += share * step
    return out


def phonemes_of_words(words: list[Word], language: str = "en-us") -> list[PhonemeTiming]:
    """Timed phonemes for timed words, a ``" "`` in each gap between words."""
    ipas = phonemize_words([w.text for w in words], language)
    out: list[PhonemeTiming] = []
    last_end = None
    for word, ipa in zip(words, ipas, strict=True):
        if not ipa:
            continue
        if last_end is not None and word.start > last_end:
            out.append(PhonemeTiming(" ", last_end, word.start))
        out += spread(ipa, word.start, word.end)
        last_end = word.end
    return out


def align(path: str | os.PathLike, *, model: str | None = None) -> Alignment:
    """Timed phonemes of the speech in ``path`` (an audio or video file's first audio stream).
    Raises :class:`MoviolaError` when no speech is heard."""
    from moviola.speech.transcribe import DEFAULT_MODEL, Transcriber

    transcript = Transcriber(model or DEFAULT_MODEL).transcribe(path)
    words = [w for s in transcript.segments for w in s.words if w.text.strip()]
    phonemes = phonemes_of_words(words) if words else []
    if not phonemes:
        raise MoviolaError(f"no speech heard in {os.fspath(path)}: nothing for a mouth to say")
    return Alignment(phonemes, transcript)
