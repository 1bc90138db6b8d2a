"""Describe shots for editors: framing, people, camera, light, colour, motion, sharpness, tags.

One pass over the video (frames are decoded once, in order): for each shot a few frames are
sampled for content (``samples``, default 3, spread over the shot after any transition into
it) and up to ``motion_pairs`` pairs of frames a few frames apart for global motion. Only the
sampled frames of the current shot are held, so memory does not grow with the video's length.

Per shot, written into ``Shot.extra`` (JSON-ready):

- ``scale``: extreme close-up / close-up / medium / wide / extreme wide, from the height of the
  largest face (BlazeFace) or person (YOLOv3-tiny) relative to the frame; ``scale_basis`` says
  which ("face", "person", "object" or "none": no subject found, then "wide" is a guess).
- ``people``, ``faces``: median count over the sampled frames.
- ``camera_motion``: static / pan / tilt / zoom / handheld, from a similarity transform fitted
  (RANSAC) to Lucas-Kanade feature tracks between frames a few frames apart; ``camera`` holds
  the direction and speeds (fraction of the frame width per second, zoom in % per second).
- ``lighting``: key (low-key / mid-key / high-key), contrast (RMS of luma), colour temperature
  (kelvin, McCamy's formula on the mean colour of the mid-tones) and warm / neutral / cool.
- ``colors``: dominant colours (k-means in Lab), each with a name, hex and share.
- ``motion_intensity``: motion inside the picture once the camera's motion is removed (mean
  optical-flow residual, frame widths per second) and its level (still / low / medium / high).
- ``sharpness``: variance of the Laplacian at 640 px wide, and soft / medium / sharp.
- ``tags``: COCO object classes seen (YOLOv3-tiny), most frequent first.
- ``scenery``: outdoors or dark interior, street (vehicles seen), greenery (share of saturated
  greens), sky (bright blue or colourless top third): cheap cues, no scene classifier exists
  offline.
- ``thumbnail``: JPEG of the shot's middle sampled frame (when a thumbnail folder is given).
- ``summary``: one line of text built from all of the above; it is what search embeds.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from moviola.analysis.model import Shot, ShotList
from moviola.errors import MoviolaError
from moviola.media.reader import VideoReader
from moviola.pipeline.runner import Progress

SCALES = ("extreme close-up", "close-up", "medium", "wide", "extreme wide")
MOTIONS = ("static", "pan", "tilt", "zoom", "handheld")

MOTION_WIDTH = 320  # frames are analysed for camera motion at this width
PAN_SPEED = 0.03  # frame widths per second above which a consistent drift is a pan / tilt
ZOOM_SPEED = 0.05  # relative scale change per second above which it is a zoom
SHAKE = 0.02  # frame widths per second of erratic motion above which a camera is handheld
PERSON_SCORE = 0.35
OBJECT_SCORE = 0.4

# Named colours for dominant-colour labels (sRGB).
_PALETTE = {
    "black": (20, 20, 20),
    "dark gray": (70, 70, 70),
    "gray": (128, 128, 128),
    "light gray": (190, 190, 190),
    "white": (245, 245, 245),
    "red": (200, 30, 30),
    "dark red": (110, 20, 25),
    "orange": (235, 130, 30),
    "brown": (120, 75, 40),
    "tan": (200, 160, 110),
    "beige": (225, 210, 175),
    "yellow": (235, 215, 50),
    "olive": (120, 120, 40),
    "green": (50, 160, 60),
    "dark green": (25, 80, 35),
    "teal": (30, 120, 120),
    "cyan": (60, 200, 210),
    "sky blue": (120, 170, 230),
    "blue": (40, 80, 200),
    "navy": (20, 30, 90),
    "purple": (110, 50, 140),
    "magenta": (200, 50, 160),
    "pink": (235, 150, 180),
    "skin": (220, 170, 140),
}


def _lab(rgb: np.ndarray) -> np.ndarray:
    """float32 Lab (L 0..100) of uint8 sRGB pixels, any shape (..., 3)."""
    arr = np.ascontiguousarray(rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0)
    return cv2.cvtColor(arr, cv2.COLOR_RGB2Lab).reshape(rgb.shape[:-1] + (3,))


_PALETTE_NAMES = list(_PALETTE)
_PALETTE_LAB = _lab(np.array([_PALETTE[n] for n in _PALETTE_NAMES], np.uint8))


def color_name(rgb: tuple[int, int, int] | np.ndarray) -> str:
    """Nearest named colour (Lab distance) of an sRGB colour."""
    lab = _lab(np.asarray(rgb, np.uint8).reshape(1, 3))[0]
    return _PALETTE_NAMES[int(np.argmin(((_PALETTE_LAB - lab) ** 2).sum(1)))]


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def color_temperature(rgb: np.ndarray) -> float | None:
    """Correlated colour temperature (kelvin) of the mean linear colour of an sRGB image's
    mid-tones, by McCamy's approximation; None when there are no mid-tones."""
    px = rgb.reshape(-1, 3).astype(np.float32) / 255.0
    y = px @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    mid = px[(y > 0.08) & (y < 0.95)]
    if len(mid) < 16:
        return None
    lin = _srgb_to_linear(mid).mean(0)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ lin
    total = xyz.sum()
    if total <= 0:
        return None
    x, yy = xyz[0] / total, xyz[1] / total
    if abs(0.1858 - yy) < 1e-6:
        return None
    n = (x - 0.3320) / (0.1858 - yy)
    cct = 449 * n**3 + 3525 * n**2 + 6823.3 * n + 5520.33
    return float(np.clip(cct, 1500, 20000))


