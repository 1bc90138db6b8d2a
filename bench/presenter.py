"""Presenter and lip sync: render speed, and how well the mouth follows the speech.

1. **Speed.** ``moviola presenter`` on the astronaut photo (docs/faces/astronaut.jpg) with a
   Kokoro narration, at 512x512 and at 720p (720x720: the photo is square): frames per second
   of the whole command (speech synthesis and encoding included) and times real time.
2. **Lip sync.** The mouth opening measured by moviola's own face tracker (MediaPipe mesh,
   inner-lip gap over eye-corner distance) on the rendered frames, correlated (Pearson) with the
   speech's loudness envelope (RMS per frame, 3-frame smoothed), for our phoneme-driven mouth
   and for a baseline mouth that opens on loudness alone (same renderer). On the envelope the
   baseline has the advantage by construction (it *is* the envelope), so a second figure is
   given where the phonemes are known exactly (Kokoro): the share of p, b, m whose span shows
   a closed mouth (the measured opening below 40 % of its median during speech), which
   loudness alone cannot know (an m is voiced, so loud).
   Speech: the five LibriVox readings of samples/speech (``--audio``, aligned by Whisper +
   espeak-ng) and a Kokoro narration (``--text``).
3. **Lipsync.** ``moviola lipsync`` on Megamind.avi (the first 7 s) with LibriVox 0870: the same
   correlation on the output, and on the film's own mouth (the speech it never said).

    .venv/bin/python bench/presenter.py [--quick] [--speed-only]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

PHOTO = ROOT / "docs" / "faces" / "astronaut.jpg"
SPEECH = sorted((ROOT / "samples" / "speech").glob("librivox-*.wav"))
MEGAMIND = ROOT / "samples" / "Megamind.avi"
VOICE = "alpha"  # pinned: the figures do not move with the default voice
NARRATION = (
    "Good evening. Here is the news from the space station. The crew spent the morning "
    "repairing a pump, and the afternoon talking with pupils from a school in Bombay. "
    "Tomorrow, they will open the new module, and begin a month of experiments."
)


def decode(path: Path) -> tuple[list[np.ndarray], np.ndarray, int, float]:
    frames, chunks, rate = [], [], 0
    with av.open(str(path)) as c:
        fps = float(c.streams.video[0].average_rate or 25)
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(path)) as c:
        for f in c.decode(audio=0):
            a = f.to_ndarray()
            rate = f.sample_rate
            chunks.append(a.reshape(-1) if a.shape[0] == 1 else a.mean(0))
    return frames, np.concatenate(chunks).astype(np.float64), rate, fps


def corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def measure(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    """Measured opening per frame, the envelope per frame, and the frame rate."""
    from moviola.generate.presenter import opening_series
    from moviola.vision.faces.mouth import envelope

    frames, audio, rate, fps = decode(path)
    opening = opening_series(iter(frames))
    env = np.convolve(envelope(audio, rate, len(frames), fps), np.ones(3) / 3, mode="same")
    return opening, env, fps


def closed_share(opening: np.ndarray, fps: float, phonemes: list) -> float:
    """Share of p, b, m at which the mouth closes: the least opening over the phoneme's span
    (a frame either side) is below 60 % of the most in the 0.2 s before and after it."""
    spans = [(p.start, p.end) for p in phonemes if p.phoneme in "pbm"]
    reach = max(1, round(0.2 * fps))
    hits = 0
    for a, b in spans:
        lo, hi = max(0, int(a * fps) - 1), min(len(opening), int(np.ceil(b * fps)) + 1)
        before = opening[max(0, lo - reach) : lo]
        after = opening[hi : hi + reach]
        if lo >= hi or not len(before) or not len(after):
            continue
        around = min(np.nanmax(before), np.nanmax(after))
        if np.nanmin(opening[lo:hi]) < 0.6 * around:
            hits += 1
    return hits / max(1, len(spans))


def render(out: Path, **settings) -> tuple[float, int, float, float]:
    """Wall seconds, frames, speech seconds and CPU seconds (all threads) of one render."""
    from moviola.generate.presenter import Presenter, PresenterSettings

    started, cpu = time.monotonic(), time.process_time()
    result = Presenter(PresenterSettings(portrait=str(PHOTO), **settings)).render(out)
    wall = time.monotonic() - started
    return wall, result.frames, result.duration, time.process_time() - cpu


def speed(folder: Path, text: str) -> list[str]:
    """Best of two runs each (the machine is shared: the CPU time is the steadier figure)."""
    rows = [
        "| size | frames | speech (s) | wall (s) | frames/s | x real time | CPU (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for size in ("512", "720p"):
        out = folder / f"speed-{size}.mp4"
        runs = [render(out, text=text, size=size, voice=VOICE) for _ in range(2)]
        wall, frames, seconds, cpu = min(runs)
        rows.append(
            f"| {size} | {frames} | {seconds:.1f} | {wall:.1f} | {frames / wall:.1f} | "
            f"{seconds / wall:.2f} | {cpu:.1f} |"
        )
    return rows


def lipsync_rows(folder: Path, quick: bool) -> list[str]:
    from moviola.speech.voices import synthesize

    rows = [
        "| speech | ours: r(opening, envelope) | loudness only: r | ours: p/b/m closed | "
        "loudness only: p/b/m closed |",
        "|---|---|---|---|---|",
    ]
    kokoro = synthesize(NARRATION, VOICE)
    cases: list[tuple[str, dict, list | None]] = [
        (f"Kokoro narration ({VOICE})", {"text": NARRATION, "voice": VOICE}, kokoro.phonemes)
    ]
    for wav in SPEECH[: 2 if quick else None]:
        cases.append((f"LibriVox {wav.stem[-4:]} (--audio)", {"audio": str(wav)}, None))
    for name, source, phonemes in cases:
        got = []
        for mouth in ("phonemes", "loudness"):
            out = folder / f"sync-{mouth}.mp4"
            render(out, size="512", mouth=mouth, sway=0.0, **source)
            opening, env, fps = measure(out)
            closed = closed_share(opening, fps, phonemes) if phonemes else None
            got.append((corr(opening, env), closed))
        (ro, co), (rl, cl) = got
        fmt = lambda c: "-" if c is None else f"{c:.0%}"  # noqa: E731
        rows.append(f"| {name} | {ro:.2f} | {rl:.2f} | {fmt(co)} | {fmt(cl)} |")
    return rows


def lipsync_film(folder: Path) -> list[str]:
    from moviola.generate.lipsync import lipsync
    from moviola.generate.presenter import opening_series
    from moviola.vision.faces.mouth import envelope

    wav = ROOT / "samples" / "speech" / "librivox-0870.wav"
    out = folder / "dub.mp4"
    started = time.monotonic()
    result, _ = lipsync(str(MEGAMIND), str(wav), str(out), end="7")
    wall = time.monotonic() - started
    frames, audio, rate, fps = decode(out)
    ours = opening_series(iter(frames))
    with av.open(str(MEGAMIND)) as c:
        film = [
            f.to_ndarray(format="rgb24")
            for _, f in zip(range(len(frames)), c.decode(video=0), strict=False)
        ]
    theirs = opening_series(iter(film))
    env = np.convolve(envelope(audio, rate, len(frames), fps), np.ones(3) / 3, mode="same")
    return [
        "| lipsync, Megamind.avi 0-7 s + LibriVox 0870 | r(opening, new speech's envelope) |",
        "|---|---|",
        f"| dubbed by moviola lipsync ({result.frames_out} frames, {result.frames_out / wall:.1f} frames/s) | {corr(ours, env):.2f} |",
        f"| the film's own mouth | {corr(theirs, env):.2f} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two LibriVox readings only")
    parser.add_argument("--speed-only", action="store_true", help="only the render speed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"## Presenter render speed (astronaut photo, Kokoro narration, voice {VOICE})\n")
        print("\n".join(speed(folder, NARRATION)), flush=True)
        if args.speed_only:
            return
        print("\n## Mouth vs speech (presenter, 512x512, head sway off)\n")
        print("\n".join(lipsync_rows(folder, args.quick)), flush=True)
        if MEGAMIND.exists():
            print("\n## Lipsync on footage\n")
            print("\n".join(lipsync_film(folder)))


if __name__ == "__main__":
    main()
