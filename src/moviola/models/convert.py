"""Helpers for conversion steps (e.g. a PyTorch checkpoint to ONNX).

torch is an optional extra (``moviola[convert]``): it is imported here only when a helper is
called, never when moviola is imported.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError


def require(module: str, extra: str = "convert") -> Any:
    """Import an optional module, or raise MoviolaError saying which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MoviolaError(
            f"{module} is needed for this step: pip install 'moviola[{extra}]'"
        ) from e


def load_torch_checkpoint(path: str | Path) -> Any:
    """Load a pickled PyTorch checkpoint safely: ``torch.load(weights_only=True)`` on CPU.

    Only tensors and plain containers can come out; a pickle that needs arbitrary classes is
    refused (MoviolaError), never executed.
    """
    torch = require("torch")
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises UnpicklingError / RuntimeError variants
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise MoviolaError(f"cannot load checkpoint {path} safely: {first}") from e