def temperature_label(kelvin: float | None) -> str:
    if kelvin is None:
        return "neutral"
    if kelvin < 4500:
        return "warm"
    if kelvin > 7500:
        return "cool"
    return "neutral"


def lighting(rgb: np.ndarray) -> dict[str, Any]:
    """Key, contrast and luma figures of one sRGB uint8 image (small sizes are enough)."""
    y = (rgb[..., :3].astype(np.float32) / 255.0) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    return {
        "mean": float(y.mean()),
        "contrast": float(y.std()),
        "dark": float((y < 0.15).mean()),
        "bright": float((y > 0.85).mean()),
        "p5": float(np.percentile(y, 5)),
        "p95": float(np.percentile(y, 95)),
    }


def key_label(mean: float, dark: float, bright: float) -> str:
    if mean < 0.3 and dark > 0.25:
        return "low-key"
    if mean > 0.6 and dark < 0.08:
        return "high-key"
    return "mid-key"


def contrast_label(std: float) -> str:
    return "low" if std < 0.12 else "high" if std > 0.24 else "medium"


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian of an 8-bit gray image resized to 640 px wide."""
    h, w = gray.shape
    if w != 640:
        gray = cv2.resize(gray, (640, max(1, round(h * 640 / w))), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(gray, cv2.CV_64F, ksize=3).var())


def sharpness_label(value: float) -> str:
    return "soft" if value < 60 else "sharp" if value > 300 else "medium"


def dominant_colors(pixels: np.ndarray, k: int = 5) -> list[dict[str, Any]]:
    """k-means (Lab) of N x 3 uint8 sRGB pixels: the clusters, largest first, with a name, hex
    and share; clusters under 5 % are dropped, neighbours with the same name merged."""
    pixels = pixels.reshape(-1, 3)
    if len(pixels) < k:
        return []
    lab = _lab(pixels).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(1234)
    _, labels, _ = cv2.kmeans(lab, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    labels = labels.ravel()
    out: dict[str, dict[str, Any]] = {}
    for c in range(k):
        members = pixels[labels == c]
        if not len(members):
            continue
        share = len(members) / len(pixels)
        rgb = np.median(members, axis=0).astype(np.uint8)
        name = color_name(rgb)
        if name in out:
            out[name]["share"] += share
            continue
        out[name] = {
            "name": name,
            "hex": "#{:02x}{:02x}{:02x}".format(*map(int, rgb)),
            "share": share,
        }
    colors = sorted(out.values(), key=lambda c: -c["share"])
    return [dict(c, share=round(c["share"], 3)) for c in colors if c["share"] >= 0.05]


# --- camera motion -----------------------------------------------------------------------------


@dataclass
class MotionSample:
    """Global motion between two frames ``gap`` frames apart, per frame, normalised by the
    frame width (dx, dy of the picture centre), log scale change, rotation (radians), and the
    mean residual (local) motion."""

    dx: float
    dy: float
    zoom: float
    rotation: float
    residual: float
    inliers: float


def global_motion(g0: np.ndarray, g1: np.ndarray, gap: int = 1) -> MotionSample | None:
    """Similarity transform from ``g0`` to ``g1`` (gray uint8, same size) by LK tracks and
    RANSAC; None when too few features can be tracked (flat or black frames)."""
    h, w = g0.shape
    pts = cv2.goodFeaturesToTrack(g0, maxCorners=400, qualityLevel=0.01, minDistance=6, blockSize=5)
    if pts is None or len(pts) < 12:
        return None
    lk = {
        "winSize": (21, 21),
        "maxLevel": 3,
        "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01),
    }
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(g0, g1, pts, None, **lk)
    p0r, st2, _ = cv2.calcOpticalFlowPyrLK(g1, g0, p1, None, **lk)
    good = (
        (st1.ravel() == 1)
        & (st2.ravel() == 1)
        & (np.linalg.norm((p0r - pts).reshape(-1, 2), axis=1) < 1.0)
    )
    a, b = pts.reshape(-1, 2)[good], p1.reshape(-1, 2)[good]
    if len(a) < 12:
        return None
    m, inl = cv2.estimateAffinePartial2D(
        a, b, method=cv2.RANSAC, ransacReprojThreshold=1.0, maxIters=2000, confidence=0.995
    )
    if m is None:
        return None
    inl = inl.ravel().astype(bool)
    if inl.sum() < 8 or inl.mean() < 0.25:
        # No transform explains most tracks: the moving subject dominates; treat as unknown.
        return None
    scale = math.hypot(m[0, 0], m[1, 0])
    centre = np.array([w / 2, h / 2])
    moved = m[:, :2] @ centre + m[:, 2] - centre
    pred = a @ m[:, :2].T + m[:, 2]
    residual = float(np.linalg.norm(b - pred, axis=1).mean())
    return MotionSample(
        dx=float(moved[0]) / w / gap,
        dy=float(moved[1]) / w / gap,
        zoom=math.log(max(scale, 1e-6)) / gap,
        rotation=math.atan2(m[1, 0], m[0, 0]) / gap,
        residual=residual / w / gap,
        inliers=float(inl.mean()),
    )


def classify_motion(samples: list[MotionSample], rate: float) -> dict[str, Any]:
    """Camera motion label and figures (per second) from the shot's motion samples."""
    if not samples:
        return {
            "motion": "static",
            "direction": None,
            "pan_speed": 0.0,
            "tilt_speed": 0.0,
            "zoom_speed": 0.0,
            "shake": 0.0,
            "measured": False,
        }
    dx = np.array([s.dx for s in samples]) * rate
    dy = np.array([s.dy for s in samples]) * rate
    dz = np.array([s.zoom for s in samples]) * rate
    mx, my, mz = float(np.median(dx)), float(np.median(dy)), float(np.median(dz))

    def consistent(v: np.ndarray, m: float) -> bool:
        return len(v) < 2 or float((np.sign(v) == np.sign(m)).mean()) >= 0.7

    # erratic part: spread of the per-pair motion around the shot's steady motion
    shake = float(np.median(np.hypot(dx - mx, dy - my))) if len(samples) >= 2 else 0.0
    # a drift counts as a pan / tilt when it is steady: same sign in most pairs and larger
    # than the shake around it (a shaky pan is still a pan; shake alone is handheld)
    scores = {
        "pan": abs(mx) / PAN_SPEED if consistent(dx, mx) and abs(mx) > 0.8 * shake else 0.0,
        "tilt": abs(my) / PAN_SPEED if consistent(dy, my) and abs(my) > 0.8 * shake else 0.0,
        "zoom": abs(mz) / ZOOM_SPEED if consistent(dz, mz) else 0.0,
    }
    kind = max(scores, key=scores.get)
    direction = None
    if scores[kind] >= 1.0:
        motion = kind
        if kind == "pan":
            direction = "right" if mx < 0 else "left"  # picture moves left: camera turns right
        elif kind == "tilt":
            direction = "down" if my < 0 else "up"
        else:
            direction = "in" if mz > 0 else "out"
    elif shake > SHAKE or math.hypot(mx, my) > SHAKE:
        motion = "handheld"
    else:
        motion = "static"
    return {
        "motion": motion,
        "direction": direction,
        "pan_speed": round(mx, 4),
        "tilt_speed": round(my, 4),
        "zoom_speed": round(mz, 4),
        "shake": round(shake, 4),
        "measured": True,
    }


