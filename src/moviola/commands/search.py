"""`moviola search "QUERY"`: shots of the library ranked by meaning, with filters."""

from __future__ import annotations

import json
import os
from pathlib import Path

from moviola.commands._shared import bounded
from moviola.errors import MoviolaError

#: below this score no shot is called a match (a summary's cosine with an unrelated query reaches
#: about 0.3; shots that fit score 0.5 and more, docs/describe.md)
NO_MATCH = 0.4


def add_parser(sub) -> None:
    from moviola.analysis.describe import MOTIONS, SCALES

    p = sub.add_parser(
        "search",
        help="find shots in the library by meaning and filters",
        description="Rank the shots of the library (built by `moviola index`) by how close "
        "their description is in meaning to QUERY (all-MiniLM-L6-v2 sentence "
        "embeddings), keeping only those that pass the filters. With no query, "
        "lists the shots that pass the filters. Once the CLIP ViT-B/32 model is fetched "
        "(`moviola models fetch clip-vit-b32`, about 600 MB), shots also rank by what their "
        "middle frame looks like (the next `moviola index` adds that to shots indexed "
        f"before). When no shot scores {NO_MATCH:.2f} or more, the results are headed "
        "'no good match'.",
    )
    p.add_argument(
        "query", nargs="?", default="", help='what to look for, e.g. "close-up of a face at night"'
    )
    p.add_argument(
        "--db", help="library file (default $MOVIOLA_LIBRARY or ~/.moviola/library.sqlite)"
    )
    p.add_argument(
        "--scale", action="append", choices=SCALES, help="shot scale (repeatable: any of them)"
    )
    p.add_argument(
        "--motion", action="append", choices=MOTIONS, help="camera motion (repeatable: any of them)"
    )
    p.add_argument("--min-duration", type=bounded(float, 0, 1e7), metavar="SECONDS")
    p.add_argument("--max-duration", type=bounded(float, 0, 1e7), metavar="SECONDS")
    p.add_argument("--people", metavar="N", help="people in the shot: N, N+ or N-M")
    p.add_argument("--faces", metavar="N", help="faces in the shot: N, N+ or N-M")
    p.add_argument(
        "--tag",
        action="append",
        metavar="TAG",
        help="object tag that must be present (repeatable: all of them)",
    )
    p.add_argument("--file", metavar="TEXT", help="only files whose path contains TEXT")
    p.add_argument(
        "--limit", type=bounded(int, 1, 100_000), default=10, help="results to show (default 10)"
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from moviola.analysis.library import Filters, Library, default_db, format_hits

    db = Path(os.path.expanduser(args.db)) if args.db else default_db()
    if not db.is_file():
        raise MoviolaError(
            f"no library at {db}: build one with `moviola index FOLDER`"
            + (" --db ..." if args.db else "")
        )
    if args.limit < 1:
        raise MoviolaError("--limit must be at least 1")
    filters = Filters(
        scale=args.scale,
        motion=args.motion,
        min_duration=args.min_duration,
        max_duration=args.max_duration,
        people=args.people,
        faces=args.faces,
        tags=args.tag,
        path=args.file,
    )
    with Library(db) as lib:
        hits = lib.search(args.query, filters, limit=args.limit)
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], indent=2))
    elif hits:
        best = max(h.score for h in hits)
        if args.query and best < NO_MATCH:
            print(
                f"no good match for {args.query!r} (the best shot scores {best:.2f}, "
                f"below {NO_MATCH:.2f}); the closest:"
            )
        print(format_hits(hits))
    else:
        print("no shots match")
    return 0
