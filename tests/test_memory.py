"""Memory does not grow with video length: the pipeline streams."""

from __future__ import annotations

import subprocess
import sys

from moviola.media import synth

SCRIPT = """
import resource, sys
import moviola
moviola.open(sys.argv[1]).apply("resize", width=480).apply("fps", rate=50).save(
    sys.argv[2], preset="ultrafast")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def peak_mb(src, out) -> int:
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(src), str(out)],
                            capture_output=True, text=True, check=True)
    return int(result.stdout.strip().splitlines()[-1])


def test_memory_flat_with_duration(tmp_path):
    short, long = tmp_path / "short.mp4", tmp_path / "long.mp4"
    synth.make_clip(short, width=320, height=240, duration=3, flashes=())
    synth.make_clip(long, width=320, height=240, duration=30, flashes=())
    a = peak_mb(short, tmp_path / "a.mp4")
    b = peak_mb(long, tmp_path / "b.mp4")
    # ten times longer: peak memory within 25 MB (one frame at 480x360 RGB is 0.5 MB)
    assert b - a < 25, (a, b)
