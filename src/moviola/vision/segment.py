"""Point-prompted segmentation that follows its object through a clip: MobileSAM (the store's
``mobilesam``: a TinyViT image encoder and SAM's prompt encoder and mask decoder, ONNX).

A click on the subject in the first frame is the prompt. In the frames after it the prompt
follows the subject: the point moves with the median optical flow of the previous mask, and the
previous mask's low-resolution logits and its box (grown by a tenth) go to the decoder too, so a
subject that turns or is partly hidden keeps its outline. A cut (no overlap left) is not
re-found: the point stays where the flow took it.

Interfaces (Acly's export of MobileSAM, the one the store fetches): the encoder takes
``input_image``, H x W x 3 RGB in 0..255 already scaled so that its longer side is 1024 (it
normalises and pads itself), and gives ``image_embeddings`` 1 x 256 x 64 x 64. The decoder takes
``image_embeddings``, ``point_coords`` 1 x N x 2 (in the scaled picture's pixels),
``point_labels`` 1 x N (1 subject, 0 background, 2 and 3 a box's corners, -1 padding),
``mask_input`` 1 x 1 x 256 x 256 with ``has_mask_input`` (1), and ``orig_im_size`` (h, w), and
gives ``masks`` 1 x 1 x h x w (logits, > 0 is the subject) and ``low_res_masks`` 1 x 1 x 256 x 256.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.vision.flow import FlowEstimator

#: the store's id for MobileSAM (encoder + decoder)
SAM_MODEL = "mobilesam"
LONG_SIDE = 1024
_DECODER_INPUTS = {
    "image_embeddings",
    "point_coords",
    "point_labels",
    "mask_input",
    "has_mask_input",
    "orig_im_size",
}


def parse_point(text: str) -> tuple[float, float]:
    """ "x,y" in pixels (or fractions of the frame below 1.0: "0.5,0.4")."""
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise MoviolaError(f"a point is x,y (pixels, or 0..1 of the frame): {text!r}") from None
    if x < 0 or y < 0:
        raise MoviolaError(f"a point must lie in the frame: {text!r}")
    return x, y


class PointSegmenter:
    """Segment the subject under ``point`` and follow it: ``segmenter(rgb) -> alpha``."""

    def __init__(self, encoder: str | Path, decoder: str | Path, point: tuple[float, float]):
        from moviola.models.runtime import open_session

        self.encoder = open_session(Path(encoder))
        self.decoder = open_session(Path(decoder))
        if set(self.decoder.input_names) != _DECODER_INPUTS:
            raise MoviolaError(
                f"{Path(decoder).name}: a SAM mask decoder takes {', '.join(sorted(_DECODER_INPUTS))}"
            )
        self.point = point
        self._flow = FlowEstimator("fast")
        self._prev_gray: np.ndarray | None = None
        self._prev_mask: np.ndarray | None = None  # bool, frame size
        self._prev_low: np.ndarray | None = None  # 1 x 1 x 256 x 256 logits
        self._xy: np.ndarray | None = None  # the prompt point, frame pixels

    def _embed(self, rgb: np.ndarray) -> tuple[np.ndarray, float]:
        h, w = rgb.shape[:2]
        scale = LONG_SIDE / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        resized = cv2.resize(
            rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        )
        name = self.encoder.input_names[0]
        emb = self.encoder.run({name: resized.astype(np.float32)})
        return emb[self.encoder.output_names[0]], scale

    def _follow(self, gray: np.ndarray) -> None:
        """Move the prompt point with the subject's median flow since the previous frame."""
        if self._prev_gray is None or self._prev_mask is None or self._xy is None:
            return
        if not self._prev_mask.any():
            return
        flow = self._flow(self._prev_gray, gray)
        moved = np.median(flow[self._prev_mask], axis=0)
        h, w = gray.shape
        self._xy = np.clip(self._xy + moved, 0, (w - 1, h - 1)).astype(np.float32)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """``rgb``: H x W x 3 uint8. Returns the subject's alpha, H x W float32 in 0..1."""
        h, w = rgb.shape[:2]
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if self._xy is None:
            x, y = self.point
            if x <= 1 and y <= 1:  # fractions of the frame
                x, y = x * (w - 1), y * (h - 1)
            if x >= w or y >= h:
                raise MoviolaError(f"the point {self.point} lies outside the {w}x{h} frame")
            self._xy = np.array([x, y], np.float32)
        self._follow(gray)
        emb, scale = self._embed(rgb)
        coords: list[np.ndarray] = [np.asarray(self._xy * scale, np.float32)]
        labels = [1.0]
        mask_input = np.zeros((1, 1, 256, 256), np.float32)
        has_mask = np.zeros(1, np.float32)
        if self._prev_mask is not None and self._prev_mask.any() and self._prev_low is not None:
            ys, xs = np.nonzero(self._prev_mask)
            pad_x, pad_y = 0.1 * (xs.max() - xs.min() + 1), 0.1 * (ys.max() - ys.min() + 1)
            box = np.array(
                [
                    [max(0, xs.min() - pad_x), max(0, ys.min() - pad_y)],
                    [min(w - 1, xs.max() + pad_x), min(h - 1, ys.max() + pad_y)],
                ],
                np.float32,
            )
            coords += [box[0] * np.float32(scale), box[1] * np.float32(scale)]
            labels += [2.0, 3.0]
            mask_input, has_mask = self._prev_low, np.ones(1, np.float32)
        else:
            coords.append(np.zeros(2, np.float32))  # padding point, as SAM's exporter expects
            labels.append(-1.0)
        out = self.decoder.run(
            {
                "image_embeddings": emb,
                "point_coords": np.asarray(coords, np.float32)[None],
                "point_labels": np.asarray(labels, np.float32)[None],
                "mask_input": mask_input.astype(np.float32),
                "has_mask_input": has_mask,
                "orig_im_size": np.array([h, w], np.float32),
            }
        )
        logits = np.asarray(out["masks"], np.float32).reshape(h, w)
        self._prev_low = np.asarray(out["low_res_masks"], np.float32).reshape(1, 1, 256, 256)
        self._prev_mask = logits > 0
        self._prev_gray = gray
        # soft edge over about two pixels of the logits' slope, the inside solid
        return (1 / (1 + np.exp(-np.clip(logits, -30, 30) * 2))).astype(np.float32)
