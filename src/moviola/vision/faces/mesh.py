"""The 468-point face mesh inside a rotated square crop (ROI), and the mesh of a photo's face.

The model (``mediapipe-face-landmark``, MediaPipe, Apache-2.0, run under LiteRT) gives 468
(x, y, z) points from a 192x192 RGB crop in [0, 1], plus a face presence logit. The crop is a
rotated square: from a detection it is centred on the box, turned so the eyes lie level, 1.5x the
box; from a previous frame's mesh it is the mesh's box in the face's own frame (eyes 33 -> 263
level), 1.5x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from moviola.vision.faces.detection import Detection, FaceDetector, largest, output_of_width
from moviola.vision.faces.landmarks import LEFT_EYE_OUTER, RIGHT_EYE_OUTER

LANDMARKER = "mediapipe-face-landmark"


@dataclass
class Roi:
    """A rotated square crop: centre, side (pixels), rotation (radians, image y down)."""

    cx: float
    cy: float
    size: float
    angle: float

    def matrix(self, out: int) -> np.ndarray:
        """2x3 affine from crop pixels (0..out) to frame pixels."""
        k = self.size / out
        c, s = math.cos(self.angle) * k, math.sin(self.angle) * k
        h = out / 2
        return np.array(
            [[c, -s, self.cx - c * h + s * h], [s, c, self.cy - s * h - c * h]], np.float64
        )

    def box(self) -> np.ndarray:
        half = self.size / 2
        return np.array([self.cx - half, self.cy - half, self.cx + half, self.cy + half])


def roi_from_detection(det: Detection, scale: float = 1.5) -> Roi:
    (x0, y0, x1, y1) = det.box
    right_eye, left_eye = det.keypoints[0], det.keypoints[1]
    angle = math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])
    size = max(x1 - x0, y1 - y0) * scale
    return Roi((x0 + x1) / 2, (y0 + y1) / 2, size, angle)


def roi_from_landmarks(points: np.ndarray, scale: float = 1.5) -> Roi:
    """The next frame's crop from this frame's mesh: its box in the face's own (level) frame."""
    a, b = points[RIGHT_EYE_OUTER, :2], points[LEFT_EYE_OUTER, :2]
    angle = math.atan2(b[1] - a[1], b[0] - a[0])
    c, s = math.cos(angle), math.sin(angle)
    xy = points[:, :2]
    u = xy[:, 0] * c + xy[:, 1] * s  # into the face frame
    v = -xy[:, 0] * s + xy[:, 1] * c
    cu, cv_ = (u.min() + u.max()) / 2, (v.min() + v.max()) / 2
    size = max(u.max() - u.min(), v.max() - v.min()) * scale
    return Roi(cu * c - cv_ * s, cu * s + cv_ * c, size, angle)


class FaceMesh:
    """The 468-point mesh of the face inside a ROI."""

    size = 192

    def __init__(self, *, threads: int | None = None):
        from moviola.models.runtime import open_session

        self.session = open_session(LANDMARKER, threads=threads)
        self.input_name = self.session.input_names[0]

    def __call__(self, image: np.ndarray, roi: Roi) -> tuple[np.ndarray, float]:
        """Landmarks (468 x 3, frame pixels; z in the same scale) and face presence (0..1)."""
        m = roi.matrix(self.size)
        crop = cv2.warpAffine(
            image[..., :3],
            m,
            (self.size, self.size),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
        x = crop.astype(np.float32)[None] / 255.0
        out = self.session.run({self.input_name: x})
        pts = output_of_width(out, 1404).reshape(468, 3).astype(np.float64)
        flag = float(output_of_width(out, 1).reshape(-1)[0])
        score = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, flag))))
        xy = pts[:, :2] @ m[:, :2].T + m[:, 2]
        z = pts[:, 2:3] * (roi.size / self.size)
        return np.concatenate([xy, z], axis=1).astype(np.float32), score


def face_of_photo(image: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The mesh (468 x 3) of the largest face of a still image (RGB) and its face presence
    (0..1), on the ROI of the detection; None when the detector finds no face."""
    det = largest(FaceDetector()(image))
    if det is None:
        return None
    return FaceMesh()(image, roi_from_detection(det))


def mesh_of_photo(image: np.ndarray, *, min_presence: float = 0.5) -> np.ndarray | None:
    """The 468 x 3 mesh of the largest face of a still image (RGB), or None when there is none.

    The mesh is refined once on the ROI of its own landmarks, as tracking would do."""
    found = face_of_photo(image)
    if found is None:
        return None
    points, score = found
    if score < min_presence:
        return None
    again, score2 = FaceMesh()(image, roi_from_landmarks(points))
    return again if score2 >= min_presence else points
