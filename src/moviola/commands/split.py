"""`moviola split`: one file per shot (see docs/export.md)."""

from __future__ import annotations

import json
import sys

from moviola.commands._shared import add_shot_options
from moviola.errors import MoviolaError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "split",
        help="write one file per shot (stream copy where cuts fall on keyframes)",
        description="Write each shot of a video to its own file, OUTDIR/NAME-shot001.EXT, ... "
        "A shot that starts on a keyframe and whose packets stand alone is copied "
        "as it is (instant, lossless); every other shot is re-encoded. Each part "
        "has exactly the shot's frames, and its audio.",
    )
    p.add_argument("input", help="the source video")
    p.add_argument("-o", "--output", required=True, help="output folder (made if missing)")
    add_shot_options(p)
    p.add_argument(
        "--reencode",
        action="store_true",
        help="re-encode every part (frame-exact starts whatever the keyframes)",
    )
    p.add_argument("--ext", help="extension of the parts (default: the input's, else .mkv)")
    p.add_argument("--codec", help="video codec for re-encoded parts (implies --reencode)")
    p.add_argument("--crf", type=int, help="quality of re-encoded parts (lower = better)")
    p.add_argument("--preset", help="encoder preset of re-encoded parts")
    p.add_argument("--no-audio", action="store_true", help="leave the audio out")
    p.add_argument("--json", action="store_true", help="print the parts as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no line per part")
    p.set_defaults(func=run)


def run(args) -> int:
    from moviola.analysis.split import split
    from moviola.commands.export import load_shots

    if args.crf is not None and args.crf < 0:
        raise MoviolaError("--crf must not be negative")
    shots = load_shots(args.input, args.shots, args.fast)

    def report(part) -> None:
        if not (args.quiet or args.json):
            print(
                f"{part.path}: {part.frames} frames, {part.mode}{', audio' if part.audio else ''}",
                file=sys.stderr,
            )

    parts = split(
        args.input,
        shots,
        args.output,
        reencode=args.reencode,
        ext=args.ext,
        codec=args.codec,
        crf=args.crf,
        preset=args.preset,
        audio=not args.no_audio,
        progress=report,
    )
    if args.json:
        print(json.dumps([p.to_dict() for p in parts], indent=2))
    else:
        copied = sum(p.mode == "copy" for p in parts)
        print(
            f"wrote {len(parts)} parts to {args.output}: {copied} stream copied, "
            f"{len(parts) - copied} re-encoded"
        )
    return 0
