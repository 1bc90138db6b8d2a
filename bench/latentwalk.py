"""Latent walk benchmark: generation speed, beat-tracking accuracy, pictures of a loop's seam.

speed     Frames per second of a walk with the built-in dcgan-faces64 generator (ONNX Runtime,
          CPU), frames generated in batches and kept in memory (no encoding): at the generator's
          64x64, Lanczos to 256x256, and through the upscale effect (realesr-animevideov3, ncnn)
          to 256x256 and 512x512. Then the whole command (``moviola latentwalk``, H.264 encode)
          at 256x256.
beats     Click tracks at several tempos (a 1 kHz click on each beat over a quiet hum and
          noise, 20 s, first beat at 0.4 s; one track with every other beat quieter, one with
          a 30 ms random jitter on each click): our beat tracker (moviola.generate.beats, numpy)
          against librosa's ``beat.beat_track`` (when ``--librosa-python`` names a Python that
          has librosa) and the known click times. A beat counts as found when a detected beat
          lies within one frame at 24 fps (41.7 ms); F-measure, mean |error| of the found ones,
          and the tempo estimate.
pictures  docs/latentwalk/: a strip across a loop's seam (last frames, then frames 0, 1, 2),
          faces of a few seeds, a 64x64 looping GIF.

    .venv/bin/python bench/latentwalk.py [--frames 96] [--librosa-python /tmp/lrvenv/bin/python]
                                         [--parts speed,beats,pictures]
                                         [--write docs/latentwalk.md]

Results are kept in bench/out/latentwalk_results.json, so parts can be run one at a time; --write
renders all stored parts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_section  # noqa: E402

from moviola.generate.beats import detect_beats  # noqa: E402
from moviola.generate.latentwalk import GeneratorModel, Walk, WalkSettings, seed_latent  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PICTURES = ROOT / "docs" / "latentwalk"
RESULTS = ROOT / "bench" / "out" / "latentwalk_results.json"
FRAME = 1 / 24
TEMPOS = (60, 90, 120, 128, 150, 174)

LIBROSA_SCRIPT = """
import json, sys, librosa, numpy as np
y, sr = librosa.load(sys.argv[1], sr=22050, mono=True)
tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
print(json.dumps({"bpm": float(np.atleast_1d(tempo)[0]), "times": [float(t) for t in beats],
                  "version": librosa.__version__}))
