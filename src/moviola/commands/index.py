"""`moviola index FOLDER`: describe every video of a folder into the shot library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from moviola.commands._shared import add_shot_options


def add_parser(sub) -> None:
    p = sub.add_parser(
        "index",
        help="describe every video under a folder into the search library",
        description="Detect and describe the shots of every video under FOLDER and store "
        "them, with a sentence embedding of each shot's summary, in one SQLite "
        "file. Unchanged files are skipped; changed files are re-indexed; files "
        "gone from the folder are dropped. Search with `moviola search`.",
    )
    p.add_argument("folder", help="folder of footage (searched recursively)")
    p.add_argument(
        "--db", help="library file (default $MOVIOLA_LIBRARY or ~/.moviola/library.sqlite)"
    )
    add_shot_options(p, shots=False)
    p.add_argument("--force", action="store_true", help="re-index unchanged files too")
    p.add_argument(
        "--no-speech",
        action="store_true",
        help="do not transcribe what is said (Whisper tiny.en, English; used by search)",
    )
    p.add_argument(
        "--thumbnails",
        metavar="DIR",
        help="thumbnail folder (default: thumbnails/ beside the library file)",
    )
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the totals")
    p.set_defaults(func=run)


def run(args) -> int:
    from moviola.analysis.library import Library

    with Library(args.db) as lib:
        thumbs = Path(args.thumbnails) if args.thumbnails else lib.path.parent / "thumbnails"
        quiet = args.quiet or args.json

        def on_file(path, status, n):
            if not quiet:
                print(
                    f"{status:8s} {path}" + (f" ({n} shots)" if status != "skipped" else ""),
                    flush=True,
                )

        def on_error(path, err):
            print(f"moviola: warning: {path}: {err}", file=sys.stderr)

        counts = lib.index_folder(
            args.folder,
            fast=args.fast,
            force=args.force,
            thumbnails=thumbs,
            on_file=on_file,
            on_error=on_error,
            speech=not args.no_speech,
        )
        total = sum(f["shots"] for f in lib.files())
        if args.json:
            print(json.dumps(dict(counts, db=str(lib.path), shots=total), indent=2))
        else:
            print(
                f"{lib.path}: {counts['indexed']} indexed, {counts['updated']} updated, "
                f"{counts['skipped']} unchanged, {counts['failed']} failed, "
                f"{counts['removed']} removed; {total} shots in the library"
            )
    return 0 if counts["failed"] == 0 else 1
