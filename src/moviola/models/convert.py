"""Helpers for conversion steps (e.g. a PyTorch checkpoint to ONNX).

torch is an optional extra (``moviola[convert]``): it is imported here only when a helper is
called, never when moviola is imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
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


def load_exactly(net: Any, state: Mapping[str, Any], what: str) -> Any:
    """Load ``state`` into ``net``: every weight of the network must come from it and every
    entry must be used, with the right shapes, else MoviolaError naming ``what``."""
    try:
        result = net.load_state_dict(state, strict=False)  # raises on shapes even when not strict
    except RuntimeError as e:  # shapes differ
        raise MoviolaError(f"not {what}: {str(e).strip().splitlines()[-1]}") from e
    if result.missing_keys or result.unexpected_keys:
        raise MoviolaError(
            f"not {what}: {len(result.missing_keys)} weights missing, "
            f"{len(result.unexpected_keys)} unexpected"
        )
    return net


def trace_to_onnx(
    net: Any,
    inputs: tuple,
    path: str | Path,
    *,
    opset: int,
    input_names: list[str],
    output_names: list[str],
    dynamic_axes: Mapping[str, Mapping[int, str]],
) -> None:
    """``torch.onnx.export`` as our conversions call it: the TorchScript exporter (whose output
    the recorded sha256s are of), constant folding, no gradients, its deprecation notice quiet."""
    import warnings

    torch = require("torch")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(
            net,
            inputs,
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dict(dynamic_axes),
            do_constant_folding=True,
        )


# The torch whose exporter wrote the ONNX files whose sha256 the catalog records.
EXPORT_TORCH = "2.13.0"


def checkpoint_to_onnx(
    checkpoint: Path,
    out: Path,
    *,
    what: str,
    build: Callable[[Mapping], Any],
    export: Callable[[Any, Path], None],
    check: Callable[[Any, Path], float],
    tolerance: float,
    state_key: str | None = None,
) -> Path:
    """A PyTorch checkpoint to a verified ONNX file: load it safely, ``build`` our own network
    from its state dict (at ``state_key`` when the checkpoint holds more), ``export`` it, and
    ``check`` that ONNX Runtime agrees with torch within ``tolerance``."""
    torch = require("torch")
    if torch.__version__.split("+")[0] != EXPORT_TORCH:
        raise MoviolaError(
            f"converting {what} to ONNX needs torch {EXPORT_TORCH} (its exporter writes the file "
            f"whose sha256 is recorded); found {torch.__version__}: pip install 'moviola[convert]'"
        )
    loaded = load_torch_checkpoint(checkpoint)
    state = loaded.get(state_key) if state_key and isinstance(loaded, Mapping) else loaded
    if not isinstance(state, Mapping):
        inside = f"no {state_key}" if state_key else "no state dict"
        raise MoviolaError(f"not a {what} checkpoint: {inside} inside")
    net = build(state)
    export(net, out)
    worst = check(net, out)
    if worst > tolerance:
        raise MoviolaError(f"ONNX export of {what} differs from torch by {worst:.6f}")
    return out