# --- framing -----------------------------------------------------------------------------------


def scale_from_boxes(
    faces: list, people: list, objects: list, height: int, width: int
) -> tuple[str, str]:
    """Shot scale and what it was judged from, for one frame's detections."""
    if faces:
        r = max(f.height for f in faces) / height
        if r >= 0.55:
            return "extreme close-up", "face"
        if r >= 0.27:
            return "close-up", "face"
        if r >= 0.08:
            return "medium", "face"
    if people:
        tallest = max(people, key=lambda p: p.height)
        r = tallest.height / height
        cut = tallest.y1 >= height * 0.97  # the body runs out of the bottom of the frame
        if r >= 0.8 and cut:
            return "medium", "person"
        if r >= 0.35 and len(faces) == 0 and cut:
            return "medium", "person"
        # YOLOv3-tiny's boxes of small people are about half their height: 0.05 is a person
        # about a tenth to a sixth of the frame high, still a wide shot.
        if r >= 0.05:
            return "wide", "person"
        return "extreme wide", "person"
    if faces:
        return "wide", "face"
    if objects:
        biggest = max(o.width * o.height for o in objects) / (width * height)
        if biggest > 0.5:
            return "close-up", "object"
        if biggest > 0.15:
            return "medium", "object"
    return "wide", "none"


