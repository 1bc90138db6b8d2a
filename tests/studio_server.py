"""Starts `moviola studio` in its own process for the studio's tests, and talks to it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

START = "import sys; from moviola.cli import main; sys.exit(main())"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Studio:
    """One studio server process; ``request`` sends raw HTTP (paths are not normalized)."""

    def __init__(
        self,
        data: Path,
        media: Sequence[Path] = (),
        *,
        token: str | None = None,
        extra: Sequence[str] = (),
        port: int | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """``env``: variables added to the server's environment (its workers inherit them);
        ``cwd``: the server's working folder."""
        self.data, self.media, self.token = Path(data), list(media), token
        self.port = port or free_port()
        self.extra = list(extra)
        self.env, self.cwd = dict(env or {}), cwd
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-c",
            START,
            "studio",
            "--port",
            str(self.port),
            "--data",
            str(self.data),
        ]
        for m in self.media:
            cmd += ["--media", str(m)]
        if self.token:
            cmd += ["--token", self.token]
        return cmd + self.extra

    def start(self, timeout: float = 30) -> Studio:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOVIOLA_STUDIO")}
        env.update(self.env)
        self.log = open(self.data.parent / f"studio-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.command(), stdout=self.log, stderr=self.log, env=env, cwd=self.cwd
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the studio exited with {self.proc.returncode}: {self.log_text()}"
                )
            try:
                status, _, _ = self.request("GET", "/api/health", auth=True)
                if status in (200, 401):
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the studio did not answer in {timeout} s: {self.log_text()}")

    def log_text(self) -> str:
        path = self.data.parent / f"studio-{self.port}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        code, self.proc = self.proc.returncode, None
        return code

    def request(
        self,
        method: str,
        path: str,
        body: bytes | dict | None = None,
        *,
        headers: dict | None = None,
        auth: bool = True,
        timeout: float = 60,
    ):
        """(status, headers, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        hdrs = dict(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if auth and self.token:
            hdrs.setdefault("Authorization", f"Bearer {self.token}")
        try:
            conn.request(method, path, body=body, headers=hdrs)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def json(self, method: str, path: str, body=None, *, expect: int | None = 200, **kw) -> Any:
        status, _, data = self.request(method, path, body, **kw)
        out = json.loads(data) if data else None
        if expect is not None:
            assert status == expect, (status, out)
        return out

    def wait_job(
        self,
        job_id: str,
        statuses=("done", "failed", "cancelled", "interrupted"),
        timeout: float = 120,
    ) -> dict:
        deadline = time.monotonic() + timeout
        job: dict = {}
        while time.monotonic() < deadline:
            job = self.json("GET", f"/api/jobs/{job_id}") or {}
            if job.get("status") in statuses:
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} still {job.get('status')} after {timeout} s")

    def __enter__(self) -> Studio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


STALL_PLUGIN = '''"""A test effect: from frame ``at`` on, each frame takes ``seconds`` in one call that looks at
no cancel flag (a model call that does not return)."""

import time

from moviola.pipeline import Effect, Param


class Stall(Effect):
    name = "stall"
    summary = "test: a model call that takes a while"
    params = (
        Param("seconds", float, 60.0, "how long each call takes", min=0, max=600),
        Param("at", int, 3, "the first frame that takes that long", min=0),
    )
    seconds: float
    at: int

    def process(self, frame):
        if frame.index >= self.at:
            time.sleep(self.seconds)
        return frame
'''


def stall_plugin(folder: Path) -> dict[str, str]:
    """Installs the ``stall`` effect as a plugin (entry point group ``moviola.effects``) in
    ``folder``; returns the environment that makes a studio and its workers see it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "moviola_stall_test.py").write_text(STALL_PLUGIN)
    info = folder / "moviola_stall_test-0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: moviola-stall-test\nVersion: 0\n")
    (info / "entry_points.txt").write_text("[moviola.effects]\nstall = moviola_stall_test:Stall\n")
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path}


def worker_pids(data: Path) -> list[int]:
    """Live studio worker processes serving the data folder ``data`` (from /proc)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"moviola.studio.worker" in argv and str(Path(data).resolve()).encode() in argv:
            found.append(int(entry.name))
    return found


def partial_files(data: Path) -> list[Path]:
    """Temporary files of outputs or uploads still in ``data`` (hidden, ``.part`` in the name)."""
    from moviola.studio.jobs import is_partial

    return [p for p in Path(data).rglob("*") if is_partial(p)]
