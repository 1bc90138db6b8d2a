"""Ray engine: speed-up of 1 vs 2 workers on this machine for a CPU-heavy effect, per-chunk
costs, and from them an estimate of a 100-machine cluster on a two-hour film.

    .venv/bin/python bench/engines.py --seconds 8 --chunk-seconds 2 --write docs/engines.md

Every configuration renders the same clip (vtest.avi at 576p, 10 fps, keyframes every second)
with the same effect, one thread per task, in one run of this script.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, ROOT, write_section  # noqa: E402

EFFECT = "interpolate:multi=2"
WORKER = r"""
import json, os, sys, time
os.environ["MOVIOLA_THREADS"] = "1"
from moviola.engines.job import run_chunked
from moviola.engines.ray_engine import RayExecutor
from moviola.pipeline import registry, run
src, out, effect, workers, chunk_seconds = sys.argv[1:6]
workers = int(workers)
t = time.monotonic()
if workers == 0:
    r = run(src, out, [registry.parse_spec(effect)])
    print(json.dumps({"seconds": time.monotonic() - t, "frames": r.frames_out}))
    sys.exit()
import ray
ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
         runtime_env={"env_vars": {"MOVIOLA_THREADS": "1"}})
started = time.monotonic() - t
ex = RayExecutor()
t = time.monotonic()
r, job = run_chunked(src, out, [registry.parse_spec(effect)], ex, chunk_seconds=float(chunk_seconds))
print(json.dumps({"seconds": time.monotonic() - t, "ray_start": started, "frames": r.frames_out,
                  "chunks": job.chunks}))
"""


def make_input(seconds: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"vtest_keyed_{seconds}s.mp4"
    if not path.exists():
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-i",
                ROOT / "samples" / "vtest.avi",
                "-t",
                str(seconds),
                "-c:v",
                "libx264",
                "-g",
                "10",
                "-crf",
                "16",
                path,
            ],
            check=True,
        )
    return path


def measure(src: Path, workers: int, chunk_seconds: float) -> dict:
    out = OUT / f"engines_{workers}.mp4"
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            WORKER,
            str(src),
            str(out),
            EFFECT,
            str(workers),
            str(chunk_seconds),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=16)
    ap.add_argument("--chunk-seconds", type=float, default=4)
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    src = make_input(args.seconds)
    local = measure(src, 0, args.chunk_seconds)
    one = measure(src, 1, args.chunk_seconds)
    two = measure(src, 2, args.chunk_seconds)
    frames = two["frames"]
    speedup = one["seconds"] / two["seconds"]
    # Paper estimate: a two-hour film at 24 fps, 576p, on 100 machines like this one (2 CPUs),
    # from the costs measured here: one CPU-second per output frame (the local engine's run),
    # the work chunk edges add (decoding and computing the context frames of each chunk, for a
    # 10 s chunk at 24 fps), and the parallel efficiency of 2 workers on one machine.
    per_frame = local["seconds"] / local["frames"]
    from moviola.engines.chunks import context
    from moviola.pipeline import registry

    before, after, _ = context([registry.parse_spec(EFFECT)])
    chunk_frames = 10 * 24
    edge = (before + after) / chunk_frames
    measured_edge = (one["seconds"] - local["seconds"]) / local["seconds"]
    film_frames = 2 * 3600 * 24
    cpus = 100 * 2
    efficiency = speedup / 2
    cpu_hours = film_frames * per_frame * (1 + edge) / 3600
    cluster = cpu_hours * 3600 / (cpus * efficiency)
    single = cpu_hours * 3600 / (2 * efficiency)
    rows = [
        f"| local engine (one process, 1 thread) | {local['seconds']:.1f} s | "
        f"{local['frames'] / local['seconds']:.2f} |",
        f"| ray, 1 worker | {one['seconds']:.1f} s | {frames / one['seconds']:.2f} |",
        f"| ray, 2 workers | {two['seconds']:.1f} s | {frames / two['seconds']:.2f} |",
    ]
    section = "\n".join(
        [
            "## Ray engine: 1 vs 2 workers",
            "",
            f"`{EFFECT}` (RIFE, one ONNX Runtime thread per task) on {args.seconds} s of "
            f"vtest.avi (576p, 10 fps in, {frames} frames out), chunks of {args.chunk_seconds:g} s "
            f"({two['chunks']} chunks), on this 2-core machine. Ray's own start-up "
            f"({two['ray_start']:.1f} s) is not counted.",
            "",
            "| run | time | output fps |",
            "|---|---|---|",
            *rows,
            "",
            f"Speed-up from 1 to 2 workers: **{speedup:.2f}x** (ideal 2x). Ray with one worker "
            f"took {measured_edge:+.0%} the time of the local engine: with chunks of only "
            f"{args.chunk_seconds:g} s ({int(args.chunk_seconds * 10)} frames), each chunk also "
            f"decodes and computes {before} frames before and {after} after it (interpolate's "
            "context), which is most of that difference.",
            "",
            "### On paper: a two-hour film on 100 machines",
            "",
            f"Measured cost: {per_frame:.2f} CPU-seconds per output frame at 576p for this effect "
            f"(the local engine, one thread). A two-hour film at 24 fps is {film_frames} frames; "
            f"with 10 s chunks (240 frames) the chunk edges add {edge:.0%} "
            f"({before} + {after} context frames per chunk): {cpu_hours:.0f} CPU-hours. On 100 "
            f"machines with 2 CPUs each, at the parallel efficiency measured here "
            f"({efficiency:.0%}), that is about **{cluster / 60:.0f} minutes** (one such machine: "
            f"{single / 3600:.0f} hours), plus the join, which copies packets without decoding "
            "them. 720 chunks on 200 CPUs is 3.6 chunks per CPU, so the last wave leaves CPUs "
            "idle; 5 s chunks (1440) even that out at twice the edge cost.",
            "",
            "Command: `.venv/bin/python bench/engines.py "
            f"--seconds {args.seconds} --chunk-seconds {args.chunk_seconds:g} --write "
            "docs/engines.md`",
        ]
    )
    print(section)
    if args.write:
        write_section(args.write, section, title="# Engines")


if __name__ == "__main__":
    main()
