"""Faces: BlazeFace detection, a 468-point face mesh, tracking with identities, One Euro smoothing.

Models (MediaPipe, Apache-2.0, run under LiteRT through :mod:`moviola.models.runtime.tflite`):

- ``mediapipe-face-detection-short``: BlazeFace short range, 128x128 RGB in [-1, 1], 896 anchors,
  each with a box and 6 keypoints (right eye, left eye, nose tip, mouth, right ear, left ear; "right"
  is the subject's right, on the image's left).
- ``mediapipe-face-landmark``: 468 (x, y, z) points from a 192x192 RGB crop in [0, 1], plus a face
  presence logit.

The crop (ROI) is a rotated square: from a detection it is centred on the box, turned so the eyes
lie level, 1.5x the box; from a previous frame's mesh it is the mesh's box in the face's own frame
(eyes 33 -> 263 level), 1.5x. :class:`FaceTracker` runs the detector only when it has to (no faces,
a face lost, or every ``detect_every`` frames while fewer than ``max_faces`` are tracked), gives
each face a track id kept across frames (IoU / distance assignment, ids of faces lost for a short
while are reused), and smooths the landmarks with a One Euro filter scaled by face size.

Everything works on one frame at a time: memory does not grow with the clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

DETECTOR = "mediapipe-face-detection-short"
LANDMARKER = "mediapipe-face-landmark"

# mesh indices used elsewhere (subject's right = image left on a frontal face)
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
RIGHT_EYE_INNER, LEFT_EYE_INNER = 133, 362
UPPER_LIP, LOWER_LIP = 13, 14
NOSE_TIP = 1
MOUTH_RIGHT, MOUTH_LEFT = 61, 291


# --------------------------------------------------------------------------------------------
# BlazeFace detection
# --------------------------------------------------------------------------------------------


def blazeface_anchors() -> np.ndarray:
    """Anchor centres (896 x 2, normalized) of BlazeFace short range.

    SSD anchors with 4 layers, strides 8, 16, 16, 16, two anchors per layer and cell (aspect 1
    and the interpolated one), fixed size: 16x16x2 at stride 8 then 8x8x6 at stride 16.
    """
    out = []
    for grid, per_cell in ((16, 2), (8, 6)):
        ys, xs = np.mgrid[0:grid, 0:grid]
        centres = np.stack([(xs + 0.5) / grid, (ys + 0.5) / grid], axis=-1).reshape(-1, 2)
        out.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


@dataclass
class Detection:
    """A face found by the detector, in pixels of the frame."""

    box: np.ndarray  # x0, y0, x1, y1
    keypoints: np.ndarray  # 6 x 2
    score: float


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of one box against N boxes (x0, y0, x1, y1)."""
    x0 = np.maximum(a[0], b[:, 0])
    y0 = np.maximum(a[1], b[:, 1])
    x1 = np.minimum(a[2], b[:, 2])
    y1 = np.minimum(a[3], b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a + area_b - inter, 1e-9)


