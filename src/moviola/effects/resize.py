"""resize: change the frame size, keeping the aspect ratio by padding or cropping."""

from __future__ import annotations

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, even, fit_length
from moviola.pipeline import Effect, Param, parse_color, register

_INTERPOLATION = {
    "nearest": cv2.INTER_NEAREST,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "lanczos": cv2.INTER_LANCZOS4,
    "area": cv2.INTER_AREA,
}


@register
class Resize(Effect):
    name = "resize"
    context_frames = 0  # each frame on its own
    summary = "Change the frame size (width, height or scale), keeping the aspect ratio."
    params = (
        Param("width", int, None, "output width in pixels", min=1, max=16384),
        Param("height", int, None, "output height in pixels", min=1, max=16384),
        Param(
            "scale",
            float,
            None,
            "scale factor (e.g. 0.5); instead of width/height",
            min=0.01,
            max=16,
        ),
        Param(
            "fit",
            str,
            "contain",
            "with both width and height: contain (pad), cover (crop) or stretch",
            choices=("contain", "cover", "stretch"),
        ),
        Param("pad_color", parse_color, "black", "color of the padding for fit=contain"),
        Param(
            "interpolation",
            str,
            "auto",
            "auto (area to shrink, lanczos to enlarge), nearest, bilinear, bicubic, lanczos, area",
            choices=("auto", *_INTERPOLATION),
        ),
    )
    width: int | None
    height: int | None
    scale: float | None
    fit: str
    pad_color: tuple[int, int, int]
    interpolation: str

    def validate(self) -> None:
        if self.scale is not None and (self.width or self.height):
            raise MoviolaError("resize: give scale, or width and/or height, not both")
        if self.scale is None and not (self.width or self.height):
            raise MoviolaError("resize: give width, height or scale")

    def configure(self, info: StreamInfo) -> StreamInfo:
        w, h = info.width, info.height
        self._fit = self.fit
        if self.scale is not None:
            out_w, out_h = fit_length(w * self.scale), fit_length(h * self.scale)
            self._fit = "stretch"
        elif self.width and self.height:
            out_w, out_h = self.width, self.height
        elif self.width:
            out_w, out_h = self.width, even(self.width * h / w)
            self._fit = "stretch"
        else:
            assert self.height is not None  # validate(): width, height or scale
            out_w, out_h = even(self.height * w / h), self.height
            self._fit = "stretch"
        self._out = (out_w, out_h)
        if self._fit == "stretch":
            self._inner = (out_w, out_h)
        else:
            ratio = (min if self._fit == "contain" else max)(out_w / w, out_h / h)
            self._inner = (max(1, round(w * ratio)), max(1, round(h * ratio)))
        shrinking = self._inner[0] * self._inner[1] < w * h
        mode = self.interpolation
        if mode == "auto":
            mode = "area" if shrinking else "lanczos"
        self._interp = _INTERPOLATION[mode]
        return info.evolve(width=out_w, height=out_h)

    def process(self, frame: Frame) -> Frame:
        image = cv2.resize(frame.image, self._inner, interpolation=self._interp)
        if image.ndim == 2:
            image = image[..., None]
        if self._fit == "contain" and self._inner != self._out:
            image = self._pad(image)
        elif self._fit == "cover" and self._inner != self._out:
            x = (self._inner[0] - self._out[0]) // 2
            y = (self._inner[1] - self._out[1]) // 2
            image = np.ascontiguousarray(image[y : y + self._out[1], x : x + self._out[0]])
        return frame.with_image(image)

    def _pad(self, image: np.ndarray) -> np.ndarray:
        out_w, out_h = self._out
        canvas = np.zeros((out_h, out_w, image.shape[2]), dtype=image.dtype)
        scale = {np.dtype(np.uint8): 1, np.dtype(np.uint16): 257}.get(image.dtype, 1 / 255)
        canvas[..., :3] = np.array(self.pad_color) * scale  # alpha padding stays transparent
        x = (out_w - image.shape[1]) // 2
        y = (out_h - image.shape[0]) // 2
        canvas[y : y + image.shape[0], x : x + image.shape[1]] = image
        return canvas
