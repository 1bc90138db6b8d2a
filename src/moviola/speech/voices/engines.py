"""The two speech engines behind ``moviola speak``: Kokoro-82M and Piper, both ONNX on the CPU.

Each is driven through its maintained library (kokoro-onnx, piper-tts): they phonemize English
with espeak-ng (bundled in their wheels; no Debian package needed) and run the model. moviola
adds the model store (verified files), voice tables and blends, and the phoneme timings Kokoro's
graph knows but its export hid (see :mod:`moviola.models.kokoro`): Piper's voices report none,
so whatever needs mouth timings from a Piper voice aligns its audio instead (speech/align.py).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moviola import models
from moviola.errors import MoviolaError

KOKORO_MODEL = "kokoro-82m"
PIPER_MODEL = "piper-en-us-joe-medium"
KOKORO_RATE = 24000


@dataclass(frozen=True)
class PhonemeTiming:
    """When one phoneme (an IPA symbol, espeak-ng style) is spoken, in seconds."""

    phoneme: str
    start: float
    end: float


@dataclass(frozen=True)
class Voice:
    """A voice ``speak`` can use. ``weights`` blends Kokoro's voice tables ({table: weight});
    ``style`` is a saved table of its own (510 x 1 x 256), e.g. one found by ``--like``."""

    name: str
    engine: str  # "kokoro" or "piper"
    language: str
    gender: str | None
    license: str
    sample_rate: int
    description: str = ""
    weights: dict[str, float] = field(default_factory=dict)
    style: np.ndarray | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "engine": self.engine,
            "language": self.language,
            "gender": self.gender,
            "license": self.license,
            "sample_rate": self.sample_rate,
            "description": self.description,
            **({"blend": self.weights} if len(self.weights) > 1 else {}),
        }


@dataclass
class Piece:
    """The audio of one sentence, with its phoneme timings (empty for Piper) from its start."""

    audio: np.ndarray
    sample_rate: int
    phonemes: list[PhonemeTiming]


class KokoroEngine:
    """Kokoro-82M (kokoro-onnx over the store's converted model)."""

    def __init__(self) -> None:
        from kokoro_onnx import Kokoro

        from moviola.models.runtime import open_session

        folder = models.ensure(KOKORO_MODEL).parent
        # kokoro-onnx runs an onnxruntime session itself: give it the store's (device choice,
        # threads, one load per process)
        session = open_session(folder / "kokoro-v1.0.int8.onnx")._sess  # type: ignore[attr-defined]
        self.kokoro = Kokoro.from_session(session, str(folder / "voices_ja.npz"))
        self.tables: dict[str, np.ndarray] = {
            k: np.asarray(self.kokoro.voices[k], np.float32) for k in self.kokoro.get_voices()
        }
        self.lock = threading.Lock()

    def style(self, voice: Voice) -> np.ndarray:
        """The voice's style table (510 x 1 x 256): its own, or the weighted blend of tables."""
        if voice.style is not None:
            return np.asarray(voice.style, np.float32)
        total = sum(voice.weights.values())
        return sum(self.tables[k] * (w / total) for k, w in voice.weights.items())  # type: ignore[return-value]

    def say(self, text: str, voice: Voice, speed: float, style: np.ndarray | None = None) -> Piece:
        table = self.style(voice) if style is None else style
        with self.lock:
            audio, rate, timed = self.kokoro.create_timed(
                text, table, speed=speed, lang="en-us", trim=True
            )
        phonemes = [PhonemeTiming(t.phoneme, t.start, t.end) for t in timed]
        return Piece(np.asarray(audio, np.float32), rate, phonemes)


class PiperEngine:
    """Piper (piper-tts) with the store's joe voice."""

    def __init__(self) -> None:
        from piper import PiperVoice

        path = models.ensure(PIPER_MODEL)
        self.voice = PiperVoice.load(path, path.parent / (path.name + ".json"))
        self.sample_rate = int(self.voice.config.sample_rate)
        self.lock = threading.Lock()

    def say(self, text: str, voice: Voice, speed: float, style: np.ndarray | None = None) -> Piece:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=1.0 / speed, normalize_audio=False)
        with self.lock:
            chunks = [c.audio_float_array for c in self.voice.synthesize(text, config)]
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return Piece(np.asarray(audio, np.float32).ravel(), self.sample_rate, [])


@functools.cache
def engine(name: str) -> KokoroEngine | PiperEngine:
    """The shared engine of that name (loaded once per process)."""
    if name == "kokoro":
        return KokoroEngine()
    if name == "piper":
        return PiperEngine()
    raise MoviolaError(f"unknown speech engine {name!r}")