def weighted_nms(
    boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, threshold: float = 0.3
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """MediaPipe-style weighted NMS: overlapping candidates are averaged, weighted by score."""
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    alive = np.ones(len(scores), bool)
    out = []
    for i in range(len(scores)):
        if not alive[i]:
            continue
        overlap = _iou(boxes[i], boxes) > threshold
        group = overlap & alive
        alive &= ~group
        w = scores[group][:, None]
        box = (boxes[group] * w).sum(0) / w.sum()
        kps = (keypoints[group].reshape(-1, 12) * w).sum(0).reshape(6, 2) / w.sum()
        out.append((box, kps, float(scores[i])))
    return out


class FaceDetector:
    """BlazeFace short range on a whole frame (letterboxed to 128x128)."""

    size = 128

    def __init__(self, *, score_threshold: float = 0.6, threads: int | None = None):
        from moviola.models.runtime import open_session

        self.session = open_session(DETECTOR, threads=threads)
        self.input_name = self.session.input_names[0]
        self.anchors = blazeface_anchors()
        self.score_threshold = score_threshold

    def __call__(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image`` (RGB). A wide (or tall) frame is cut into overlapping squares of
        its short side, so faces keep the detector's resolution; results are merged."""
        h, w = image.shape[:2]
        short, long = min(h, w), max(h, w)
        if long <= 1.2 * short:
            regions = [(0, 0, w, h)]
        else:
            n = math.ceil(long / short) + (1 if long / short > 1.5 else 0)
            starts = np.linspace(0, long - short, n).round().astype(int)
            regions = [(s, 0, short, h) if w > h else (0, s, w, short) for s in starts]
        parts = [self._candidates(image, *r) for r in regions]
        boxes = np.concatenate([p[0] for p in parts])
        if not len(boxes):
            return []
        kps = np.concatenate([p[1] for p in parts])
        scores = np.concatenate([p[2] for p in parts])
        return [
            Detection(box.astype(np.float32), kp.astype(np.float32), score)
            for box, kp, score in weighted_nms(boxes, kps, scores)
        ]

    def _candidates(self, image, x, y, w, h):
        """Boxes, keypoints (frame pixels) and scores above threshold in one region."""
        scale = self.size / max(h, w)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        region = image[y : y + h, x : x + w, :3]
        resized = cv2.resize(region, (nw, nh), interpolation=cv2.INTER_AREA)
        canvas = np.zeros((self.size, self.size, 3), np.float32)
        px, py = (self.size - nw) // 2, (self.size - nh) // 2
        canvas[py : py + nh, px : px + nw] = resized.astype(np.float32) / 127.5 - 1.0
        out = self.session.run({self.input_name: canvas[None]})
        raw = _by_width(out, 16)[0]
        logits = _by_width(out, 1)[0, :, 0].astype(np.float64)
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -80, 80)))
        keep = scores >= self.score_threshold
        raw, scores, anchors = raw[keep], scores[keep], self.anchors[keep]
        centre = raw[:, 0:2] / self.size + anchors
        half = raw[:, 2:4] / self.size / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        kps = raw[:, 4:16].reshape(-1, 6, 2) / self.size + anchors[:, None, :]
        # letterboxed 0..1 -> frame pixels
        boxes = (boxes * self.size - [px, py, px, py]) / scale + [x, y, x, y]
        kps = (kps * self.size - [px, py]) / scale + [x, y]
        return boxes, kps, scores


def _by_width(outputs: dict[str, np.ndarray], width: int) -> np.ndarray:
    for value in outputs.values():
        if value.shape[-1] == width:
            return value.reshape(1, -1, width)
    raise ValueError(f"no output of width {width}")


# --------------------------------------------------------------------------------------------
# ROI and face mesh
# --------------------------------------------------------------------------------------------


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
        pts = _by_width(out, 1404).reshape(468, 3).astype(np.float64)
        flag = float(_by_width(out, 1).reshape(-1)[0])
        score = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, flag))))
        xy = pts[:, :2] @ m[:, :2].T + m[:, 2]
        z = pts[:, 2:3] * (roi.size / self.size)
        return np.concatenate([xy, z], axis=1).astype(np.float32), score


# --------------------------------------------------------------------------------------------
# One Euro filter
# --------------------------------------------------------------------------------------------


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
    def _alpha(cutoff, dt: float):
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def reset(self) -> None:
        self.x = self.dx = self.t = None

    def __call__(self, x: np.ndarray, t: float, value_scale: float = 1.0) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if self.x is None or self.t is None or t <= self.t:
            self.x, self.dx, self.t = x.copy(), np.zeros_like(x), t
            return x.copy()
        dt = t - self.t
        dx = (x - self.x) / dt / max(value_scale, 1e-9)
        a_d = self._alpha(self.d_cutoff, dt)
        self.dx = a_d * dx + (1 - a_d) * self.dx
        cutoff = self.min_cutoff + self.beta * np.abs(self.dx)
        a = self._alpha(cutoff, dt)
        self.x = a * x + (1 - a) * self.x
        self.t = t
        return self.x.copy()


# --------------------------------------------------------------------------------------------
# Tracking
# --------------------------------------------------------------------------------------------


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


