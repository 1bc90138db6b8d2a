"""Passthrough benchmark: decode -> RGB -> encode H.264, moviola's pipeline vs the ffmpeg CLI.

Both do the same job on the same file in one run: decode the video, convert every frame to
RGB24, convert back to YUV 4:2:0 and encode with libx264 at the same CRF and preset, no audio.
Runs alternate (ffmpeg, ours, ffmpeg, ours, ...) and the best of each is kept.

    .venv/bin/python bench/passthrough.py [--repeat 2] [--frames 300] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import av
from _common import vtest_inputs, write_section  # bench/ is on sys.path when run as a script

import moviola

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def run_ffmpeg(src: Path, dst: Path, preset: str, crf: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(src),
            "-an",
            "-vf",
            "format=rgb24",
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-crf",
            str(crf),
            "-pix_fmt",
            "yuv420p",
            str(dst),
        ],
        check=True,
    )
    return time.perf_counter() - start


def run_moviola(src: Path, dst: Path, preset: str, crf: int) -> float:
    start = time.perf_counter()
    moviola.open(src).save(dst, codec="h264", preset=preset, crf=crf, audio=False)
    return time.perf_counter() - start


def count_frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for p in c.demux(c.streams.video[0]) if p.size)


def versions() -> str:
    ff = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split()[2]
    libs = av.library_versions["libavcodec"]
    return (
        f"ffmpeg CLI {ff} (Debian); moviola {moviola.__version__} on PyAV {av.__version__} "
        f"(libavcodec {'.'.join(map(str, libs))}); Python {platform.python_version()}; "
        f"{platform.machine()}, {shutil.os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--presets", default="medium,ultrafast")
    parser.add_argument("--crf", type=int, default=18)
    parser.add_argument("--write", help="replace this section in a markdown file")
    args = parser.parse_args()
    if not shutil.which("ffmpeg"):
        sys.exit("bench: the ffmpeg command line is needed (apt-get install ffmpeg)")
    inputs = vtest_inputs(args.frames)
    rows = []
    for label, src in inputs.items():
        frames = count_frames(src)
        for preset in args.presets.split(","):
            ff_times, our_times = [], []
            for _ in range(args.repeat):
                ff_times.append(run_ffmpeg(src, OUT / "ffmpeg.mp4", preset, args.crf))
                our_times.append(run_moviola(src, OUT / "moviola.mp4", preset, args.crf))
            assert count_frames(OUT / "moviola.mp4") == count_frames(OUT / "ffmpeg.mp4") == frames
            ff_fps, our_fps = frames / min(ff_times), frames / min(our_times)
            rows.append((label, preset, frames, ff_fps, our_fps, our_fps / ff_fps))
            print(
                f"{label:6} {preset:10} {frames} frames: ffmpeg {ff_fps:7.1f} fps, "
                f"moviola {our_fps:7.1f} fps, ratio {our_fps / ff_fps:.2f}",
                flush=True,
            )
    table = [
        "| input | x264 preset | frames | ffmpeg CLI fps | moviola fps | ratio (moviola / ffmpeg) |",
        "|---|---|---|---|---|---|",
    ]
    table += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.2f} |" for r in rows]
    section = "\n".join(
        [
            "## Passthrough: decode, to RGB, encode H.264",
            "",
            f"Command: `.venv/bin/python bench/passthrough.py --repeat {args.repeat} --frames "
            f"{args.frames}` (best of {args.repeat} alternating runs each; CRF {args.crf}, "
            "no audio).",
            "",
            f"Machine: {versions()}.",
            "",
            *table,
            "",
        ]
    )
    print()
    print(section)
    if args.write:
        write_section(Path(args.write), section)


if __name__ == "__main__":
    main()
