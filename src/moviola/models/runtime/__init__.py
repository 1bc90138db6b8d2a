"""Inference sessions: one loaded model per file per process, behind a small interface.

``open_session("u2netp")`` (or a path) returns a :class:`Session` with ``.inputs``, ``.outputs``,
``.provider`` and ``.run(feeds) -> outputs``. Sessions are cached and shared: loading happens
once per (file, threads, device), even when several threads ask at the same time.

The runtime is chosen by the model file's suffix from a table of module names, imported on first
use (as PySceneDetect gathers its backends): ONNX Runtime (``.onnx``, built in; it picks the best
execution provider present), ncnn (Real-ESRGAN's ``.param``/``.bin``, the ``upscale`` extra) and
LiteRT (``.tflite``, the ``faces`` extra). Another runtime plugs in with
:func:`register_backend`; callers do not change. The runtime modules import only
:mod:`moviola.models.runtime.base`, never this package, so there is no cycle.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from moviola.errors import MoviolaError
from moviola.models.registry import is_registered
from moviola.models.runtime.base import Session, TensorInfo
from moviola.models.runtime.onnx import PROVIDER_PREFERENCE, choose_providers
from moviola.models.store import ensure

__all__ = [
    "PROVIDER_PREFERENCE",
    "Session",
    "TensorInfo",
    "choose_providers",
    "close_sessions",
    "open_session",
    "register_backend",
]

SessionFactory = Callable[..., Session]
# suffix -> "module:Class" (imported on first use) or a factory registered at run time
_RUNTIMES: dict[str, str | SessionFactory] = {
    ".onnx": "moviola.models.runtime.onnx:OnnxSession",
    ".param": "moviola.models.runtime.ncnn:NcnnSession",
    ".tflite": "moviola.models.runtime.tflite:TfliteSession",
}
_sessions: dict[tuple[str, int | None, str | None], Session] = {}
_key_locks: dict[tuple[str, int | None, str | None], threading.Lock] = {}
_guard = threading.Lock()


def register_backend(suffix: str, factory: SessionFactory) -> None:
    """Serve files ending in ``suffix`` with ``factory(path, threads=..., device=...)``."""
    _RUNTIMES[suffix.lower()] = factory


def _factory(path: Path) -> SessionFactory:
    entry = _RUNTIMES.get(path.suffix.lower())
    if entry is None:
        raise MoviolaError(
            f"no inference backend for '{path.suffix}' files ({path.name}); "
            f"supported: {', '.join(sorted(_RUNTIMES))}"
        )
    if isinstance(entry, str):
        module, _, name = entry.partition(":")
        return getattr(importlib.import_module(module), name)
    return entry


def _resolve(model: str | os.PathLike[str]) -> Path:
    if isinstance(model, str) and is_registered(model):
        return ensure(model)
    p = Path(os.path.expanduser(model))
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
            sess = _factory(path)(path, threads=threads, device=device)
            with _guard:
                _sessions[key] = sess
    return sess


def close_sessions() -> None:
    """Drop all cached sessions (frees their memory once no caller holds them)."""
    with _guard:
        _sessions.clear()
        _key_locks.clear()