def _landmark_box(points: np.ndarray) -> np.ndarray:
    return np.array(
        [points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()],
        np.float32,
    )


class FaceTracker:
    """Faces across frames: call :meth:`update` with each frame (RGB) and its time in seconds."""

    def __init__(
        self,
        *,
        max_faces: int = 4,
        detect_every: int = 30,
        min_presence: float = 0.5,
        det_threshold: float = 0.6,
        smooth: bool = True,
        min_cutoff: float = 0.05,
        beta: float = 80.0,
        keep_lost: int = 30,
        cut_threshold: float = 0.1,
        threads: int | None = None,
    ):
        self.detector = FaceDetector(score_threshold=det_threshold, threads=threads)
        self.mesh = FaceMesh(threads=threads)
        self.max_faces = max_faces
        self.detect_every = max(1, detect_every)
        self.min_presence = min_presence
        self.smooth = smooth
        self.min_cutoff, self.beta = min_cutoff, beta
        self.keep_lost = keep_lost
        self.cut_threshold = cut_threshold  # histogram change that means a new shot (0: never)
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
            iou = float(_iou(t.last_box, box[None])[0])
            if iou > best_score:
                best, best_score = t, iou
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
        found: list[tuple[_Track, np.ndarray, float, bool]] = []
        lost_now = False
        if self._cut(image):  # a new shot: previous meshes and positions say nothing here
            lost_now = bool(self.tracks)
            self.tracks, self.lost = [], []  # faces after a cut get new ids
        # 1. follow the faces already tracked: the mesh on the ROI from the previous mesh
        for track in self.tracks:
            points, score = self.mesh(image, track.roi)
            if score < self.min_presence or self._overlaps(points, found):
                track.lost_at = self.frame_no
                self.lost.append(track)
                lost_now = True
                continue
            found.append((track, points, score, False))
        # 2. look for new faces when one was lost, none is tracked, or every detect_every frames
        if len(found) < self.max_faces and (
            lost_now or not found or self.since_detect >= self.detect_every
        ):
            self.since_detect = 0
            self.detections_run += 1
            for det in sorted(self.detector(image), key=lambda d: -d.score):
                if len(found) >= self.max_faces:
                    break
                if any(
                    float(_iou(_landmark_box(p), det.box[None])[0]) > 0.3 for _, p, _, _ in found
                ):
                    continue  # already tracked (its mesh is the better ROI)
                roi = roi_from_detection(det)
                points, score = self.mesh(image, roi)
                if score < self.min_presence or self._overlaps(points, found):
                    continue  # a detection the mesh does not confirm
                found.append((self._new_track(roi, det.box), points, score, True))
        # 3. smooth, and set each face's ROI for the next frame
        faces: list[Face] = []
        for track, points, score, detected in found:
            box = _landmark_box(points)
            size = float(max(box[2] - box[0], box[3] - box[1]))
            smooth = track.filter(points, t, size) if self.smooth else points
            smooth = np.asarray(smooth, np.float32)
            track.roi = roi_from_landmarks(points)
            track.last_box = box
            track.points = points
            faces.append(Face(track.id, _landmark_box(smooth), smooth, points, score, detected))
        self.tracks = [f[0] for f in found]
        return faces

    def _cut(self, image: np.ndarray) -> bool:
        """Whether this frame starts a new shot: its colour histogram (8x8x8 bins, of a 64 px
        thumbnail) moved by more than ``cut_threshold`` (half the L1 distance, 0..1) since the
        previous frame. Pans and motion change it little (Megamind: <= 0.03 within shots,
        0.14-0.46 at its cuts); then the previous meshes are no guide and faces are found anew."""
        h, w = image.shape[:2]
        small = cv2.resize(
            image[..., :3], (64, max(1, round(64 * h / w))), interpolation=cv2.INTER_AREA
        )
        q = (small // 32).astype(np.int32)
        hist = np.bincount((q[..., 0] * 64 + q[..., 1] * 8 + q[..., 2]).ravel(), minlength=512)
        hist = hist / max(1, q.shape[0] * q.shape[1])
        prev, self._hist = self._hist, hist
        if prev is None or self.cut_threshold <= 0:
            return False
        return float(np.abs(hist - prev).sum()) / 2 > self.cut_threshold

    @staticmethod
    def _overlaps(points: np.ndarray, found) -> bool:
        """Two tracks on one face: the first (older) keeps it."""
        box = _landmark_box(points)
        return any(float(_iou(_landmark_box(p), box[None])[0]) > 0.5 for _, p, _, _ in found)


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------

# outlines of the face, eyes, brows and lips on the 468-point mesh (indices in drawing order)
FACE_OVAL = [
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
    10,
]
LIPS_OUTER = [
    61,
    185,
    40,
    39,
    37,
    0,
    267,
    269,
    270,
    409,
    291,
    375,
    321,
    405,
    314,
    17,
    84,
    181,
    91,
    146,
    61,
]
LIPS_INNER = [
    78,
    191,
    80,
    81,
    82,
    13,
    312,
    311,
    310,
    415,
    308,
    324,
    318,
    402,
    317,
    14,
    87,
    178,
    88,
    95,
    78,
]
RIGHT_EYE = [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7, 33]
LEFT_EYE = [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249, 263]
RIGHT_BROW = [70, 63, 105, 66, 107, 55, 65, 52, 53, 46, 70]
LEFT_BROW = [300, 293, 334, 296, 336, 285, 295, 282, 283, 276, 300]
CONTOURS = (FACE_OVAL, LIPS_OUTER, LIPS_INNER, RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW)

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


# --------------------------------------------------------------------------------------------
# Geometry helpers: a photo's mesh, similarity fits, a shape descriptor
# --------------------------------------------------------------------------------------------

# mesh points that move little with expression (eye corners, nose, brows' inner ends, temples,
# forehead, upper cheeks): for head pose and for comparing face shapes
STABLE_POINTS = [
    33, 133, 362, 263,  # eye corners
    1, 4, 5, 6, 168, 197, 195, 98, 327,  # nose bridge, tip, nostrils
    55, 107, 336, 285,  # inner brows
    10, 151, 9, 109, 338,  # forehead
    127, 356, 234, 454, 162, 389,  # temples
    116, 345, 50, 280, 205, 425,  # cheeks
]  # fmt: skip


def mesh_of_photo(image: np.ndarray, *, min_presence: float = 0.5) -> np.ndarray | None:
    """The 468 x 3 mesh of the largest face of a still image (RGB), or None when there is none.

    The mesh is refined once on the ROI of its own landmarks, as tracking would do."""
    dets = FaceDetector()(image)
    if not dets:
        return None
    det = max(dets, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
    mesh = FaceMesh()
    points, score = mesh(image, roi_from_detection(det))
    if score < min_presence:
        return None
    again, score2 = mesh(image, roi_from_landmarks(points))
    return again if score2 >= min_presence else points


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity (Umeyama 1991) taking ``src`` onto ``dst`` (N x d points):
    scale s, rotation R (d x d, no reflection) and translation t with dst ~ s R src + t."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    var = (a**2).sum() / len(src)
    cov = b.T @ a / len(src)
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(len(sig))
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rot = u @ np.diag(d) @ vt
    scale = float((sig * d).sum() / max(var, 1e-12))
    return scale, rot, mu_d - scale * rot @ mu_s


def shape_descriptor(points: np.ndarray) -> np.ndarray:
    """A pose-free description of a face's shape: the pairwise 3-D distances of the stable mesh
    points (invariant to rotation and position), divided by their mean (invariant to size)."""
    p = np.asarray(points, np.float64)[STABLE_POINTS, :3]
    d = np.linalg.norm(p[:, None] - p[None], axis=-1)[np.triu_indices(len(p), 1)]
    return d / max(d.mean(), 1e-9)


def shape_distance(a: np.ndarray, b: np.ndarray) -> float:
    """How unlike two shape descriptors are (mean relative difference; 0: the same shape)."""
    return float(np.mean(np.abs(a - b) / (0.5 * (a + b) + 1e-9)))
