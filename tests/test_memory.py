"""Memory does not grow with video length: the pipeline streams."""

from __future__ import annotations

import subprocess
import sys

import moviola  # noqa: F401 - the scripts import it
from moviola.media import synth

SCRIPT = """
import resource, sys
import moviola
moviola.open(sys.argv[1]).apply("resize", width=480).apply("fps", rate=50).save(
    sys.argv[2], preset="ultrafast")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def peak_mb(src, out) -> int:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(src), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.strip().splitlines()[-1])


def test_memory_flat_with_duration(tmp_path):
    short, long = tmp_path / "short.mp4", tmp_path / "long.mp4"
    synth.make_clip(short, width=320, height=240, duration=3, flashes=())
    synth.make_clip(long, width=320, height=240, duration=30, flashes=())
    a = peak_mb(short, tmp_path / "a.mp4")
    b = peak_mb(long, tmp_path / "b.mp4")
    # ten times longer: peak memory within 25 MB (one frame at 480x360 RGB is 0.5 MB)
    assert b - a < 25, (a, b)


STILL = """
import resource, sys
import moviola
moviola.open(sys.argv[1]).apply("parallax", depth=sys.argv[2], seconds=float(sys.argv[4]),
                                 fps=25, move="dolly").save(sys.argv[3], preset="ultrafast")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def test_still_to_clip_streams(tmp_path):
    """A photo turned into a clip (parallax) is rendered frame by frame, not held whole:
    a clip four times longer (100 frames of 1282x1110, 430 MB as RGB) peaks within 60 MB."""
    import numpy as np

    from moviola.media import VideoReader

    photo = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    image = (rng.random((1110, 1282, 3)) * 255).astype(np.uint8)
    depth = np.tile(np.linspace(0, 255, 1282, dtype=np.uint8), (1110, 1))
    import cv2

    for path, pixels in ((photo, image), (tmp_path / "depth.png", depth)):
        cv2.imwrite(str(path), pixels)
    peaks = []
    for seconds in (1, 4):
        out = tmp_path / f"clip{seconds}.mp4"
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                STILL,
                str(photo),
                str(tmp_path / "depth.png"),
                str(out),
                str(seconds),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        peaks.append(int(result.stdout.strip().splitlines()[-1]))
        with VideoReader(out) as reader:
            assert reader.stream_info.frames == 25 * seconds
    assert peaks[1] - peaks[0] < 60, peaks
