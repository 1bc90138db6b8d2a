"""`moviola studio`: the local web app (see docs/studio.md)."""

from __future__ import annotations

import os

from moviola.commands._shared import bounded
from moviola.errors import MoviolaError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "studio",
        help="start the local web app (upload, effects, jobs, before/after)",
        description="Start the studio, a local web app: upload or pick footage, run effects "
        "with live progress, compare before and after, download the result.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; any other "
        "address needs --token)",
    )
    p.add_argument("--port", type=bounded(int, 0, 65535), default=8765, help="port (default 8765)")
    p.add_argument(
        "--media",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of footage to offer (repeatable; read only)",
    )
    p.add_argument(
        "--data",
        default=os.environ.get("MOVIOLA_STUDIO_DATA", "studio-data"),
        help="the studio's own folder: uploads, job database, results (default ./studio-data)",
    )
    p.add_argument(
        "--token",
        default=os.environ.get("MOVIOLA_STUDIO_TOKEN"),
        help="secret every request must carry (required with a non-local --host; "
        "or MOVIOLA_STUDIO_TOKEN)",
    )
    p.add_argument(
        "--max-upload-mb",
        type=bounded(float, 1, 1_000_000),
        default=2048,
        help="upload size limit (MB)",
    )
    p.add_argument(
        "--workers",
        type=bounded(int, 1, 64),
        default=1,
        help="jobs run at the same time, each in its own process (default 1)",
    )
    p.add_argument("--open", action="store_true", help="open the page in a browser")
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        from moviola.studio.app import StudioConfig
        from moviola.studio.server import serve
    except ImportError as exc:
        raise MoviolaError(
            f"the studio needs its extra: pip install 'moviola[studio]' ({exc.name} missing)"
        ) from None
    if not 0 < args.port < 65536:
        raise MoviolaError(f"--port must be 1..65535, not {args.port}")
    if args.workers < 1:
        raise MoviolaError("--workers must be at least 1")
    config = StudioConfig(
        media=args.media,
        data=args.data,
        host=args.host,
        port=args.port,
        token=args.token,
        max_upload_mb=args.max_upload_mb,
        workers=args.workers,
    )
    serve(config, open_browser=args.open)
    return 0
