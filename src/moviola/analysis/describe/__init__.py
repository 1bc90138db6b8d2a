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
- ``image_embedding``: the CLIP ViT-B/32 embedding of that frame (512 float16 values, base64),
  when ``clip-vit-b32`` has been fetched: search then finds shots by what they look like
  (:mod:`moviola.analysis.clip`).
- ``summary``: one line of text built from all of the above; it is what search embeds.

One module per part: ``features`` (measures of one picture), ``camera`` (global motion and
its label), ``framing`` (one sampled frame: scale, people, objects), ``summary`` (a shot's
description from its samples, and its line of text); this module makes the one pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from moviola.analysis.describe.camera import (
    MOTION_WIDTH,
    MOTIONS,
    PAN_SPEED,
    SHAKE,
    ZOOM_SPEED,
    MotionSample,
    classify_motion,
    global_motion,
)
from moviola.analysis.describe.features import (
    STREET_THINGS,
    color_name,
    color_temperature,
    contrast_label,
    dominant_colors,
    key_label,
    lighting,
    scenery_fractions,
    scenery_words,
    sharpness,
    sharpness_label,
    temperature_label,
)
from moviola.analysis.describe.framing import (
    OBJECT_SCORE,
    PERSON_SCORE,
    SCALES,
    analyse_frame,
    scale_from_boxes,
    small,
)
from moviola.analysis.describe.summary import describe_frames, summarize
from moviola.analysis.model import Shot, ShotList
from moviola.errors import MoviolaError
from moviola.media.reader import VideoReader
from moviola.pipeline.runner import Progress

__all__ = [
    "MOTIONS",
    "MOTION_WIDTH",
    "OBJECT_SCORE",
    "PAN_SPEED",
    "PERSON_SCORE",
    "SCALES",
    "SHAKE",
    "STREET_THINGS",
    "ZOOM_SPEED",
    "MotionSample",
    "classify_motion",
    "color_name",
    "color_temperature",
    "contrast_label",
    "describe_frames",
    "describe_shots",
    "dominant_colors",
    "global_motion",
    "key_label",
    "lighting",
    "scale_from_boxes",
    "scenery_fractions",
    "scenery_words",
    "sharpness",
    "sharpness_label",
    "summarize",
    "temperature_label",
]


@dataclass
class _Work:
    """One shot's plan (which frames to sample) and what its samples gave so far."""

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
    look: str | None = None  # the middle frame's CLIP embedding, packed


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


class _Reporter:
    """Progress events for the pass, at most four a second, and the final one."""

    def __init__(self, progress: Callable[[Progress], None] | None) -> None:
        self.progress = progress
        self.t0 = time.monotonic()
        self.last = 0.0

    def __call__(self, frames: int, total: int | None) -> None:
        now = time.monotonic()
        if self.progress is not None and now - self.last > 0.25:
            self.last = now
            self.progress(Progress(frames=frames, total=total, elapsed=now - self.t0))

    def done(self, frames: int) -> None:
        if self.progress is not None:
            elapsed = time.monotonic() - self.t0
            self.progress(Progress(frames=frames, total=frames, elapsed=elapsed, done=True))


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
    objects = faces = clip = None
    if detect:
        from moviola.analysis.clip import encoder
        from moviola.analysis.detect import shared

        objects, faces, clip = shared("objects"), shared("faces"), encoder()
    rate = float(shots.rate) if shots.rate else 25.0
    gap = max(1, round(rate / 10))
    if thumbnails is not None:
        thumbnails = Path(thumbnails)
        thumbnails.mkdir(parents=True, exist_ok=True)
    order = sorted(shots.shots, key=lambda s: s.start_frame)
    plans = [_plan(s, samples, motion_pairs, gap) for s in order]
    stem = Path(path).stem
    report = _Reporter(progress)
    pi = 0
    count = 0
    with VideoReader(path) as reader:
        total = reader.stream_info.frames
        for index, frame in enumerate(reader):
            count = index + 1
            while pi < len(plans) and index > plans[pi].shot.end_frame:
                _finish(plans[pi], float(shots.rate), thumbnails, stem)
                pi += 1
            if pi >= len(plans):
                break
            if index >= plans[pi].shot.start_frame:
                _take(plans[pi], index, frame.image, objects, faces, clip)
            report(count, total)
    for work in plans[pi:]:
        _finish(work, float(shots.rate), thumbnails, stem)
    report.done(count)
    return shots


def _take(work: _Work, index: int, image: np.ndarray, objects, faces, clip=None) -> None:
    """Frame ``index`` of the shot: sampled for content, for motion, both or neither."""
    need_motion = index in work.starts or index in work.ends
    if index not in work.content and not need_motion:
        return
    image = image[..., :3]
    if image.dtype != np.uint8:
        from moviola.media.frame import to_uint8

        image = to_uint8(image)
    if need_motion:
        _track(work, index, cv2.cvtColor(small(image, MOTION_WIDTH), cv2.COLOR_RGB2GRAY))
    if index in work.content:
        work.frames.append(analyse_frame(image, objects, faces))
        work.pixels.append(small(image, 64).reshape(-1, 3))
        if index == work.middle:
            work.thumb = small(image, 320).copy()
            if clip is not None:
                from moviola.analysis.clip import pack

                work.look = pack(clip.images([image])[0])


def _track(work: _Work, index: int, gray: np.ndarray) -> None:
    """Close the motion pairs that end at ``index``; keep ``gray`` when one starts there."""
    if index in work.ends:
        for s, e in work.starts.items():
            if e == index and s in work.grays:
                sample = global_motion(work.grays[s], gray, e - s)
                if sample is not None:
                    work.motion.append(sample)
                del work.grays[s]
    if index in work.starts:
        work.grays[index] = gray


def _finish(work: _Work, rate: float, thumbnails: Path | None, stem: str) -> None:
    """Write the shot's description into its ``extra`` and let go of its samples."""
    shot = work.shot
    if not work.frames:
        shot.extra.update({"summary": "shot not decoded"})
        return
    extra = describe_frames(work.frames, work.motion, work.pixels, rate)
    if thumbnails is not None and work.thumb is not None:
        target = thumbnails / f"{stem}_shot{shot.index:04d}.jpg"
        _write_thumbnail(work.thumb, target, shot.index)
        extra["thumbnail"] = str(target)
    extra["summary"] = summarize(extra, float(shot.duration))
    if work.look is not None:
        extra["image_embedding"] = work.look
    shot.extra.update(extra)
    work.frames.clear()
    work.pixels.clear()
    work.grays.clear()
    work.thumb = None


def _write_thumbnail(rgb: np.ndarray, target: Path, index: int) -> None:
    from moviola.media.atomic import write_bytes

    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    if not ok:
        raise MoviolaError(f"cannot encode the thumbnail of shot {index}")
    write_bytes(target, data.tobytes())
