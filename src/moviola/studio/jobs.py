"""The server's side of jobs: starts a worker process per job, a few at a time, and notices
workers that died without recording how their job ended."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from moviola.studio.store import JobStore

log = logging.getLogger("moviola")


class JobRunner:
    """Keeps at most ``workers`` worker processes running, oldest queued job first."""

    def __init__(self, store: JobStore, data_dir: Path, workers: int = 1) -> None:
        self.store = store
        self.data_dir = Path(data_dir)
        self.workers = max(1, workers)
        self.procs: dict[str, subprocess.Popen] = {}
        self._attempts: dict[str, int] = {}  # a job's attempts before its current worker
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> list[str]:
        interrupted = self.store.mark_interrupted()
        self._thread = threading.Thread(target=self._loop, name="studio-jobs", daemon=True)
        self._thread.start()
        return interrupted

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs and interrupt the running ones (their workers record it)."""
        self._stop.set()
        self._wake.set()
        with self._lock:
            procs = list(self.procs.items())
        for _, proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for job_id, proc in procs:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self._reap(job_id, proc)
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:  # noqa: BLE001 - the loop must survive a busy database
                log.warning("job runner: %s", "tick failed", exc_info=True)
            self._wake.wait(0.25)
            self._wake.clear()

    def _tick(self) -> None:
        with self._lock:
            for job_id, proc in list(self.procs.items()):
                if proc.poll() is not None:
                    self._reap(job_id, proc)
                    del self.procs[job_id]
                    self._attempts.pop(job_id, None)
            if self._stop.is_set():
                return
            free = self.workers - len(self.procs)
            for job in self.store.queued():
                if free <= 0:
                    break
                if job["id"] not in self.procs:
                    self.procs[job["id"]] = self._spawn(job["id"])
                    self._attempts[job["id"]] = job["attempts"]
                    free -= 1

    def _spawn(self, job_id: str) -> subprocess.Popen:
        job_dir = self.data_dir / "jobs" / job_id
        job_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        # The worker imports the same moviola as this process, wherever that came from.
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        with open(job_dir / "worker.log", "ab") as logfile:
            return subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "moviola.studio.worker",
                    "--data",
                    str(self.data_dir),
                    "--parent",
                    str(os.getpid()),
                    job_id,
                ],
                stdin=subprocess.DEVNULL,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C in the server's terminal goes to the server
            )

    def _reap(self, job_id: str, proc: subprocess.Popen) -> None:
        job = self.store.get(job_id)
        if job is None:
            return
        # Only this process's own attempt: a job that was finished and queued again since
        # belongs to the next worker.
        crashed_running = job["status"] == "running" and job["pid"] == proc.pid
        never_claimed = job["status"] == "queued" and job["attempts"] == self._attempts.get(
            job_id, -1
        )
        if not (crashed_running or never_claimed):
            return
        tail = ""
        log_path = self.data_dir / "jobs" / job_id / "worker.log"
        if log_path.exists():
            lines = log_path.read_text(errors="replace").strip().splitlines()
            tail = lines[-1] if lines else ""
        status = "interrupted" if self._stop.is_set() else "failed"
        self.store.finish(
            job_id,
            status,
            error=f"the worker ended with code {proc.returncode}" + (f": {tail}" if tail else ""),
        )

    def running(self) -> list[str]:
        with self._lock:
            return [j for j, p in self.procs.items() if p.poll() is None]
