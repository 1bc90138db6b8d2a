"""The built-in effects: one module (or package) per effect.

Importing this package registers every effect in it with ``moviola.pipeline.register``, then the
third-party effects declared under the entry point group ``moviola.effects``. Front ends import it;
the pipeline below never does. Adding a built-in effect means adding a module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points

from moviola.pipeline.registry import register


def _register_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    for ep in entry_points(group="moviola.effects"):
        register(ep.load())


_register_all()
