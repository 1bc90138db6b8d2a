"""The effect registry: names to Effect classes, and "name:k=v" specs.

It is filled from above: importing ``moviola.effects`` (every front end does) registers each of
its modules and the plugins under the entry point group ``moviola.effects``. The pipeline itself
imports no effect. Adding an effect means adding a module; nothing here changes."""

from __future__ import annotations

import re

from moviola.errors import MoviolaError
from moviola.pipeline.effect import Effect

_REGISTRY: dict[str, type[Effect]] = {}


def register(cls: type[Effect]) -> type[Effect]:
    """Class decorator: make an effect available by its name."""
    if not cls.name:
        raise TypeError(f"{cls.__qualname__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def effects() -> dict[str, type[Effect]]:
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> type[Effect]:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none (import moviola.effects to register them)"
        raise MoviolaError(f"unknown effect {name!r}; available: {known}") from None


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
