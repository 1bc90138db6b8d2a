"""The editing view: what this install can do, a finished job's shot list and its exports (EDL,
OTIO, FCPXML, CSV...), and search over the described shots."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from moviola.studio import editing
from moviola.studio.routes.common import ApiError, finished_job, json_body
from moviola.studio.state import studio_state


async def editing_status(request: Request) -> Response:
    return JSONResponse(editing.available())


async def editing_search(request: Request) -> Response:
    state = studio_state(request)
    data = await json_body(request)
    query = str(data.get("query") or "").strip()
    if not query:
        raise ApiError("type something to search for")
    results = await run_in_threadpool(
        editing.search,
        query,
        state.data_dir,
        state.roots,
        int(data.get("limit") or 20),
        {k: v for k, v in (data.get("filters") or {}).items() if v not in (None, "")},
    )
    return JSONResponse({"query": query, "results": results})


async def job_shots(request: Request) -> Response:
    job = finished_job(request, "shots", "no shots for this job")
    path = studio_state(request).job_dir(job["id"]) / "shots.json"
    if not path.is_file():
        raise ApiError("the shot list is gone", 404)
    data = json.loads(path.read_text())
    data["input"] = data["source"] = job["spec"]["input"]  # a media id, not a server path
    return JSONResponse(data)


async def job_export(request: Request) -> Response:
    job = finished_job(request, "shots", "export needs a finished shot list")
    fmt = request.query_params.get("format", "csv")
    out_dir = studio_state(request).job_dir(job["id"])
    path = await run_in_threadpool(
        editing.export, out_dir / "shots.json", Path(job["spec"]["input_path"]), fmt, out_dir
    )
    return FileResponse(
        path,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(path.name)}"},
    )


ROUTES = [
    Route("/api/editing", editing_status),
    Route("/api/editing/search", editing_search, methods=["POST"]),
    Route("/api/jobs/{job_id:str}/shots", job_shots),
    Route("/api/jobs/{job_id:str}/export", job_export),
]
