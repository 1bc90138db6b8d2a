"""The registry of known models: the built-in catalog plus whatever a caller registers."""

from __future__ import annotations

import threading

from moviola.errors import MoviolaError

from .spec import ModelSpec

_lock = threading.RLock()
_specs: dict[str, ModelSpec] = {}
_builtins_loaded = False


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _lock:
        if _builtins_loaded:
            return
        from .catalog import BUILTIN_MODELS

        for spec in BUILTIN_MODELS:
            _specs.setdefault(spec.id, spec)
        _builtins_loaded = True


def register(spec: ModelSpec, *, replace: bool = False) -> ModelSpec:
    """Add a model to the registry (plugins, tests). Refuses to shadow an id unless ``replace``."""
    _load_builtins()
    with _lock:
        if spec.id in _specs and not replace and _specs[spec.id] is not spec:
            raise ValueError(f"model id {spec.id!r} is already registered")
        _specs[spec.id] = spec
    return spec


def unregister(model_id: str) -> None:
    """Remove a model from the registry (its cached files stay until ``remove``)."""
    _load_builtins()
    with _lock:
        _specs.pop(model_id, None)


def is_registered(model_id: str) -> bool:
    _load_builtins()
    with _lock:
        return model_id in _specs


def list_models() -> list[ModelSpec]:
    """All registered models, built-in ones first, in catalog order."""
    _load_builtins()
    with _lock:
        return list(_specs.values())


def get_spec(model_id: str) -> ModelSpec:
    """The spec of ``model_id``; MoviolaError naming the known ids when there is none."""
    _load_builtins()
    with _lock:
        spec = _specs.get(model_id)
        if spec is None:
            known = ", ".join(sorted(_specs))
            raise MoviolaError(f"unknown model '{model_id}'; known models: {known}")
        return spec
