"""colorize's model slot: an automatic colorization ONNX model the user supplies (DDColor,
DeOldify exports). Tensor layout and sizes go through models/image_model.py."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.models.image_model import from_tensor, image_input, to_tensor
from moviola.vision.color import lab_to_rgb, rgb_to_lab


class ModelColorizer:
    """A user-supplied automatic colorization ONNX model.

    Input: one NCHW float32 tensor, 1 channel (CIELAB L / 100) or 3 channels (the gray picture
    as RGB, 0..1: DDColor's convention), at the model's fixed size or ``size`` x ``size``.
    Output: the first output, 2 channels (CIELAB a, b, in Lab units: DDColor) or 3 channels
    (RGB 0..1: DeOldify); for RGB the chroma of the output in CIELAB is taken. Either way the
    footage's own lightness is kept.
    """

    def __init__(self, path: Path, size: int) -> None:
        from moviola.models.runtime import open_session

        self.session = open_session(path)
        if len(self.session.inputs) != 1 or len(self.session.inputs[0].shape) != 4:
            raise MoviolaError(
                f"colorize: {path.name} must take one NCHW image; it takes "
                + ", ".join(f"{t.name}{list(t.shape)}" for t in self.session.inputs)
            )
        image = image_input(self.session.inputs[0], ("NCHW",), f"colorize: {path.name}")
        self.channels = image.channels or 3
        if self.channels not in (1, 3):
            raise MoviolaError(f"colorize: {path.name} takes {self.channels} channels; need 1 or 3")
        self.in_size = image.size((size, size))  # (w, h)
        self.input = image.name
        self.output = self.session.output_names[0]
        self.path = path

    def prepare(self, lum: np.ndarray) -> np.ndarray:
        """The model's input tensor for a lightness image (L 0..100)."""
        small = cv2.resize(lum, self.in_size, interpolation=cv2.INTER_AREA)
        if self.channels == 1:
            return to_tensor(small / 100)
        zeros = np.zeros_like(small)
        return to_tensor(lab_to_rgb(np.stack([small, zeros, zeros], axis=-1)))

    def finish(self, out: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Chroma (h x w x 2, Lab units) at ``size`` (w, h) from the model's output."""
        out = np.asarray(out, np.float32)
        if out.ndim != 4 or out.shape[1] not in (2, 3):
            raise MoviolaError(
                f"colorize: {self.path.name} gave an output of shape {list(out.shape)}; "
                "expected 1x2xHxW (a, b) or 1x3xHxW (RGB)"
            )
        image = from_tensor(out)
        if image.shape[2] == 3:
            image = rgb_to_lab(np.clip(image, 0, 1))[..., 1:]
        return cv2.resize(np.ascontiguousarray(image), size, interpolation=cv2.INTER_LINEAR)

    def __call__(self, lum: np.ndarray) -> np.ndarray:
        out = self.session.run({self.input: self.prepare(lum)})[self.output]
        return self.finish(out, (lum.shape[1], lum.shape[0]))
