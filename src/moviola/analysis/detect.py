"""Detectors used to describe shots: people and objects (YOLOv3-tiny, COCO), faces (BlazeFace).

Both come from the model store: ``yolov3-tiny-coco`` (Darknet weights converted to ONNX at fetch,
run with ONNX Runtime) and ``mediapipe-face-detection-short`` (MediaPipe's BlazeFace short-range
TFLite model, run with LiteRT, the ``ai-edge-litert`` package). Boxes are returned in pixels of
the frame given, as ``Detection(label, score, x0, y0, x1, y1)``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError

YOLO_ID = "yolov3-tiny-coco"
# Darknet's coco.names uses a few VOC-style names; tags use COCO's own.
_COCO_NAMES = {
    "motorbike": "motorcycle",
    "aeroplane": "airplane",
    "sofa": "couch",
    "pottedplant": "potted plant",
    "diningtable": "dining table",
    "tvmonitor": "tv",
}


@dataclass
class Detection:
    label: str
    score: float
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression; ``boxes`` N x 4 (x0, y0, x1, y1). Kept indices. A box
    overlapping a kept one by more than ``iou``, or lying 80 % inside it, is dropped."""
    order = np.argsort(-scores)
    keep: list[int] = []
    areas = (boxes[:, 2] - boxes[:, 0]).clip(0) * (boxes[:, 3] - boxes[:, 1]).clip(0)
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        xx0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = (xx1 - xx0).clip(0) * (yy1 - yy0).clip(0)
        union = areas[i] + areas[rest] - inter
        # also drop a box lying mostly inside a better one (a person's torso inside the person)
        inside = inter / np.maximum(areas[rest], 1e-9)
        order = rest[(inter / np.maximum(union, 1e-9) <= iou) & (inside < 0.8)]
    return keep


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


class ObjectDetector:
    """YOLOv3-tiny on COCO through ONNX Runtime. ``width``: network input width (multiple of
    32; the height follows the frame's aspect ratio)."""

    def __init__(self, model_dir: str | Path | None = None, width: int = 416) -> None:
        from moviola.models.darknet import yolo_heads

        if model_dir is None:
            from moviola import models

            model_dir = Path(models.ensure(YOLO_ID)).parent
        model_dir = Path(model_dir)
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise MoviolaError(
                "describing shots needs onnxruntime: pip install 'moviola[models]'"
            ) from e
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 2
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(model_dir / "yolov3-tiny.onnx"), opts, providers=["CPUExecutionProvider"]
        )
        self.names = [
            _COCO_NAMES.get(n.strip(), n.strip())
            for n in (model_dir / "coco.names").read_text().split("\n")
        ]
        self.heads = yolo_heads((model_dir / "yolov3-tiny.cfg").read_text())
        self.width = width
        self._lock = threading.Lock()

    def __call__(
        self, image: np.ndarray, threshold: float = 0.3, iou: float = 0.45
    ) -> list[Detection]:
        h, w = image.shape[:2]
        net_w = self.width
        net_h = max(32, int(round(net_w * h / w / 32)) * 32)
        scale = min(net_w / w, net_h / h)
        rw, rh = max(1, round(w * scale)), max(1, round(h * scale))
        canvas = np.full((net_h, net_w, 3), 127, np.uint8)
        ox, oy = (net_w - rw) // 2, (net_h - rh) // 2
        canvas[oy : oy + rh, ox : ox + rw] = cv2.resize(
            image[..., :3], (rw, rh), interpolation=cv2.INTER_AREA
        )
        blob = (canvas.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        with self._lock:
            outs = [np.asarray(o) for o in self.session.run(None, {"image": blob})]
        boxes, scores, classes = [], [], []
        for out, head in zip(outs, self.heads, strict=True):
            n_anchors = len(head["anchors"])
            _, _, gh, gw = out.shape
            o = out[0].reshape(n_anchors, 5 + head["classes"], gh, gw)
            gy, gx = np.mgrid[0:gh, 0:gw]
            for a, (aw, ah) in enumerate(head["anchors"]):
                p = o[a]
                obj = _sigmoid(p[4])
                cls = _sigmoid(p[5:])
                best = cls.argmax(0)
                conf = obj * np.take_along_axis(cls, best[None], 0)[0]
                sel = conf > threshold
                if not sel.any():
                    continue
                cx = (_sigmoid(p[0][sel]) + gx[sel]) / gw * net_w
                cy = (_sigmoid(p[1][sel]) + gy[sel]) / gh * net_h
                bw = np.exp(np.clip(p[2][sel], -10, 10)) * aw
                bh = np.exp(np.clip(p[3][sel], -10, 10)) * ah
                boxes.append(np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1))
                scores.append(conf[sel])
                classes.append(best[sel])
        if not boxes:
            return []
        b = np.concatenate(boxes)
        s = np.concatenate(scores)
        c = np.concatenate(classes)
        b[:, [0, 2]] = ((b[:, [0, 2]] - ox) / scale).clip(0, w)
        b[:, [1, 3]] = ((b[:, [1, 3]] - oy) / scale).clip(0, h)
        found = []
        for cls_id in np.unique(c):
            idx = np.flatnonzero(c == cls_id)
            for k in nms(b[idx], s[idx], iou):
                i = idx[k]
                found.append(Detection(self.names[int(cls_id)], float(s[i]), *map(float, b[i])))
        found.sort(key=lambda d: -d.score)
        return found


class FaceDetector:
    """Faces for shot descriptions: MediaPipe BlazeFace short range (moviola.vision.faces, run
    under LiteRT), on the whole frame and, with ``tiles``, on 2 x 2 overlapping tiles of 60%
    of the frame, so that the smaller faces of medium and wide shots are found too."""

    def __init__(self) -> None:
        from moviola.vision.faces import FaceDetector as BlazeFace

        try:
            self._blaze = BlazeFace(score_threshold=0.5)
        except ImportError as e:
            raise MoviolaError(
                "face detection needs LiteRT: pip install 'moviola[analysis]' (ai-edge-litert)"
            ) from e
        self._lock = threading.Lock()

    def __call__(
        self, image: np.ndarray, threshold: float = 0.7, tiles: bool = True
    ) -> list[Detection]:
        h, w = image.shape[:2]
        regions = [(0, 0, w, h)]
        if tiles:
            tw, th = int(w * 0.6), int(h * 0.6)
            regions += [(tx, ty, tw, th) for ty in (0, h - th) for tx in (0, w - tw)]
        boxes, scores = [], []
        with self._lock:
            for x, y, rw, rh in regions:
                for face in self._blaze(image[y : y + rh, x : x + rw]):
                    if face.score >= threshold:
                        boxes.append(np.asarray(face.box, np.float64) + [x, y, x, y])
                        scores.append(float(face.score))
        if not scores:
            return []
        b, sc = np.asarray(boxes), np.asarray(scores)
        b[:, [0, 2]] = b[:, [0, 2]].clip(0, w)
        b[:, [1, 3]] = b[:, [1, 3]].clip(0, h)
        return [Detection("face", float(sc[i]), *map(float, b[i])) for i in nms(b, sc, 0.3)]


_SHARED: dict[str, object] = {}
_SHARED_LOCK = threading.Lock()


def shared(kind: str) -> ObjectDetector | FaceDetector:
    """One detector of each kind per process (``"objects"`` or ``"faces"``)."""
    with _SHARED_LOCK:
        if kind not in _SHARED:
            _SHARED[kind] = ObjectDetector() if kind == "objects" else FaceDetector()
        return _SHARED[kind]  # type: ignore[return-value]
