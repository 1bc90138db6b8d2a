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
from pathlib import Path

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
        media: list[Path] = (),
        *,
        token: str | None = None,
        extra: list[str] = (),
        port: int | None = None,
    ) -> None:
        self.data, self.media, self.token = Path(data), list(media), token
        self.port = port or free_port()
        self.extra = list(extra)
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
        self.log = open(self.data.parent / f"studio-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=self.log, env=env)
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

    def json(self, method: str, path: str, body=None, *, expect: int | None = 200, **kw):
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
        while time.monotonic() < deadline:
            job = self.json("GET", f"/api/jobs/{job_id}")
            if job["status"] in statuses:
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")

    def __enter__(self) -> Studio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