"""


# --- speed --------------------------------------------------------------------------------------


def time_walk(gen: GeneratorModel, frames: int, **kw) -> float:
    walk = Walk(WalkSettings(path="loop", seconds=frames / 24, fps=24, **kw), gen)
    walk.images(np.arange(min(8, frames)))  # warm up (sessions, upscale model)
    start = time.perf_counter()
    for i in range(0, frames, 16):
        walk.images(np.arange(i, min(frames, i + 16)))
    return frames / (time.perf_counter() - start)


def speed(frames: int) -> dict:
    gen = GeneratorModel()
    rows = {
        "64x64 (generator)": time_walk(gen, frames),
        "256x256 Lanczos": time_walk(gen, frames, size="256"),
        "256x256 upscale (realesr-animevideov3-x4)": time_walk(
            gen, max(16, frames // 3), size="256", upscale="realesr-animevideov3"
        ),
        "512x512 upscale (x4, then Lanczos x2)": time_walk(
            gen, max(8, frames // 8), size="512", upscale="realesr-animevideov3"
        ),
    }
    with tempfile.TemporaryDirectory() as d:
        exe = Path(sys.executable).parent / "moviola"
        start = time.perf_counter()
        subprocess.run(
            [
                str(exe),
                "latentwalk",
                "-o",
                f"{d}/w.mp4",
                "--path",
                "loop",
                "--seconds",
                str(frames / 24),
                "--size",
                "256",
                "-q",
            ],
            check=True,
            capture_output=True,
        )
        rows["256x256 whole command (H.264)"] = frames / (time.perf_counter() - start)
    return rows


# --- beats --------------------------------------------------------------------------------------


def click_track(path: Path, bpm: float, seconds=20.0, accent=False, jitter=0.0, seed=0):
    rate = 44100
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    audio = 0.05 * np.sin(2 * np.pi * 110 * t) + 0.01 * rng.standard_normal(n)
    clicks = np.arange(0.4, seconds - 0.05, 60.0 / bpm)
    if jitter:
        clicks = clicks + rng.uniform(-jitter, jitter, len(clicks))
    length = int(0.01 * rate)
    burst = np.sin(2 * np.pi * 1000 * np.arange(length) / rate) * np.exp(
        -np.arange(length) / (0.003 * rate)
    )
    for k, c in enumerate(clicks):
        i = int(round(c * rate))
        gain = 0.35 if accent and k % 2 else 0.8
        audio[i : i + length] += gain * burst[: n - i]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("flac", rate=rate)
        stream.codec_context.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            (np.clip(audio, -1, 1) * 32767).astype(np.int16)[None], format="s16", layout="mono"
        )
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return clicks


def score(times: np.ndarray, truth: np.ndarray) -> dict:
    times = np.asarray(times, float)
    if len(times) == 0:
        return {"f": 0.0, "err_ms": None, "offset_ms": None, "n": 0}
    err = np.abs(times[:, None] - truth[None, :])
    hit_truth = err.min(axis=0) <= FRAME
    hit_det = err.min(axis=1) <= FRAME
    recall, precision = hit_truth.mean(), hit_det.mean()
    f = 0.0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)
    found = err.min(axis=0)[hit_truth]
    # signed: nearest detected beat minus each click (positive: late), median over all clicks
    nearest = times[np.argmin(err, axis=0)] - truth
    return {
        "f": float(f),
        "err_ms": float(found.mean() * 1000) if len(found) else None,
        "offset_ms": float(np.median(nearest) * 1000),
        "n": int(len(times)),
    }


def beats(librosa_python: str | None) -> dict:
    rows = {}
    cases = [(f"{b} BPM", b, {}) for b in TEMPOS]
    cases += [
        ("120 BPM, weak off-beats", 120, {"accent": True}),
        ("100 BPM, 30 ms jitter", 100, {"jitter": 0.03}),
    ]
    with tempfile.TemporaryDirectory() as d:
        for name, bpm, kw in cases:
            path = Path(d) / "clicks.flac"
            truth = click_track(path, bpm, **kw)
            start = time.perf_counter()
            ours = detect_beats(path)
            row = {
                "truth_bpm": bpm,
                "ours": {
                    **score(ours.times, truth),
                    "bpm": ours.bpm,
                    "seconds": time.perf_counter() - start,
                },
            }
            if librosa_python:
                start = time.perf_counter()
                out = subprocess.run(
                    [librosa_python, "-c", LIBROSA_SCRIPT, str(path)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                lib = json.loads(out.stdout)
                row["librosa"] = {
                    **score(np.array(lib["times"]), truth),
                    "bpm": lib["bpm"],
                    "seconds": time.perf_counter() - start,
                    "version": lib["version"],
                }
            rows[name] = row
    return rows


# --- pictures -----------------------------------------------------------------------------------


def _png(path: Path, rgb: np.ndarray) -> None:
    cv2.imwrite(str(path), rgb[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])


def pictures() -> list[str]:
    PICTURES.mkdir(parents=True, exist_ok=True)
    gen = GeneratorModel()
    made = []
    walk = Walk(WalkSettings(path="loop", seconds=4, fps=12, every=1.0, seed=3, size="96"), gen)
    n = walk.frames
    idx = [n - 3, n - 2, n - 1, 0, 1, 2]
    tiles = walk.images(idx)
    gap = np.full((96, 4, 3), 255, np.uint8)
    strip = np.concatenate([x for t in tiles for x in (t, gap)][:-1], axis=1)
    # mark the seam (between frame n-1 and frame 0) with a red bar
    x = 3 * 100 - 4
    strip[:, x : x + 4] = (220, 30, 30)
    _png(PICTURES / "loop_seam.png", strip)
    made.append("loop_seam.png")
    faces = gen(np.stack([seed_latent(s, gen.latent_size) for s in range(1, 9)]))
    grid = np.concatenate(
        [cv2.resize(f, (96, 96), interpolation=cv2.INTER_LANCZOS4) for f in faces], axis=1
    )
    _png(PICTURES / "seeds_1-8.png", grid)
    made.append("seeds_1-8.png")
    seeds = Walk(WalkSettings(seeds="1,7", seconds=1, fps=8, size="96"), gen)
    row = np.concatenate(seeds.images(np.arange(seeds.frames)), axis=1)
    _png(PICTURES / "seeds_1_to_7_slerp.png", row)
    made.append("seeds_1_to_7_slerp.png")
    up = Walk(
        WalkSettings(seeds="1,7", seconds=1, fps=8, size="192", upscale="realesr-animevideov3"), gen
    )
    lz = Walk(WalkSettings(seeds="1,7", seconds=1, fps=8, size="192"), gen)
    pair = np.concatenate(
        [lz.images([0])[0], np.full((192, 4, 3), 255, np.uint8), up.images([0])[0]], axis=1
    )
    _png(PICTURES / "seed1_lanczos_vs_upscale_192.png", pair)
    made.append("seed1_lanczos_vs_upscale_192.png (left Lanczos, right upscale effect)")
    from moviola.generate.latentwalk import render

    render(PICTURES / "loop64.gif", path="loop", seconds=3, fps=10, every=1.0, seed=3)
    made.append("loop64.gif")
    return made


# --- report -------------------------------------------------------------------------------------


def section(res: dict, command: str) -> str:
    lines = ["## Latent walks", "", f"Measured with `{command}` on {res['machine']}.", ""]
    if res.get("load", 0) > (os.cpu_count() or 1):
        lines += [
            "The machine was shared with other jobs while this ran (load above its CPU count): "
            "the speeds are lower bounds, the beat figures do not depend on it.",
            "",
        ]
    if "speed" in res:
        lines += [
            "Generation speed (dcgan-faces64 on ONNX Runtime, CPU; frames per second, "
            "frames kept in memory unless said):",
            "",
            "| output | fps |",
            "|---|---|",
        ]
        lines += [f"| {k} | {v:.1f} |" for k, v in res["speed"].items()]
        lines.append("")
    if "beats" in res:
        lib = any("librosa" in r for r in res["beats"].values())
        version = next(
            (r["librosa"]["version"] for r in res["beats"].values() if "librosa" in r), ""
        )
        head = "| click track | ours: F | ours: mean err ms | ours: offset ms | ours: BPM |"
        rule = "|---|---|---|---|---|"
        if lib:
            head += f" librosa {version}: F | librosa: mean err ms | librosa: offset ms |"
            head += " librosa: BPM |"
            rule += "---|---|---|---|"
        lines += [
            "Beat tracking on 20 s click tracks (a beat is found when a detected beat is "
            "within one frame at 24 fps, 41.7 ms; F-measure of found vs detected; mean err: of the "
            "found beats; offset: median of nearest detected beat minus click, + is late):",
            "",
            head,
            rule,
        ]
        for name, r in res["beats"].items():
            o = r["ours"]
            cells = [name, f"{o['f']:.3f}", _ms(o["err_ms"]), _ms(o.get("offset_ms"))]
            cells.append(f"{o['bpm']:.1f}")
            if lib and "librosa" in r:
                li = r["librosa"]
                cells += [f"{li['f']:.3f}", _ms(li["err_ms"]), _ms(li.get("offset_ms"))]
                cells.append(f"{li['bpm']:.1f}")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if "pictures" in res:
        lines += ["Pictures in docs/latentwalk/: " + ", ".join(res["pictures"]) + ".", ""]
    return "\n".join(lines) + "\n"


def _ms(v):
    return "-" if v is None else f"{v:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=96)
    ap.add_argument("--parts", default="speed,beats,pictures")
    ap.add_argument("--librosa-python", help="a Python with librosa installed (a separate venv)")
    ap.add_argument("--write", type=Path, help="markdown file to write the section into")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    res: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start",
        "load": os.getloadavg()[0],
        "command": "python bench/latentwalk.py " + " ".join(sys.argv[1:]),
    }
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if "speed" in parts:
        res["speed"] = speed(args.frames)
    if "beats" in parts:
        res["beats"] = beats(args.librosa_python)
    if "pictures" in parts:
        res["pictures"] = pictures()
    print(json.dumps(res, indent=2, default=float))
    if "speed" not in parts and "beats" not in parts:
        for key in ("machine", "load", "command"):
            res[key] = stored.get(key, res[key])
    stored.update(res)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(stored, indent=2, default=float))
    res = stored
    if args.write:
        write_section(args.write, section(res, res["command"]), title="# Latent walks")


if __name__ == "__main__":
    main()
