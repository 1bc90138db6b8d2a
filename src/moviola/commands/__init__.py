"""Command-line commands that are not effects (shots, describe, search, studio, ...).

Each public module here defines ``add_parser(sub)``, which adds its subcommand(s) to the
``moviola`` parser with ``set_defaults(func=...)``; the CLI finds them, nothing else changes.
A module whose optional dependencies are missing still adds its parser and fails with one
clear line when run.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def discover() -> list[ModuleType]:
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            modules.append(importlib.import_module(f"{__name__}.{info.name}"))
    return modules
