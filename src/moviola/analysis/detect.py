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
FACE_ID = "mediapipe-face-detection-short"


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
            outs = self.session.run(None, {"image": blob})
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


def _blazeface_anchors() -> np.ndarray:
    """Anchor centres of BlazeFace short-range (SSD anchors, strides 8, 16, 16, 16, fixed
    size): 16x16x2 + 8x8x6 = 896, in 0..1 coordinates."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):
        n = 128 // stride
        for y in range(n):
            for x in range(n):
                for _ in range(per_cell):
                    centres.append(((x + 0.5) / n, (y + 0.5) / n))
    return np.asarray(centres, np.float32)


class FaceDetector:
    """MediaPipe BlazeFace (short range: faces that fill a fair part of the picture, as in
    close-ups and medium shots) through LiteRT. The frame is letterboxed into 128 x 128; with
    ``tiles`` the frame is also searched in 2 x 2 overlapping tiles to find smaller faces."""

    def __init__(self, model_path: str | Path | None = None) -> None:
        if model_path is None:
            from moviola import models

            model_path = models.ensure(FACE_ID)
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as e:
            raise MoviolaError(
                "face detection needs LiteRT: pip install 'moviola[analysis]' (ai-edge-litert)"
            ) from e
        self.interp = Interpreter(model_path=str(model_path), num_threads=2)
        self.interp.allocate_tensors()
        self.input = self.interp.get_input_details()[0]["index"]
        outs = {o["name"]: o["index"] for o in self.interp.get_output_details()}
        self.reg, self.cls = outs["regressors"], outs["classificators"]
        self.anchors = _blazeface_anchors()
        self._lock = threading.Lock()

    def _detect(self, image: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        h, w = image.shape[:2]
        side = max(h, w)
        scale = 128 / side
        rw, rh = max(1, round(w * scale)), max(1, round(h * scale))
        canvas = np.zeros((128, 128, 3), np.float32)
        ox, oy = (128 - rw) // 2, (128 - rh) // 2
        small = cv2.resize(image[..., :3], (rw, rh), interpolation=cv2.INTER_AREA)
        canvas[oy : oy + rh, ox : ox + rw] = small.astype(np.float32) / 127.5 - 1.0
        with self._lock:
            self.interp.set_tensor(self.input, canvas[None])
            self.interp.invoke()
            reg = self.interp.get_tensor(self.reg)[0]
            score = _sigmoid(self.interp.get_tensor(self.cls)[0, :, 0])
        sel = score > threshold
        r = reg[sel]
        a = self.anchors[sel]
        cx = r[:, 0] / 128 + a[:, 0]
        cy = r[:, 1] / 128 + a[:, 1]
        bw, bh = r[:, 2] / 128, r[:, 3] / 128
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1) * 128
        boxes[:, [0, 2]] = (boxes[:, [0, 2]] - ox) / scale
        boxes[:, [1, 3]] = (boxes[:, [1, 3]] - oy) / scale
        return boxes, score[sel]

    def __call__(
        self, image: np.ndarray, threshold: float = 0.7, tiles: bool = True
    ) -> list[Detection]:
        h, w = image.shape[:2]
        boxes, scores = self._detect(image, threshold)
        all_boxes, all_scores = [boxes], [scores]
        if tiles:
            tw, th = int(w * 0.6), int(h * 0.6)
            for ty in (0, h - th):
                for tx in (0, w - tw):
                    b, s = self._detect(image[ty : ty + th, tx : tx + tw], threshold)
                    b[:, [0, 2]] += tx
                    b[:, [1, 3]] += ty
                    all_boxes.append(b)
                    all_scores.append(s)
        b = np.concatenate(all_boxes)
        s = np.concatenate(all_scores)
        if not len(s):
            return []
        b[:, [0, 2]] = b[:, [0, 2]].clip(0, w)
        b[:, [1, 3]] = b[:, [1, 3]].clip(0, h)
        return [Detection("face", float(s[i]), *map(float, b[i])) for i in nms(b, s, 0.3)]


_SHARED: dict[str, object] = {}
_SHARED_LOCK = threading.Lock()


def shared(kind: str) -> ObjectDetector | FaceDetector:
    """One detector of each kind per process (``"objects"`` or ``"faces"``)."""
    with _SHARED_LOCK:
        if kind not in _SHARED:
            _SHARED[kind] = ObjectDetector() if kind == "objects" else FaceDetector()
        return _SHARED[kind]  # type: ignore[return-value]
