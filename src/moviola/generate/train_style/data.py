"""The pictures a style network learns from, found offline, and the style image's checks.

Training pictures (content): every picture file and every 10th frame of every video (.avi .mp4
.mkv .mov .webm) under the given folders, by default the repository's ``samples/`` (the three
sample clips and ``samples/photos``, OpenCV's sample images copied by ``make samples``) and
scikit-image's bundled data images when scikit-image is installed. Each is scaled so that its
short side is ``size * 1.15`` and held in memory as uint8 (200 pictures at 256 px: about 60 MB);
a batch is random ``size`` x ``size`` crops, flipped at random.

Frame pairs (for the temporal term, as ReCoNet trains): frames i and i + 1 at every 10th frame
of each video under the sources, with DIS optical flow from the second back to the first and
the forward-backward consistency mask (moviola.vision.flow), computed once at the training
scale. A pair batch crops the same window of both frames, the flow and the mask.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.still import read_rgb
from moviola.vision.flow import FlowEstimator, consistency

PICTURES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEOS = {".avi", ".mp4", ".mkv", ".mov", ".webm"}
FRAME_STEP = 10
MAX_FRAMES = 60  # per video
MIN_STYLE_SIDE = 64
MIN_STYLE_SPREAD = 2.0  # standard deviation of the style image's pixels, in 0..255 levels
MIN_PICTURE_SIDE = 48


def default_sources() -> list[Path]:
    """``samples/`` (the current directory's) and scikit-image's data folder, those present."""
    found = [Path("samples")] if Path("samples").is_dir() else []
    spec = importlib.util.find_spec("skimage")
    if spec is not None and spec.origin is not None:
        data = Path(spec.origin).parent / "data"
        if data.is_dir():
            found.append(data)
    return found


def check_style(path: str | Path) -> np.ndarray:
    """The style image as RGB uint8; MoviolaError when it is too small or one flat colour."""
    image = read_rgb(path, "style image")
    h, w = image.shape[:2]
    if min(h, w) < MIN_STYLE_SIDE:
        raise MoviolaError(
            f"train-style: style image {Path(path).name} is {w}x{h}: give one at least "
            f"{MIN_STYLE_SIDE} px on each side"
        )
    if float(image.reshape(-1, 3).std(axis=0).max()) < MIN_STYLE_SPREAD:
        raise MoviolaError(
            f"train-style: style image {Path(path).name} is one flat colour: give a picture with "
            "some texture"
        )
    return image


def _fit(image: np.ndarray, short: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = short / min(h, w)
    size = (max(short, round(w * scale)), max(short, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interp)


def _video_frames(path: Path, following: bool = False) -> list[np.ndarray]:
    """Every FRAME_STEP-th frame (at most MAX_FRAMES); with ``following``, each one's next frame
    after it (so the list alternates frame, next frame)."""
    cap = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    i = 0
    limit = MAX_FRAMES * (2 if following else 1)
    try:
        while len(frames) < limit:
            ok, bgr = cap.read()
            if not ok:
                break
            if i % FRAME_STEP == 0 or (following and i % FRAME_STEP == 1):
                frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            i += 1
    finally:
        cap.release()
    return frames[: len(frames) // 2 * 2] if following else frames


def _pictures(path: Path) -> list[np.ndarray]:
    suffix = path.suffix.lower()
    if suffix in VIDEOS:
        return _video_frames(path)
    if suffix in PICTURES:
        try:
            image = read_rgb(path)
        except MoviolaError:
            return []
        return [image] if min(image.shape[:2]) >= MIN_PICTURE_SIDE else []
    return []


def find_pictures(sources: Iterable[str | Path], size: int) -> tuple[list[np.ndarray], dict]:
    """Every usable picture under ``sources``, scaled for ``size`` crops, and a count per source
    folder. MoviolaError when none is found."""
    sources = list(sources)
    pictures: list[np.ndarray] = []
    counts: dict[str, int] = {}
    short = round(size * 1.15)
    for source in sources:
        root = Path(source)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        before = len(pictures)
        for f in files:
            pictures += [_fit(p, short) for p in _pictures(f)]
        counts[str(root)] = len(pictures) - before
    if not pictures:
        where = ", ".join(str(s) for s in sources) or "nowhere (no samples/ here, no scikit-image)"
        raise MoviolaError(
            f"train-style: no training pictures found in {where}: give --images DIR with photos "
            "or videos (or run `make samples`)"
        )
    return pictures, counts


def batch(
    pictures: list[np.ndarray], size: int, count: int, rng: np.random.Generator
) -> np.ndarray:
    """``count`` random ``size`` x ``size`` crops (flipped at random) as N x 3 x H x W float32
    in 0..1."""
    out = np.empty((count, 3, size, size), np.float32)
    for k in range(count):
        image = pictures[int(rng.integers(len(pictures)))]
        h, w = image.shape[:2]
        y, x = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
        crop = image[y : y + size, x : x + size]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        out[k] = crop.transpose(2, 0, 1) / np.float32(255)
    return out


@dataclass
class FramePair:
    """Two consecutive frames at the training scale (uint8 RGB), the flow from the second back
    to the first, and where that flow is reliable (float32 0/1)."""

    first: np.ndarray
    second: np.ndarray
    flow: np.ndarray
    mask: np.ndarray


def find_pairs(sources: Iterable[str | Path], size: int) -> list[FramePair]:
    """Consecutive frame pairs from every video under ``sources`` (none when there is no video:
    the temporal term is then left out)."""
    short = round(size * 1.15)
    flow = FlowEstimator("medium")
    pairs: list[FramePair] = []
    for source in sources:
        root = Path(source)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            if f.suffix.lower() not in VIDEOS:
                continue
            frames = [_fit(p, short) for p in _video_frames(f, following=True)]
            for a, b in zip(frames[::2], frames[1::2], strict=True):
                back, fwd = flow(b, a), flow(a, b)
                pairs.append(FramePair(a, b, back, consistency(fwd, back)))
    return pairs


def pair_batch(
    pairs: list[FramePair], size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One pair cropped at the same random window (flipped at random): the two frames as
    2 x 3 x size x size float32 in 0..1, the crop's flow (size x size x 2, pixels) and mask
    (size x size)."""
    p = pairs[int(rng.integers(len(pairs)))]
    h, w = p.first.shape[:2]
    y, x = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
    win = (slice(y, y + size), slice(x, x + size))
    first, second = p.first[win], p.second[win]
    flow, mask = p.flow[win].copy(), p.mask[win]
    if rng.random() < 0.5:
        first, second, mask = (a[:, ::-1] for a in (first, second, mask))
        flow = flow[:, ::-1].copy()
        flow[..., 0] *= -1
    frames = np.stack([first, second]).transpose(0, 3, 1, 2) / np.float32(255)
    return (
        np.ascontiguousarray(frames, np.float32),
        np.ascontiguousarray(flow, np.float32),
        np.ascontiguousarray(mask, np.float32),
    )
