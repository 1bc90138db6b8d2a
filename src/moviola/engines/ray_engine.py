"""The Ray engine: chunks rendered as Ray tasks across a cluster (or a local Ray instance).

Workers read the source from the same path as the driver (a shared or synced folder on a
cluster) and send each finished chunk back through Ray's object store, so they need no shared
output folder; the driver checkpoints every chunk as it arrives. A task whose worker dies is
retried by Ray (``max_retries``); a job whose driver dies resumes from its checkpoint when run
again. Model files reach workers through the model store, which fetches and checks their sha256.
"""

from __future__ import annotations

import logging
import os

from moviola.errors import MoviolaError

log = logging.getLogger("moviola")


def _ray():
    try:
        import ray
    except ImportError:
        raise MoviolaError(
            "the ray engine needs Ray: pip install 'moviola[ray]' (or use --engine local)"
        ) from None
    return ray


def _render_task(source, effects, chunk, settings, threads):
    """Runs on a worker: render one chunk, return its bytes."""
    if threads:
        os.environ["MOVIOLA_THREADS"] = str(threads)
    os.environ["MOVIOLA_VERIFY_MODELS"] = "1"  # hash model files before use on every worker
    from moviola.engines.job import render_to_bytes

    return render_to_bytes(source, effects, chunk, settings)


class RayExecutor:
    """Renders chunks as Ray tasks; yields them as they finish (any order)."""

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        task_cpus: float = 1,
        retries: int = 3,
    ) -> None:
        self.address = address
        self.workers = workers
        self.task_cpus = task_cpus
        self.retries = retries
        self._started = False

    def _connect(self):
        ray = _ray()
        if not ray.is_initialized():
            kwargs = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": logging.ERROR,
                "configure_logging": True,
            }
            if self.address:
                kwargs["address"] = self.address
            elif self.workers:
                kwargs["num_cpus"] = self.workers
            try:
                ray.init(**kwargs)
            except ConnectionError as exc:
                raise MoviolaError(
                    f"cannot reach the Ray cluster at {self.address}: {exc}"
                ) from None
            self._started = True
        return ray

    def __call__(self, source, effects, todo, settings):
        if not todo:
            return
        ray = self._connect()
        import ray.exceptions as ray_errors

        threads = max(1, int(self.task_cpus))
        task = ray.remote(num_cpus=self.task_cpus, max_retries=self.retries)(_render_task)
        source = os.path.abspath(source)
        pending = {task.remote(source, effects, chunk, settings, threads): chunk for chunk in todo}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                ref = ready[0]
                chunk = pending.pop(ref)
                try:
                    payload, result = ray.get(ref)
                except ray_errors.RayTaskError as exc:
                    cause = exc.cause if hasattr(exc, "cause") else exc
                    if isinstance(cause, MoviolaError):
                        raise MoviolaError(str(cause)) from None
                    raise
                yield chunk, payload, result
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._started:
            _ray().shutdown()
            self._started = False
