"""What the studio's routes share: the settings, the data folder, the media folders, the job store
and the runner of worker processes. ``create_app`` builds one and puts it on ``app.state``;
a route reads it with ``studio_state(request)``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request

from moviola.studio.config import StudioConfig
from moviola.studio.jobs import JobRunner, clear_folder
from moviola.studio.paths import MediaRoots
from moviola.studio.store import JobStore


@dataclass
class StudioState:
    config: StudioConfig
    data_dir: Path  # real path
    roots: MediaRoots
    store: JobStore
    runner: JobRunner
    # Set to end the live streams at once (the server stopping).
    stopping: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.time)
    interrupted: list[str] = field(default_factory=list)  # jobs found running at start

    @classmethod
    def open(cls, config: StudioConfig) -> StudioState:
        """The data folder (created when missing), its job database and the media folders."""
        data_dir = Path(config.data).expanduser()
        data_dir.mkdir(parents=True, exist_ok=True)
        data_dir = data_dir.resolve()
        store = JobStore(data_dir / "studio.db")
        return cls(
            config=config,
            data_dir=data_dir,
            roots=MediaRoots(config.media, data_dir / "uploads", data_dir / "jobs"),
            store=store,
            runner=JobRunner(store, data_dir, workers=config.workers),
        )

    def job_dir(self, job_id: str) -> Path:
        return self.data_dir / "jobs" / job_id

    def remove_job(self, job_id: str) -> None:
        """Forget a job that is not running, and remove its folder with what it made."""
        self.store.request_cancel(job_id)
        self.store.delete(job_id)
        folder = self.job_dir(job_id)
        clear_folder(folder, keep_log=False)
        if folder.is_dir():
            folder.rmdir()


def studio_state(request: Request) -> StudioState:
    """The studio's shared state, from the app that answers ``request``."""
    return request.app.state.studio
