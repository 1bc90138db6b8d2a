"""LiteRT (TensorFlow Lite) sessions for ``.tflite`` model files.

Uses ``ai-edge-litert`` (install it with ``pip install --no-deps ai-edge-litert``: at import it
needs only numpy). A TFLite interpreter is not safe to use from several threads and keeps its
tensors between calls, so :class:`TfliteSession` keeps one interpreter per calling thread (each
loaded from the same file on first use by that thread). ``run`` is therefore safe to call from
several threads at once, like :class:`moviola.models.runtime.OnnxSession`.

Importing this module registers the ``.tflite`` suffix with
:func:`moviola.models.runtime.register_backend`, so ``open_session("mediapipe-face-landmark")``
works once it has been imported.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from moviola.errors import MoviolaError
from moviola.models.runtime.base import Session, TensorInfo, first_line


def _import_interpreter() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as e:
        raise MoviolaError(
            "ai-edge-litert is needed to run .tflite models: "
            "pip install --no-deps ai-edge-litert (or pip install 'moviola[faces]')"
        ) from e
    return Interpreter


_stderr_lock = threading.Lock()


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 (C++ runtime chatter) for the duration; Python's own
    ``sys.stderr`` writes in other threads meanwhile are lost too, so keep this short."""
    with _stderr_lock:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):
            yield
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class TfliteSession(Session):
    """A LiteRT interpreter per thread for one ``.tflite`` file (CPU, XNNPACK)."""

    def __init__(self, path: Path, *, threads: int | None = None, device: str | None = None):
        if device not in (None, "auto", "cpu"):
            raise MoviolaError(f"device '{device}' is not available for .tflite models (cpu only)")
        self._interpreter_cls = _import_interpreter()
        self.path = Path(path)
        self.provider = "LiteRT CPU"
        self._threads = max(1, int(threads)) if threads else min(4, os.cpu_count() or 1)
        self._local = threading.local()
        it = self._interpreter()  # load once now so a bad file fails here, with a clear line
        self.inputs = tuple(
            TensorInfo(d["name"], tuple(int(s) for s in d["shape"]), np.dtype(d["dtype"]).name)
            for d in it.get_input_details()
        )
        self.outputs = tuple(
            TensorInfo(d["name"], tuple(int(s) for s in d["shape"]), np.dtype(d["dtype"]).name)
            for d in it.get_output_details()
        )

    def _interpreter(self) -> Any:
        it = getattr(self._local, "it", None)
        if it is None:
            try:
                with _quiet_stderr():  # LiteRT prints an INFO line per delegate it creates
                    it = self._interpreter_cls(model_path=str(self.path), num_threads=self._threads)
                    it.allocate_tensors()
            except Exception as e:
                raise MoviolaError(f"cannot load model {self.path}: {first_line(e)}") from e
            self._local.it = it
            self._local.inputs = {d["name"]: d for d in it.get_input_details()}
            self._local.outputs = it.get_output_details()
        return it

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        it = self._interpreter()
        details = self._local.inputs
        if set(feeds) != set(details):
            raise MoviolaError(
                f"model {self.path.name} takes inputs {', '.join(self.input_names)}; "
                f"got {', '.join(sorted(feeds)) or 'none'}"
            )
        try:
            for name, value in feeds.items():
                d = details[name]
                arr = np.ascontiguousarray(value, dtype=d["dtype"])
                if tuple(arr.shape) != tuple(d["shape"]):
                    it.resize_tensor_input(d["index"], arr.shape)
                    it.allocate_tensors()
                it.set_tensor(d["index"], arr)
            it.invoke()
            return {d["name"]: it.get_tensor(d["index"]).copy() for d in self._local.outputs}
        except MoviolaError:
            raise
        except Exception as e:
            raise MoviolaError(f"model {self.path.name} rejected its input: {first_line(e)}") from e
