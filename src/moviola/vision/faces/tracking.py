"""Faces across frames: track ids, re-detection when needed, One Euro smoothing.

:class:`FaceTracker` runs the detector only when it has to (no faces, a face lost, or every
``detect_every`` frames while fewer than ``max_faces`` are tracked), follows each face with the
mesh on the ROI of its previous mesh, gives each face a track id kept across frames (IoU /
distance assignment; ids of faces lost for a short while are reused), starts afresh at a shot
cut, and smooths the landmarks with a One Euro filter scaled by face size. One frame at a time:
memory does not grow with the clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from moviola.vision.cuts import colour_histogram, histogram_change
from moviola.vision.faces.detection import FaceDetector, iou
from moviola.vision.faces.mesh import FaceMesh, Roi, roi_from_detection, roi_from_landmarks


class OneEuroFilter:
    """One Euro filter (Casiez et al. 2012) over arrays, with an optional value scale.

    ``value_scale`` divides values before the speed is measured (faces: their size), so the same
    settings work for small and large faces.
    """

    def __init__(self, min_cutoff: float = 0.05, beta: float = 80.0, d_cutoff: float = 1.0):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.x: np.ndarray | None = None
        self.dx: np.ndarray | None = None
        self.t: float | None = None

    @staticmethod
    def _alpha(cutoff: float | np.ndarray, dt: float) -> Any:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def reset(self) -> None:
        self.x = self.dx = self.t = None

    def __call__(self, x: np.ndarray, t: float, value_scale: float = 1.0) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if self.x is None or self.dx is None or self.t is None or t <= self.t:
            self.x, self.dx, self.t = x.copy(), np.zeros_like(x), t
            return x.copy()
        dt = t - self.t
        dx = (x - self.x) / dt / max(value_scale, 1e-9)
        a_d = self._alpha(self.d_cutoff, dt)
        dx_hat = a_d * dx + (1 - a_d) * self.dx
        cutoff = self.min_cutoff + self.beta * np.abs(dx_hat)
        a = self._alpha(cutoff, dt)
        x_hat = a * x + (1 - a) * self.x
        self.x, self.dx, self.t = x_hat, dx_hat, t
        return x_hat.copy()


@dataclass
class Face:
    """One tracked face in one frame (frame pixels)."""

    id: int
    box: np.ndarray  # x0, y0, x1, y1 of the (smoothed) landmarks
    landmarks: np.ndarray  # 468 x 3, smoothed
    raw_landmarks: np.ndarray  # 468 x 3, as the model gave them
    score: float  # face presence from the mesh model
    detected: bool = False  # this frame's ROI came from the detector

    def to_json(self, decimals: int = 2) -> dict:
        return {
            "id": self.id,
            "box": [round(float(v), decimals) for v in self.box],
            "score": round(self.score, 4),
            "landmarks": np.round(self.landmarks.astype(np.float64), decimals).tolist(),
        }


@dataclass
class _Track:
    id: int
    roi: Roi
    filter: OneEuroFilter
    last_box: np.ndarray
    lost_at: int = -1
    points: np.ndarray | None = field(default=None, repr=False)


# a face this frame: its track, mesh, presence, and whether its ROI came from the detector
_Found = tuple[_Track, np.ndarray, float, bool]


def landmark_box(points: np.ndarray) -> np.ndarray:
    """The box (x0, y0, x1, y1) of a mesh's points."""
    return np.array(
        [points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()],
        np.float32,
    )


@dataclass(frozen=True)
class TrackerSettings:
    """How :class:`FaceTracker` finds, follows and smooths faces.

    max_faces:     most faces tracked at once.
    detect_every:  frames between detector runs while fewer than ``max_faces`` are tracked.
    min_presence:  face presence (from the mesh model) under which a face is lost.
    det_threshold: detector score a new face needs.
    smooth:        One Euro smoothing of the landmarks (``min_cutoff``, ``beta``).
    keep_lost:     frames a lost face's id waits to be given back to a face found where it was.
    cut_threshold: colour-histogram change that means a new shot (0: never).
    """

    max_faces: int = 4
    detect_every: int = 30
    min_presence: float = 0.5
    det_threshold: float = 0.6
    smooth: bool = True
    min_cutoff: float = 0.05
    beta: float = 80.0
    keep_lost: int = 30
    cut_threshold: float = 0.1


