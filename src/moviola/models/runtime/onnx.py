"""ONNX Runtime sessions, on the best execution provider present (CUDA, ROCm, CoreML,
DirectML, else CPU; ``MOVIOLA_DEVICE`` or ``device=`` asks for one)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from moviola.errors import MoviolaError
from moviola.models.runtime.base import Session, TensorInfo, first_line

#: ONNX Runtime providers, best first. CPU is always appended as the fallback.
PROVIDER_PREFERENCE = (
    "CUDAExecutionProvider",
    "ROCMExecutionProvider",
    "CoreMLExecutionProvider",
    "DmlExecutionProvider",
    "CPUExecutionProvider",
)
_DEVICE_NAMES = {
    "cuda": "CUDAExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
    "dml": "DmlExecutionProvider",
    "cpu": "CPUExecutionProvider",
}


# numpy dtypes for ONNX tensor element types (inputs are cast to these when they differ)
_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}


def choose_providers(available: list[str], device: str | None = None) -> list[str]:
    """The ONNX Runtime providers to request, best first, CPU last.

    ``device`` None or "auto" picks the best available; "cpu", "cuda", "coreml", "directml",
    "rocm" ask for one (MoviolaError when this onnxruntime build lacks it).
    """
    device = (device or "auto").lower()
    if device == "auto":
        chosen = [p for p in PROVIDER_PREFERENCE if p in available]
        best = chosen[:1]
    else:
        name = _DEVICE_NAMES.get(device)
        if name is None:
            raise MoviolaError(
                f"unknown device '{device}'; choose auto, {', '.join(sorted(_DEVICE_NAMES))}"
            )
        if name not in available:
            raise MoviolaError(
                f"device '{device}' is not available in this onnxruntime build "
                f"(available: {', '.join(available)})"
            )
        best = [name]
    if "CPUExecutionProvider" not in best:
        best.append("CPUExecutionProvider")
    return best


def _import_ort() -> Any:
    try:
        import onnxruntime
    except ImportError as e:
        raise MoviolaError(
            "onnxruntime is needed to run models: pip install 'moviola[models]'"
        ) from e
    return onnxruntime


class OnnxSession(Session):
    """An ONNX Runtime InferenceSession."""

    def __init__(self, path: Path, *, threads: int | None = None, device: str | None = None):
        ort = _import_ort()
        self.path = path
        providers = choose_providers(ort.get_available_providers(), device)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = max(0, int(threads or 0))  # 0: one per physical core
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        if providers[0] == "DmlExecutionProvider":
            opts.enable_mem_pattern = False  # required by DirectML
        opts.log_severity_level = 3
        try:
            self._sess = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
        except Exception as e:
            raise MoviolaError(f"cannot load model {path}: {first_line(e)}") from e
        self.provider = self._sess.get_providers()[0]
        self.inputs = tuple(
            TensorInfo(i.name, tuple(i.shape), i.type) for i in self._sess.get_inputs()
        )
        self.outputs = tuple(
            TensorInfo(o.name, tuple(o.shape), o.type) for o in self._sess.get_outputs()
        )
        self._input_dtypes = {t.name: _ORT_DTYPES.get(t.dtype) for t in self.inputs}

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        unknown = set(feeds) - set(self._input_dtypes)
        missing = set(self._input_dtypes) - set(feeds)
        if unknown or missing:
            raise MoviolaError(
                f"model {self.path.name} takes inputs {', '.join(self.input_names)}; "
                f"got {', '.join(sorted(feeds)) or 'none'}"
            )
        prepared = {}
        for name, value in feeds.items():
            dtype = self._input_dtypes[name]
            arr = np.asarray(value)
            if dtype is not None and arr.dtype != dtype:
                arr = arr.astype(dtype)
            prepared[name] = np.ascontiguousarray(arr)
        try:
            values = self._sess.run(None, prepared)
        except Exception as e:
            raise MoviolaError(f"model {self.path.name} rejected its input: {first_line(e)}") from e
        return dict(zip(self.output_names, values, strict=True))
