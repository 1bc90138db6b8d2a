"""The studio's web server: a Starlette app over the job store, the media folders and the
effect registry. Every route is under /api except the page itself and its static files."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import os
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from moviola._version import __version__
from moviola.errors import MoviolaError
from moviola.studio import editing
from moviola.studio.jobs import JobRunner
from moviola.studio.paths import (
    MEDIA_EXTENSIONS,
    MediaRoots,
    PathRefused,
    sanitize_filename,
    unique_path,
)
from moviola.studio.store import FINISHED, JobStore

log = logging.getLogger("moviola")
STATIC = Path(__file__).parent / "static"
OUTPUT_FORMATS = ("mp4", "mov", "mkv", "webm", "avi", "gif", "webp")
TOKEN_COOKIE = "moviola_token"
MAX_PREVIEW_SECONDS = 30.0
# Everything the page uses comes from this server; nothing may frame it or sniff types.
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        b"style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    ),
]


@dataclass
class StudioConfig:
    media: list[str] = field(default_factory=list)
    data: str = "studio-data"
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    max_upload_mb: float = 2048.0
    workers: int = 1

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_config(config: StudioConfig) -> None:
    """Refuse to serve beyond this machine without a token."""
    if not is_loopback(config.host) and not config.token:
        raise MoviolaError(
            f"--host {config.host} makes the studio reachable from other machines: give a "
            "--token (or set MOVIOLA_STUDIO_TOKEN); every request must then carry it"
        )
    if config.token is not None and len(config.token) < 8:
        raise MoviolaError("the token must have at least 8 characters")


# -- helpers ----------------------------------------------------------------------------------
def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _refused(exc: PathRefused) -> JSONResponse:
    return _error(str(exc), 404 if str(exc).startswith("no such file") else 403)


def _public_job(job: dict) -> dict:
    spec = dict(job["spec"] or {})
    for key in ("input_path",):
        spec.pop(key, None)
    effects = []
    for e in spec.get("effects") or []:
        effects.append({"name": e["name"], "params": e.get("shown") or e.get("params") or {}})
    if effects:
        spec["effects"] = effects
    out = {
        k: job[k]
        for k in (
            "id",
            "kind",
            "status",
            "title",
            "created",
            "started",
            "finished",
            "updated",
            "progress",
            "result",
            "error",
            "cancel",
            "attempts",
        )
    }
    out["spec"] = spec
    return out


async def _json_body(request: Request, limit: int = 256 * 1024) -> dict:
    body = await request.body()
    if len(body) > limit:
        raise MoviolaError("request too large")
    try:
        data = json.loads(body or b"{}")
    except json.JSONDecodeError:
        raise MoviolaError("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise MoviolaError("the request body must be a JSON object")
    return data


def _looks_like_path(value) -> bool:
    return isinstance(value, str) and ("/" in value or "\\" in value or value.startswith("~"))


def _effect_values(roots: MediaRoots, cls, params: dict) -> tuple[dict, dict]:
    """(values for the worker, values to show): media ids become real paths, only inside the
    media folders; empty values are left out (the effect's default applies)."""
    known = {p.name: p for p in cls.params}
    values, shown = {}, {}
    for key, value in (params or {}).items():
        param = known.get(key)
        if param is None:
            raise MoviolaError(f"{cls.name}: unknown parameter {key!r}")
        if value is None or value == "" or value == []:
            continue
        items = value if isinstance(value, list) else [value]
        if not param.multiple and len(items) != 1:
            raise MoviolaError(f"{cls.name}: {key} takes one value")
        out = []
        for item in items:
            if not isinstance(item, str | int | float | bool):
                raise MoviolaError(f"{cls.name}: {key}: unsupported value {item!r}")
            try:
                if param.type_name == "path":
                    item = str(roots.resolve(str(item)))
                elif param.type_name == "str" and _looks_like_path(item):
                    # Text that names files ("12=uploads/look.png" for a keyframe): each
                    # part that looks like a path must be a media id.
                    item = "=".join(
                        str(roots.resolve(part)) if _looks_like_path(part) else part
                        for part in item.split("=")
                    )
            except PathRefused as exc:
                raise MoviolaError(
                    f"{cls.name}: {key}: {exc} (files must come from the media folders)"
                ) from None
            out.append(item)
        values[key] = out if param.multiple else out[0]
        shown[key] = value
    return values, shown


# -- the app ----------------------------------------------------------------------------------
def create_app(config: StudioConfig) -> Starlette:
    check_config(config)
    data_dir = Path(config.data).expanduser()
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir = data_dir.resolve()
    roots = MediaRoots(config.media, data_dir / "uploads")
    store = JobStore(data_dir / "studio.db")
    runner = JobRunner(store, data_dir, workers=config.workers)
    state = {"interrupted": [], "started": time.time()}
    stopping = threading.Event()  # set by the server on Ctrl-C: live streams end at once

    @asynccontextmanager
    async def lifespan(app):
        state["interrupted"] = runner.start()
        try:
            yield
        finally:
            await run_in_threadpool(runner.stop)

    # -- basics ---------------------------------------------------------------------------
    async def index(request: Request) -> Response:
        response = FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})
        token = request.query_params.get("token")
        if config.token and token and hmac.compare_digest(token, config.token):
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response

    async def health(request: Request) -> Response:
        from moviola.pipeline import registry

        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "effects": len(registry.effects()),
                "jobs_running": len(runner.running()),
                "workers": runner.workers,
                "interrupted_at_start": state["interrupted"],
                "editing": editing.available()["shots"],
                "token_required": bool(config.token),
                "max_upload_bytes": config.max_upload_bytes,
            }
        )

    async def effects(request: Request) -> Response:
        from moviola.pipeline import registry

        described = [cls.describe() for cls in registry.effects().values()]
        return JSONResponse({"effects": described, "formats": list(OUTPUT_FORMATS)})

    # -- media ----------------------------------------------------------------------------
    async def media_list(request: Request) -> Response:
        files = await run_in_threadpool(roots.listing)
        return JSONResponse(
            {"roots": roots.describe(), "files": files, "extensions": sorted(MEDIA_EXTENSIONS)}
        )

    def _path(request: Request) -> Path:
        path = roots.resolve(request.query_params.get("id", ""))
        if not path.is_file():
            raise PathRefused(f"no such file: {request.query_params.get('id')}")
        return path

    async def media_probe(request: Request) -> Response:
        from moviola.media import probe

        try:
            path = _path(request)
        except PathRefused as exc:
            return _refused(exc)
        info = await run_in_threadpool(probe, path)
        out = info.to_dict()
        out["path"] = request.query_params["id"]
        return JSONResponse(out)

    async def media_file(request: Request) -> Response:
        try:
            path = _path(request)
        except PathRefused as exc:
            return _refused(exc)
        return FileResponse(path, headers={"Cache-Control": "no-cache"})

    async def media_frame(request: Request) -> Response:
        from moviola.studio.frames import frame_at

        try:
            path = _path(request)
        except PathRefused as exc:
            return _refused(exc)
        t = _float(request.query_params.get("t"), 0.0)
        width = int(_float(request.query_params.get("w"), 480))
        data = await run_in_threadpool(frame_at, path, t, width)
        return Response(
            data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"}
        )

    async def upload(request: Request) -> Response:
        from moviola.media import probe

        raw_name = request.query_params.get("name") or request.headers.get("x-filename") or ""
        name = sanitize_filename(raw_name)
        ext = os.path.splitext(name)[1].lower()
        if ext not in MEDIA_EXTENSIONS:
            return _error(
                f"file type {ext or '(none)'} is not accepted; use one of "
                f"{' '.join(sorted(MEDIA_EXTENSIONS))}",
                415,
            )
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > config.max_upload_bytes:
            return _error(f"file too large: the limit is {config.max_upload_mb:g} MB", 413)
        folder = roots.uploads.path
        part = folder / f".part-{os.urandom(6).hex()}{ext}"
        size = 0
        try:
            with open(part, "wb") as out:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > config.max_upload_bytes:
                        raise _TooLarge
                    out.write(chunk)
            if size == 0:
                return _error("the upload is empty", 400)
            try:
                info = await run_in_threadpool(probe, part)
            except MoviolaError:
                return _error(f"{name} is not a video or picture moviola can read", 415)
            if not info.video:
                return _error(f"{name} has no video stream", 415)
            target = unique_path(folder, name)
            os.replace(part, target)
        except _TooLarge:
            return _error(f"file too large: the limit is {config.max_upload_mb:g} MB", 413)
        finally:
            if part.exists():
                part.unlink()
        media_id = roots.media_id(target)
        return JSONResponse(
            {
                "id": media_id,
                "name": target.name,
                "size": size,
                "probe": {**info.to_dict(), "path": media_id},
            },
            status_code=201,
        )

    # -- jobs -----------------------------------------------------------------------------
    async def jobs_list(request: Request) -> Response:
        return JSONResponse({"jobs": [_public_job(j) for j in store.list()]})

    async def jobs_create(request: Request) -> Response:
        data = await _json_body(request)
        kind = data.get("kind", "effects")
        try:
            input_path = roots.resolve(str(data.get("input", "")))
        except PathRefused as exc:
            return _refused(exc)
        if not input_path.is_file():
            return _error("the input must be a file", 400)
        if kind == "shots":
            if not editing.available()["shots"]:
                return _error(editing.available()["message"], 501)
            spec = {
                "input": data["input"],
                "input_path": str(input_path),
                "method": data.get("method") or None,
                "describe": bool(data.get("describe")),
            }
            job = store.create("shots", spec, title=f"shots of {input_path.name}")
            runner.wake()
            return JSONResponse(_public_job(job), status_code=201)
        if kind != "effects":
            return _error(f"unknown job kind {kind!r}")
        spec = await run_in_threadpool(_effects_spec, data, input_path)
        names = "+".join(e["name"] for e in spec["effects"])
        title = f"{names} on {input_path.name}" + (" (preview)" if spec["preview"] else "")
        job = store.create("effects", spec, title=title)
        runner.wake()
        return JSONResponse(_public_job(job), status_code=201)

    def _effects_spec(data: dict, input_path: Path) -> dict:
        from moviola.media.time import parse_time
        from moviola.pipeline import registry

        chain = data.get("effects")
        if isinstance(data.get("effect"), str):
            chain = [{"name": data["effect"], "params": data.get("params") or {}}]
        if not isinstance(chain, list) or not chain:
            raise MoviolaError("choose at least one effect")
        if len(chain) > 16:
            raise MoviolaError("at most 16 effects in a chain")
        effects_out = []
        for item in chain:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise MoviolaError('each effect is {"name": ..., "params": {...}}')
            cls = registry.get(item["name"])
            values, shown = _effect_values(roots, cls, item.get("params") or {})
            cls(**values)  # checks every value now, so a mistake is answered at once
            effects_out.append({"name": cls.name, "params": values, "shown": shown})
        preview = data.get("preview")
        if preview:
            if not isinstance(preview, dict):
                preview = {}
            start = parse_time(preview.get("start") or 0) or 0
            if preview.get("end") not in (None, ""):
                end = parse_time(preview["end"])
            else:  # "length" seconds from the start (2 s unless given)
                end = start + (parse_time(preview.get("length") or 2) or 2)
            if end <= start:
                raise MoviolaError("the preview must end after it starts")
            if end - start > MAX_PREVIEW_SECONDS:
                raise MoviolaError(f"a preview is at most {MAX_PREVIEW_SECONDS:g} s long")
            preview = {"start": float(start), "end": float(end)}
        else:
            preview = None
        fmt = str(data.get("format") or "mp4").lower().lstrip(".")
        if fmt not in OUTPUT_FORMATS:
            raise MoviolaError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}")
        crf = data.get("crf")
        if crf not in (None, ""):
            crf = int(crf)
            if not 0 <= crf <= 63:
                raise MoviolaError("crf must be 0..63")
        else:
            crf = None
        stem = sanitize_filename(input_path.stem, 60).replace(".", "_")
        names = "-".join(e["name"] for e in effects_out)[:60]
        output_name = sanitize_filename(f"{stem}-{names}{'-preview' if preview else ''}.{fmt}")
        return {
            "input": data["input"],
            "input_path": str(input_path),
            "effects": effects_out,
            "preview": preview,
            "format": fmt,
            "crf": crf,
            "audio": bool(data.get("audio", True)),
            "output_name": output_name,
        }

    def _job(request: Request) -> dict | None:
        return store.get(request.path_params["job_id"])

    async def job_get(request: Request) -> Response:
        job = _job(request)
        return JSONResponse(_public_job(job)) if job else _error("no such job", 404)

    async def job_cancel(request: Request) -> Response:
        job = _job(request)
        if job is None:
            return _error("no such job", 404)
        job = store.request_cancel(job["id"])
        return JSONResponse(_public_job(job))

    async def job_retry(request: Request) -> Response:
        job = _job(request)
        if job is None:
            return _error("no such job", 404)
        if not store.requeue(job["id"]):
            return _error(f"the job is {job['status']}; only a finished job can run again", 409)
        _remove_outputs(job)
        runner.wake()
        return JSONResponse(_public_job(store.get(job["id"])))

    def _remove_outputs(job: dict) -> None:
        folder = data_dir / "jobs" / job["id"]
        if folder.is_dir():
            for item in folder.iterdir():
                if item.is_file() and item.name != "worker.log":
                    item.unlink()

    async def job_delete(request: Request) -> Response:
        job = _job(request)
        if job is None:
            return _error("no such job", 404)
        if job["status"] not in FINISHED and job["status"] != "queued":
            return _error("cancel the job first", 409)
        store.request_cancel(job["id"])
        store.delete(job["id"])
        folder = data_dir / "jobs" / job["id"]
        if folder.is_dir():
            for item in folder.iterdir():
                if item.is_file():
                    item.unlink()
            folder.rmdir()
        return JSONResponse({"deleted": job["id"]})

    def _result_path(job: dict) -> Path | None:
        if job["status"] != "done" or not job["result"]:
            return None
        path = data_dir / "jobs" / job["id"] / sanitize_filename(job["result"]["output"])
        return path if path.is_file() else None

    async def job_result(request: Request) -> Response:
        job = _job(request)
        if job is None:
            return _error("no such job", 404)
        path = _result_path(job)
        if path is None:
            return _error(f"the job is {job['status']}: no result to download", 409)
        inline = request.query_params.get("inline") in ("1", "true")
        headers = {"Cache-Control": "no-cache"}
        if not inline:
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(path.name)}"
        return FileResponse(path, headers=headers)

    async def job_frame(request: Request) -> Response:
        """The same moment before and after: ``side=after`` is the output at time ``t``;
        ``side=before`` the input frame that the output shows at ``t`` (trims, speed changes
        and preview ranges followed)."""
        from moviola.studio.frames import frame_at

        job = _job(request)
        if job is None:
            return _error("no such job", 404)
        path = _result_path(job)
        if path is None or job["kind"] != "effects":
            return _error("no result to compare", 409)
        t = _float(request.query_params.get("t"), 0.0)
        width = int(_float(request.query_params.get("w"), 640))
        side = request.query_params.get("side", "after")
        if side == "before":
            timeline = job["result"].get("timeline") or {"start": 0.0, "speed": 1.0}
            source = Path(job["spec"]["input_path"])
            if not source.is_file():
                return _error("the input file is gone", 404)
            t = timeline["start"] + t * timeline["speed"]
            data = await run_in_threadpool(frame_at, source, t, width)
        elif side == "after":
            data = await run_in_threadpool(frame_at, path, t, width)
        else:
            return _error("side must be before or after")
        return Response(
            data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"}
        )

    async def job_shots(request: Request) -> Response:
        job = _job(request)
        if job is None:
            return _error("no such job", 404)
        if job["kind"] != "shots" or job["status"] != "done":
            return _error("no shots for this job", 409)
        path = data_dir / "jobs" / job["id"] / "shots.json"
        if not path.is_file():
            return _error("the shot list is gone", 404)
        data = json.loads(path.read_text())
        data["input"] = data["source"] = job["spec"]["input"]  # a media id, not a server path
        return JSONResponse(data)

    async def job_export(request: Request) -> Response:
        job = _job(request)
        if job is None:
            return _error("no such job", 404)
        if job["kind"] != "shots" or job["status"] != "done":
            return _error("export needs a finished shot list", 409)
        fmt = request.query_params.get("format", "csv")
        out_dir = data_dir / "jobs" / job["id"]
        path = await run_in_threadpool(
            editing.export, out_dir / "shots.json", Path(job["spec"]["input_path"]), fmt, out_dir
        )
        return FileResponse(
            path,
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(path.name)}"},
        )

    # -- editing --------------------------------------------------------------------------
    async def editing_status(request: Request) -> Response:
        return JSONResponse(editing.available())

    async def editing_search(request: Request) -> Response:
        data = await _json_body(request)
        query = str(data.get("query") or "").strip()
        if not query:
            return _error("type something to search for")
        results = await run_in_threadpool(
            editing.search,
            query,
            data_dir,
            roots,
            int(data.get("limit") or 20),
            {k: v for k, v in (data.get("filters") or {}).items() if v not in (None, "")},
        )
        return JSONResponse({"query": query, "results": results})

    # -- live updates ---------------------------------------------------------------------
    async def events(request: Request) -> Response:
        """Server-sent events: every job whose row changed, as it changes."""

        async def stream():
            since = time.time() - 1.0
            yield "retry: 2000\n\n"
            last_beat = time.monotonic()
            while not stopping.is_set() and not await request.is_disconnected():
                changed = await run_in_threadpool(store.list, 0, since)
                for job in changed:
                    since = max(since, job["updated"])
                    yield f"event: job\ndata: {json.dumps(_public_job(job))}\n\n"
                if time.monotonic() - last_beat > 15:
                    last_beat = time.monotonic()
                    yield ": keep-alive\n\n"
                await asyncio.sleep(0.4)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    routes = [
        Route("/", index),
        Route("/api/health", health),
        Route("/api/effects", effects),
        Route("/api/media", media_list),
        Route("/api/media/probe", media_probe),
        Route("/api/media/file", media_file),
        Route("/api/media/frame", media_frame),
        Route("/api/upload", upload, methods=["POST", "PUT"]),
        Route("/api/jobs", jobs_list, methods=["GET"]),
        Route("/api/jobs", jobs_create, methods=["POST"]),
        Route("/api/jobs/{job_id:str}", job_get, methods=["GET"]),
        Route("/api/jobs/{job_id:str}", job_delete, methods=["DELETE"]),
        Route("/api/jobs/{job_id:str}/cancel", job_cancel, methods=["POST"]),
        Route("/api/jobs/{job_id:str}/retry", job_retry, methods=["POST"]),
        Route("/api/jobs/{job_id:str}/result", job_result),
        Route("/api/jobs/{job_id:str}/frame", job_frame),
        Route("/api/jobs/{job_id:str}/shots", job_shots),
        Route("/api/jobs/{job_id:str}/export", job_export),
        Route("/api/editing", editing_status),
        Route("/api/editing/search", editing_search, methods=["POST"]),
        Route("/api/events", events),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={MoviolaError: _moviola_error, 404: _not_found, 405: _not_allowed},
    )
    app.state.store = store
    app.state.roots = roots
    app.state.runner = runner
    app.state.config = config
    app.state.stopping = stopping
    return Guard(app, config)


