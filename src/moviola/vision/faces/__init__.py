"""Faces: BlazeFace detection, a 468-point face mesh, tracking with identities, One Euro smoothing.

Models (MediaPipe, Apache-2.0, run under LiteRT through :mod:`moviola.models.runtime.tflite`):
``mediapipe-face-detection-short`` (BlazeFace, :mod:`.detection`) and ``mediapipe-face-landmark``
(the mesh, :mod:`.mesh`).

- :mod:`.landmarks`: named mesh points and outlines (eyes, lips, face oval, stable points);
- :mod:`.detection`: :class:`FaceDetector`, boxes and keypoints on a whole frame;
- :mod:`.mesh`: :class:`FaceMesh` on a rotated crop (:class:`Roi`), the mesh of a photo's face;
- :mod:`.tracking`: :class:`FaceTracker` (ids across frames, shot cuts), :class:`OneEuroFilter`;
- :mod:`.geometry`: similarity fits and a pose-free shape descriptor;
- :mod:`.drawing`: a preview of the tracked meshes; :mod:`.synthetic`: tags for synthetic faces.

Everything works on one frame at a time: memory does not grow with the clip.
"""

from __future__ import annotations

from moviola.vision.faces.detection import (
    DETECTOR,
    Detection,
    FaceDetector,
    blazeface_anchors,
    box_area,
    iou,
    largest,
    weighted_nms,
)
from moviola.vision.faces.drawing import draw_faces
from moviola.vision.faces.geometry import shape_descriptor, shape_distance, umeyama
from moviola.vision.faces.landmarks import (
    CONTOURS,
    FACE_OVAL,
    LEFT_BROW,
    LEFT_EYE,
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    LIPS_INNER,
    LIPS_OUTER,
    LOWER_LIP,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    NOSE_TIP,
    RIGHT_BROW,
    RIGHT_EYE,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
    STABLE_POINTS,
    UPPER_LIP,
)
from moviola.vision.faces.mesh import (
    LANDMARKER,
    FaceMesh,
    Roi,
    face_of_photo,
    mesh_of_photo,
    roi_from_detection,
    roi_from_landmarks,
)
from moviola.vision.faces.synthetic import synthetic_tags
from moviola.vision.faces.tracking import (
    Face,
    FaceTracker,
    OneEuroFilter,
    TrackerSettings,
    landmark_box,
)

_landmark_box = landmark_box  # the name before the split into a package

__all__ = [
    "CONTOURS",
    "DETECTOR",
    "FACE_OVAL",
    "LANDMARKER",
    "LEFT_BROW",
    "LEFT_EYE",
    "LEFT_EYE_INNER",
    "LEFT_EYE_OUTER",
    "LIPS_INNER",
    "LIPS_OUTER",
    "LOWER_LIP",
    "MOUTH_LEFT",
    "MOUTH_RIGHT",
    "NOSE_TIP",
    "RIGHT_BROW",
    "RIGHT_EYE",
    "RIGHT_EYE_INNER",
    "RIGHT_EYE_OUTER",
    "STABLE_POINTS",
    "UPPER_LIP",
    "Detection",
    "Face",
    "FaceDetector",
    "FaceMesh",
    "FaceTracker",
    "OneEuroFilter",
    "Roi",
    "TrackerSettings",
    "blazeface_anchors",
    "box_area",
    "draw_faces",
    "face_of_photo",
    "iou",
    "landmark_box",
    "largest",
    "mesh_of_photo",
    "roi_from_detection",
    "roi_from_landmarks",
    "shape_descriptor",
    "shape_distance",
    "synthetic_tags",
    "umeyama",
    "weighted_nms",
]