# --- one pass over the video -------------------------------------------------------------------


@dataclass
class _Work:
    shot: Shot
    content: list[int]
    starts: dict[int, int]  # first frame of a motion pair -> its second frame
    ends: set[int]
    middle: int
    grays: dict[int, np.ndarray] = field(default_factory=dict)
    motion: list[MotionSample] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)
    pixels: list[np.ndarray] = field(default_factory=list)
    thumb: np.ndarray | None = None


def _plan(shot: Shot, samples: int, pairs: int, gap: int) -> _Work:
    first = min(shot.start_frame + shot.transition_frames, shot.end_frame)
    last = shot.end_frame
    n = last - first + 1
    k = max(1, min(samples, n))
    content = sorted({first + int((j + 0.5) * n / k) for j in range(k)})
    middle = content[len(content) // 2]
    starts: dict[int, int] = {}
    g = min(gap, max(1, n - 1))
    if n >= 2:
        span = n - g
        m = max(1, min(pairs, span))
        for j in range(m):
            s = first + int(j * span / m)
            if s + g <= last:
                starts[s] = s + g
    return _Work(shot, content, starts, set(starts.values()), middle)


def _small(image: np.ndarray, width: int) -> np.ndarray:
    h, w = image.shape[:2]
    if w == width:
        return image
    return cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)


def describe_shots(
    path: str | Path,
    shots: ShotList,
    *,
    thumbnails: Path | None = None,
    progress: Callable[[Progress], None] | None = None,
    samples: int = 3,
    motion_pairs: int = 12,
    detect: bool = True,
) -> ShotList:
    """Describe every shot of ``shots`` (frames of ``path``); returns the same ShotList with
    each shot's ``extra`` filled in (see the module docstring). ``detect=False`` skips the
    neural detectors (no faces, people, scale or tags; for tests of the classical parts)."""
    if not shots.shots:
        return shots
    objects = faces = None
    if detect:
        from moviola.analysis.detect import shared

        objects, faces = shared("objects"), shared("faces")
    rate = float(shots.rate) if shots.rate else 25.0
    gap = max(1, round(rate / 10))
    if thumbnails is not None:
        thumbnails = Path(thumbnails)
        thumbnails.mkdir(parents=True, exist_ok=True)
    order = sorted(shots.shots, key=lambda s: s.start_frame)
    plans = [_plan(s, samples, motion_pairs, gap) for s in order]
    pi = 0
    t0 = time.monotonic()
    last_report = 0.0
    count = 0
    stem = Path(path).stem
    with VideoReader(path) as reader:
        total = reader.stream_info.frames
        for index, frame in enumerate(reader):
            count = index + 1
            while pi < len(plans) and index > plans[pi].shot.end_frame:
                _finish(plans[pi], shots, thumbnails, stem)
                pi += 1
            if pi >= len(plans):
                break
            work = plans[pi]
            if index < work.shot.start_frame:
                continue
            need_motion = index in work.starts or index in work.ends
            if index not in work.content and not need_motion:
                continue
            image = frame.image[..., :3]
            if image.dtype != np.uint8:
                from moviola.media.frame import to_uint8

                image = to_uint8(image)
            if need_motion:
                g = cv2.cvtColor(_small(image, MOTION_WIDTH), cv2.COLOR_RGB2GRAY)
                if index in work.ends:
                    for s, e in work.starts.items():
                        if e == index and s in work.grays:
                            sample = global_motion(work.grays[s], g, e - s)
                            if sample is not None:
                                work.motion.append(sample)
                            del work.grays[s]
                if index in work.starts:
                    work.grays[index] = g
            if index in work.content:
                work.frames.append(_analyse(image, objects, faces))
                work.pixels.append(_small(image, 64).reshape(-1, 3))
                if index == work.middle:
                    work.thumb = _small(image, 320).copy()
            if progress is not None:
                now = time.monotonic()
                if now - last_report > 0.25:
                    last_report = now
                    progress(Progress(frames=count, total=total, elapsed=now - t0))
    while pi < len(plans):
        _finish(plans[pi], shots, thumbnails, stem)
        pi += 1
    if progress is not None:
        progress(Progress(frames=count, total=count, elapsed=time.monotonic() - t0, done=True))
    return shots


