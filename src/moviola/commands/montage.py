"""`moviola montage`: moments of clips cut on the beats or bars of a music track, the music as
the soundtrack (see moviola.generate.montage)."""

from __future__ import annotations

import argparse
import json
import sys

from moviola.commands._shared import bounded, video_summary


def add_parser(sub) -> None:
    p = sub.add_parser(
        "montage",
        help="cut clips on the beats (or bars) of a music track: a music video",
        description=(
            "Pick the most active moments of the clips' shots and cut them on the music's "
            "beats or bar lines, frame-exact, with the music as the soundtrack. "
            "Example: moviola montage a.mp4 b.mp4 --music song.mp3 --cuts bar -o out.mp4"
        ),
    )
    p.add_argument("clips", nargs="+", metavar="CLIP", help="video clips to cut from")
    p.add_argument("--music", required=True, metavar="TRACK", help="the music (any audio file)")
    p.add_argument("-o", "--output", required=True, help="output video (.mp4 .mov .mkv .webm)")
    p.add_argument(
        "--cuts", default="beat", metavar="beat|bar", help="cut on every beat (default) or bar"
    )
    p.add_argument(
        "--length",
        type=float,
        metavar="S",
        help="seconds (default: the music's, capped to the footage's usable length)",
    )
    p.add_argument(
        "--size", metavar="WxH", help="output size, letterboxed (default: the first clip's)"
    )
    p.add_argument(
        "--fps", help="frame rate, exact: 24, 30000/1001, 29.97 (default: the first clip's)"
    )
    p.add_argument(
        "--seed", type=bounded(int, 0, 2**32 - 1), default=0, help="order of the shots (default 0)"
    )
    p.add_argument("--codec", help="video codec (default from the extension)")
    p.add_argument("--crf", type=int, help="quality for h264/h265/vp9/av1 (lower = better)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from moviola.commands._shared import ProgressBar
    from moviola.generate.latentwalk.settings import parse_size
    from moviola.generate.montage import render

    bar = None if args.quiet or args.json or not sys.stderr.isatty() else ProgressBar()
    result = render(
        args.clips,
        args.music,
        args.output,
        cuts=args.cuts,
        length=args.length,
        size=parse_size(args.size),
        fps=args.fps,
        seed=args.seed,
        codec=args.codec,
        crf=args.crf,
        progress=bar,
    )
    if bar:
        bar.finish()
    if args.json:
        print(
            json.dumps(
                {
                    **video_summary(result),
                    "seconds": round(result.length, 3),
                    "bpm": round(result.bpm, 2),
                    "fallback_grid": result.fallback,
                    "bar_phase": result.bar_phase,
                    "cuts": result.cuts,
                    "cut_times": [round(t, 4) for t in result.cut_times],
                    "render_fps": round(result.speed, 2),
                    "audio": result.audio,
                },
                indent=2,
            )
        )
    else:
        print(
            f"wrote {result.output}: {result.frames} frames {result.width}x{result.height} "
            f"({result.length:.2f} s), {len(result.cuts)} cuts on the "
            f"{'bars' if result.bar_phase is not None else 'beats'} at {result.bpm:.1f} BPM"
            f"{' (steady grid: no beat found)' if result.fallback else ''}, "
            f"rendered at {result.speed:.1f} fps"
        )
    return 0
