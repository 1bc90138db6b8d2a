"""Starts the studio's web server (uvicorn) with a checked configuration."""

from __future__ import annotations

import fcntl
import socket
import sys
from pathlib import Path

from moviola.errors import MoviolaError
from moviola.studio.app import StudioConfig, check_config, create_app
from moviola.studio.config import token_warning


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise MoviolaError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _lock_data(data: Path):
    """One studio per data folder: two would take each other's running jobs for dead ones."""
    data.mkdir(parents=True, exist_ok=True)
    handle = open(data / "studio.lock", "w")  # noqa: SIM115 - held while the server runs
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise MoviolaError(f"another studio is running on {data} (use another --data)") from None
    return handle


def serve(config: StudioConfig, *, open_browser: bool = False) -> None:
    check_config(config)
    warning = token_warning(config)
    if warning:
        print(f"moviola studio: {warning}", file=sys.stderr, flush=True)
    try:
        import uvicorn
    except ImportError:
        raise MoviolaError("the studio needs its extra: pip install 'moviola[studio]'") from None
    _check_port(config.host, config.port)
    lock = _lock_data(Path(config.data).expanduser())
    app = create_app(config)
    host = f"[{config.host}]" if ":" in config.host else config.host
    url = f"http://{host}:{config.port}/"
    if config.token:
        url += f"?token={config.token}"
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            timeout_graceful_shutdown=3,
            access_log=False,
        )
    )
    print(
        f"moviola studio: {url}  (data in {config.data}; Ctrl-C stops)", file=sys.stderr, flush=True
    )
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        server.run()
    finally:
        lock.close()
    if not server.started:
        raise MoviolaError(f"could not listen on {config.host}:{config.port} (in use?)")