STREET_THINGS = {"car", "truck", "bus", "motorcycle", "bicycle", "traffic light", "stop sign"}


def scenery_fractions(rgb: np.ndarray) -> dict[str, float]:
    """Share of the picture that looks like vegetation (saturated greens) and of its top third
    that looks like sky (bright, and blue or colourless): cheap scene cues where no scene
    classifier can be had offline."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)  # H 0..180, S and V 0..255
    h, s, v = hsv[..., 0], hsv[..., 1] / 255.0, hsv[..., 2] / 255.0
    green = (h >= 25) & (h <= 85) & (s > 0.18) & (v > 0.12)
    top = slice(0, max(1, rgb.shape[0] // 3))
    sky = (v[top] > 0.55) & (((h[top] >= 90) & (h[top] <= 130) & (s[top] > 0.15)) | (s[top] < 0.12))
    return {"greenery": float(green.mean()), "sky": float(sky.mean())}


def scenery_words(fractions: dict[str, float], tags: list[str], light: dict[str, Any]) -> list[str]:
    """Words for where a shot seems to be: outdoors or interior, street, greenery, sky."""
    words = []
    street = bool(STREET_THINGS.intersection(tags))
    greenery = fractions.get("greenery", 0.0) > 0.25
    sky = fractions.get("sky", 0.0) > 0.4
    if street or greenery or sky:
        words.append("outdoors")
    elif light.get("key") == "low-key":
        words.append("dark interior or night")
    if street:
        words.append("street with vehicles")
    if greenery:
        words.append("trees, grass and greenery")
    if sky:
        words.append("sky")
    return words


def _analyse(image: np.ndarray, objects, faces) -> dict[str, Any]:
    h, w = image.shape[:2]
    small = _small(image, 320)
    gray = cv2.cvtColor(_small(image, 640), cv2.COLOR_RGB2GRAY)
    out: dict[str, Any] = {
        "light": lighting(small),
        "kelvin": color_temperature(small),
        "sharpness": sharpness(gray),
        "scenery": scenery_fractions(small),
    }
    if objects is not None and faces is not None:
        dets = objects(image, threshold=PERSON_SCORE)
        people = [d for d in dets if d.label == "person"]
        things = [d for d in dets if d.label != "person" and d.score >= OBJECT_SCORE]
        found = faces(image)
        out["people"] = max(len(people), len(found))  # a face is a person YOLO may miss
        out["faces"] = len(found)
        out["scale"], out["basis"] = scale_from_boxes(found, people, things, h, w)
        out["labels"] = Counter(
            d.label for d in dets if d.score >= OBJECT_SCORE or d.label == "person"
        )
    return out


def _finish(work: _Work, shots: ShotList, thumbnails: Path | None, stem: str) -> None:
    shot = work.shot
    frames = work.frames
    extra: dict[str, Any] = {}
    if not frames:
        shot.extra.update({"summary": "shot not decoded"})
        return
    if "scale" in frames[0]:
        ranks = sorted(SCALES.index(f["scale"]) for f in frames)
        extra["scale"] = SCALES[ranks[len(ranks) // 2]]
        bases = Counter(f["basis"] for f in frames if f["scale"] == extra["scale"])
        extra["scale_basis"] = bases.most_common(1)[0][0]
        extra["people"] = int(round(float(np.median([f["people"] for f in frames]))))
        extra["faces"] = int(round(float(np.median([f["faces"] for f in frames]))))
        seen: Counter[str] = Counter()
        most: dict[str, int] = {}
        for f in frames:
            for label, n in f["labels"].items():
                seen[label] += 1
                most[label] = max(most.get(label, 0), n)
        extra["tags"] = [label for label, _ in sorted(seen.items(), key=lambda t: (-t[1], t[0]))]
        extra["objects"] = {label: most[label] for label in extra["tags"]}
    cam = classify_motion(work.motion, float(shots.rate))
    extra["camera_motion"] = cam["motion"]
    extra["camera"] = cam
    light = {k: float(np.mean([f["light"][k] for f in frames])) for k in frames[0]["light"]}
    kelvins = [f["kelvin"] for f in frames if f["kelvin"] is not None]
    kelvin = float(np.median(kelvins)) if kelvins else None
    extra["lighting"] = {
        "key": key_label(light["mean"], light["dark"], light["bright"]),
        "brightness": round(light["mean"], 3),
        "contrast": round(light["contrast"], 3),
        "contrast_level": contrast_label(light["contrast"]),
        "color_temperature_k": round(kelvin, -1) if kelvin is not None else None,
        "color_temperature": temperature_label(kelvin),
    }
    extra["colors"] = dominant_colors(np.concatenate(work.pixels))
    fractions = {k: float(np.mean([f["scenery"][k] for f in frames])) for k in ("greenery", "sky")}
    extra["scenery"] = scenery_words(fractions, extra.get("tags", []), extra["lighting"])
    residual = (
        float(np.median([s.residual for s in work.motion])) * float(shots.rate)
        if work.motion
        else 0.0
    )
    extra["motion_intensity"] = round(residual, 4)
    extra["motion_level"] = (
        "still"
        if residual < 0.004
        else "low"
        if residual < 0.015
        else "medium"
        if residual < 0.05
        else "high"
    )
    sharp = float(np.median([f["sharpness"] for f in frames]))
    extra["sharpness"] = round(sharp, 1)
    extra["sharpness_level"] = sharpness_label(sharp)
    if thumbnails is not None and work.thumb is not None:
        target = thumbnails / f"{stem}_shot{shot.index:04d}.jpg"
        ok, data = cv2.imencode(
            ".jpg", cv2.cvtColor(work.thumb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
        )
        if not ok:
            raise MoviolaError(f"cannot encode the thumbnail of shot {shot.index}")
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data.tobytes())
        tmp.replace(target)
        extra["thumbnail"] = str(target)
    extra["summary"] = summarize(extra, float(shot.duration))
    shot.extra.update(extra)
    work.frames.clear()
    work.pixels.clear()
    work.grays.clear()
    work.thumb = None


def summarize(d: dict[str, Any], duration: float | None = None) -> str:
    """One line of text for a described shot (what search embeds), e.g. "wide shot, static
    camera, 5 people, mid-key lighting, medium contrast, neutral light, olive and gray tones,
    tags: person, car, 6.0 s"."""
    cam = d.get("camera") or {}
    motion = d.get("camera_motion", "static")
    direction = cam.get("direction")
    camera = {
        "pan": f"camera pans {direction}",
        "tilt": f"camera tilts {direction}",
        "zoom": f"camera zooms {direction}",
        "handheld": "handheld camera",
    }.get(motion, "static camera")
    parts = [f"{d['scale']} shot, {camera}" if "scale" in d else camera]
    people = d.get("people")
    faces = d.get("faces")
    if people is not None:
        if people == 0 and not faces:
            parts.append("no people")
        else:
            who = []
            if people:
                who.append(f"{people} {'person' if people == 1 else 'people'}")
            if faces:
                who.append(f"{faces} {'face' if faces == 1 else 'faces'}")
            parts.append(", ".join(who))
    level = d.get("motion_level")
    if level in ("medium", "high"):
        parts.append(f"{level} movement in frame")
    if people and level != "still" and d.get("scale") in ("wide", "extreme wide"):
        parts.append("people walking" if people > 1 else "a person walking")
    if d.get("scenery"):
        parts.append(", ".join(d["scenery"]))
    light = d.get("lighting") or {}
    if light:
        mood = (
            "dark " if light["brightness"] < 0.2 else "bright " if light["brightness"] > 0.7 else ""
        )
        parts.append(
            f"{mood}{light['key']} lighting, {light['contrast_level']} contrast, "
            f"{light['color_temperature']} light"
        )
    colors = [c["name"] for c in d.get("colors", [])[:3]]
    if colors:
        parts.append(" and ".join(colors) + " tones")
    if d.get("sharpness_level") == "soft":
        parts.append("soft focus")
    tags = d.get("tags") or []
    if tags:
        parts.append("tags: " + ", ".join(tags[:8]))
    if duration is not None:
        parts.append(f"{duration:.1f} s")
    return ", ".join(parts)