class FaceTracker:
    """Faces across frames: call :meth:`update` with each frame (RGB) and its time in seconds.

    ``settings`` (a :class:`TrackerSettings`) or keyword arguments named like its fields
    (``FaceTracker(max_faces=2, detect_every=1000)``) set how.
    """

    def __init__(
        self,
        settings: TrackerSettings | None = None,
        *,
        threads: int | None = None,
        **changes: Any,
    ):
        s = replace(settings or TrackerSettings(), **changes)
        self.settings = s
        self.detector = FaceDetector(score_threshold=s.det_threshold, threads=threads)
        self.mesh = FaceMesh(threads=threads)
        self.max_faces = s.max_faces
        self.detect_every = max(1, s.detect_every)
        self.min_presence = s.min_presence
        self.smooth = s.smooth
        self.min_cutoff, self.beta = s.min_cutoff, s.beta
        self.keep_lost = s.keep_lost
        self.cut_threshold = s.cut_threshold
        self._hist: np.ndarray | None = None
        self.tracks: list[_Track] = []
        self.lost: list[_Track] = []
        self.next_id = 0
        self.frame_no = 0
        self.since_detect = 10**9
        self.detections_run = 0

    def _new_track(self, roi: Roi, box: np.ndarray) -> _Track:
        # an id of a face lost a short while ago, when the new face is where it was
        best, best_score = None, 0.0
        for t in self.lost:
            overlap = float(iou(t.last_box, box[None])[0])
            if overlap > best_score:
                best, best_score = t, overlap
        if best is not None and best_score > 0.2:
            self.lost.remove(best)
            best.roi = roi
            best.filter.reset()
            best.lost_at = -1
            return best
        track = _Track(self.next_id, roi, OneEuroFilter(self.min_cutoff, self.beta), box)
        self.next_id += 1
        return track

    def update(self, image: np.ndarray, t: float) -> list[Face]:
        """The faces of this frame (``t``: its time in seconds, for the smoothing)."""
        self.frame_no += 1
        self.since_detect += 1
        self.lost = [x for x in self.lost if self.frame_no - x.lost_at <= self.keep_lost]
        lost_now = False
        if self._cut(image):  # a new shot: previous meshes and positions say nothing here
            lost_now = bool(self.tracks)
            self.tracks, self.lost = [], []  # faces after a cut get new ids
        found, lost_now = self._follow(image, lost_now)
        # look for new faces when one was lost, none is tracked, or every detect_every frames
        if len(found) < self.max_faces and (
            lost_now or not found or self.since_detect >= self.detect_every
        ):
            self._detect(image, found)
        # smooth, and set each face's ROI for the next frame
        faces: list[Face] = []
        for track, points, score, detected in found:
            box = landmark_box(points)
            size = float(max(box[2] - box[0], box[3] - box[1]))
            smooth = track.filter(points, t, size) if self.smooth else points
            smooth = np.asarray(smooth, np.float32)
            track.roi = roi_from_landmarks(points)
            track.last_box = box
            track.points = points
            faces.append(Face(track.id, landmark_box(smooth), smooth, points, score, detected))
        self.tracks = [f[0] for f in found]
        return faces

    def _follow(self, image: np.ndarray, lost_now: bool) -> tuple[list[_Found], bool]:
        """The faces already tracked, followed with the mesh on the ROI of their previous mesh;
        and whether one was lost (now, or before this call)."""
        found: list[_Found] = []
        for track in self.tracks:
            points, score = self.mesh(image, track.roi)
            if score < self.min_presence or self._overlaps(points, found):
                track.lost_at = self.frame_no
                self.lost.append(track)
                lost_now = True
                continue
            found.append((track, points, score, False))
        return found, lost_now

    def _detect(self, image: np.ndarray, found: list[_Found]) -> None:
        """Run the detector and add the new faces the mesh confirms to ``found``."""
        self.since_detect = 0
        self.detections_run += 1
        for det in sorted(self.detector(image), key=lambda d: -d.score):
            if len(found) >= self.max_faces:
                break
            if any(float(iou(landmark_box(p), det.box[None])[0]) > 0.3 for _, p, _, _ in found):
                continue  # already tracked (its mesh is the better ROI)
            roi = roi_from_detection(det)
            points, score = self.mesh(image, roi)
            if score < self.min_presence or self._overlaps(points, found):
                continue  # a detection the mesh does not confirm
            found.append((self._new_track(roi, det.box), points, score, True))

    def _cut(self, image: np.ndarray) -> bool:
        """Whether this frame starts a new shot: its colour histogram (8x8x8 bins, of a 64 px
        thumbnail) moved by more than ``cut_threshold`` (half the L1 distance, 0..1) since the
        previous frame. Pans and motion change it little (Megamind: <= 0.03 within shots,
        0.14-0.46 at its cuts); then the previous meshes are no guide and faces are found anew."""
        h, w = image.shape[:2]
        small = cv2.resize(
            image[..., :3], (64, max(1, round(64 * h / w))), interpolation=cv2.INTER_AREA
        )
        hist = colour_histogram(small, np.float64)
        prev, self._hist = self._hist, hist
        if prev is None or self.cut_threshold <= 0:
            return False
        return histogram_change(hist, prev) > self.cut_threshold

    @staticmethod
    def _overlaps(points: np.ndarray, found: list[_Found]) -> bool:
        """Two tracks on one face: the first (older) keeps it."""
        box = landmark_box(points)
        return any(float(iou(landmark_box(p), box[None])[0]) > 0.5 for _, p, _, _ in found)
