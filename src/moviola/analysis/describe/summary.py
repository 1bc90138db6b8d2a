"""A shot's description from its sampled frames and motion samples: the medians and labels
written into ``Shot.extra``, and the one line of text (``summary``) that search embeds."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from moviola.analysis.describe.camera import MotionSample, classify_motion
from moviola.analysis.describe.features import (
    contrast_label,
    dominant_colors,
    key_label,
    scenery_words,
    sharpness_label,
    temperature_label,
)
from moviola.analysis.describe.framing import SCALES


def _subjects(frames: list[dict[str, Any]]) -> dict[str, Any]:
    """Scale (median rank), what it was judged from, people, faces and object tags."""
    out: dict[str, Any] = {}
    ranks = sorted(SCALES.index(f["scale"]) for f in frames)
    out["scale"] = SCALES[ranks[len(ranks) // 2]]
    bases = Counter(f["basis"] for f in frames if f["scale"] == out["scale"])
    out["scale_basis"] = bases.most_common(1)[0][0]
    out["people"] = int(round(float(np.median([f["people"] for f in frames]))))
    out["faces"] = int(round(float(np.median([f["faces"] for f in frames]))))
    seen: Counter[str] = Counter()
    most: dict[str, int] = {}
    for f in frames:
        for label, n in f["labels"].items():
            seen[label] += 1
            most[label] = max(most.get(label, 0), n)
    out["tags"] = [label for label, _ in sorted(seen.items(), key=lambda t: (-t[1], t[0]))]
    out["objects"] = {label: most[label] for label in out["tags"]}
    return out


def _lighting(frames: list[dict[str, Any]]) -> dict[str, Any]:
    light = {k: float(np.mean([f["light"][k] for f in frames])) for k in frames[0]["light"]}
    kelvins = [f["kelvin"] for f in frames if f["kelvin"] is not None]
    kelvin = float(np.median(kelvins)) if kelvins else None
    return {
        "key": key_label(light["mean"], light["dark"], light["bright"]),
        "brightness": round(light["mean"], 3),
        "contrast": round(light["contrast"], 3),
        "contrast_level": contrast_label(light["contrast"]),
        "color_temperature_k": round(kelvin, -1) if kelvin is not None else None,
        "color_temperature": temperature_label(kelvin),
    }


def motion_level(residual: float) -> str:
    """still / low / medium / high, from the motion in the picture (frame widths per second)."""
    if residual < 0.004:
        return "still"
    if residual < 0.015:
        return "low"
    return "medium" if residual < 0.05 else "high"


def describe_frames(
    frames: list[dict[str, Any]],
    motion: list[MotionSample],
    pixels: list[np.ndarray],
    rate: float,
) -> dict[str, Any]:
    """The description of a shot from its sampled frames (``framing.analyse_frame``), its
    motion samples and its small pictures' pixels (``frames`` must not be empty); its
    ``summary`` line is ``summarize(description, duration)``."""
    extra: dict[str, Any] = {}
    if "scale" in frames[0]:
        extra.update(_subjects(frames))
    cam = classify_motion(motion, rate)
    extra["camera_motion"] = cam["motion"]
    extra["camera"] = cam
    extra["lighting"] = _lighting(frames)
    extra["colors"] = dominant_colors(np.concatenate(pixels))
    fractions = {k: float(np.mean([f["scenery"][k] for f in frames])) for k in ("greenery", "sky")}
    extra["scenery"] = scenery_words(fractions, extra.get("tags", []), extra["lighting"])
    residual = float(np.median([s.residual for s in motion])) * rate if motion else 0.0
    extra["motion_intensity"] = round(residual, 4)
    extra["motion_level"] = motion_level(residual)
    sharp = float(np.median([f["sharpness"] for f in frames]))
    extra["sharpness"] = round(sharp, 1)
    extra["sharpness_level"] = sharpness_label(sharp)
    return extra


def _camera_words(d: dict[str, Any]) -> str:
    direction = (d.get("camera") or {}).get("direction")
    return {
        "pan": f"camera pans {direction}",
        "tilt": f"camera tilts {direction}",
        "zoom": f"camera zooms {direction}",
        "handheld": "handheld camera",
    }.get(d.get("camera_motion", "static"), "static camera")


def _people_words(people: Any, faces: Any) -> str:
    if people == 0 and not faces:
        return "no people"
    who = []
    if people:
        who.append(f"{people} {'person' if people == 1 else 'people'}")
    if faces:
        who.append(f"{faces} {'face' if faces == 1 else 'faces'}")
    return ", ".join(who)


def _light_words(light: dict[str, Any]) -> str:
    brightness = light["brightness"]
    mood = "dark " if brightness < 0.2 else "bright " if brightness > 0.7 else ""
    return (
        f"{mood}{light['key']} lighting, {light['contrast_level']} contrast, "
        f"{light['color_temperature']} light"
    )


def summarize(d: dict[str, Any], duration: float | None = None) -> str:
    """One line of text for a described shot (what search embeds), e.g. "wide shot, static
    camera, 5 people, mid-key lighting, medium contrast, neutral light, olive and gray tones,
    tags: person, car, 6.0 s"."""
    camera = _camera_words(d)
    parts = [f"{d['scale']} shot, {camera}" if "scale" in d else camera]
    people = d.get("people")
    if people is not None:
        parts.append(_people_words(people, d.get("faces")))
    level = d.get("motion_level")
    if level in ("medium", "high"):
        parts.append(f"{level} movement in frame")
    if people and level != "still" and d.get("scale") in ("wide", "extreme wide"):
        parts.append("people walking" if people > 1 else "a person walking")
    if d.get("scenery"):
        parts.append(", ".join(d["scenery"]))
    if d.get("lighting"):
        parts.append(_light_words(d["lighting"]))
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
