"""Voices (`moviola speak`): intelligibility, speed, and how far `--like` moves a voice.

    .venv/bin/python bench/voices.py [--write docs/benchmarks.md] [--parts wer,speed,like]

- Intelligibility: each voice speaks 20 Harvard sentences (IEEE 1969, public domain), one file
  per voice through ``voices.speak``; Whisper tiny.en (our recognizer) transcribes it; word error
  rate after lower-casing, removing punctuation and spelling numbers the same way.
- Speed: seconds of speech per second of work for the same 20 sentences, ours (``speak``: text
  normalisation, sentence split, loudness metering, WAV encoding) against the engine's library
  called directly on the same text in one call (kokoro-onnx ``create``, piper-tts
  ``synthesize``), in the same run.
- --like: samples/speech/librivox-0880.wav (3 s of a LibriVox reader) is the reference; the
  matched voice, the best built-in voice and the default speak a sentence the search never used;
  GE2E similarity to the reference and, more tellingly, to four other recordings of the same
  reader (0870, 0890, 0920, 0930); for scale, those recordings score against each other.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, write_section  # noqa: E402

CMD = "bench/voices.py --write docs/benchmarks.md"
SPEECH = ROOT / "samples" / "speech"
HARVARD = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.",
    "The girl at the booth sold fifty bonds.",
]


def _words(text: str) -> list[str]:
    from moviola.speech.voices.text import normalize

    return re.findall(r"[a-z']+", normalize(text).lower().replace("-", " "))


def _heard(path: Path) -> str:
    from moviola.speech.transcribe import transcribe

    return " ".join(s.text for s in transcribe(path).segments)


def bench_wer_speed(rows: list[str], speed_rows: list[str], out: Path, wer: bool) -> None:
    from moviola.speech import voices
    from moviola.speech.transcript import word_edits

    text = " ".join(HARVARD)
    ref = _words(text)
    direct = {"kokoro": _direct_kokoro, "piper": _direct_piper}
    for voice in voices.builtin_voices():
        if not wer and voice.name not in ("alpha", "joe"):
            continue
        if voice.name in ("alpha", "joe"):  # warm the engine up: loading is not speaking
            voices.synthesize("Warm up.", voice)
        result = voices.speak(text, out / f"{voice.name}.wav", voice)
        if wer:
            edits = word_edits(ref, _words(_heard(result.path)))
            rows.append(
                f"| {voice.name} | {voice.engine} | {voice.gender or '-'} | "
                f"{edits / len(ref):.1%} ({edits}/{len(ref)}) | {result.seconds:.1f} s |"
            )
        if voice.name in ("alpha", "joe"):
            seconds, elapsed = direct[voice.engine](text)
            speed_rows.append(
                f"| {voice.engine} ({voice.name}) | {result.realtime:.2f}x | "
                f"{seconds / elapsed:.2f}x | {result.realtime / (seconds / elapsed):.2f} |"
            )


def _direct_kokoro(text: str) -> tuple[float, float]:
    from moviola.speech.voices.engines import engine

    k = engine("kokoro").kokoro  # type: ignore[union-attr]
    began = time.perf_counter()
    audio, rate = k.create(text, voice="jf_alpha", lang="en-us")
    return len(audio) / rate, time.perf_counter() - began


def _direct_piper(text: str) -> tuple[float, float]:
    from moviola.speech.voices.engines import engine

    p = engine("piper").voice  # type: ignore[union-attr]
    began = time.perf_counter()
    n = sum(c.audio_float_array.size for c in p.synthesize(text))
    return n / p.config.sample_rate, time.perf_counter() - began


def bench_like(rows: list[str], steps: int, clips: list[str], out: Path) -> None:
    from moviola.media.pcm import decode_mono, encode_mono
    from moviola.speech.voices import DEFAULT_VOICE
    from moviola.speech.voices.match import (
        HELD_OUT,
        _Scorer,
        _starts,
        match_voice,
        reference_speech,
    )

    joined = [np.concatenate(list(decode_mono(SPEECH / f"librivox-{n}.wav", 16000))) for n in clips]
    ref = encode_mono(out / f"reference-{len(clips)}.wav", [np.concatenate(joined)], 16000)
    others = [n for n in ("0870", "0880", "0890", "0920", "0930") if n not in clips]
    began = time.perf_counter()
    found = match_voice(ref, steps=steps)
    elapsed = time.perf_counter() - began
    scorer = _Scorer(reference_speech(ref), 1.0)
    ref_name = (
        f"{'+'.join(clips)} ({len(scorer.target) and sum(j.size for j in joined) / 16000:.0f} s)"
    )
    enc = scorer.encoder
    other_emb = [enc.embed(reference_speech(SPEECH / f"librivox-{n}.wav")) for n in others]
    between = [float(a @ b) for i, a in enumerate(other_emb) for b in other_emb[i + 1 :]]

    start = dict(_starts(scorer.names))
    candidates = {
        f"--like ({found.syntheses} syntheses, {elapsed:.0f} s)": found.style,
        f"best built-in ({found.baseline_name})": scorer.style(start[found.baseline_name]),
        f"default ({DEFAULT_VOICE})": scorer.style(start[DEFAULT_VOICE]),
    }
    for name, style in candidates.items():
        e = enc.embed(scorer.audio(style, HELD_OUT))
        cross = np.mean([float(e @ o) for o in other_emb])
        rows.append(f"| {ref_name} | {name} | {float(e @ scorer.target):.3f} | {cross:.3f} |")
    if len(others) > 1:
        rows.append(
            f"| {ref_name} | the reader's other recordings, pairwise (for scale) | - | "
            f"{np.mean(between):.3f} ({min(between):.3f}-{max(between):.3f}) |"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", type=Path)
    ap.add_argument("--parts", default="wer,speed,like")
    ap.add_argument("--steps", type=int, default=32, help="--like search budget")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    load = os.getloadavg()[0]
    wer_rows: list[str] = []
    speed_rows: list[str] = []
    like_rows: list[str] = []
    with tempfile.TemporaryDirectory() as d:
        if parts & {"wer", "speed"}:
            bench_wer_speed(wer_rows, speed_rows, Path(d), "wer" in parts)
        if "like" in parts:
            bench_like(like_rows, args.steps, ["0880"], Path(d))
            bench_like(like_rows, args.steps, ["0880", "0890", "0920"], Path(d))
    lines = [
        "## Voices: intelligibility, speed, voice matching",
        "",
        f"`.venv/bin/python {CMD}` on this 2-core machine (load average {load:.1f} at the "
        f"start), {time.strftime('%Y-%m-%d')}. See the script's docstring for the method.",
        "",
        "Word error rate of Whisper tiny.en on 20 Harvard sentences (one file per voice):",
        "",
        "| voice | engine | gender | WER | speech |",
        "|---|---|---|---|---|",
        *wer_rows,
        "",
        "Speed, seconds of speech per second of work (same text, same run):",
        "",
        "| engine | moviola speak | library direct | ratio |",
        "|---|---|---|---|",
        *speed_rows,
        "",
        f"`--like` (search budget {args.steps} syntheses) with a reference of one LibriVox "
        "recording (3 s) and of three joined (9 s): GE2E similarity of a sentence the search "
        "never used to the reference and to the reader's recordings not in the reference",
        "",
        "| reference | voice | to the reference | to the reader's other recordings (mean) |",
        "|---|---|---|---|",
        *like_rows,
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        write_section(args.write, section)


if __name__ == "__main__":
    main()
