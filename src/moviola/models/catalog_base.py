"""What the catalog modules share: the short name of ModelFile and the conversion-step factory."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .spec import ModelFile

F = ModelFile


def converted(module: str, func: str, *args: str) -> Callable[[Mapping[str, Path], Path], Any]:
    """An entry's conversion step: ``moviola.models.<module>.<func>(inputs, out_dir, *args)``,
    imported only when a fetch converts (torch is needed then, never on import)."""

    def convert(inputs: Mapping[str, Path], out_dir: Path) -> Any:
        return getattr(importlib.import_module(f"moviola.models.{module}"), func)(
            inputs, out_dir, *args
        )

    return convert
