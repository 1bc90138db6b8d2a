"""Inference sessions: one loaded model per file per process, behind a small interface.

``open_session("u2netp")`` (or a path) returns a :class:`Session` with ``.inputs``, ``.outputs``,
``.provider`` and ``.run(feeds) -> outputs``. Sessions are cached and shared: loading happens
once per (file, threads, device), even when several threads ask at the same time.

Backends are chosen by the model file's suffix. ONNX Runtime (``.onnx``) is built in and picks
the best execution provider present (CUDA, ROCm, CoreML, DirectML, else CPU). Another runtime
(ncnn for Real-ESRGAN's ``.param``/``.bin``, LiteRT for ``.tflite``) plugs in with
:func:`register_backend` and a :class:`Session` subclass; callers do not change.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moviola.errors import MoviolaError

from .registry import is_registered
from .store import ensure

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
            raise MoviolaError(f"cannot load model {path}: {_first_line(e)}") from e
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
            raise MoviolaError(
                f"model {self.path.name} rejected its input: {_first_line(e)}"
            ) from e
        return dict(zip(self.output_names, values, strict=True))


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


SessionFactory = Callable[..., Session]
_backends: dict[str, SessionFactory] = {".onnx": OnnxSession}
_sessions: dict[tuple[str, int | None, str | None], Session] = {}
_key_locks: dict[tuple[str, int | None, str | None], threading.Lock] = {}
_guard = threading.Lock()


def register_backend(suffix: str, factory: SessionFactory) -> None:
    """Serve files ending in ``suffix`` with ``factory(path, threads=..., device=...)``."""
    _backends[suffix.lower()] = factory


def _resolve(model: str | os.PathLike[str]) -> Path:
    if isinstance(model, str) and is_registered(model):
        return ensure(model)
    p = Path(model).expanduser()
    if not p.is_file():
        raise MoviolaError(f"no registered model or model file named '{model}'")
    return p


def open_session(
    model: str | os.PathLike[str], *, threads: int | None = None, device: str | None = None
) -> Session:
    """A loaded session for a model id (fetched/verified through :func:`ensure`) or a file.

    One session per (file, threads, device) per process, created once even under concurrent
    calls and then shared. ``threads`` sets intra-op threads (default: $MOVIOLA_THREADS, else
    the runtime's choice); ``device`` defaults to $MOVIOLA_DEVICE, else "auto".
    """
    path = _resolve(model).resolve()
    if threads is None and os.environ.get("MOVIOLA_THREADS"):
        try:
            threads = int(os.environ["MOVIOLA_THREADS"])
        except ValueError:
            raise MoviolaError("MOVIOLA_THREADS must be an integer") from None
    device = device or os.environ.get("MOVIOLA_DEVICE") or None
    key = (str(path), threads, device)
    with _guard:
        sess = _sessions.get(key)
        if sess is not None:
            return sess
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:  # load each model once; different models load in parallel
        sess = _sessions.get(key)
        if sess is None:
            factory = _backends.get(path.suffix.lower())
            if factory is None:
                raise MoviolaError(
                    f"no inference backend for '{path.suffix}' files ({path.name}); "
                    f"supported: {', '.join(sorted(_backends))}"
                )
            sess = factory(path, threads=threads, device=device)
            with _guard:
                _sessions[key] = sess
    return sess


def close_sessions() -> None:
    """Drop all cached sessions (frees their memory once no caller holds them)."""
    with _guard:
        _sessions.clear()
        _key_locks.clear()


def _ncnn_session(path: Path, **kwargs: Any) -> Session:
    from .ncnn_session import NcnnSession  # imported on first use: ncnn is an optional extra

    return NcnnSession(path, **kwargs)


register_backend(".param", _ncnn_session)


def _tflite_session(path: Path, **kwargs: Any) -> Session:
    from .tflite_session import TfliteSession  # LiteRT is the optional `faces` extra

    return TfliteSession(path, **kwargs)


register_backend(".tflite", _tflite_session)
