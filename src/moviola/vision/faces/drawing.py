"""A preview of tracked faces: mesh dots, outlines and track ids drawn over the frame."""

from __future__ import annotations

import cv2
import numpy as np

from moviola.vision.faces.landmarks import CONTOURS
from moviola.vision.faces.tracking import Face

_COLORS = [(0, 255, 128), (255, 160, 0), (80, 160, 255), (255, 64, 200), (255, 255, 0)]


def draw_faces(image: np.ndarray, faces: list[Face], *, dots: bool = True) -> np.ndarray:
    """A copy of ``image`` (RGB) with each face's mesh dots, contours and track id."""
    out = np.ascontiguousarray(image[..., :3]).copy()
    scale = max(1, round(max(out.shape[:2]) / 640))
    for face in faces:
        color = _COLORS[face.id % len(_COLORS)]
        pts = face.landmarks[:, :2]
        if dots:
            for x, y in pts:
                cv2.circle(
                    out, (int(round(x)), int(round(y))), scale, (255, 255, 255), -1, cv2.LINE_AA
                )
        for line in CONTOURS:
            poly = np.round(pts[line]).astype(np.int32)
            cv2.polylines(out, [poly], False, color, scale, cv2.LINE_AA)
        x0, y0 = int(face.box[0]), int(face.box[1])
        label = f"#{face.id} {face.score:.2f}"
        cv2.putText(
            out,
            label,
            (x0, max(12 * scale, y0 - 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5 * scale,
            color,
            scale,
            cv2.LINE_AA,
        )
    return out