class _TooLarge(Exception):
    pass


def _float(value, default: float) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if out == out and abs(out) < 1e9 else default  # no NaN or huge values


async def _moviola_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, PathRefused):
        return _refused(exc)
    return _error(str(exc), 400)


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error("not found", 404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _error("method not allowed", 405)


class Guard:
    """ASGI middleware: the token (when one is set), the Host header (no DNS rebinding) and
    the Origin of state-changing requests (no cross-site requests from other pages)."""

    def __init__(self, app, config: StudioConfig) -> None:
        self.app = app
        self.config = config
        self.state = app.state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        problem = self._check(scope, headers)
        if problem is not None:
            status, message = problem
            response = JSONResponse({"error": message}, status_code=status)
            return await response(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        return await self.app(scope, receive, send_with_headers)

    def _check(self, scope, headers) -> tuple[int, str] | None:
        host = headers.get("host", "")
        hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        if is_loopback(self.config.host) and not (is_loopback(hostname) or not hostname):
            return 403, "this studio answers on localhost only"
        origin = headers.get("origin")
        # Browsers send Origin with every POST; "null" (sandboxed pages, files) is refused too.
        if (
            scope["method"] not in ("GET", "HEAD", "OPTIONS")
            and origin is not None
            and origin.split("://", 1)[-1] != host
        ):
            return 403, "cross-site request refused"
        if self.config.token:
            path = scope.get("path", "")
            if path == "/" or path.startswith("/static/"):
                return None  # the page itself; it can do nothing without the token
            given = None
            auth = headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            given = given or headers.get("x-moviola-token")
            if not given and "cookie" in headers:
                for part in headers["cookie"].split(";"):
                    key, _, value = part.strip().partition("=")
                    if key == TOKEN_COOKIE:
                        given = value
            if not given:
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                given = (query.get("token") or [None])[0]
            if not given or not hmac.compare_digest(given.encode(), self.config.token.encode()):
                return 401, "a valid token is required (open the link the studio printed)"
        return None
