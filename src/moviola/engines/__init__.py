"""Engines run the same pipeline in other ways: the local engine (moviola.pipeline.run, the
default) in one process; chunked engines cut a job into chunks at keyframes, render them
anywhere (``ray``: a Ray cluster) and join them without re-encoding. See docs/engines.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError
from moviola.pipeline.effect import Effect
from moviola.pipeline.options import RunOptions
from moviola.pipeline.runner import RunResult
from moviola.pipeline.runner import run as run_local

ENGINES = ("local", "ray")


def run(
    source: str | Path,
    output: str | Path,
    effects: list[Effect],
    options: RunOptions | None = None,
    *,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    chunk_seconds: float = 10.0,
    **changes: Any,
) -> RunResult:
    """Run ``effects`` over ``source`` on ``engine`` with ``options`` (a RunOptions, or its
    fields as keywords).

    ``local`` (the default) streams in this process. ``ray`` cuts the clip into chunks of about
    ``chunk_seconds`` at keyframes, renders them as Ray tasks (on the cluster at ``address``, or
    on a local Ray instance with ``workers`` CPUs) and joins them; rerunning after a crash
    renders only the missing chunks.
    """
    opts = RunOptions.of(options, **changes)
    if engine == "local":
        return run_local(source, output, effects, opts)
    if engine != "ray":
        raise MoviolaError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    from moviola.engines.job import run_chunked
    from moviola.engines.ray_engine import RayExecutor

    executor = RayExecutor(address, workers=workers)
    try:
        result, _job = run_chunked(
            source, output, effects, executor, opts, chunk_seconds=chunk_seconds
        )
    finally:
        executor.close()
    return result
