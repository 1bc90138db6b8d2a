"""The player's timeline of a clip (exact rate, shots, transcript), the asset library (clips,
photos, sounds and results with their lineage; delete) and the chain presets."""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moviola.studio import assets, presets, projects, timeline
from moviola.studio.routes.common import ApiError, json_body, public_job
from moviola.studio.state import studio_state


async def clip_timeline(request: Request) -> Response:
    state = studio_state(request)
    media_id = request.query_params.get("id", "")
    return JSONResponse(await run_in_threadpool(timeline.clip_timeline, state, media_id))


async def timeline_shots(request: Request) -> Response:
    from moviola.studio import editing

    state = studio_state(request)
    if not editing.available()["shots"]:
        raise ApiError(editing.available()["message"], 501)
    media_id = (await json_body(request)).get("id", "")
    job = await run_in_threadpool(timeline.find_shots, state, str(media_id))
    return JSONResponse(public_job(job), status_code=201)


async def asset_list(request: Request) -> Response:
    state = studio_state(request)
    q = request.query_params
    found = await run_in_threadpool(
        assets.library,
        state,
        q.get("sort", "date"),
        q.get("kind", ""),
        q.get("q", ""),
        q.get("project", ""),
    )
    return JSONResponse({"assets": found, "roots": state.roots.describe()})


async def asset_get(request: Request) -> Response:
    state = studio_state(request)
    media_id = request.query_params.get("id", "")
    return JSONResponse(await run_in_threadpool(assets.details, state, media_id))


async def asset_delete(request: Request) -> Response:
    state = studio_state(request)
    media_id = request.query_params.get("id", "")
    return JSONResponse(await run_in_threadpool(assets.delete, state, media_id))


async def preset_list(request: Request) -> Response:
    return JSONResponse({"presets": presets.load_all(studio_state(request).data_dir)})


async def preset_save(request: Request) -> Response:
    state = studio_state(request)
    data = await json_body(request)
    saved = await run_in_threadpool(presets.save, state, data.get("name"), data.get("effects"))
    return JSONResponse(saved, status_code=201)


async def preset_delete(request: Request) -> Response:
    state = studio_state(request)
    presets.delete(state.data_dir, request.path_params["name"])
    return JSONResponse({"deleted": request.path_params["name"]})


async def preset_export(request: Request) -> Response:
    state = studio_state(request)
    name = request.path_params["name"]
    text = presets.export_text(state.data_dir, name)
    filename = quote(f"{presets.file_stem(name)}.moviola-preset.json")
    return Response(
        text,
        media_type="application/json",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )


async def preset_import(request: Request) -> Response:
    state = studio_state(request)
    body = await request.body()
    if len(body) > presets.MAX_FILE:
        raise ApiError("the preset file is too large")
    saved = await run_in_threadpool(presets.import_text, state, body)
    return JSONResponse(saved, status_code=201)


async def project_list(request: Request) -> Response:
    state = studio_state(request)
    return JSONResponse({"projects": await run_in_threadpool(projects.list_projects, state)})


async def project_create(request: Request) -> Response:
    state = studio_state(request)
    name = (await json_body(request)).get("name")
    return JSONResponse(projects.create(state, name), status_code=201)


async def project_delete(request: Request) -> Response:
    projects.delete(studio_state(request), request.path_params["name"])
    return JSONResponse({"deleted": request.path_params["name"]})


async def project_change(request: Request) -> Response:
    state = studio_state(request)
    data = await json_body(request)
    remove = request.path_params["action"] == "remove"
    name = request.path_params["name"]
    changed = await run_in_threadpool(
        lambda: projects.change(
            state, name, assets=data.get("assets"), jobs=data.get("jobs"), remove=remove
        )
    )
    return JSONResponse(changed)


async def batch_create(request: Request) -> Response:
    """One effects job per chosen asset, the same chain and options, all checked first."""
    from moviola.studio.routes.jobs import _duration

    state = studio_state(request)
    data = await json_body(request)
    project = projects.checked_project(state, data.get("project"))
    made = await run_in_threadpool(projects.batch_specs, state, data, _duration)
    jobs = [state.store.create("effects", spec, title=title) for _, spec, title in made]
    for job in jobs:
        projects.add_job(state, project, job["id"])
    state.runner.wake()
    batch = made[0][1]["batch"]
    return JSONResponse({"batch": batch, "jobs": [public_job(j) for j in jobs]}, status_code=201)


ROUTES = [
    Route("/api/timeline", clip_timeline),
    Route("/api/timeline/shots", timeline_shots, methods=["POST"]),
    Route("/api/assets", asset_list),
    Route("/api/assets/item", asset_get, methods=["GET"]),
    Route("/api/assets/item", asset_delete, methods=["DELETE"]),
    Route("/api/presets", preset_list, methods=["GET"]),
    Route("/api/presets", preset_save, methods=["POST"]),
    Route("/api/presets/import", preset_import, methods=["POST"]),
    Route("/api/presets/{name:str}", preset_delete, methods=["DELETE"]),
    Route("/api/presets/{name:str}/export", preset_export),
    Route("/api/projects", project_list, methods=["GET"]),
    Route("/api/projects", project_create, methods=["POST"]),
    Route("/api/projects/{name:str}", project_delete, methods=["DELETE"]),
    Route("/api/projects/{name:str}/{action:str}", project_change, methods=["POST"]),
    Route("/api/batch", batch_create, methods=["POST"]),
]
