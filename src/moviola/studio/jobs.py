"""The server's side of jobs: starts a worker process per job, a few at a time, notices workers
that died without recording how their job ended, and kills a worker still running KILL_AFTER
seconds after its job was cancelled (a model call that does not return). Whatever way a worker
ends, no partial output is left in its job folder; at start, workers left by a server that died
are ended and their partial files removed."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from moviola.studio.store import JobStore

log = logging.getLogger("moviola")
WORKER_MODULE = "moviola.studio.worker"
KILL_AFTER = 5.0  # seconds a worker may go on after its job was cancelled
KEEP = "worker.log"  # the one file a job folder keeps when its output is cleared


def clear_folder(folder: Path, *, keep_log: bool = True) -> None:
    """Remove what a job wrote into its folder (files and partial output folders), keeping
    the worker's log when asked."""
    if not folder.is_dir():
        return
    for item in folder.iterdir():
        if not (keep_log and item.name == KEEP):
            _remove(item)


def _remove(item: Path) -> None:
    """Remove a file, a link (not what it points to) or a folder with what it holds."""
    if item.is_dir() and not item.is_symlink():
        shutil.rmtree(item, ignore_errors=True)
    else:
        item.unlink(missing_ok=True)


def is_partial(path: Path) -> bool:
    """A temporary file or folder of an output or upload still being written (see
    moviola.media.atomic and the upload route): hidden, with ``.part`` in its name."""
    return path.name.startswith(".") and ".part" in path.name


def sweep_partials(data_dir: Path) -> list[Path]:
    """Remove partial files left in the data folder by processes that were killed (call it
    when no worker runs); returns what was removed."""
    removed = []
    folders = [data_dir / "uploads", *sorted((data_dir / "jobs").glob("*/"))]
    for folder in folders:
        if not folder.is_dir() or folder.is_symlink():
            continue
        for item in folder.iterdir():
            if is_partial(item):
                _remove(item)
                removed.append(item)
    return removed


def worker_of(pid: int, job_id: str) -> bool:
    """Whether ``pid`` is a live studio worker running ``job_id`` (read from /proc; False where
    that cannot be told, so that no other process is ever signalled)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return WORKER_MODULE.encode() in argv and job_id.encode() in argv


def _kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal a worker and whatever it started (it leads its own process group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class JobRunner:
    """Keeps at most ``workers`` worker processes running, oldest queued job first."""

    def __init__(self, store: JobStore, data_dir: Path, workers: int = 1) -> None:
        self.store = store
        self.data_dir = Path(data_dir).resolve()
        self.workers = max(1, workers)
        self.kill_after = KILL_AFTER
        self.procs: dict[str, subprocess.Popen] = {}
        self._attempts: dict[str, int] = {}  # a job's attempts before its current worker
        self._cancel_seen: dict[str, float] = {}  # when a running job's cancel was first seen
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> list[str]:
        """End workers a previous server left behind, mark their jobs interrupted, remove
        partial files, then start taking jobs; returns the interrupted jobs."""
        self._end_orphans(self.store.running())
        interrupted = self.store.mark_interrupted()
        for path in sweep_partials(self.data_dir):
            log.warning("studio: removed the partial file %s", path)
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
                _kill_group(proc.pid)
                proc.wait()
            self._reap(job_id, proc)
        if self._thread is not None:
            self._thread.join(timeout)

    def _end_orphans(self, jobs: list[dict]) -> None:
        """Workers of ``jobs`` still alive (their server died): SIGTERM, then SIGKILL after
        KILL_AFTER seconds. A worker notices its parent is gone by itself; this ends one stuck
        in a long call."""
        left = [(j["id"], j["pid"]) for j in jobs if j["pid"] and worker_of(j["pid"], j["id"])]
        for _, pid in left:
            _kill_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.kill_after
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = [(job_id, pid) for job_id, pid in left if worker_of(pid, job_id)]
        for job_id, pid in left:
            log.warning(
                "studio: killed the worker %s of job %s left by a previous run", pid, job_id
            )
            _kill_group(pid)

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
                if proc.poll() is None and not self._overdue(job_id, proc):
                    continue
                self._reap(job_id, proc)
                del self.procs[job_id]
                self._attempts.pop(job_id, None)
                self._cancel_seen.pop(job_id, None)
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

    def _overdue(self, job_id: str, proc: subprocess.Popen) -> bool:
        """Kill the worker of a job cancelled more than ``kill_after`` seconds ago; True when
        it was killed (the job is then recorded as cancelled)."""
        job = self.store.get(job_id)
        if job is None or not job["cancel"] or job["status"] != "running":
            return False
        seen = self._cancel_seen.setdefault(job_id, time.monotonic())
        if time.monotonic() - seen < self.kill_after:
            return False
        log.warning(
            "studio: job %s did not stop %g s after cancel: killed", job_id, self.kill_after
        )
        _kill_group(proc.pid)
        proc.wait()
        return True

    def _spawn(self, job_id: str) -> subprocess.Popen:
        job_dir = self.data_dir / "jobs" / job_id
        job_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        # The worker imports the same moviola as this process, wherever that came from.
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        with open(job_dir / KEEP, "ab") as logfile:
            return subprocess.Popen(
                [
                    sys.executable,
                    "-P",  # nothing importable from its working folder
                    "-m",
                    WORKER_MODULE,
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
                # Its own folder: a relative name an effect opens never reaches the server's.
                cwd=job_dir,
                start_new_session=True,  # Ctrl-C in the server's terminal goes to the server
            )

    def _reap(self, job_id: str, proc: subprocess.Popen) -> None:
        """Record how a job ended when its worker could not (it crashed, or was killed), and
        remove its partial output."""
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
        clear_folder(self.data_dir / "jobs" / job_id)
        if job["cancel"]:
            self.store.finish(
                job_id,
                "cancelled",
                error=f"cancelled by the user (the worker was stopped, code {proc.returncode})",
            )
            return
        tail = ""
        log_path = self.data_dir / "jobs" / job_id / KEEP
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
