"""Pick a subject by clicking on the player's frame: where matte's ``point`` goes (and, where
MobileSAM is cached, the mask it makes there), or which tracked face faceswap's ``target`` names.

What a click must match is what the effect will see when the page runs it:

- matte takes its point on the first frame its run puts through it. A run of the whole clip
  starts at the clip's first frame; a run of an in/out range (or a preview) starts earlier,
  because the studio warms effects with cross-frame state up on the frames before the range
  (:mod:`moviola.studio.warmup`: 48 frames for matte). So a point is picked on that frame, and a
  click elsewhere answers where to go instead of a point.
- faceswap numbers faces as its :class:`~moviola.vision.faces.FaceTracker` meets them from that
  same first frame on. The faces at the clicked time are found by tracking from there, with the
  tracker settings the effect uses, so the ids are the ones ``target`` means. puppet has no
  choice of face (it follows the largest); its pick shows the face it will follow.

The mask preview is matte itself (``point``, ``matte_only``) run on that one frame: the code a
run uses, never a copy of it.
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import to_uint8
from moviola.media.reader import VideoReader
from moviola.media.time import parse_time
from moviola.studio.state import StudioState
from moviola.studio.warmup import warmup_begin, warmup_frames

#: the effects a click can set up, and the parameter it sets (None: nothing to choose)
PICKS: dict[str, str | None] = {"matte": "point", "faceswap": "target", "puppet": None}
#: the longest stretch tracked to number the faces at a time (from the run's first frame)
MAX_TRACK_SECONDS = 120
MASK_WIDTH = 640  # the mask preview's width at most (the page scales it over the frame)
_TINT = (255, 64, 160)  # the mask preview's colour
_FACES: OrderedDict[tuple, tuple[list[dict], tuple[int, int]]] = OrderedDict()
_LOCK = threading.Lock()


def _number(data: dict, key: str) -> float | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MoviolaError(f"pick: {key} must be a number 0..1 (a share of the frame)")
    return float(value)


def _time(value: Any, what: str) -> Fraction | None:
    if value is None or value == "":
        return None
    try:
        t = parse_time(value if isinstance(value, str) else str(value))
    except (TypeError, ValueError, OverflowError, ArithmeticError, MoviolaError):
        raise MoviolaError(f"pick: {what} must be a time (seconds or an exact fraction)") from None
    if t is None or t < 0:
        raise MoviolaError(f"pick: {what} must be a time of the clip, not {value!r}")
    return t


def _chain(data: dict, effect: str) -> list[type]:
    from moviola.pipeline import registry

    names = data.get("chain") or [effect]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise MoviolaError("pick: chain must be a list of effect names")
    if effect not in names:
        raise MoviolaError(f"pick: the chain has no {effect}")
    classes = []
    for name in names[:32]:
        try:
            classes.append(registry.get(name))
        except (KeyError, MoviolaError):
            raise MoviolaError(f"pick: unknown effect {name!r}") from None
    return classes


def first_frame(path: Path, chain: list[type], start: Fraction | None) -> tuple[Fraction, Fraction]:
    """(time, rate): the first frame a run of ``chain`` from ``start`` (None: the whole clip)
    puts through its effects, warm-up frames included (see moviola.studio.warmup)."""
    with VideoReader(path, start=start or 0) as reader:
        rate = reader.stream_info.rate
    begin = Fraction(start or 0)
    frames = warmup_frames(chain) if start else 0
    if frames > 0:
        begin = warmup_begin(begin, frames, rate)
    with VideoReader(path, start=begin) as reader:
        for frame in reader:
            return begin + frame.time, rate
    raise MoviolaError(f"pick: no frame at {float(begin):.3f} s in {path.name}")


def _frame_no(t: Fraction, rate: Fraction) -> int:
    return int(t * rate + Fraction(1, 2))


def pick(state: StudioState, data: dict) -> dict[str, Any]:
    """What a click (``x``, ``y``: 0..1 of the picture shown, left to right and top to bottom)
    at ``time`` on clip ``id`` sets up for ``effect``, a run starting at ``start`` (the in point;
    None: the whole clip) with the effects named in ``chain``. Without ``x`` and ``y``: where to
    pick (and, for faces, the faces there)."""
    from moviola.media import probe

    effect = data.get("effect")
    if not isinstance(effect, str) or effect not in PICKS:
        raise MoviolaError(
            f"pick: a subject is picked for {', '.join(PICKS)}, not {str(effect)[:40]!r}"
        )
    path = state.roots.resolve(str(data.get("id") or ""))
    if not path.is_file():
        raise MoviolaError(f"pick: no such clip: {data.get('id')}")
    x, y = _number(data, "x"), _number(data, "y")
    if (x is None) != (y is None):
        raise MoviolaError("pick: give both x and y of the click")
    if x is not None and y is not None and not (0 <= x <= 1 and 0 <= y <= 1):
        raise MoviolaError("pick: the click is outside the frame")
    info = probe(path)
    if not info.video:
        raise MoviolaError(f"pick: {path.name} has no picture")
    video = info.video[0]
    duration = Fraction(video.duration or info.duration or 0)
    t = _time(data.get("time"), "time") or Fraction(0)
    start = _time(data.get("start"), "the in point")
    end = _time(data.get("end"), "the out point")
    for what, value in (("time", t), ("the in point", start)):
        if value is not None and duration and value >= duration:
            raise MoviolaError(
                f"pick: {what} {float(value):.3f} s is past the end of the clip "
                f"({float(duration):.3f} s)"
            )
    chain = _chain(data, effect)
    first, rate = first_frame(path, chain, start)
    half = 1 / (2 * rate)
    where = {"time": float(first), "frame": _frame_no(first, rate)}
    if effect == "matte":
        if abs(t - first) >= half:
            return {
                "effect": effect,
                "param": "point",
                "value": None,
                "go": where,
                "message": _where_message(where, start, rate),
            }
        if x is None or y is None:
            message = _where_message(where, start, rate)
            return {"effect": effect, "param": "point", "value": None, "at": where, "message": message}  # fmt: skip
        return _matte(path, first, x, y, where)
    if t < first - half:
        raise MoviolaError(
            f"pick: {effect} tracks faces from frame {where['frame']} ({where['time']:.3f} s), "
            "where its run starts: pick at or after it"
        )
    if end is not None and t >= end:
        raise MoviolaError("pick: the time is past the out point")
    if t - first > MAX_TRACK_SECONDS:
        raise MoviolaError(
            f"pick: {effect} numbers faces from its run's start (frame {where['frame']}); that is "
            f"more than {MAX_TRACK_SECONDS} s before this frame: set an in point nearer"
        )
    return _faces(path, effect, first, t, rate, x, y, data)


def _where_message(where: dict, start: Fraction | None, rate: Fraction) -> str:
    at = f"frame {where['frame']} ({where['time']:.3f} s)"
    if start and where["frame"] < _frame_no(start, rate):
        return (
            f"matte takes its point on the first frame it runs on: {at}, "
            f"{_frame_no(start, rate) - where['frame']} frames before the in point (the studio "
            "warms it up on the frames before a range). Click the subject on this frame"
        )
    return f"matte takes its point on the first frame it runs on: {at}. Click the subject on it"


def _matte(path: Path, first: Fraction, x: float, y: float, where: dict) -> dict[str, Any]:
    """The point (0..1 of the frame, as matte's parse_point reads it) and, where MobileSAM is
    cached, the mask matte makes from it on that frame."""
    from moviola.models.registry import get_spec
    from moviola.models.store import is_cached
    from moviola.pipeline import registry
    from moviola.vision.segment import SAM_MODEL

    with VideoReader(path, start=first) as reader:
        info = reader.stream_info
        frame = next(iter(reader), None)
    if frame is None:
        raise MoviolaError(f"pick: no frame at {float(first):.3f} s in {path.name}")
    h, w = frame.image.shape[:2]
    # the click's pixel (its centre), then the share of (w - 1, h - 1) that matte maps back
    px = min(max(x * w - 0.5, 0.0), w - 1.0)
    py = min(max(y * h - 0.5, 0.0), h - 1.0)
    point = f"{px / max(1, w - 1):.4f},{py / max(1, h - 1):.4f}"
    out: dict[str, Any] = {
        "effect": "matte",
        "param": "point",
        "value": point,
        "at": where,
        "pixel": [round(px), round(py)],
        "size": [w, h],
        "mask": None,
    }
    if not is_cached(SAM_MODEL):
        spec = get_spec(SAM_MODEL)
        size = sum(f.size or 0 for f in spec.files)
        out["message"] = (
            f"point set; MobileSAM is not installed ({size / 1e6:.0f} MB, {spec.license}), so "
            "no mask is shown: `moviola models fetch mobilesam` to see it here (a run needs it)"
        )
        return out
    matte = registry.create("matte", point=point, matte_only=True)
    try:
        matte.configure(info)
        matte.process(frame)
        alpha = getattr(matte, "last_alpha", None)
    finally:
        matte.close()
    if alpha is None:
        raise MoviolaError("pick: matte made no mask")
    out["mask"] = mask_png(alpha)
    out["coverage"] = round(float(np.mean(alpha > 0.5)), 4)
    out["message"] = (
        f"point set: the subject covers {100 * out['coverage']:.1f} % of the frame"
        if out["coverage"] > 0
        else "point set, but MobileSAM found no subject there"
    )
    return out


def mask_png(alpha: np.ndarray) -> str:
    """The mask as a tinted, half-transparent PNG (a data: URL) to lay over the frame."""
    h, w = alpha.shape[:2]
    if w > MASK_WIDTH:
        alpha = cv2.resize(alpha, (MASK_WIDTH, max(1, round(h * MASK_WIDTH / w))))
    a = np.clip(alpha, 0, 1)
    rgba = np.zeros((*a.shape, 4), np.uint8)
    rgba[..., :3] = _TINT
    rgba[..., 3] = (a * 150).astype(np.uint8)
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    if not ok:
        raise MoviolaError("pick: could not encode the mask")
    return "data:image/png;base64," + base64.b64encode(data.tobytes()).decode()


def tracker_settings(effect: str, data: dict) -> dict[str, Any]:
    """The FaceTracker settings ``effect`` uses (faceswap: its max_faces; puppet: one face,
    unsmoothed), as their configure() makes them."""
    if effect == "puppet":
        return {"max_faces": 1, "smooth": False}
    value = data.get("max_faces")
    try:
        count = int(value) if value not in (None, "") else 4
    except (TypeError, ValueError):
        raise MoviolaError("pick: max_faces must be a whole number 1..16") from None
    if not 1 <= count <= 16:
        raise MoviolaError("pick: max_faces must be a whole number 1..16")
    return {"max_faces": count}


def track_faces(
    path: Path, first: Fraction, t: Fraction, settings: dict[str, Any]
) -> tuple[list[dict], tuple[int, int]]:
    """The faces of the frame at ``t``, tracked from ``first`` as the effect tracks them:
    ``[{"id", "box": [x0, y0, x1, y1] pixels, "area"}]`` and the frame's (w, h)."""
    from moviola.vision.faces import FaceTracker, largest

    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, first, t, tuple(sorted(settings.items())))
    with _LOCK:
        if key in _FACES:
            _FACES.move_to_end(key)
            return _FACES[key]
    tracker = FaceTracker(**settings)
    faces, size = [], (0, 0)
    with VideoReader(path, start=first) as reader:
        limit = t - first + 1 / (2 * reader.stream_info.rate)
        for frame in reader:
            if frame.time >= limit:
                break
            image = to_uint8(frame.image)[..., :3]
            size = (image.shape[1], image.shape[0])
            faces = tracker.update(image, float(first + frame.time))
    biggest = largest(faces)  # the face "largest" (and puppet) means
    found = [
        {"id": f.id, "box": [round(float(v), 1) for v in f.box], "largest": f is biggest}
        for f in faces
    ]
    with _LOCK:
        _FACES[key] = (found, size)
        while len(_FACES) > 32:
            _FACES.popitem(last=False)
    return found, size


