"""A local HTTP server that behaves like the Hugging Face hub and like a GitHub release host, for
the model store's upstream tests (no test reaches the internet).

``/{repo}/resolve/{revision}/{path}`` answers HEAD and GET as the hub does for LFS files: a 302
to ``/lfs/{sha256}`` with ``X-Repo-Commit``, ``X-Linked-Etag`` (the sha256) and
``X-Linked-Size``; an unknown repo, revision or path is a 404 with ``X-Error-Code``.
``/lfs/{sha256}`` and ``/release/{name}`` serve bytes with ``Range`` support. Knobs:
``cut_after`` (send only that many bytes of the next body, then drop the connection) and
``corrupt`` (names whose bytes are served changed, as a tampered mirror would).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FakeHub:
    files: dict[tuple[str, str, str], bytes] = field(default_factory=dict)  # (repo, rev, path)
    releases: dict[str, bytes] = field(default_factory=dict)
    cut_after: int | None = None  # drop the next body after this many bytes (once)
    corrupt: set[str] = field(default_factory=set)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, Range
    _server: ThreadingHTTPServer | None = None

    def add(self, repo: str, revision: str, path: str, data: bytes) -> str:
        """Serve ``data`` as ``path`` of ``repo`` at ``revision``; returns its sha256."""
        self.files[(repo, revision, path)] = data
        return hashlib.sha256(data).hexdigest()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def ranges(self) -> list[str]:
        return [r for _, _, r in self.requests if r]

    def start(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:
                self._answer(head=True)

            def do_GET(self) -> None:
                self._answer(head=False)

            def _answer(self, head: bool) -> None:
                hub.requests.append((self.command, self.path, self.headers.get("Range")))
                parts = self.path.split("?")[0].strip("/").split("/")
                if "resolve" in parts:
                    i = parts.index("resolve")
                    repo, rev, path = "/".join(parts[:i]), parts[i + 1], "/".join(parts[i + 2 :])
                    data = hub.files.get((repo, rev, path))
                    if data is None:
                        known_repo = any(r == repo for r, _, _ in hub.files)
                        code = "EntryNotFound" if known_repo else "RepoNotFound"
                        return self._error(404, code)
                    sha = hashlib.sha256(data).hexdigest()
                    self.send_response(302)
                    # another host name, as the hub redirects to its CDN (not followed by HEAD)
                    cdn = hub.url.replace("127.0.0.1", "localhost")
                    self.send_header("Location", f"{cdn}/lfs/{sha}")
                    self.send_header("X-Repo-Commit", rev)
                    self.send_header("X-Linked-Etag", f'"{sha}"')
                    self.send_header("ETag", f'"{sha}"')
                    self.send_header("X-Linked-Size", str(len(data)))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                blobs = {hashlib.sha256(d).hexdigest(): d for d in hub.files.values()}
                if parts[0] == "lfs" and len(parts) == 2 and parts[1] in blobs:
                    return self._body(blobs[parts[1]], parts[1], head)
                if parts[0] == "release" and len(parts) == 2 and parts[1] in hub.releases:
                    return self._body(hub.releases[parts[1]], parts[1], head)
                return self._error(404, "EntryNotFound")

            def _error(self, status: int, code: str) -> None:
                body = b'{"error": "not found"}'
                self.send_response(status)
                self.send_header("X-Error-Code", code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _body(self, data: bytes, name: str, head: bool) -> None:
                if name in hub.corrupt:
                    data = bytes([data[0] ^ 0xFF]) + data[1:]
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if head:
                    return
                if hub.cut_after is not None:
                    cut, hub.cut_after = hub.cut_after, None
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
