"""``speak --like REF``: the Kokoro voice closest to a recording, kept intelligible.

No zero-shot cloning model with usable terms exists in the registries, so this searches the
voice space Kokoro already has. A Kokoro style vector is 256 numbers: the first 128 steer the
decoder (timbre), the last 128 the prosody predictor. A candidate voice is two affine blends of
the five voice tables, one for each half; weights may go a little below zero (down to
``-NEGATIVE``), so the search can move *away* from the voices least like the reference while
staying in the span of real voices. (A free search over all 256 numbers reached a higher
similarity in a probe, 0.64 against 0.45, and Whisper heard nonsense: ../shared/MODELS.md.)

Score: GE2E speaker similarity (cosine of :class:`moviola.speech.speakers.SpeakerEncoder`
embeddings) between the reference's speech (Silero VAD regions, the first minute at most) and
two fixed search sentences spoken by the candidate. The search starts from the best of the
built-in voices and blends and runs a (1+4) evolution strategy with the 1/5th success rule
over the ten weights for ``steps`` syntheses. Then the best candidates, in order, speak a
held-out sentence that Whisper transcribes; the first with a word error rate at or below
``MAX_WER`` wins (else the best built-in voice). The reported similarity is the held-out
sentence's, so it is not flattered by the search.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moviola.errors import MoviolaError

from .bank import builtin_voices
from .engines import KokoroEngine, Voice, engine

RATE = 16000
MIN_SPEECH = 2.0  # seconds of speech the reference needs
MAX_REFERENCE = 60.0  # seconds of the reference read
NEGATIVE = 0.3
MAX_WER = 0.2
SEARCH_SENTENCES = (
    "The morning light fell softly across the quiet harbor.",
    "Could you tell me whether the last train has already left?",
)
HELD_OUT = "Every evening the old man walked his dog along the river."


@dataclass
class Match:
    voice: Voice
    style: np.ndarray
    similarity: float  # held-out sentence vs the reference
    wer: float
    baseline: float  # the best built-in voice, held-out sentence
    baseline_name: str
    search_similarity: float
    syntheses: int
    reference: str

    def meta(self) -> dict[str, Any]:
        return {
            "description": f"like {self.reference} (similarity {self.similarity:.2f})",
            "similarity": round(self.similarity, 3),
            "baseline": round(self.baseline, 3),
            "baseline_voice": self.baseline_name,
            "wer": round(self.wer, 3),
        }


def reference_speech(path: str | os.PathLike, rate: int = RATE, why: str = "--like") -> np.ndarray:
    """The speech of a recording at ``rate`` Hz: its first minute, the regions Silero VAD hears
    (at 16 kHz) joined; at least MIN_SPEECH seconds of them, else one clear error."""
    from scipy.signal import resample_poly

    from moviola.media.pcm import decode_mono
    from moviola.speech.vad import RATE as VAD_RATE
    from moviola.speech.vad import SpeechDetector

    if not Path(path).is_file():
        raise MoviolaError(f"no reference recording {path}")
    samples: list[np.ndarray] = []
    total = 0
    for chunk in decode_mono(path, rate):
        samples.append(chunk)
        total += chunk.size
        if total >= MAX_REFERENCE * rate:
            break
    audio = np.concatenate(samples)[: int(MAX_REFERENCE * rate)] if samples else np.zeros(0)
    needs = f"{why} needs a recording of someone speaking for at least {MIN_SPEECH:.0f} s"
    if audio.size < MIN_SPEECH * rate:
        raise MoviolaError(
            f"the reference {Path(path).name} is {audio.size / rate:.1f} s long; {needs}"
        )
    low = audio if rate == VAD_RATE else resample_poly(audio, VAD_RATE, rate).astype(np.float32)
    detector = SpeechDetector()
    regions = [*detector.feed(low), *detector.finish()]
    speech = [audio[r.start * rate // VAD_RATE : r.end * rate // VAD_RATE] for r in regions]
    heard = sum(s.size for s in speech) / rate
    if heard < MIN_SPEECH:
        raise MoviolaError(
            f"only {heard:.1f} s of speech heard in {Path(path).name} (music or silence?); {needs}"
        )
    return np.concatenate(speech)


class _Scorer:
    def __init__(self, reference: np.ndarray, speed: float) -> None:
        from moviola.speech.speakers import SpeakerEncoder

        self.encoder = SpeakerEncoder()
        self.target = self.encoder.embed(reference)
        kokoro = engine("kokoro")
        assert isinstance(kokoro, KokoroEngine)
        self.kokoro = kokoro
        self.speed = speed
        self.count = 0
        tables = self.kokoro.tables
        self.names = sorted(tables)
        self.stack = np.stack([tables[n] for n in self.names])  # 5 x 510 x 1 x 256

    def style(self, weights: np.ndarray) -> np.ndarray:
        timbre = np.tensordot(weights[:5], self.stack[..., :128], axes=1)
        prosody = np.tensordot(weights[5:], self.stack[..., 128:], axes=1)
        return np.concatenate([timbre, prosody], axis=-1).astype(np.float32)

    def audio(self, style: np.ndarray, text: str) -> np.ndarray:
        from scipy.signal import resample_poly

        probe = Voice("probe", "kokoro", "en-US", None, "", 24000)
        piece = self.kokoro.say(text, probe, self.speed, style)
        return resample_poly(piece.audio, 2, 3).astype(np.float32)  # 24 kHz -> 16 kHz

    def similarity(self, style: np.ndarray, texts=SEARCH_SENTENCES) -> float:
        self.count += 1
        clip = np.concatenate([self.audio(style, t) for t in texts])
        return float(self.encoder.embed(clip) @ self.target)


def _project(w: np.ndarray) -> np.ndarray:
    """Each half: weights >= -NEGATIVE summing to 1."""
    out = np.empty_like(w)
    for half in (slice(0, 5), slice(5, 10)):
        h = np.maximum(w[half], -NEGATIVE)
        out[half] = h + (1 - h.sum()) / h.size
        out[half] = np.maximum(out[half], -NEGATIVE)
        out[half] /= out[half].sum()
    return out


def _starts(names: list[str]) -> list[tuple[str, np.ndarray]]:
    starts = []
    for v in builtin_voices():
        if v.engine != "kokoro":
            continue
        w = np.array([v.weights.get(n, 0.0) for n in names])
        w = w / w.sum()
        starts.append((v.name, np.concatenate([w, w])))
    return starts


def _search(scorer: _Scorer, steps: int, progress) -> tuple[list[tuple[float, np.ndarray]], str]:
    rng = np.random.default_rng(0)
    tried: list[tuple[float, np.ndarray]] = []
    scored = []
    for name, w in _starts(scorer.names):
        s = scorer.similarity(scorer.style(w))
        scored.append((s, name, w))
        tried.append((s, w))
    best_s, best_name, best_w = max(scored, key=lambda t: t[0])
    progress(scorer.count, f"best built-in {best_name}: similarity {best_s:.3f}")
    sigma, successes, rounds = 0.25, 0, 0
    while scorer.count + 4 <= len(scored) + steps:
        candidates = [_project(best_w + sigma * rng.standard_normal(10)) for _ in range(4)]
        results = [(scorer.similarity(scorer.style(w)), w) for w in candidates]
        tried += results
        s, w = max(results, key=lambda t: t[0])
        rounds += 1
        if s > best_s:
            best_s, best_w, successes = s, w, successes + 1
            progress(scorer.count, f"similarity {best_s:.3f}")
        if rounds % 5 == 0:  # 1/5th success rule
            sigma *= 1.5 if successes > 1 else 0.6
            successes = 0
    tried.sort(key=lambda t: -t[0])
    return tried, best_name


def _wer(scorer: _Scorer, audio: np.ndarray) -> float:
    from moviola.media.pcm import encode_mono
    from moviola.speech.transcribe import transcribe
    from moviola.speech.transcript import word_edits

    with tempfile.TemporaryDirectory() as d:
        wav = encode_mono(Path(d) / "probe.wav", [audio], RATE)
        heard = " ".join(s.text for s in transcribe(wav).segments)
    ref = re.findall(r"[a-z']+", HELD_OUT.lower())
    return word_edits(ref, re.findall(r"[a-z']+", heard.lower())) / len(ref)


def match_voice(
    reference: str | os.PathLike,
    steps: int = 48,
    speed: float = 1.0,
    progress: Callable[[int, str], None] | None = None,
) -> Match:
    """Search Kokoro's voice space for the voice most like ``reference`` (see module doc)."""
    if not 8 <= steps <= 400:
        raise MoviolaError(f"--match-steps must be from 8 to 400 (got {steps})")
    say = progress or (lambda *_: None)
    scorer = _Scorer(reference_speech(reference), speed)
    tried, baseline_name = _search(scorer, steps, say)
    search_best = tried[0][0]
    base_w = next(w for n, w in _starts(scorer.names) if n == baseline_name)
    base_audio = scorer.audio(scorer.style(base_w), HELD_OUT)
    baseline = float(scorer.encoder.embed(base_audio) @ scorer.target)
    for _, w in tried[:4]:
        style = scorer.style(w)
        audio = scorer.audio(style, HELD_OUT)
        wer = _wer(scorer, audio)
        if wer <= MAX_WER:
            held = float(scorer.encoder.embed(audio) @ scorer.target)
            if held >= baseline:
                break
    else:
        style, held, wer = scorer.style(base_w), baseline, _wer(scorer, base_audio)
    name = f"like-{Path(reference).stem}"
    voice = Voice(name, "kokoro", "en-US", None, "Apache-2.0", 24000, "matched voice", style=style)
    say(scorer.count, f"held-out similarity {held:.3f} (built-in {baseline_name} {baseline:.3f})")
    return Match(
        voice,
        style,
        held,
        wer,
        baseline,
        baseline_name,
        search_best,
        scorer.count,
        Path(reference).name,
    )