def _faces(
    path: Path,
    effect: str,
    first: Fraction,
    t: Fraction,
    rate: Fraction,
    x: float | None,
    y: float | None,
    data: dict,
) -> dict[str, Any]:
    found, (w, h) = track_faces(path, first, max(first, t), tracker_settings(effect, data))
    largest = next((f["id"] for f in found if f["largest"]), None)
    faces = [
        {
            "id": f["id"],
            "box": [
                round(f["box"][0] / w, 4),
                round(f["box"][1] / h, 4),
                round(f["box"][2] / w, 4),
                round(f["box"][3] / h, 4),
            ],
            "largest": f["largest"],
        }
        for f in found
    ]
    out: dict[str, Any] = {
        "effect": effect,
        "param": PICKS[effect],
        "value": None,
        "faces": faces,
        "from": {"time": float(first), "frame": _frame_no(first, rate)},
    }
    if not faces:
        out["message"] = f"no face found on this frame (tracked as {effect} does from its start)"
        return out
    hit = None
    if x is not None and y is not None:
        under = [
            f for f in faces if f["box"][0] <= x <= f["box"][2] and f["box"][1] <= y <= f["box"][3]
        ]
        hit = min(under, key=lambda f: (f["box"][2] - f["box"][0]) * (f["box"][3] - f["box"][1]), default=None)  # fmt: skip
    if effect == "puppet":
        out["message"] = (
            f"puppet has no choice of face: it follows the largest one (face {largest}, marked)"
        )
    elif hit is not None:
        out["value"] = str(hit["id"])
        out["message"] = f"target set to face {hit['id']}"
    elif x is not None:
        out["message"] = "no face under the click: click inside a box"
    else:
        out["message"] = f"{len(faces)} face{'s' if len(faces) > 1 else ''}: click one to target it"
    return out
