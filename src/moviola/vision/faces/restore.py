"""Face restoration with a GFPGAN-style network (the store's ``gfpgan-1.4``): each face is
aligned to the FFHQ 512 x 512 layout by five landmarks (eye centres, nose tip, mouth corners,
taken from the 468-point mesh), restored, and pasted back through a feathered mask, so the rest
of the frame is untouched.

The five-point template is the standard FFHQ alignment at 512 px (the positions the restoration
networks were trained with). The network takes RGB in -1..1 (N x 3 x 512 x 512) and gives the
same back; ``strength`` mixes the restored face with the original (1: the network's alone).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.vision.faces.landmarks import (
    LEFT_EYE,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    NOSE_TIP,
    RIGHT_EYE,
)

#: the store's id for GFPGAN v1.4
GFPGAN_MODEL = "gfpgan-1.4"
SIZE = 512
# FFHQ alignment at 512 px: right eye, left eye (as seen in the picture: subject's right first),
# nose tip, right and left mouth corners
FFHQ_512 = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.1936],
        [256.63416, 314.01935],
        [201.26117, 371.41043],
        [313.08905, 371.15118],
    ],
    np.float32,
)


def five_points(mesh: np.ndarray) -> np.ndarray:
    """Eye centres, nose tip and mouth corners (5 x 2) from a 468-point face mesh."""
    eye_r = mesh[RIGHT_EYE[:-1], :2].mean(axis=0)
    eye_l = mesh[LEFT_EYE[:-1], :2].mean(axis=0)
    return np.array(
        [eye_r, eye_l, mesh[NOSE_TIP, :2], mesh[MOUTH_RIGHT, :2], mesh[MOUTH_LEFT, :2]],
        np.float32,
    )


def _feather_mask(size: int) -> np.ndarray:
    """1 inside the aligned face square, falling to 0 over its outer eighth (no seams)."""
    mask = np.zeros((size, size), np.float32)
    edge = size // 16
    mask[edge:-edge, edge:-edge] = 1.0
    return cv2.GaussianBlur(mask, (0, 0), size / 24)


class FaceRestorer:
    """A face restoration network (ONNX, 512 x 512, -1..1): ``restorer(image, meshes)``."""

    def __init__(self, path: str | Path, strength: float = 1.0) -> None:
        from moviola.models.runtime import open_session

        self.path = Path(path)
        self.session = open_session(self.path)
        inputs = self.session.inputs
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or inputs[0].shape[1] not in (3, "3"):
            raise MoviolaError(
                f"{self.path.name}: a face restoration model takes one N x 3 x 512 x 512 image; "
                f"it takes {', '.join(self.session.input_names)}"
            )
        self.input_name = inputs[0].name
        self.output_name = self.session.output_names[0]
        self.strength = float(strength)
        self._mask = _feather_mask(SIZE)

    def restore_crop(self, crop: np.ndarray) -> np.ndarray:
        """One aligned 512 x 512 RGB face (float 0..1) through the network."""
        x = (crop.transpose(2, 0, 1)[None] * 2 - 1).astype(np.float32)
        out = np.asarray(self.session.run({self.input_name: x})[self.output_name], np.float32)
        return np.clip((out[0].transpose(1, 2, 0) + 1) / 2, 0, 1)

    def __call__(self, image: np.ndarray, meshes: list[np.ndarray]) -> np.ndarray:
        """``image``: H x W x 3 RGB float32 0..1; ``meshes``: each face's 468 x (2|3) points in
        frame pixels. Returns the picture with each face restored."""
        out = image.copy()
        h, w = image.shape[:2]
        for mesh in meshes:
            m, _ = cv2.estimateAffinePartial2D(five_points(mesh), FFHQ_512, method=cv2.LMEDS)
            if m is None:
                continue
            crop = cv2.warpAffine(
                out, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
            restored = self.restore_crop(crop)
            inv = cv2.invertAffineTransform(m)
            back = cv2.warpAffine(restored, inv, (w, h), flags=cv2.INTER_LINEAR)
            alpha = cv2.warpAffine(self._mask, inv, (w, h), flags=cv2.INTER_LINEAR)
            alpha = (alpha * self.strength)[..., None]
            out = out * (1 - alpha) + back * alpha
        return out.astype(np.float32)


class TrackedRestorer:
    """Faces tracked through a clip (smoothed landmarks) and restored: what restore-faces and
    ``upscale --faces`` share. ``scale`` maps the tracked frame's pixels onto the picture that
    is restored (an upscaled frame)."""

    def __init__(self, path: str | Path, strength: float = 1.0, max_faces: int = 4) -> None:
        from moviola.vision.faces.tracking import FaceTracker

        self.restorer = FaceRestorer(path, strength)
        self.tracker = FaceTracker(max_faces=max_faces)
        self.faces_restored = 0

    def __call__(
        self, frame_rgb: np.ndarray, time: float, target: np.ndarray, scale: float = 1.0
    ) -> np.ndarray:
        """``frame_rgb``: the frame, H x W x 3 uint8; ``target``: float RGB 0..1 to restore
        the faces in (the frame itself, or it enlarged by ``scale``)."""
        faces = self.tracker.update(np.ascontiguousarray(frame_rgb), time)
        if not faces:
            return target
        self.faces_restored += len(faces)
        meshes = [f.landmarks[:, :2] * np.float32(scale) for f in faces]
        return self.restorer(target, meshes)
