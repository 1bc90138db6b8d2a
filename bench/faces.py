"""Face tracking speed (480p, 720p) and landmark jitter on a still face, raw vs One Euro smoothed.

faceswap speed is timed on the same frames (the effect's process(), no decode/encode).

Speed, on real faces: the first frames of samples/Megamind.avi (animated faces) scaled to 480 and
720 lines. Two ways side by side on the same frames, both with the same models (BlazeFace short
range + 468-point face mesh under LiteRT):

  tracked    moviola.vision.faces.FaceTracker: the detector runs only when a face is lost or every
             30 frames; the mesh ROI follows the previous frame's mesh
  per-frame  the naive way: detector on every frame, mesh on each detection's ROI

Only the tracking is timed (decode and drawing are not). Jitter, on a real still face: the
astronaut photo (docs/faces/astronaut.jpg, NASA, public domain) on a 640x480 frame, N frames each
with fresh Gaussian noise (sigma 2 grey levels): the face does not move, so any landmark motion
is jitter. Reported: mean frame-to-frame landmark motion in pixels (all 468 points), raw model
output and One Euro smoothed, and their ratio.

    .venv/bin/python bench/faces.py [--frames 120] [--only tracking|puppet] [--write docs/faces.md]

puppet speed: the astronaut portrait (scaled to 480x480, 720x720) driven by the same Megamind
frames; per frame: driver tracking, motion transfer, whole-portrait mesh warp, mouth, label.
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

from moviola.media.reader import VideoReader
from moviola.vision.faces import FaceDetector, FaceMesh, FaceTracker, roi_from_detection

LOAD = os.getloadavg()[0]

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "docs" / "faces" / "astronaut.jpg"


def megamind_frames(count: int, height: int) -> list[np.ndarray]:
    path = ROOT / "samples" / "Megamind.avi"
    if not path.exists():
        sys.exit("bench: samples/Megamind.avi missing; run `make samples`")
    frames = []
    with VideoReader(path) as reader:
        for frame in reader:
            img = frame.image
            w = round(img.shape[1] * height / img.shape[0] / 2) * 2
            frames.append(cv2.resize(img, (w, height), interpolation=cv2.INTER_AREA))
            if len(frames) >= count:
                break
    return frames


def time_tracked(frames, rate=24.0) -> tuple[float, int, int]:
    tracker = FaceTracker(max_faces=2)
    tracker.update(frames[0], 0.0)  # warm-up (model load)
    tracker = FaceTracker(max_faces=2)
    faces = 0
    t0 = time.perf_counter()
    for i, img in enumerate(frames):
        faces += len(tracker.update(img, i / rate))
    dt = time.perf_counter() - t0
    return len(frames) / dt, faces, tracker.detections_run


def time_per_frame(frames) -> tuple[float, int]:
    det, mesh = FaceDetector(), FaceMesh()
    faces = 0
    t0 = time.perf_counter()
    for img in frames:
        for d in det(img)[:2]:
            _, score = mesh(img, roi_from_detection(d))
            faces += score >= 0.5
    dt = time.perf_counter() - t0
    return len(frames) / dt, faces


def time_swap(frames, rate=24.0) -> float:
    """faceswap (track + warp + colour match + seamless clone + label) per frame."""
    from fractions import Fraction

    from moviola.effects.faceswap import FaceSwap
    from moviola.media.frame import Frame

    effect = FaceSwap(face=str(PHOTO))
    effect.configure(None)
    t0 = time.perf_counter()
    for i, img in enumerate(frames):
        effect.process(Frame(img, Fraction(i, 24), Fraction(1, 24), i))
    return len(frames) / (time.perf_counter() - t0)


def time_puppet(frames, height: int, tmp: Path) -> float:
    """puppet (driver tracking + relative motion + mesh warp of the whole portrait + mouth +
    label) per frame: the astronaut portrait scaled to height x height, driven by ``frames``."""
    from fractions import Fraction

    from moviola.effects.puppet import Puppet
    from moviola.media.frame import Frame, StreamInfo

    portrait = tmp / f"portrait_{height}.png"
    cv2.imwrite(str(portrait), cv2.resize(cv2.imread(str(PHOTO)), (height, height)))
    effect = Puppet(portrait=str(portrait))
    h, w = frames[0].shape[:2]
    effect.configure(StreamInfo(w, h, Fraction(24), Fraction(1, 24)))
    effect.process(Frame(frames[0], Fraction(0), Fraction(1, 24), 0))  # warm-up
    t0 = time.perf_counter()
    for i, img in enumerate(frames[1:], 1):
        effect.process(Frame(img, Fraction(i, 24), Fraction(1, 24), i))
    return (len(frames) - 1) / (time.perf_counter() - t0)


def puppet_section(args) -> None:
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for height in (480, 720):
            frames = megamind_frames(args.frames, height)
            fps = time_puppet(frames, height, Path(tmp))
            size = f"{frames[0].shape[1]}x{frames[0].shape[0]}"
            rows.append((height, size, fps))
            print(f"puppet {height}p: driver {size}, portrait {height}x{height}: {fps:.1f} fps")
    if args.write:
        cmd = (
            "    .venv/bin/python bench/faces.py --only puppet"
            + (f" --frames {args.frames}" if args.frames != 120 else "")
            + f" --write {args.write}"
        )
        lines = [
            "## Puppet speed",
            "",
            cmd,
            "",
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (load average "
            f"{LOAD:.1f} when this started), LiteRT CPU. "
            f"Driver: Megamind.avi, first {args.frames} frames, scaled; portrait: the astronaut "
            "photo scaled to a square of the same height. Per frame: tracking the driver's face, "
            "pose + expression transfer, One Euro smoothing, the piecewise-affine warp of the "
            "whole portrait, mouth painting and the label (no decode or encode). No peer to run "
            "side by side here (Avatarify / first-order-motion need weights that are not "
            "reachable offline).",
            "",
            "| output | driver | puppet fps |",
            "|---|---|---|",
        ]
        for height, size, fps in rows:
            lines.append(f"| {height}x{height} | {size} | {fps:.1f} |")
        lines.append("")
        write_section(args.write, "\n".join(lines), title="# Faces")
        print(f"wrote {args.write}")


def still_clip(count: int, sigma: float = 2.0, seed: int = 0):
    photo = cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB)
    canvas = np.full((480, 640, 3), 40, np.uint8)
    y, x = (480 - photo.shape[0]) // 2, (640 - photo.shape[1]) // 2
    canvas[y : y + photo.shape[0], x : x + photo.shape[1]] = photo
    rng = np.random.default_rng(seed)
    for _ in range(count):
        noise = rng.normal(0, sigma, canvas.shape)
        yield np.clip(canvas + noise, 0, 255).astype(np.uint8)


def jitter(count: int, rate: float = 30.0) -> dict:
    tracker = FaceTracker(max_faces=1)
    raw, smooth = [], []
    prev_raw = prev_smooth = None
    eyes = []
    for i, img in enumerate(still_clip(count)):
        faces = tracker.update(img, i / rate)
        if not faces:
            continue
        f = faces[0]
        eyes.append(np.linalg.norm(f.raw_landmarks[33, :2] - f.raw_landmarks[263, :2]))
        if prev_raw is not None and i >= 5:  # skip the filter's first frames
            raw.append(np.linalg.norm(f.raw_landmarks[:, :2] - prev_raw, axis=1).mean())
            smooth.append(np.linalg.norm(f.landmarks[:, :2] - prev_smooth, axis=1).mean())
        prev_raw, prev_smooth = f.raw_landmarks[:, :2].copy(), f.landmarks[:, :2].copy()
    return {
        "raw": float(np.mean(raw)),
        "smooth": float(np.mean(smooth)),
        "eyes": float(np.mean(eyes)),
        "frames": len(raw),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=120, help="frames per speed run (120)")
    ap.add_argument("--still", type=int, default=90, help="frames of the still clip (90)")
    ap.add_argument("--write", type=Path, help="write the figures into this markdown file")
    ap.add_argument(
        "--only",
        choices=("tracking", "puppet"),
        help="run one part: tracking (+ faceswap, jitter) or puppet",
    )
    args = ap.parse_args()
    if args.only != "tracking":
        puppet_section(args)
    if args.only == "puppet":
        return

    rows = []
    for height in (480, 720):
        frames = megamind_frames(args.frames, height)
        tfps, tfaces, dets = time_tracked(frames)
        pfps, pfaces = time_per_frame(frames)
        sfps = time_swap(frames)
        size = f"{frames[0].shape[1]}x{frames[0].shape[0]}"
        rows.append((height, size, tfps, pfps, tfaces, pfaces, dets, len(frames), sfps))
        print(
            f"{height}p {size}: tracked {tfps:.1f} fps ({tfaces} faces, detector {dets}x), "
            f"per-frame {pfps:.1f} fps ({pfaces} faces), ratio {tfps / pfps:.2f}x; "
            f"faceswap {sfps:.1f} fps"
        )
    j = jitter(args.still)
    print(
        f"jitter on a still face (eyes {j['eyes']:.0f} px apart, {j['frames']} frames): "
        f"raw {j['raw']:.3f} px/frame, smoothed {j['smooth']:.3f} px/frame, "
        f"{j['raw'] / max(j['smooth'], 1e-9):.1f}x less"
    )
    if args.write:
        cmd = (
            "    .venv/bin/python bench/faces.py"
            + (f" --frames {args.frames}" if args.frames != 120 else "")
            + f" --write {args.write}"
        )
        lines = [
            "## Face tracking",
            "",
            cmd,
            "",
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (load average "
            f"{LOAD:.1f} when this started), LiteRT CPU. Megamind.avi, first "
            f"{args.frames} frames, scaled; tracking only (no decode, no drawing), at most 2 "
            "faces. faceswap: tracking + mesh warp + Lab colour match + cv2.seamlessClone + "
            "label, the astronaut photo onto the largest face (no decode or encode).",
            "",
            "| input | tracked fps | per-frame detect + mesh fps | ratio | faces found "
            "(tracked / per-frame) | detector runs (tracked) | faceswap fps |",
            "|---|---|---|---|---|---|---|",
        ]
        for height, size, tfps, pfps, tfaces, pfaces, dets, n, sfps in rows:
            lines.append(
                f"| {height}p ({size}) | {tfps:.1f} | {pfps:.1f} | {tfps / pfps:.2f}x | "
                f"{tfaces} / {pfaces} | {dets} of {n} frames | {sfps:.1f} |"
            )
        lines += [
            "",
            "Faces found: the per-frame way also counts a dim background face in frames where the "
            "detector sees it; the tracker picks up a second face only at its periodic "
            "re-detections (every 30 frames), so it finds a few fewer.",
            "",
            f"Landmark jitter on a still real face (astronaut photo on 640x480, {args.still} "
            "frames, Gaussian noise sigma 2 per frame; eyes "
            f"{j['eyes']:.0f} px apart): mean frame-to-frame motion of the 468 landmarks.",
            "",
            "| landmarks | px / frame | share of eye distance |",
            "|---|---|---|",
            f"| raw (model output) | {j['raw']:.3f} | {j['raw'] / j['eyes'] * 100:.2f} % |",
            f"| One Euro smoothed | {j['smooth']:.3f} | {j['smooth'] / j['eyes'] * 100:.2f} % |",
            "",
            f"Smoothing cuts still-face jitter {j['raw'] / max(j['smooth'], 1e-9):.1f}x "
            "(min_cutoff 0.05 Hz, beta 80, speed measured in face sizes per second, so fast "
            "motion is followed with little lag).",
            "",
        ]
        write_section(args.write, "\n".join(lines), title="# Faces")
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
