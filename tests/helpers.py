"""Helpers shared by the tests."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def moviola_cli(*args, timeout=300) -> subprocess.CompletedProcess:
    """Run the installed CLI as a user would."""
    exe = shutil.which("moviola", path=str(Path(sys.executable).parent)) or "moviola"
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def save_onnx(graph, path: Path, opset: int = 17) -> Path:
    """Save an onnx.helper graph as a model ONNX Runtime of any recent release loads."""
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return Path(path)


@contextlib.contextmanager
def stand_in_model(
    model_id: str,
    files: dict[str, Path],
    home: Path,
    monkeypatch,
    *,
    fetch: bool = True,
    accept_license: bool = False,
) -> Iterator:
    """The store's entry ``model_id`` served by stand-ins (models the tests build with the real
    one's interface), named as the real files (or, for a converted entry, as its conversion's
    inputs), from file: URLs into a temporary cache ``home``; fetched through the store unless
    ``fetch`` is False. Yields the real spec, which is put back afterwards."""
    from moviola import models
    from moviola.models import ModelFile, URLSource

    monkeypatch.setenv("MOVIOLA_HOME", str(home))
    real = models.get_spec(model_id)
    pinned = [ModelFile(n, sha256(p), Path(p).stat().st_size) for n, p in files.items()]
    sources = [URLSource({n: Path(p).as_uri() for n, p in files.items()})]
    if real.conversion is not None:
        conversion = dataclasses.replace(real.conversion, inputs=pinned)
        spec = dataclasses.replace(real, sources=sources, conversion=conversion)
    else:
        spec = dataclasses.replace(real, files=pinned, sources=sources)
    models.register(spec, replace=True)
    try:
        if fetch:
            models.fetch(model_id, accept_license=accept_license)
        yield real
    finally:
        models.register(real, replace=True)
