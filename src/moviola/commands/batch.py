"""moviola batch FOLDER -o OUTDIR EFFECT...: one chain over every video in a folder."""

from __future__ import annotations

import json
import sys

from moviola import engines
from moviola.commands._shared import add_engine_options
from moviola.engines.batch import batch
from moviola.media.formats import check_encoding
from moviola.pipeline import registry


def add_parser(sub) -> None:
    p = sub.add_parser(
        "batch",
        help="apply effects to every video in a folder",
        description="Apply a chain to every video in FOLDER: moviola batch clips/ -o out/ "
        '"resize:width=1280" --engine ray. Finished outputs are skipped when run '
        "again (--overwrite to redo them).",
    )
    p.add_argument("folder", help="folder of input videos")
    p.add_argument("-o", "--output", required=True, help="output folder (created if missing)")
    p.add_argument(
        "effects",
        nargs="+",
        metavar="EFFECT",
        help='effect with parameters, e.g. "resize:width=1280"',
    )
    p.add_argument("--format", help="output extension (default: the input's, else .mp4)")
    p.add_argument("--recursive", action="store_true", help="include sub-folders")
    p.add_argument("--overwrite", action="store_true", help="redo outputs that exist")
    p.add_argument("--codec", help="video codec")
    p.add_argument("--crf", type=int, help="quality for h264/h265/vp9/av1")
    p.add_argument("--preset", help="encoder preset")
    p.add_argument("--no-audio", action="store_true", help="do not carry the audio over")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    add_engine_options(p)
    p.set_defaults(func=cmd_batch)


def cmd_batch(args) -> int:
    for spec in args.effects:  # fail on a bad effect before any file is touched
        registry.parse_spec(spec)
    if args.format or args.codec:  # and on a format, --crf or --preset its codec refuses
        ext = "." + (args.format or "mp4").lstrip(".")
        check_encoding(f"x{ext}", args.codec, crf=args.crf, preset=args.preset)
    make = lambda: [registry.parse_spec(spec) for spec in args.effects]  # noqa: E731
    executor = None
    run = engines.run
    options = dict(codec=args.codec, crf=args.crf, preset=args.preset, audio=not args.no_audio)
    if args.engine == "ray":
        from moviola.engines.job import run_chunked
        from moviola.engines.ray_engine import RayExecutor

        executor = RayExecutor(args.address, workers=args.workers)

        def run(source, output, effects, **kw):
            return run_chunked(
                source, output, effects, executor, chunk_seconds=args.chunk_seconds, **kw
            )[0]

    failed, report = 0, []
    try:
        for item in batch(
            args.folder,
            args.output,
            make,
            run,
            suffix=args.format,
            recursive=args.recursive,
            overwrite=args.overwrite,
            **options,
        ):
            if item.error:
                failed += 1
                print(f"moviola: error: {item.source}: {item.error}", file=sys.stderr)
            elif not args.json:
                res = item.result
                what = (
                    "exists, skipped"
                    if item.skipped or res is None
                    else f"{res.frames_out} frames in {res.seconds:.1f} s"
                )
                print(f"{item.source} -> {item.output}: {what}")
            report.append(
                {
                    "source": str(item.source),
                    "output": str(item.output),
                    "skipped": item.skipped,
                    "error": item.error,
                    "frames": item.result.frames_out if item.result else None,
                }
            )
    finally:
        if executor is not None:
            executor.close()
    if args.json:
        print(json.dumps(report, indent=2))
    return 2 if failed else 0
