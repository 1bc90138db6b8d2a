"""What every route uses: JSON errors, the request body, query numbers, jobs as the page sees
them, and looking a job up."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from moviola.errors import MoviolaError
from moviola.studio.paths import PathRefused, sanitize_filename
from moviola.studio.state import StudioState, studio_state
from moviola.studio.store import finite

# Job fields the page sees (the spec is shown without server paths).
_PUBLIC = (
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
JPEG_CACHE = {"Cache-Control": "private, max-age=300"}
log = logging.getLogger("moviola")
_UNSHOWN: set[Any] = set()  # jobs already logged as impossible to show


class ApiError(Exception):
    """Answered as ``{"error": message}`` with ``status`` (see ``api_error``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def refused(exc: PathRefused) -> JSONResponse:
    return error(str(exc), 404 if exc.missing else 403)


async def api_error(request: Request, exc: Exception) -> Response:
    """The app's answer to ApiError, MoviolaError (a user's mistake) and PathRefused."""
    if isinstance(exc, ApiError):
        return error(exc.message, exc.status)
    if isinstance(exc, PathRefused):
        return refused(exc)
    return error(str(exc), 400)


async def not_found(request: Request, exc: Exception) -> Response:
    return error("not found", 404)


async def not_allowed(request: Request, exc: Exception) -> Response:
    return error("method not allowed", 405)


class _NotFinite(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as inf
        raise _NotFinite(text)
    return value


def _no_constant(text: str) -> float:
    raise _NotFinite(text)  # NaN, Infinity, -Infinity: Python's json takes them, JSON does not


def parse_json(body: bytes) -> Any:
    """A request body as JSON, strictly: no NaN or Infinity, no number too large to be finite
    (MoviolaError, a 400, for anything else than JSON)."""
    try:
        return json.loads(body or b"{}", parse_float=_finite, parse_constant=_no_constant)
    except _NotFinite as exc:
        raise MoviolaError(f"the request holds a number that is not finite: {exc}") from None
    except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep, huge integers
        raise MoviolaError("the request body is not JSON") from None


async def json_body(request: Request, limit: int = 256 * 1024) -> dict:
    body = await request.body()
    if len(body) > limit:
        raise MoviolaError("request too large")
    data = parse_json(body)
    if not isinstance(data, dict):
        raise MoviolaError("the request body must be a JSON object")
    return data


def number(value: Any, default: float) -> float:
    """A query parameter as a finite, modest number, or ``default``."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if out == out and abs(out) < 1e9 else default  # no NaN or huge values


def public_job(job: dict) -> dict:
    """A job as the page sees it: no server paths, each effect with the values it was given;
    a number JSON cannot hold (a job stored by an older version) is shown as null."""
    spec = dict(job["spec"] or {}) if isinstance(job["spec"], dict) else {}
    spec.pop("input_path", None)
    spec.pop("before_path", None)
    for key in ("preview", "range"):  # the exact times the worker runs are not shown
        if isinstance(spec.get(key), dict):
            spec[key] = {k: v for k, v in spec[key].items() if not k.endswith("_exact")}
    effects = [
        {"name": e.get("name"), "params": e.get("shown") or e.get("params") or {}}
        for e in spec.get("effects") or []
        if isinstance(e, dict)
    ]
    if effects:
        spec["effects"] = effects
    out = {k: job.get(k) for k in _PUBLIC}
    out["spec"] = spec
    return finite(out)


def public_jobs(jobs: list[dict]) -> list[dict]:
    """Jobs as the page sees them; one that cannot be shown is left out (and logged), so that
    a broken record never breaks the list."""
    out = []
    for job in jobs:
        try:
            shown = public_job(job)
            json.dumps(shown, allow_nan=False)
        except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as exc:
            if job.get("id") not in _UNSHOWN:
                _UNSHOWN.add(job.get("id"))
                log.warning("studio: job %s cannot be shown: %s", job.get("id"), exc)
            continue
        out.append(shown)
    return out


def job_of(request: Request) -> dict:
    """The job the path names (``{job_id}``), or a 404."""
    job = studio_state(request).store.get(request.path_params["job_id"])
    if job is None:
        raise ApiError("no such job", 404)
    return job


def finished_job(request: Request, kind: str, message: str) -> dict:
    """The job the path names when it is a finished job of ``kind``, else a 409 ``message``."""
    job = job_of(request)
    if job["kind"] != kind or job["status"] != "done":
        raise ApiError(message, 409)
    return job


def result_path(state: StudioState, job: dict) -> Path | None:
    """The file a finished job wrote, when it is still there."""
    if job["status"] != "done" or not job["result"]:
        return None
    path = state.job_dir(job["id"]) / sanitize_filename(job["result"]["output"])
    return path if path.is_file() else None
