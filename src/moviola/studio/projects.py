"""Projects and batches: a project groups assets, jobs and exports under a name
(``DATA/projects.json``, written to a temporary file and renamed); a batch runs one effect chain
over several assets, one job each, all checked before any is queued."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError
from moviola.studio.paths import AUDIO_EXTENSIONS, PathRefused
from moviola.studio.records import read_records, write_records
from moviola.studio.state import StudioState

FILE = "projects.json"
MAX_NAME = 60
MAX_BATCH = 50
_LOCK = threading.Lock()  # one change at a time (the server's threads share the file)


def _read(data_dir: Path) -> dict[str, dict]:
    return read_records(data_dir, FILE, "projects")


def _write(data_dir: Path, projects: dict[str, dict]) -> None:
    write_records(data_dir, FILE, "projects", projects)


def check_name(name: Any) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise MoviolaError("name: a project needs a name")
    if len(text) > MAX_NAME:
        raise MoviolaError(f"name: at most {MAX_NAME} characters")
    if "/" in text or not text.isprintable():
        raise MoviolaError("name: letters, digits, spaces and punctuation other than /")
    return text


def _shown(state: StudioState, project: dict) -> dict:
    """A project as the page sees it: what was deleted since is left out."""
    jobs = [j for j in project.get("jobs") or [] if state.store.get(j) is not None]
    kept = []
    for media_id in project.get("assets") or []:
        try:
            if state.roots.resolve(media_id).is_file():
                kept.append(media_id)
        except PathRefused:
            continue
    return {**project, "assets": kept, "jobs": jobs}


def list_projects(state: StudioState) -> list[dict]:
    projects = _read(state.data_dir)
    return [_shown(state, projects[k]) for k in sorted(projects, key=str.lower)]


def get(state: StudioState, name: str) -> dict:
    project = _read(state.data_dir).get(name)
    if project is None:
        raise MoviolaError(f"no project named {name!r}")
    return _shown(state, project)


def create(state: StudioState, name: Any) -> dict:
    name = check_name(name)
    with _LOCK:
        projects = _read(state.data_dir)
        if name in projects:
            raise MoviolaError(f"name: there is a project named {name!r} already")
        projects[name] = {"name": name, "assets": [], "jobs": [], "created": time.time()}
        _write(state.data_dir, projects)
    return projects[name]


def delete(state: StudioState, name: str) -> None:
    """Forget a project (its assets and jobs stay)."""
    with _LOCK:
        projects = _read(state.data_dir)
        if projects.pop(name, None) is None:
            raise MoviolaError(f"no project named {name!r}")
        _write(state.data_dir, projects)


def change(
    state: StudioState, name: Any, *, assets: Any = (), jobs: Any = (), remove: bool = False
) -> dict:
    """Add (or ``remove``) assets (media ids inside the studio's folders) and jobs."""
    assets, jobs = list(assets or []), list(jobs or [])
    if not all(isinstance(x, str) for x in assets + jobs):
        raise MoviolaError("assets and jobs are lists of ids")
    if not remove:
        for media_id in assets:
            state.roots.resolve(media_id)  # PathRefused (403/404) outside the folders
        for job_id in jobs:
            if state.store.get(job_id) is None:
                raise MoviolaError(f"no job {job_id}")
    with _LOCK:
        projects = _read(state.data_dir)
        project = projects.get(str(name))
        if project is None:
            raise MoviolaError(f"no project named {name!r}")
        for key, ids in (("assets", assets), ("jobs", jobs)):
            have = list(project.get(key) or [])
            if remove:
                have = [x for x in have if x not in ids]
            else:
                have += [x for x in ids if x not in have]
            project[key] = have
        _write(state.data_dir, projects)
    return _shown(state, project)


def add_job(state: StudioState, name: Any, job_id: str) -> None:
    """File a new job under the project ``name`` (when given)."""
    if name:
        change(state, name, jobs=[job_id])


def checked_project(state: StudioState, name: Any) -> str | None:
    """The project a request names (None: none), refused before any job is made if unknown."""
    if not name:
        return None
    if str(name) not in _read(state.data_dir):
        raise MoviolaError(f"no project named {name!r}")
    return str(name)


def batch_specs(state: StudioState, data: dict, duration) -> list[tuple[str, dict, str]]:
    """(input, spec, title) of each job of a batch: the same chain and output options over
    ``data["inputs"]``, every one checked before any job is made; a problem names its input.
    ``duration(path)``: a clip's length in seconds (or None)."""
    from moviola.studio import specs

    inputs = data.get("inputs")
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
        raise MoviolaError("choose one or more assets for the batch")
    if len(inputs) > MAX_BATCH:
        raise MoviolaError(f"at most {MAX_BATCH} assets in a batch")
    out = []
    for media_id in dict.fromkeys(inputs):  # each once, in order
        path = state.roots.resolve(media_id)
        if path.suffix.lower() in AUDIO_EXTENSIONS:
            raise MoviolaError(f"{media_id}: a sound has no picture for the effects")
        one = {**data, "input": media_id}
        try:
            spec = specs.effects_spec(one, path, state.roots)
            specs.check_start(spec, duration(path))
        except PathRefused:
            raise
        except MoviolaError as exc:
            raise MoviolaError(f"{media_id}: {exc}") from None
        out.append((media_id, spec, specs.effects_title(spec, path)))
    batch = uuid.uuid4().hex[:8]
    for _, spec, _ in out:
        spec["batch"] = batch
    return out
