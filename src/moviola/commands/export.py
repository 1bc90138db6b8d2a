"""`moviola export`: a video's shots as CSV, JSON, an EDL, OpenTimelineIO, FCPXML, FCP 7 XML,
a contact sheet or an HTML report (see docs/export.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from moviola.commands._shared import add_shot_options, bounded
from moviola.errors import MoviolaError

FORMAT_HELP = (
    "csv, json, edl (CMX 3600), otio (OpenTimelineIO), fcpxml (Final Cut Pro X, "
    "Resolve), xml (FCP 7 XML: Premiere, Resolve), contact (contact sheet "
    ".png/.jpg), html (report)"
)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a video's shots: CSV, JSON, EDL, OTIO, FCPXML, XML, contact sheet, HTML",
        description="Export the shots of a video for an editing application or for people. "
        "The shots come from --shots (the JSON of `moviola shots --json` or "
        "`moviola describe --json`, descriptions included) or are detected now. "
        "Timelines hold the shots as clips cutting the source file, at its exact "
        "frame rate.",
    )
    p.add_argument("input", help="the source video")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file; the format follows its extension (.csv .json .edl .otio "
        ".fcpxml .xml .png/.jpg .html) unless --format is given",
    )
    p.add_argument("--format", dest="fmt", help=FORMAT_HELP)
    add_shot_options(p)
    p.add_argument(
        "--columns", type=bounded(int, 1, 100), default=5, help="contact sheet: thumbnails per row"
    )
    p.add_argument(
        "--thumb-width",
        type=bounded(int, 16, 4096),
        default=240,
        help="contact sheet and HTML: thumbnail width in pixels (default 240)",
    )
    p.add_argument(
        "--no-embed",
        action="store_true",
        help="HTML: thumbnails as files in NAME_files/ instead of inlined",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def load_shots(source: str, shots: str | None, fast: bool = False):
    """The shot list of ``source``: read from ``shots`` (JSON), else detected now."""
    from moviola.analysis.model import ShotList

    if not Path(source).exists():
        raise MoviolaError(f"input not found: {source}")
    if shots:
        path = Path(shots)
        if not path.is_file():
            raise MoviolaError(f"shot list not found: {path}")
        try:
            result = ShotList.load(path)
        except (ValueError, KeyError, TypeError) as exc:
            raise MoviolaError(
                f"not a shot list: {path} ({exc.__class__.__name__}: {exc})"
            ) from None
        result.source = str(source)  # the timeline points at the file given here
        return result
    try:
        from moviola.analysis.shots import detect_shots
    except ImportError as exc:
        raise MoviolaError(f"shot detection is not available ({exc}): give --shots") from None
    return detect_shots(source, method="fast" if fast else "transnetv2")


def run(args) -> int:
    from moviola.analysis.export import export, infer_format

    fmt = infer_format(args.output, args.fmt)
    if args.columns < 1:
        raise MoviolaError("--columns must be at least 1")
    if args.thumb_width < 16:
        raise MoviolaError("--thumb-width must be at least 16")
    shots = load_shots(args.input, args.shots, args.fast)
    options = {}
    if fmt == "contact":
        options = {"columns": args.columns, "width": args.thumb_width}
    elif fmt == "html":
        options = {"width": args.thumb_width, "embed": not args.no_embed}
    path = export(shots, args.output, fmt, **options)
    if args.json:
        print(json.dumps({"output": str(path), "format": fmt, "shots": len(shots.shots)}, indent=2))
    else:
        print(f"wrote {path}: {len(shots.shots)} shots ({fmt})", file=sys.stdout)
    return 0
