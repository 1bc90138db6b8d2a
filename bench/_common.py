"""Shared by the bench scripts: the real-footage inputs, and writing figures into markdown."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def vtest_inputs(frames: int, frames_hd: int | None = None) -> dict[str, Path]:
    """576p: the first frames of vtest.avi (stream copy). 1080p: vtest scaled, H.264 CRF 16."""
    vtest = ROOT / "samples" / "vtest.avi"
    if not vtest.exists():
        sys.exit("bench: samples/vtest.avi missing; run `make samples`")
    if not shutil.which("ffmpeg"):
        sys.exit("bench: the ffmpeg command line is needed (apt-get install ffmpeg)")
    OUT.mkdir(parents=True, exist_ok=True)
    frames_hd = frames if frames_hd is None else frames_hd
    sd = OUT / f"vtest_576p_{frames}.avi"
    if not sd.exists():
        _ffmpeg("-i", vtest, "-frames:v", frames, "-c", "copy", sd)
    hd = OUT / f"vtest_1080p_{frames_hd}.mp4"
    if not hd.exists():
        _ffmpeg(
            "-i",
            vtest,
            "-frames:v",
            frames_hd,
            "-vf",
            "scale=1920:1080:flags=lanczos",
            "-c:v",
            "libx264",
            "-preset",
            "fast",
            "-crf",
            "16",
            "-pix_fmt",
            "yuv420p",
            hd,
        )
    return {"576p": sd, "1080p": hd}


def _ffmpeg(*args) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True)


def write_section(path: Path, section: str, title: str = "# Benchmarks") -> None:
    """Replace the section with the same "## " heading in a markdown file (or append it)."""
    text = path.read_text() if path.exists() else title + "\n\n"
    heading = section.splitlines()[0]
    if heading in text:
        start = text.index(heading)
        nxt = text.find("\n## ", start + len(heading))
        rest = "\n" + text[nxt + 1 :] if nxt != -1 else ""
        text = text[:start] + section.rstrip("\n") + "\n" + rest
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
