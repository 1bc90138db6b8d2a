"""Speech made from text: ``moviola speak`` and the voices behind presenters.

    from moviola.speech.voices import synthesize, speak
    speech = synthesize("Hello there.", voice="alpha")   # audio, rate, phoneme timings
    speak("A long script...", "narration.wav")           # streamed, loudness-normalised file

Text is read as a person would read it (:mod:`.text`: numbers, money, dates, abbreviations),
cut at sentences, and each sentence is spoken on its own by the voice's engine
(:mod:`.engines`: Kokoro-82M or Piper), with a pause after it (longer at a paragraph's end).
``speak`` writes sentence by sentence: the audio goes to a temporary raw file while its
loudness is metered (:mod:`moviola.media.loudness`), then is scaled to the target loudness
(EBU R128: -23 LUFS by default) and encoded by extension. Memory holds one sentence.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from moviola.media.loudness import LoudnessMeter, normalizing_gain

from .bank import DEFAULT_VOICE, all_voices, builtin_voices, get_voice, save_voice
from .engines import PhonemeTiming, Piece, Voice, engine
from .text import Sentence, check_speakable, normalize, sentences

__all__ = [
    "DEFAULT_VOICE",
    "PhonemeTiming",
    "Speech",
    "Voice",
    "all_voices",
    "builtin_voices",
    "get_voice",
    "normalize",
    "pieces",
    "save_voice",
    "speak",
    "synthesize",
]

SENTENCE_PAUSE = 0.3  # seconds after a sentence
PARAGRAPH_PAUSE = 0.75  # after a paragraph's last sentence
TARGET_LUFS = -23.0  # EBU R128


@dataclass
class Speech:
    """Spoken text held in memory: mono float32 audio, its phoneme timings (empty for Piper
    voices) and each sentence's (text, start, end) in seconds."""

    audio: np.ndarray
    sample_rate: int
    phonemes: list[PhonemeTiming] = field(default_factory=list)
    sentences: list[tuple[str, float, float]] = field(default_factory=list)
    voice: str = ""

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


def pieces(
    text: str,
    voice: str | Voice | None = None,
    speed: float = 1.0,
    style: np.ndarray | None = None,
) -> Iterator[tuple[Sentence, Piece]]:
    """Each sentence of ``text`` spoken, its pause included at the end of its audio."""
    check_speakable(text)
    _check_speed(speed)
    v = voice if isinstance(voice, Voice) else get_voice(voice)
    eng = engine(v.engine)
    said = False
    for sentence in sentences(text):
        piece = eng.say(sentence.text, v, speed, style)
        if not piece.audio.size:
            continue
        said = True
        silence = np.zeros(int(round(_pause(sentence) * piece.sample_rate)), np.float32)
        piece.audio = np.concatenate([piece.audio, silence])
        yield sentence, piece
    if not said:
        from moviola.errors import MoviolaError

        raise MoviolaError(f"nothing to say: no speakable words in {text.strip()[:40]!r}")


def synthesize(
    text: str,
    voice: str | Voice | None = None,
    speed: float = 1.0,
    style: np.ndarray | None = None,
) -> Speech:
    """``text`` spoken by ``voice`` (default :data:`DEFAULT_VOICE`), held in memory."""
    parts: list[np.ndarray] = []
    phonemes: list[PhonemeTiming] = []
    said: list[tuple[str, float, float]] = []
    rate, offset = 0, 0
    v = voice if isinstance(voice, Voice) else get_voice(voice)
    for sentence, piece in pieces(text, v, speed, style):
        rate = piece.sample_rate
        start = offset / rate
        phonemes += [
            PhonemeTiming(p.phoneme, p.start + start, p.end + start) for p in piece.phonemes
        ]
        spoken = len(piece.audio) - int(round(_pause(sentence) * rate))
        said.append((sentence.text, start, start + spoken / rate))
        parts.append(piece.audio)
        offset += len(piece.audio)
    return Speech(np.concatenate(parts), rate, phonemes, said, v.name)


def _pause(sentence: Sentence) -> float:
    return PARAGRAPH_PAUSE if sentence.paragraph_end else SENTENCE_PAUSE


def _check_speed(speed: float) -> None:
    if not 0.5 <= speed <= 2.0:
        from moviola.errors import MoviolaError

        raise MoviolaError(f"--speed must be between 0.5 and 2 (got {speed})")


@dataclass
class SpokenFile:
    path: Path
    seconds: float
    sentences: int
    loudness: float  # LUFS before normalisation
    gain_db: float
    output_loudness: float | None
    elapsed: float
    voice: str

    @property
    def realtime(self) -> float:
        """Seconds of speech made per second of work."""
        return self.seconds / self.elapsed if self.elapsed else 0.0


def speak(
    text: str,
    out: str | os.PathLike,
    voice: str | Voice | None = None,
    speed: float = 1.0,
    loudness: float | None = TARGET_LUFS,
    progress: Callable[[int, str], None] | None = None,
    style: np.ndarray | None = None,
    convert: Callable[[np.ndarray, int], tuple[np.ndarray, int]] | None = None,
) -> SpokenFile:
    """Speak ``text`` into the audio file ``out`` (format by extension), sentence by sentence,
    scaled to ``loudness`` LUFS (None: as the engine made it), tagged as synthetic speech.
    ``convert(audio, rate) -> (audio, rate)`` is applied to each sentence before it is written
    (``speak --convert``: :func:`.convert.toward`)."""
    from moviola import __version__
    from moviola.media.pcm import encode_mono

    began = time.perf_counter()
    v = voice if isinstance(voice, Voice) else get_voice(voice)
    rate, count = 0, 0
    meter: LoudnessMeter | None = None
    with tempfile.TemporaryFile() as raw:
        for sentence, piece in pieces(text, v, speed, style):
            if convert is not None:
                piece.audio, piece.sample_rate = convert(piece.audio, piece.sample_rate)
            rate = piece.sample_rate
            meter = meter or LoudnessMeter(rate)
            meter.add(piece.audio)
            raw.write(piece.audio.astype(np.float32).tobytes())
            count += 1
            if progress:
                progress(count, sentence.text)
        assert meter is not None  # pieces() raised when nothing was said
        measured = meter.integrated
        gain = 1.0 if loudness is None else normalizing_gain(measured, meter.peak, loudness)
        raw.seek(0)
        tags = {
            "moviola_synthetic": f"speech; speak; moviola {__version__}",
            "comment": f"synthetic speech made with moviola speak (voice {v.name})",
        }
        path = encode_mono(out, _scaled(raw, gain), rate, metadata=tags)
    seconds = meter.samples / rate
    after = measured + 20 * np.log10(gain) if np.isfinite(measured) else None
    return SpokenFile(
        path,
        seconds,
        count,
        measured,
        float(20 * np.log10(gain)),
        after,
        time.perf_counter() - began,
        v.name,
    )


def _scaled(raw, gain: float, block: int = 1 << 16) -> Iterator[np.ndarray]:
    while True:
        data = raw.read(block * 4)
        if not data:
            return
        yield np.frombuffer(data, np.float32) * np.float32(gain)
