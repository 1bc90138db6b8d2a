"""The studio's front door: an ASGI middleware that checks the token (when one is set), the Host
header (no DNS rebinding) and the Origin of state-changing requests (no cross-site requests
from other pages), and adds security headers to every answer."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import JSONResponse

from moviola.studio.config import StudioConfig, is_loopback

TOKEN_COOKIE = "moviola_token"
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


class Guard:
    """ASGI middleware around the studio's app (see the module docstring)."""

    def __init__(self, app: Any, config: StudioConfig) -> None:
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

    def _check(self, scope, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        if is_loopback(self.config.host) and not (is_loopback(hostname) or not hostname):
            return 403, "this studio answers on localhost only"
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and _cross_site(headers, host):
            return 403, "cross-site request refused"
        if self.config.token:
            path = scope.get("path", "")
            if path == "/" or path.startswith("/static/"):
                return None  # the page itself; it can do nothing without the token
            given = given_token(scope, headers)
            if not given or not hmac.compare_digest(given.encode(), self.config.token.encode()):
                return 401, "a valid token is required (open the link the studio printed)"
        return None


def _cross_site(headers: dict[str, str], host: str) -> bool:
    """Whether a state-changing request comes from another page: its Origin is another one
    ("null", from sandboxed pages and files, too), or, with no Origin, the browser's
    Sec-Fetch-Site says it is not this origin's own request."""
    origin = headers.get("origin")
    if origin is not None:
        return origin.split("://", 1)[-1] != host
    return headers.get("sec-fetch-site", "same-origin").strip().lower() not in (
        "same-origin",
        "none",  # typed or bookmarked by the user
    )


def given_token(scope, headers: dict[str, str]) -> str | None:
    """The token a request carries: a bearer token, the X-Moviola-Token header, the page's
    cookie or a ``token`` query parameter, first found."""
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and auth[7:].strip():
        return auth[7:].strip()
    if headers.get("x-moviola-token"):
        return headers["x-moviola-token"]
    given = None
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == TOKEN_COOKIE:
            given = value
    if given:
        return given
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get("token") or [None])[0]
