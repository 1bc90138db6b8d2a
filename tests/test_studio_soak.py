"""A soak test of the studio's job runner (issue 18): 50 short jobs on two workers, some
cancelled while queued or running, some whose worker is killed, and the server itself killed
half way and started again. Afterwards every job has ended in a state that matches what was
done to it, the job list agrees with each job's own record, no worker is left running, and no
partial file is left anywhere in the data folder.

Bounded: the clips are a fraction of a second at 64x48, and the whole test takes about a
minute on two cores.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed")
pytest.importorskip("uvicorn", reason="the studio extra is not installed")

from studio_server import Studio, partial_files, stall_plugin, worker_pids  # noqa: E402

from moviola.media import synth  # noqa: E402
from moviola.studio.store import JobStore  # noqa: E402

JOBS = 50
ENDED = ("done", "failed", "cancelled", "interrupted")


def _effects(i: int) -> list[dict]:
    """Mostly quick jobs; every fourth one stalls long enough to be cancelled or killed."""
    if i % 4 == 3:
        return [{"name": "stall", "params": {"seconds": 0.4, "at": 0}}]
    return [{"name": "resize", "params": {"width": 32 + 2 * (i % 5)}}]


def _submit(server, i: int) -> str:
    body = {"input": "media/short.mp4", "effects": _effects(i)}
    return server.json("POST", "/api/jobs", body, expect=201)["id"]


def _wait_running(server, job_id: str, timeout: float = 60) -> int | None:
    """The worker pid of ``job_id`` once it runs; None when it ended first."""
    store = JobStore(server.data / "studio.db")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = store.get(job_id)
        assert job is not None
        if job["status"] == "running" and job["pid"]:
            return job["pid"]
        if job["status"] in ENDED:
            return None
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never ran")


def _wait_all(server, ids, timeout: float) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = {j["id"]: j for j in server.json("GET", "/api/jobs")["jobs"]}
        pending = [i for i in ids if jobs[i]["status"] not in ENDED]
        if not pending:
            return jobs
        assert time.monotonic() < deadline, [jobs[i]["status"] for i in pending]
        time.sleep(0.25)


@pytest.mark.slow
def test_fifty_jobs_cancelled_killed_and_a_server_crash(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    synth.make_clip(media / "short.mp4", width=64, height=48, duration=0.4, flashes=())
    data = tmp_path / "data"
    env = stall_plugin(tmp_path / "plugin")
    started = time.monotonic()
    cancelled: set[str] = set()  # asked to cancel: must end cancelled (or done, if it won)
    killed: set[str] = set()  # worker killed: must end failed (its output removed)
    ids: list[str] = []

    server = Studio(data, [media], env=env, extra=["--workers", "2"]).start()
    try:
        ids += [_submit(server, i) for i in range(30)]
        # Cancel some while they are still queued, at the back of the queue.
        for job_id in ids[24:28]:
            server.json("POST", f"/api/jobs/{job_id}/cancel")
            cancelled.add(job_id)
        # Cancel three stalling jobs and kill the workers of three others while they run.
        for n, job_id in enumerate(j for i, j in enumerate(ids[:24]) if i % 4 == 3):
            pid = _wait_running(server, job_id)
            if pid is None:
                continue
            if n % 2 == 0:
                server.json("POST", f"/api/jobs/{job_id}/cancel")
                cancelled.add(job_id)
            else:
                os.killpg(pid, signal.SIGKILL)
                killed.add(job_id)
        # Then the server dies (SIGKILL: nothing of it runs) while a long job runs (1 s a
        # frame: it cannot end before the next server starts).
        long = {
            "input": "media/short.mp4",
            "effects": [{"name": "stall", "params": {"seconds": 1.0, "at": 0}}],
        }
        stalling = server.json("POST", "/api/jobs", long, expect=201)["id"]
        ids += [stalling] + [_submit(server, i) for i in range(31, JOBS)]
        assert _wait_running(server, stalling) is not None
        server.stop(signal.SIGKILL)
    finally:
        server.stop()

    # The workers of the dead server may still be running: the next server ends them.
    server = Studio(data, [media], env=env, extra=["--workers", "2"]).start()
    try:
        jobs = _wait_all(server, ids, timeout=240)
        assert len(jobs) == JOBS and set(jobs) == set(ids)
        for i, job_id in enumerate(ids):
            job = jobs[job_id]
            # The list and the job's own record agree.
            assert server.json("GET", f"/api/jobs/{job_id}")["status"] == job["status"]
            if job_id == stalling:
                assert job["status"] == "interrupted", job
            elif job_id in killed:
                assert job["status"] == "failed" and "code -9" in job["error"], job
            elif job_id in cancelled:
                assert job["status"] in ("cancelled", "done"), job
            else:
                # done, or interrupted: a job the other worker ran when the server died
                assert job["status"] == "done" or job["status"] == "interrupted" and i >= 30, job
            folder = data / "jobs" / job_id
            if job["status"] == "done":
                assert (folder / job["result"]["output"]).stat().st_size > 0, job
            else:
                # Nothing but the worker's log is left of a job that did not finish.
                names = {p.name for p in folder.iterdir()} if folder.exists() else set()
                assert names <= {"worker.log"}, (job, names)
        ends = [jobs[j]["status"] for j in ids]
        print(f"\nsoak: {len(cancelled)} cancelled, {len(killed)} killed; ends")
        print({s: ends.count(s) for s in ENDED})
        assert sum(jobs[j]["status"] == "cancelled" for j in cancelled) >= 4
        assert len(killed) >= 2
        # An interrupted job can be run again, to the end.
        again = server.json("POST", f"/api/jobs/{stalling}/retry", expect=None)
        assert again is not None
        assert server.wait_job(stalling, timeout=60)["status"] == "done"
    finally:
        code = server.stop()
    assert code in (0, 130)  # 130: stopped by SIGINT, as a Ctrl-C would
    assert not worker_pids(data), "a worker outlived its server"
    assert not partial_files(data)
    assert time.monotonic() - started < 200
