"""Quality of the detectors behind `moviola describe`, on hand-labelled real footage and photos.

People: vtest.avi frames 50, 250, 450, 650 with every pedestrian's position marked by hand
(a detection is a hit when its box holds a marked point, one detection per point). Faces:
Megamind.avi frames with their visible faces counted by hand. Photos: scikit-image's sample
photos (astronaut, chelsea, coffee, motorcycle, rocket) and opencv's messi5.jpg with the
objects they show. Also the camera-motion classes on synthetic moves over a photo, and the
speed of describing a clip.

    .venv/bin/python bench/describe.py [--write docs/describe.md] [--photos DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

# vtest.avi (768 x 576): centre of each pedestrian's body, by frame
PEOPLE = {
    50: [(385, 220), (418, 222), (445, 212), (523, 262), (567, 252), (692, 315)],
    250: [(50, 210), (207, 190), (400, 280), (561, 228), (617, 310), (646, 155), (668, 155)],
    450: [(322, 250), (500, 222), (577, 290)],
    650: [(152, 185), (231, 190), (333, 195), (484, 268), (656, 238), (357, 445)],
}
# Megamind.avi: visible faces (a head seen from behind is not a face)
FACES = {15: 2, 45: 2, 75: 2, 105: 1, 135: 1, 180: 1, 195: 1, 225: 1, 255: 1}
# sample photos: what they show, in COCO's words
PHOTOS = {
    "astronaut.png": {"person"},
    "chelsea.png": {"cat"},
    "coffee.png": {"cup"},
    "motorcycle_left.png": {"motorcycle"},
    "rocket.jpg": set(),
    "messi5.jpg": {"person", "sports ball"},
}


def frames(path: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    from moviola.media.reader import VideoReader

    out = {}
    with VideoReader(path) as reader:
        for i, f in enumerate(reader):
            if i in wanted:
                out[i] = f.image[..., :3].copy()
            if i >= max(wanted):
                break
    return out


def people_recall(width: int, threshold: float) -> tuple[int, int, int, float]:
    from moviola.analysis.detect import ObjectDetector

    det = ObjectDetector(width=width)
    imgs = frames(ROOT / "samples" / "vtest.avi", set(PEOPLE))
    hits = marked = found = 0
    t = time.perf_counter()
    for i, points in PEOPLE.items():
        boxes = [d for d in det(imgs[i], threshold=threshold) if d.label == "person"]
        found += len(boxes)
        marked += len(points)
        free = list(boxes)
        for x, y in points:
            for b in free:
                if b.x0 - 4 <= x <= b.x1 + 4 and b.y0 - 20 <= y <= b.y1 + 20:
                    hits += 1
                    free.remove(b)
                    break
    return hits, marked, found, (time.perf_counter() - t) / len(PEOPLE)


def face_counts() -> tuple[int, int, int, float]:
    from moviola.analysis.detect import FaceDetector

    det = FaceDetector()
    imgs = frames(ROOT / "samples" / "Megamind.avi", set(FACES))
    right = over = under = 0
    t = time.perf_counter()
    for i, n in FACES.items():
        got = len(det(imgs[i]))
        right += got == n
        over += max(0, got - n)
        under += max(0, n - got)
    return right, over, under, (time.perf_counter() - t) / len(FACES)


def sample_photos(folder: str | None) -> Path:
    """scikit-image's sample photos: ``folder`` if given, else taken from its wheel (pip
    download --no-deps, never installed) into a temporary folder."""
    if folder:
        return Path(folder)
    import subprocess
    import tempfile
    import zipfile

    tmp = Path(tempfile.mkdtemp(prefix="moviola-bench-photos-"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "scikit-image",
            "-d",
            str(tmp),
            "-q",
        ],
        check=True,
    )
    wheel = next(tmp.glob("scikit_image-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.startswith("skimage/data/") and Path(name).name in PHOTOS:
                z.extract(name, tmp)
    return tmp


def photo_tags(folder: Path) -> list[tuple[str, set[str], list[str], int]]:
    from moviola.analysis.detect import FaceDetector, ObjectDetector

    det, faces = ObjectDetector(), FaceDetector()
    rows = []
    for name, want in PHOTOS.items():
        path = next(iter(folder.rglob(name)), None) or next(
            iter((ROOT / "samples" / "photos").glob(name)), None
        )
        if path is None:
            continue
        img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        got = sorted({d.label for d in det(img, threshold=0.4)})
        rows.append((name, want, got, len(faces(img))))
    return rows


def motion_classes() -> tuple[int, int, float]:
    import tempfile

    import test_describe as T

    from moviola.analysis.describe import describe_shots

    class Factory:
        def mktemp(self, name):
            return Path(tempfile.mkdtemp(prefix="moviola-bench-"))

    clip = T.moves.__wrapped__(Factory())
    shots = T.shot_list(clip, [T.N * i for i in range(1, len(T.MOVES))])
    t = time.perf_counter()
    describe_shots(clip, shots, detect=False)
    secs = time.perf_counter() - t
    ok = sum(s.extra["camera_motion"] == m for s, m in zip(shots.shots, T.MOVES, strict=True))
    return ok, len(T.MOVES), secs


def describe_speed() -> tuple[int, int, float]:
    from moviola.analysis.describe import describe_shots
    from moviola.analysis.detect import shared
    from moviola.analysis.model import Shot, ShotList
    from moviola.media.probe import probe

    shared("objects"), shared("faces")  # models loaded before timing
    path = ROOT / "samples" / "Megamind.avi"
    v = probe(path).video[0]
    n = v.frames or v.frames_estimated
    cuts = [0, 98, 154, 200, n]
    shots = ShotList(
        str(path),
        v.rate,
        v.width,
        v.height,
        n,
        [
            Shot(
                i,
                cuts[i],
                cuts[i + 1] - 1,
                Fraction(cuts[i]) / v.rate,
                Fraction(cuts[i + 1]) / v.rate,
            )
            for i in range(4)
        ],
    )
    t = time.perf_counter()
    describe_shots(path, shots)
    return n, len(shots.shots), time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", help="write the results section into this markdown file")
    ap.add_argument(
        "--photos",
        default=None,
        help="folder holding scikit-image sample photos (default: taken from its wheel, "
        "pip download --no-deps, into a temporary folder)",
    )
    args = ap.parse_args()
    lines = ["| detector | input | result |", "|---|---|---|"]
    for width in (416, 608):  # 416 (its training size) is the default
        hits, marked, found, secs = people_recall(width, 0.35)
        lines.append(
            f"| YOLOv3-tiny people, {width} px wide, score >= 0.35 | vtest.avi, 4 frames,"
            f" {marked} people marked | recall {hits}/{marked} = {hits / marked:.0%}, "
            f"precision {hits}/{found} = {hits / max(found, 1):.0%}, "
            f"{secs * 1000:.0f} ms/frame |"
        )
    right, over, under, secs = face_counts()
    lines.append(
        f"| BlazeFace short-range (+ 2x2 tiles) | Megamind.avi, {len(FACES)} frames, "
        f"{sum(FACES.values())} faces | count right in {right}/{len(FACES)} frames; "
        f"{under} missed, {over} extra; {secs * 1000:.0f} ms/frame |"
    )
    for name, want, got, nfaces in photo_tags(sample_photos(args.photos)):
        verdict = (
            "all found" if want <= set(got) else f"missed {', '.join(sorted(want - set(got)))}"
        )
        lines.append(
            f"| YOLOv3-tiny tags, BlazeFace | {name} (shows: "
            f"{', '.join(sorted(want)) or 'no COCO object'}) | tags: "
            f"{', '.join(got) or 'none'}; {nfaces} face(s); {verdict} |"
        )
    ok, total, secs = motion_classes()
    lines.append(
        f"| camera motion (LK + RANSAC) | synthetic static/pan/tilt/zoom/handheld over a "
        f"photo | {ok}/{total} right |"
    )
    n, nshots, secs = describe_speed()
    lines.append(
        f"| describe, all parts | Megamind.avi, {n} frames 720x528, {nshots} shots | "
        f"{secs:.1f} s ({n / secs:.0f} frames/s, decode included) |"
    )
    table = "\n".join(lines)
    print(table)
    if args.write:
        from _common import write_section

        command = "python bench/describe.py --write " + args.write
        section = (
            f"## Measured quality of the detectors\n\nTaken with `{command}` on a 2-core "
            f"machine, load average {os.getloadavg()[0]:.1f} at the end.\n\n{table}\n"
        )
        write_section(Path(args.write), section, title="# Shot descriptions and search")


if __name__ == "__main__":
    main()
