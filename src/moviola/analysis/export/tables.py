"""The shot list as rows: the base columns, every description found in the shots, one line of
text per shot (for clip names, markers and notes), and the CSV and JSON exports."""

from __future__ import annotations

import csv
import io
import json
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from moviola.analysis.model import Shot, ShotList, timecode
from moviola.analysis.output import write_text

BASE_COLUMNS = (
    "index",
    "start_frame",
    "end_frame",
    "start_timecode",
    "end_timecode",
    "start_seconds",
    "end_seconds",
    "frames",
    "duration_seconds",
    "transition",
    "transition_frames",
)
# Keys of Shot.extra that are not descriptions to print (paths, vectors).
_HIDDEN = {"thumbnail", "embedding", "vector", "words"}  # words: the timed form of "dialogue"
#: Characters of a shot's dialogue quoted in one-line descriptions (markers, notes).
DIALOGUE_CHARS = 120


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (fractions as floats, numpy values as Python ones)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def cell(value: Any) -> str:
    """One description value as text for a table cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list | tuple):
        return "; ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=_json_default)
    return str(value)


def _tag_name(tag: Any) -> str:
    if isinstance(tag, str):
        return tag
    if isinstance(tag, list | tuple):
        return str(tag[0])
    if isinstance(tag, dict):
        return str(tag.get("name", tag))
    return str(tag)


def describe(shot: Shot) -> str:
    """A one-line summary of what is known about a shot (for clip names, markers, notes)."""
    extra = shot.extra
    parts: list[str] = []
    if extra.get("summary"):
        parts.append(str(extra["summary"]))
    else:
        parts += [str(extra[key]) for key in ("scale", "camera", "lighting") if extra.get(key)]
        people = extra.get("people")
        if isinstance(people, int | float) and people:
            parts.append(f"{int(people)} {'person' if people == 1 else 'people'}")
        tags = extra.get("tags")
        if tags:
            parts.append(", ".join(_tag_name(t) for t in list(tags)[:3]))
    if shot.transition in ("dissolve", "fade"):
        parts.append(f"{shot.transition} in ({shot.transition_frames} frames)")
    said = str(extra.get("dialogue") or "")
    if said:
        cut = len(said) > DIALOGUE_CHARS
        parts.append(f'said: "{said[: DIALOGUE_CHARS - 3].rstrip() + "..." if cut else said}"')
    return "; ".join(parts)


def description_keys(shots: ShotList) -> list[str]:
    """The Shot.extra keys present in any shot, in first-seen order (minus hidden ones)."""
    keys: list[str] = []
    for shot in shots.shots:
        for key in shot.extra:
            if key not in keys and key not in _HIDDEN and key not in BASE_COLUMNS:
                keys.append(key)
    return keys


def shot_row(shot: Shot, rate: Fraction) -> dict[str, Any]:
    """The base columns of one shot."""
    return {
        "index": shot.index,
        "start_frame": shot.start_frame,
        "end_frame": shot.end_frame,
        "start_timecode": timecode(shot.start_frame, rate),
        "end_timecode": timecode(shot.end_frame, rate),
        "start_seconds": f"{float(shot.start):.6f}",
        "end_seconds": f"{float(shot.end):.6f}",
        "frames": shot.frames,
        "duration_seconds": f"{float(shot.duration):.6f}",
        "transition": shot.transition,
        "transition_frames": shot.transition_frames,
    }


def write_csv(shots: ShotList, target: str | os.PathLike) -> Path:
    """One row per shot: frames, timecodes, seconds, transition, then every description."""
    keys = description_keys(shots)
    if any("thumbnail" in s.extra for s in shots.shots):
        keys.append("thumbnail")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*BASE_COLUMNS, *keys])
    for shot in shots.shots:
        row = shot_row(shot, shots.rate)
        writer.writerow([row[c] for c in BASE_COLUMNS] + [cell(shot.extra.get(k)) for k in keys])
    return write_text(target, buf.getvalue())


def write_json(shots: ShotList, target: str | os.PathLike) -> Path:
    """The shot list as ``moviola shots --json`` prints it (loads back with ShotList.load)."""
    data = jsonable(shots.to_dict())
    return write_text(target, json.dumps(data, indent=2) + "\n")
