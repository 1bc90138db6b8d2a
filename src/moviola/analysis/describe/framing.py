"""What one sampled frame shows: the shot scale from the largest face or person (or object), the
people, faces and objects seen (YOLOv3-tiny, BlazeFace), and the picture's measures (light,
colour temperature, sharpness, scenery)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import cv2
import numpy as np

from moviola.analysis.describe.features import (
    color_temperature,
    lighting,
    scenery_fractions,
    sharpness,
)

SCALES = ("extreme close-up", "close-up", "medium", "wide", "extreme wide")
PERSON_SCORE = 0.35
OBJECT_SCORE = 0.4


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


def small(image: np.ndarray, width: int) -> np.ndarray:
    """``image`` resized to ``width`` pixels wide (as it is when it already is)."""
    h, w = image.shape[:2]
    if w == width:
        return image
    return cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)


def analyse_frame(image: np.ndarray, objects, faces) -> dict[str, Any]:
    """The measures of one RGB uint8 frame; with the detectors (``objects``, ``faces``), also
    its people, faces, scale and object labels."""
    h, w = image.shape[:2]
    small_rgb = small(image, 320)
    gray = cv2.cvtColor(small(image, 640), cv2.COLOR_RGB2GRAY)
    out: dict[str, Any] = {
        "light": lighting(small_rgb),
        "kelvin": color_temperature(small_rgb),
        "sharpness": sharpness(gray),
        "scenery": scenery_fractions(small_rgb),
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
