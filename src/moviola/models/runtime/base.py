"""What every inference runtime provides: a loaded model behind ``Session``.

Runtimes (``onnx``, ``ncnn``, ``tflite``) each subclass :class:`Session`; this module imports
none of them, and :mod:`moviola.models.runtime` chooses one by the model file's suffix.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class TensorInfo:
    """A model input or output: name, shape (None or a name for dynamic axes), dtype name."""

    name: str
    shape: tuple[int | str | None, ...]
    dtype: str


class Session(ABC):
    """A loaded model. ``run`` is safe to call from several threads at once."""

    path: Path
    provider: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]

    @abstractmethod
    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the model on named input arrays; return the named output arrays."""

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self.outputs]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path.name} on {self.provider}>"


def first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
