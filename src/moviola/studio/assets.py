"""The asset library: every clip, photo and sound the studio can use (uploads, the media
folders, and every job's result, ``results/JOB/FILE``), sorted and filtered, with each result's
lineage (the job that made it and the assets it was made from), and deleting what the studio
itself wrote (uploads and results; never a file of the user's media folders)."""

from __future__ import annotations

from typing import Any

from moviola.errors import MoviolaError
from moviola.studio.paths import MEDIA_EXTENSIONS, PathRefused
from moviola.studio.state import StudioState
from moviola.studio.store import FINISHED

SORTS = ("date", "name", "kind")
KINDS = ("clip", "photo", "audio")
ORIGINS = {"uploads": "upload", "results": "result"}  # any other root: "media"
MAX_DEPTH = 32  # steps of lineage followed back (a result of a result of ...)


def _kind(item: dict) -> str:
    return "photo" if item["image"] else "audio" if item["audio"] else "clip"


def _job_of(media_id: str) -> str | None:
    root, _, rest = media_id.partition("/")
    return rest.split("/", 1)[0] if root == "results" and "/" in rest else None


def _sources(state: StudioState, job: dict) -> list[str]:
    """The media ids a job was made from: its input, then any file its settings name (a
    background, a face, a reference), in order, each once."""
    spec = job["spec"] if isinstance(job["spec"], dict) else {}
    found = [spec.get("input"), spec.get("before")]
    for effect in spec.get("effects") or []:
        shown = (effect.get("shown") or {}) if isinstance(effect, dict) else {}
        for value in shown.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and "=" in item:  # a keyframe: FRAME=IMAGE
                    item = item.split("=", 1)[1].strip()
                found.append(item)
    roots = set(state.roots.roots)
    out: list[str] = []
    for item in found:
        if not isinstance(item, str) or "/" not in item or item in out:
            continue
        if item.partition("/")[0] in roots:
            out.append(item)
    return out


def _made_by(state: StudioState, job: dict | None) -> dict | None:
    if job is None:
        return None
    return {
        "job": job["id"],
        "kind": job["kind"],
        "title": job["title"],
        "from": _sources(state, job),
        "finished": job["finished"],
    }


def library(
    state: StudioState, sort: str = "date", kind: str = "", text: str = "", project: str = ""
) -> list[dict]:
    """Every asset: ``{"id", "name", "kind" (clip, photo, audio), "origin" (upload, media,
    result), "size", "mtime", "deletable", "made_by"}``, sorted by ``sort`` (date: newest
    first; name; kind, then name) and kept when of ``kind`` (empty: any) and when ``text``
    (case ignored) is in its name or the title of the job that made it; with ``project``, only
    the project's assets and the results of its jobs."""
    if sort not in SORTS:
        raise MoviolaError(f"sort by {', '.join(SORTS)}")
    if kind and kind not in KINDS:
        raise MoviolaError(f"kind is one of {', '.join(KINDS)}")
    jobs = {j["id"]: j for j in state.store.list(limit=5000)}
    needle = str(text or "").strip().casefold()
    grouped = None
    if project:
        from moviola.studio import projects

        chosen = projects.get(state, project)
        grouped = (set(chosen["assets"]), set(chosen["jobs"]))
    out = []
    for item in state.roots.listing(limit=5000):
        job_id = _job_of(item["id"])
        job = jobs.get(job_id) if job_id else None
        if job_id and (job is None or job["status"] != "done"):
            continue  # a result is an asset once its job is done (and while it exists)
        asset = {
            **item,
            "kind": _kind(item),
            "origin": ORIGINS.get(item["root"], "media"),
            "made_by": _made_by(state, job),
        }
        asset["deletable"] = asset["origin"] != "media"
        if kind and asset["kind"] != kind:
            continue
        if grouped is not None and item["id"] not in grouped[0] and job_id not in grouped[1]:
            continue
        title = (job or {}).get("title") or ""
        if needle and needle not in item["name"].casefold() and needle not in title.casefold():
            continue
        out.append(asset)
    if sort == "name":
        out.sort(key=lambda a: (a["name"].casefold(), a["id"]))
    elif sort == "kind":
        out.sort(key=lambda a: (KINDS.index(a["kind"]), a["name"].casefold(), a["id"]))
    else:
        out.sort(key=lambda a: (-a["mtime"], a["id"]))
    return out


def details(state: StudioState, media_id: str) -> dict[str, Any]:
    """One asset with its whole lineage: ``lineage`` lists, from the asset back to the
    footage it came from, each result and the job that made it."""
    path = state.roots.resolve(media_id)
    if not path.is_file():
        raise PathRefused(f"no such file: {media_id}", missing=True)
    stat = path.stat()
    lineage: list[dict] = []
    todo, seen = [media_id], set()
    while todo and len(lineage) < MAX_DEPTH:
        current = todo.pop(0)
        job_id = _job_of(current)
        if job_id is None or current in seen:
            continue
        seen.add(current)
        made = _made_by(state, state.store.get(job_id))
        if made is None:
            lineage.append({"asset": current, "job": job_id, "title": "(a deleted job)"})
            continue
        lineage.append({"asset": current, **made})
        todo.extend(made["from"])
    root = media_id.partition("/")[0]
    return {
        "id": media_id,
        "name": path.name,
        "size": stat.st_size,
        "mtime": stat.st_mtime,
        "origin": ORIGINS.get(root, "media"),
        "deletable": root in ORIGINS,
        "lineage": lineage,
    }


def delete(state: StudioState, media_id: str) -> dict:
    """Delete an upload (its file) or a result (the job that made it, with its folder). Files
    of the media folders are refused (403), whatever the id says."""
    root = str(media_id).partition("/")[0]
    if root not in ORIGINS:
        raise PathRefused("files of your media folders are never deleted by the studio")
    path = state.roots.resolve(media_id)  # confined to its root, symlinks followed
    if not path.is_file():
        raise PathRefused(f"no such file: {media_id}", missing=True)
    name = str(media_id).rsplit("/", 1)[-1]
    if name.startswith(".") or path.suffix.lower() not in MEDIA_EXTENSIONS:
        raise PathRefused(f"not an asset: {media_id}")
    job_id = _job_of(media_id)
    if job_id is None:
        path.unlink()
        return {"deleted": media_id, "job": None}
    job = state.store.get(job_id)
    if job is not None and job["status"] not in FINISHED:
        raise MoviolaError("the job making this result is still running: cancel it first")
    if job is None:
        path.unlink()
    else:
        state.remove_job(job_id)
    return {"deleted": media_id, "job": job_id}
