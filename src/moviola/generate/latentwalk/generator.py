"""An image generator behind ONNX Runtime: latent vectors in, RGB images out.

The built-in ``dcgan-faces64`` (64x64 faces), or any ONNX file with one input, a latent of shape
[N, Z] or [N, Z, 1, 1], and an NCHW image out in -1..1 or 0..1 (``output_range``, else found by a
probe: a tanh output reaches below zero, a sigmoid one never does).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from moviola.errors import MoviolaError
from moviola.generate.latentwalk.paths import seed_latent

BUILTIN = "dcgan-faces64"
RANGES = {
    "-1..1": "signed",
    "0..1": "unit",
    "signed": "signed",
    "unit": "unit",
    "tanh": "signed",
    "-1,1": "signed",
    "0,1": "unit",
}


class GeneratorModel:
    """An image generator behind ONNX Runtime: latents (N x Z) -> uint8 images (N x H x W x 3)."""

    def __init__(self, model: str | os.PathLike | None = None, output_range: str | None = None):
        from moviola.models.runtime import open_session

        if model is None:
            source: str | Path = BUILTIN
        else:
            source = Path(os.path.expanduser(model))
            if not source.is_file():
                raise MoviolaError(f"generator model not found: {model}")
            if source.suffix.lower() != ".onnx":
                raise MoviolaError(f"generator model must be an .onnx file, not {source.name}")
        self.name = BUILTIN if model is None else Path(model).name
        self.session = open_session(source)
        if len(self.session.inputs) != 1:
            raise MoviolaError(
                f"generator {self.name} must take one input (a latent); it takes "
                f"{', '.join(self.session.input_names)}"
            )
        shape = self.session.inputs[0].shape
        self.input = self.session.inputs[0].name
        self.output = self.session.output_names[0]
        size = shape[1] if len(shape) in (2, 4) else None
        if (
            not isinstance(size, int)
            or size <= 0
            or (len(shape) == 4 and any(isinstance(d, int) and d != 1 for d in shape[2:]))
        ):
            raise MoviolaError(
                f"generator {self.name}: its input {self.input} has shape {list(shape)}; "
                "expected [N, Z] or [N, Z, 1, 1] with a fixed latent size Z"
            )
        self.latent_size = int(size)
        self._rank = len(shape)
        self.range = self._range(output_range, builtin=model is None)
        probe = self._raw(seed_latent(0, self.latent_size * 4).reshape(4, self.latent_size))
        if self.range is None:  # a tanh output reaches below zero, a sigmoid one never does
            self.range = "signed" if float(probe.min()) < -0.01 else "unit"
        self.height, self.width = probe.shape[2:]

    @staticmethod
    def _range(output_range: str | None, builtin: bool) -> str | None:
        """ "signed" or "unit" as given (the built-in model: signed); None: probe the model."""
        if output_range is None:
            return "signed" if builtin else None
        key = str(output_range).strip().lower()
        if key not in RANGES:
            raise MoviolaError(f"model range must be -1..1 or 0..1, not {output_range!r}")
        return RANGES[key]

    def _raw(self, latents: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(latents, np.float32)
        if self._rank == 4:
            x = x.reshape(len(x), self.latent_size, 1, 1)
        out = np.asarray(self.session.run({self.input: x})[self.output])
        if out.ndim != 4 or out.shape[0] != len(x) or out.shape[1] not in (1, 3, 4):
            raise MoviolaError(
                f"generator {self.name} gave {tuple(out.shape)} for {len(x)} latents; "
                "expected N x 3 x H x W (NCHW, RGB)"
            )
        return out

    def __call__(self, latents: np.ndarray) -> np.ndarray:
        out = self._raw(latents)[:, :3].astype(np.float32)
        if out.shape[1] == 1:
            out = np.repeat(out, 3, axis=1)
        if self.range == "signed":
            out = (out + 1.0) * 0.5
        rgb = np.clip(out.transpose(0, 2, 3, 1) * 255.0 + 0.5, 0, 255)
        return rgb.astype(np.uint8)
