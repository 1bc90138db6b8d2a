"""Jobs in one SQLite file (WAL mode), shared by the web server and its worker processes.

The server creates and lists jobs; a worker process (``python -m moviola.studio.worker``) claims
one, writes its progress, and records how it ended. A job's status is one of STATUSES; a job
that was running when the server stopped is marked ``interrupted`` at the next start.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import time
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError

STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
FINISHED = ("done", "failed", "cancelled", "interrupted")
log = logging.getLogger("moviola")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,            -- "effects", "shots", "transcript" or "score"
    status TEXT NOT NULL,
    spec TEXT NOT NULL,            -- JSON: input, effects, preview range, output format...
    title TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    updated REAL NOT NULL,
    progress TEXT,                 -- JSON: frames, total, fps, eta, fraction, elapsed
    result TEXT,                   -- JSON: output file, frames, size, timeline...
    error TEXT,
    cancel INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    pid INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_updated ON jobs(updated);
"""


class JobStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout=30000")
        return db

    def _exec(self, sql: str, args: tuple = ()) -> int:
        with closing(self._connect()) as db:
            return db.execute(sql, args).rowcount

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with closing(self._connect()) as db:
            return db.execute(sql, args).fetchall()

    # -- creating and reading ---------------------------------------------------------------
    def create(self, kind: str, spec: dict, title: str = "") -> dict:
        """A new queued job; MoviolaError, before anything is stored, when ``spec`` is not
        plain JSON (a NaN or infinite number, an object JSON cannot hold)."""
        try:
            text = json.dumps(spec, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise MoviolaError(f"the job's settings cannot be stored: {exc}") from None
        job_id = uuid.uuid4().hex[:12]
        now = time.time()
        self._exec(
            "INSERT INTO jobs (id, kind, status, spec, title, created, updated) "
            "VALUES (?, ?, 'queued', ?, ?, ?, ?)",
            (job_id, kind, text, title, now, now),
        )
        job = self.get(job_id)
        if job is None:  # another process deleted it at once
            raise MoviolaError(f"job {job_id} vanished as it was created")
        return job

    def get(self, job_id: str) -> dict | None:
        rows = self._query("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _row(rows[0]) if rows else None

    def list(self, limit: int = 200, since: float | None = None) -> list[dict]:
        if since is None:
            rows = self._query("SELECT * FROM jobs ORDER BY created DESC LIMIT ?", (limit,))
        else:
            rows = self._query("SELECT * FROM jobs WHERE updated > ? ORDER BY updated", (since,))
        return [_row(r) for r in rows]

    def queued(self) -> list[dict]:
        return [
            _row(r)
            for r in self._query("SELECT * FROM jobs WHERE status = 'queued' ORDER BY created")
        ]

    def running(self) -> list[dict]:
        return [_row(r) for r in self._query("SELECT * FROM jobs WHERE status = 'running'")]

    def delete(self, job_id: str) -> bool:
        return self._exec("DELETE FROM jobs WHERE id = ? AND status != 'running'", (job_id,)) > 0

    # -- state changes ----------------------------------------------------------------------
    def claim(self, job_id: str, pid: int) -> bool:
        """queued -> running, atomically; False if someone else has it or it was cancelled."""
        now = time.time()
        return (
            self._exec(
                "UPDATE jobs SET status='running', pid=?, started=?, updated=?, attempts=attempts+1,"
                " error=NULL, progress=NULL, result=NULL, finished=NULL "
                "WHERE id=? AND status='queued' AND cancel=0",
                (pid, now, now, job_id),
            )
            > 0
        )

    def progress(self, job_id: str, progress: dict) -> None:
        self._exec(
            "UPDATE jobs SET progress=?, updated=? WHERE id=? AND status='running'",
            (_dumps(progress), time.time(), job_id),
        )

    def finish(
        self,
        job_id: str,
        status: str,
        *,
        result: dict | None = None,
        error: str | None = None,
        progress: dict | None = None,
    ) -> None:
        assert status in FINISHED
        now = time.time()
        sets = "status=?, finished=?, updated=?, error=?, result=?, pid=NULL"
        args: list[Any] = [status, now, now, error, _dumps(result) if result else None]
        if progress is not None:
            sets += ", progress=?"
            args.append(_dumps(progress))
        self._exec(f"UPDATE jobs SET {sets} WHERE id=?", (*args, job_id))

    def request_cancel(self, job_id: str) -> dict | None:
        """Queued jobs are cancelled at once; running ones are flagged for their worker."""
        now = time.time()
        self._exec(
            "UPDATE jobs SET status='cancelled', finished=?, updated=?, cancel=1 "
            "WHERE id=? AND status='queued'",
            (now, now, job_id),
        )
        self._exec(
            "UPDATE jobs SET cancel=1, updated=? WHERE id=? AND status='running'", (now, job_id)
        )
        return self.get(job_id)

    def cancel_requested(self, job_id: str) -> bool:
        rows = self._query("SELECT cancel FROM jobs WHERE id=?", (job_id,))
        return bool(rows and rows[0]["cancel"])

    def requeue(self, job_id: str) -> bool:
        """A finished job (failed, cancelled, interrupted or done) is queued again."""
        now = time.time()
        return (
            self._exec(
                "UPDATE jobs SET status='queued', cancel=0, error=NULL, progress=NULL, result=NULL,"
                " started=NULL, finished=NULL, updated=? WHERE id=? AND status IN "
                "('done','failed','cancelled','interrupted')",
                (now, job_id),
            )
            > 0
        )

    def mark_interrupted(self) -> list[str]:
        """At server start: jobs left 'running' by a previous server were interrupted."""
        rows = self._query("SELECT id FROM jobs WHERE status='running'")
        now = time.time()
        for r in rows:
            self._exec(
                "UPDATE jobs SET status='interrupted', finished=?, updated=?, pid=NULL, "
                "error=COALESCE(error, 'the studio stopped while this job ran') "
                "WHERE id=? AND status='running'",
                (now, now, r["id"]),
            )
        return [r["id"] for r in rows]


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite number made None (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def _dumps(value: Any) -> str:
    """What a worker reports, as JSON: a NaN or infinite number (say, a rate of a clip with no
    frames) is stored as null, so the record stays readable."""
    return json.dumps(finite(value), default=str)


def _loads(text: str | None, job_id: str, key: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        log.warning("studio: job %s has an unreadable %s; shown as empty", job_id, key)
        return None


def _row(row: sqlite3.Row) -> dict:
    out = dict(row)
    for key in ("spec", "progress", "result"):
        out[key] = _loads(out[key], out["id"], key)
    out["cancel"] = bool(out["cancel"])
    return out
