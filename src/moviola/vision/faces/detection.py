"""BlazeFace short range: faces (a box and six keypoints each) on a whole frame.

The model (``mediapipe-face-detection-short``, MediaPipe, Apache-2.0, run under LiteRT) takes a
128x128 RGB image in [-1, 1] and scores 896 anchors, each with a box and 6 keypoints (right eye,
left eye, nose tip, mouth, right ear, left ear; "right" is the subject's right, on the image's
left). Overlapping candidates are merged by MediaPipe's weighted non-maximum suppression.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import cv2
import numpy as np

DETECTOR = "mediapipe-face-detection-short"


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


def box_area(box: np.ndarray) -> float:
    """Area of a box (x0, y0, x1, y1)."""
    return float((box[2] - box[0]) * (box[3] - box[1]))


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
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
        overlap = iou(boxes[i], boxes) > threshold
        group = overlap & alive
        alive &= ~group
        w = scores[group][:, None]
        box = (boxes[group] * w).sum(0) / w.sum()
        kps = (keypoints[group].reshape(-1, 12) * w).sum(0).reshape(6, 2) / w.sum()
        out.append((box, kps, float(scores[i])))
    return out


def output_of_width(outputs: dict[str, np.ndarray], width: int) -> np.ndarray:
    """The model output whose last axis is ``width`` long, as 1 x N x width."""
    for value in outputs.values():
        if value.shape[-1] == width:
            return value.reshape(1, -1, width)
    raise ValueError(f"no output of width {width}")


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

    def _candidates(
        self, image: np.ndarray, x: int, y: int, w: int, h: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes, keypoints (frame pixels) and scores above threshold in one region."""
        scale = self.size / max(h, w)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        region = image[y : y + h, x : x + w, :3]
        resized = cv2.resize(region, (nw, nh), interpolation=cv2.INTER_AREA)
        canvas = np.zeros((self.size, self.size, 3), np.float32)
        px, py = (self.size - nw) // 2, (self.size - nh) // 2
        canvas[py : py + nh, px : px + nw] = resized.astype(np.float32) / 127.5 - 1.0
        out = self.session.run({self.input_name: canvas[None]})
        raw = output_of_width(out, 16)[0]
        logits = output_of_width(out, 1)[0, :, 0].astype(np.float64)
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


class _Boxed(Protocol):
    box: np.ndarray


_B = TypeVar("_B", bound=_Boxed)


def largest(items: Iterable[_B]) -> _B | None:
    """The item (a detection, a tracked face) with the largest box; None when there is none."""
    return max(items, key=lambda item: box_area(item.box), default=None)
