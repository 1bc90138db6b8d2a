"""The before/after comparison of a finished effects job as a video: ``split`` (the source on
the left of a line at ``position``, the result on the right, as the page's wipe shows them) or
``side`` (side by side). The source frame beside each result frame is the one the result shows
at that moment (the run's timeline: source time = start + time x speed), and the source's sound
goes along the same timeline. Written by a worker (the server never encodes video) through
moviola.media's writer: a temporary file, renamed when complete."""

from __future__ import annotations

import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.studio.frames import to_rgb8

MODES = {"split": "split", "side": "side by side"}
_EPS = Fraction(1, 1_000_000)


def comparison_spec(data: dict, job: dict, after: Path, after_id: str) -> dict:
    """The spec of a comparison job of the finished effects ``job`` (its result ``after``)."""
    mode = data.get("mode") or "split"
    if mode not in MODES:
        raise MoviolaError("mode: split or side (side by side)")
    position = data.get("position", 0.5)
    if isinstance(position, bool) or not isinstance(position, int | float):
        raise MoviolaError("position: a number from 0 to 1 (where the line is)")
    if not 0 <= position <= 1:
        raise MoviolaError("position: from 0 to 1 (where the line is)")
    timeline = (job.get("result") or {}).get("timeline") or {"start": 0.0, "speed": 1.0}
    stem = after.stem[:80]
    return {
        "input": after_id,
        "input_path": str(after),
        "before": job["spec"]["input"],
        "before_path": job["spec"]["input_path"],
        "source_job": job["id"],
        "timeline": {"start": float(timeline["start"]), "speed": float(timeline["speed"])},
        "mode": mode,
        "position": float(position),
        "output_name": f"{stem}-compare-{mode}.mp4",
    }


def comparison_title(spec: dict, job_title: str) -> str:
    where = f" at {spec['position'] * 100:.0f} %" if spec["mode"] == "split" else ""
    return f"before/after ({MODES[spec['mode']]}{where}) of {job_title}"[:200]


def _fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` inside width x height, its aspect kept, on black."""
    from moviola.media.frame import contain

    if image.shape[:2] == (height, width):
        return image
    fitted, (x, y) = contain(image, (width, height))
    canvas = np.zeros((height, width, 3), np.uint8)
    canvas[y : y + fitted.shape[0], x : x + fitted.shape[1]] = fitted
    return canvas


def _label(image: np.ndarray, text: str, right: bool) -> None:
    scale = max(0.35, image.shape[0] / 720)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    pad = max(4, th // 2)
    x = image.shape[1] - tw - 2 * pad if right else pad
    box = image[pad // 2 : th + 2 * pad, x - pad // 2 : x + tw + pad]
    box[:] = (box * 0.35).astype(np.uint8)  # a dark box: the label reads on any picture
    cv2.putText(
        image, text, (x, th + pad), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
    )


def compose(before: np.ndarray, after: np.ndarray, mode: str, position: float) -> np.ndarray:
    """One frame of the comparison from RGB8 pictures (``before`` fitted to ``after``'s size)."""
    height, width = after.shape[:2]
    before = _fit(before, width, height)
    if mode == "side":
        out = np.ascontiguousarray(np.hstack([before, after]))
        _label(out[:, :width], "before", False)
        _label(out[:, width:], "after", True)
        return out
    x = int(round(position * width))
    out = after.copy()
    out[:, :x] = before[:, :x]
    out[:, max(0, x - 1) : min(width, x + 1)] = 255
    _label(out, "before", False)
    _label(out, "after", True)
    return out


def export_comparison(
    spec: dict,
    output: Path,
    progress: Callable[[int, int | None], Any] | None = None,
    cancel: threading.Event | None = None,
) -> dict:
    """Write the comparison video of ``spec`` (see ``comparison_spec``) to ``output``."""
    from moviola.media import VideoReader, VideoWriter
    from moviola.media.audio import AudioSource
    from moviola.media.timeline import Timeline

    start = Fraction(str(spec["timeline"]["start"]))
    speed = Fraction(str(spec["timeline"]["speed"]))
    mode, position = spec["mode"], spec["position"]
    if not Path(spec["before_path"]).is_file():
        raise MoviolaError("the job's source clip is gone: nothing to compare with")
    with (
        VideoReader(spec["input_path"]) as after_reader,
        VideoReader(spec["before_path"], start=start, alpha=False) as before_reader,
    ):
        info = after_reader.stream_info
        width = info.width * (2 if mode == "side" else 1)
        out_info = info.evolve(width=width, alpha=False, dtype="uint8", bit_depth=8)
        audio = None
        if before_reader.info.audio:
            end = start + (info.duration or 0) * speed if info.duration else None
            timeline = Timeline(start=start, end=end, speed=speed)
            index = before_reader.info.audio[0].index
            audio = AudioSource(str(spec["before_path"]), index, before_reader.origin, timeline)
        writer = VideoWriter(output, out_info, audio=audio)
        source = iter(before_reader)
        current, following = next(source, None), None
        if current is not None:
            following = next(source, None)
        count = 0
        try:
            for frame in after_reader:
                if cancel is not None and cancel.is_set():
                    raise MoviolaError("cancelled")
                want = frame.time * speed
                while following is not None and following.time <= want + _EPS:
                    current, following = following, next(source, None)
                if current is None:
                    raise MoviolaError("the job's source clip has no frames to compare with")
                image = compose(to_rgb8(current.image), to_rgb8(frame.image), mode, position)
                writer.write(frame.with_image(image))
                count += 1
                if progress is not None:
                    progress(count, info.frames)
            path = writer.close()
        except BaseException:
            writer.abort()
            raise
    return {"output": path.name, "frames": count, "mode": mode, "audio": audio is not None}
