"""Burned-in captions: what drawing subtitles costs, on vtest.avi (768x576, 795 frames).

A subtitle file with a cue every 2 s (1.8 s long, 40 distinct texts of one and two lines) is
burned in, and the same clip goes through without captions; runs alternate and the best of each
is kept. Two measures: decode + effect with no encode (where the captions' own cost shows), and
the whole job to H.264 (decode, captions, encode) against a plain re-encode.

    .venv/bin/python bench/captions.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from fractions import Fraction
from pathlib import Path

from _common import OUT, ROOT  # bench/ is on sys.path when run as a script

import moviola
from moviola.media.subtitles import Cue, write_subtitles

TEXTS = (
    "Hello there, how are you today?",
    "No, I'm not a villain.",
    "Of course. You don't judge a book by its cover, do you?",
    "We walked down to the station and waited for the last train home.",
    "Yes.",
)


def subtitles(path: Path) -> Path:
    at = [Fraction(2 * i) for i in range(40)]
    cues = [Cue(t, t + Fraction(9, 5), f"{TEXTS[i % 5]} ({i})") for i, t in enumerate(at)]
    return write_subtitles(cues, path)


def decode_fps(src: Path, srt: Path | None, style: str) -> float:
    from moviola.vision import captions

    captions.caption_band.cache_clear()
    captions._overlay.cache_clear()  # noqa: SLF001 - every run renders its captions afresh
    clip = moviola.open(src)
    if srt is not None:
        clip = clip.apply("captions", subtitles=str(srt), style=style)
    start = time.perf_counter()
    n = sum(1 for _ in clip.frames())
    return n / (time.perf_counter() - start)


def encode_fps(src: Path, srt: Path | None, style: str) -> float:
    clip = moviola.open(src)
    if srt is not None:
        clip = clip.apply("captions", subtitles=str(srt), style=style)
    result = clip.save(OUT / "captions.mp4", codec="h264", audio=False)
    return result.fps


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    src = ROOT / "samples" / "vtest.avi"
    srt = subtitles(OUT / "captions.srt")
    jobs = {"none": None, "outline": srt, "box": srt}
    for measure in (decode_fps, encode_fps):
        best = dict.fromkeys(jobs, 0.0)
        for _ in range(args.repeat):
            for style, path in jobs.items():
                best[style] = max(best[style], measure(src, path, style))
        figures = ", ".join(f"{k} {v:.0f}" for k, v in best.items())
        print(f"{measure.__name__}: frames/s with captions styled {figures}")


if __name__ == "__main__":
    main()
