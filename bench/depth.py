"""Depth from motion against ground truth, and against the naive baseline.

Two inputs with exact depth:
  synthetic  a scene rendered here (moviola.vision.scene): two textured panels at distances 2.5
             and 4 in front of a wall at 9, over a ground plane, the textures being photos from
             samples/photos; a pinhole camera (focal = width) moves between two views. Exact
             inverse depth for every pixel.
  aloe       the Middlebury "aloe" stereo pair shipped in opencv-doc (aloeL.jpg, aloeR.jpg) with
             its ground-truth disparity (aloeGT.png; 0 = unknown, left out): two real photos
             from a camera moved sideways.

For each pair: ours (moviola.vision.depth.MotionDepth: DIS flow both ways, essential matrix +
recoverPose with an assumed focal length, per-pixel triangulation of inverse depth, confidence,
edge-aware fill) and the naive baseline (optical-flow magnitude as inverse depth). Errors are
scale-invariant (both are only relative): the prediction is aligned to the truth by a scale and
an offset in inverse depth (least squares), then AbsRel = mean |z - z*| / z* and
delta < 1.25 = share of pixels within 25 % on depth.

    .venv/bin/python bench/depth.py [--width 480] [--write docs/depth.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from moviola.vision.depth import MotionDepth, flow_magnitude_depth
from moviola.vision.scene import Scene, scale_invariant_errors

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(os.environ.get("MOVIOLA_SAMPLES", ROOT / "samples"))
PHOTOS = ("fruits.jpg", "baboon.jpg", "building.jpg", "home.jpg")
#: camera moves between the two views: (name, position (x, y, z), yaw in radians)
MOVES = (
    ("sideways", (0.15, 0.0, 0.0), 0.0),
    ("sideways + turn", (0.15, 0.0, 0.0), 0.03),
    ("diagonal + turn", (0.12, 0.04, 0.08), -0.02),
    ("forward", (0.0, 0.0, 0.3), 0.0),
    ("forward + turn", (0.02, 0.0, 0.3), 0.02),
)


def rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    if image is None:
        sys.exit(f"bench: cannot read {path}; run `make samples`")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def measure(a, b, truth, mask=None) -> tuple[dict, dict, float]:
    started = time.perf_counter()
    est = MotionDepth().estimate(a, b)
    seconds = time.perf_counter() - started
    ours = scale_invariant_errors(est.depth, truth, mask)
    naive = scale_invariant_errors(flow_magnitude_depth(a, b), truth, mask)
    return ours, naive, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=480, help="synthetic frame width")
    parser.add_argument("--write", help="replace this section in a markdown file")
    args = parser.parse_args()
    width, height = args.width, round(args.width * 9 / 16)
    scene = Scene.default([rgb(SAMPLES / "photos" / p) for p in PHOTOS], width, height)
    a, truth = scene.render((0.0, 0.0, 0.0))
    rows = []
    for name, position, yaw in MOVES:
        b, _ = scene.render(position, yaw)
        ours, naive, seconds = measure(a, b, truth)
        rows.append((f"synthetic {width}x{height}, {name}", ours, naive, seconds))
        print(rows[-1])
    # the real stereo pair, at the working resolution's scale
    left = rgb(SAMPLES / "photos" / "aloeL.jpg")
    right = rgb(SAMPLES / "photos" / "aloeR.jpg")
    gt = cv2.imread(str(SAMPLES / "photos" / "aloeGT.png"), cv2.IMREAD_UNCHANGED)
    h0, w0 = gt.shape
    size = (480, round(480 * h0 / w0))
    left = cv2.resize(left, size, interpolation=cv2.INTER_AREA)
    right = cv2.resize(right, size, interpolation=cv2.INTER_AREA)
    gt = cv2.resize(gt, size, interpolation=cv2.INTER_NEAREST).astype(np.float32)
    ours, naive, seconds = measure(left, right, gt, gt > 0)
    rows.append((f"aloe (real stereo pair) {size[0]}x{size[1]}", ours, naive, seconds))
    print(rows[-1])

    lines = [
        "## Depth from motion: error against ground truth",
        "",
        "Scale-invariant errors (prediction aligned to the truth by scale and offset in inverse "
        "depth; AbsRel on depth, lower is better; delta < 1.25, higher is better) of depth from "
        "motion (ours) and of the naive baseline (optical-flow magnitude as inverse depth), "
        "from one pair of views each. Synthetic: textured panels at distances 2.5 and 4, a wall "
        "at 9 and a ground plane, photos from opencv-doc as textures, exact depth. Aloe: the "
        "Middlebury pair in opencv-doc with its ground-truth disparity (unknown pixels left "
        "out). Time: ours per pair, at a working size of 480 px, on the machine below.",
        "",
        "| pair | AbsRel ours | AbsRel naive | delta<1.25 ours | delta<1.25 naive | ours s |",
        "|---|---|---|---|---|---|",
    ]
    for name, o, n, s in rows:
        lines.append(
            f"| {name} | {o['absrel']:.3f} | {n['absrel']:.3f} | "
            f"{o['delta125']:.3f} | {n['delta125']:.3f} | {s:.2f} |"
        )
    lines += [
        "",
        "Flow magnitude is right only for a camera that slides sideways without turning; ours "
        "separates the rotation (essential matrix) and handles forward motion, where flow "
        "magnitude grows with the distance from the image centre, not with nearness. The aloe "
        "pair is a pure sideways translation, the baseline's ideal case: there ours is worse in "
        "AbsRel (its fitted rotation and assumed focal length bend the disparity field a "
        "little, and its edge-aware fill softens the leaves) though better in delta < 1.25.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared with other jobs while "
        "measured). Command: `.venv/bin/python bench/depth.py "
        f"--width {args.width} --write docs/depth.md`",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        write_section(Path(args.write), section, "# Depth and parallax")


if __name__ == "__main__":
    main()
