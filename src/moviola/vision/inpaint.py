"""Inpainting with LaMa (Suvorov et al. 2022, big-lama; the store's ``lama`` entry): fill the
masked pixels of a picture with plausible texture and structure.

The ONNX export (Carve/LaMa-ONNX ``lama_fp32.onnx``) has a fixed 512 x 512 plane: ``image`` is
RGB in 0..1 (N x 3 x 512 x 512), ``mask`` is 1 where pixels are to be filled (N x 1 x 512 x 512),
and the filled picture comes back in 0..255 (an export that answers in 0..1 is recognised by its
range). One run per picture: the box around all holes, grown by a margin of context (half its
size, at least 32 px, within the picture), is scaled so that its longer side is 512 (never up),
padded to the square by reflection, filled, scaled back, and only the hole pixels change, so
everything the camera saw stays exactly as it was. Revealed areas in a parallax move are thin
bands beside depth edges, which this keeps in one run; a frame with holes everywhere is filled at
512 px on its longer side, which is the resolution the network was trained at anyway.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from moviola.errors import MoviolaError

#: the store's id for the LaMa export
LAMA_MODEL = "lama"
SIZE = 512


class Inpainter:
    """A LaMa-style ONNX inpainting network: ``inpainter(image, hole) -> image``."""

    def __init__(self, path: str | Path) -> None:
        from moviola.models.runtime import open_session

        self.path = Path(path)
        self.session = open_session(self.path)
        names = {t.name: t for t in self.session.inputs}
        channels = {n: (t.shape[1] if len(t.shape) == 4 else None) for n, t in names.items()}
        image = [n for n, c in channels.items() if c == 3]
        mask = [n for n, c in channels.items() if c == 1]
        if len(names) != 2 or len(image) != 1 or len(mask) != 1:
            raise MoviolaError(
                f"{self.path.name}: an inpainting model takes an N x 3 x H x W image and an "
                f"N x 1 x H x W mask; it takes {', '.join(self.session.input_names)}"
            )
        self.image_name, self.mask_name = image[0], mask[0]
        self.output_name = self.session.output_names[0]
        h, w = names[self.image_name].shape[2:]
        fixed = isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0
        self.size = (w, h) if isinstance(h, int) and isinstance(w, int) and fixed else (SIZE, SIZE)

    def __call__(self, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """``image``: H x W x 3 RGB float32 in 0..1 (moviola's frames, through ``to_float``);
        ``hole``: H x W bool. Returns a copy with the hole pixels replaced."""
        if not hole.any():
            return image.copy()
        h, w = hole.shape
        ys, xs = np.nonzero(hole)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        margin = max(32, (max(y1 - y0, x1 - x0) + 1) // 2)
        y0, y1 = max(0, y0 - margin), min(h, y1 + margin)
        x0, x1 = max(0, x0 - margin), min(w, x1 + margin)
        crop = image[y0:y1, x0:x1].astype(np.float32)
        cmask = hole[y0:y1, x0:x1].astype(np.float32)
        ch, cw = cmask.shape
        tw, th = self.size
        scale = min(1.0, tw / cw, th / ch)
        sw, sh = max(1, round(cw * scale)), max(1, round(ch * scale))
        small = cv2.resize(crop, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1 else crop
        smask = cv2.resize(cmask, (sw, sh), interpolation=cv2.INTER_LINEAR) if scale < 1 else cmask
        smask = (smask > 0.01).astype(np.float32)  # a hole pixel anywhere in the cell: fill it
        if scale < 1:  # and one cell more, so that scaling back never mixes in unfilled cells
            smask = cv2.dilate(smask, np.ones((5, 5), np.uint8))
        pad = ((0, th - sh), (0, tw - sw))
        x = np.pad(np.clip(small, 0, 1), (*pad, (0, 0)), mode="reflect")
        m = np.pad(smask, pad, mode="constant")
        feeds = {
            self.image_name: np.ascontiguousarray(x.transpose(2, 0, 1)[None], np.float32),
            self.mask_name: np.ascontiguousarray(m[None, None], np.float32),
        }
        out = np.asarray(self.session.run(feeds)[self.output_name], np.float32)[0]
        out = out.transpose(1, 2, 0)[:sh, :sw]
        known = smask < 0.5
        if not known.any() or float(np.median(out[known])) > 1.5:
            out = out / 255.0  # Carve's export answers in 0..255; others in 0..1
        if scale < 1:
            out = cv2.resize(out, (cw, ch), interpolation=cv2.INTER_CUBIC)
        result = image.copy()
        region = result[y0:y1, x0:x1]
        sel = hole[y0:y1, x0:x1]
        region[sel] = np.clip(out[sel], 0, 1)
        return result
