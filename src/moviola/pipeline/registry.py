"""Finds effects: every module in moviola.effects, plus plugins under the entry point group
``moviola.effects``. Adding an effect means adding a module; nothing here changes."""

from __future__ import annotations

import importlib
import pkgutil
import re
from importlib.metadata import entry_points

from moviola.errors import MoviolaError
from moviola.pipeline.effect import Effect

_REGISTRY: dict[str, type[Effect]] = {}
_LOADED = False


def register(cls: type[Effect]) -> type[Effect]:
    """Class decorator: make an effect available by its name."""
    if not cls.name:
        raise TypeError(f"{cls.__qualname__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    import moviola.effects as package

    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{module.name}")
    for ep in entry_points(group="moviola.effects"):
        register(ep.load())


def effects() -> dict[str, type[Effect]]:
    _load()
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> type[Effect]:
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise MoviolaError(
            f"unknown effect {name!r}; available: {', '.join(sorted(_REGISTRY))}"
        ) from None


def create(name: str, **values) -> Effect:
    return get(name)(**values)


def parse_spec(spec: str) -> Effect:
    """An effect from text: "resize:width=1280,height=720" (":" also separates parameters)."""
    name, _, rest = spec.strip().partition(":")
    values = {}
    if rest:
        for item in re.split(r"[,:](?=[A-Za-z_][\w-]*=)", rest):
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise MoviolaError(f"bad effect parameter {item!r} in {spec!r} (use name=value)")
            key = key.strip().replace("-", "_")
            if key in values:  # a repeated key is a list (repeatable parameters)
                old = values[key]
                values[key] = [*old, value] if isinstance(old, list) else [old, value]
            else:
                values[key] = value
    return create(name.strip(), **values)
