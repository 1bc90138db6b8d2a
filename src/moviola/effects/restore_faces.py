"""restore-faces: sharpen and repair the faces in a picture with GFPGAN v1.4 (the store's
``gfpgan-1.4``, fetched from its upstream home by ``moviola models fetch gfpgan-1.4``).

Faces are tracked through the clip (MediaPipe face detection and mesh, smoothed over time, as
faceswap and puppet do), each is aligned to the FFHQ layout, restored and pasted back through a
feathered mask (moviola.vision.faces.restore); the rest of the frame is not touched. Because the
landmarks are smoothed over time, the aligned crops do not jitter from frame to frame.
"""

from __future__ import annotations

import numpy as np

from moviola import models
from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, like, to_float, to_uint8
from moviola.pipeline import Effect, Param, parse_path, register
from moviola.vision.faces.restore import GFPGAN_MODEL, TrackedRestorer


@register
class RestoreFaces(Effect):
    name = "restore-faces"
    summary = (
        "Repair and sharpen faces (GFPGAN v1.4, fetched once with `moviola models fetch "
        "gfpgan-1.4`): tracked, aligned, restored and blended back; the rest is untouched."
    )
    kind = "model"
    context_frames = 10  # landmark smoothing settles within a few frames
    params = (
        Param(
            "strength",
            float,
            0.8,
            "how much of the restored face replaces the original (1: all of it)",
            min=0.0,
            max=1.0,
        ),
        Param("max_faces", int, 4, "most faces restored per frame", min=1, max=16),
        Param(
            "model",
            parse_path,
            None,
            "a face restoration ONNX file of your own with GFPGAN's interface (one "
            f"1x3x512x512 input and output, -1..1); default: the fetched {GFPGAN_MODEL}",
        ),
    )
    strength: float
    max_faces: int
    model: str | None

    def configure(self, info: StreamInfo) -> StreamInfo:
        try:
            path = models.ensure(GFPGAN_MODEL, self.model)
        except MoviolaError as e:
            raise MoviolaError(f"restore-faces: {e}") from None
        self._restore = TrackedRestorer(path, self.strength, self.max_faces)
        return info

    def process(self, frame: Frame) -> Frame:
        rgb = frame.image[..., :3]
        before = self._restore.faces_restored
        out = self._restore(to_uint8(rgb), float(frame.time), to_float(rgb))
        if self._restore.faces_restored == before:
            return frame
        image = like(out, frame.image.dtype)
        if frame.has_alpha:
            image = np.concatenate([image, frame.image[..., 3:]], axis=2)
        return frame.with_image(image)
