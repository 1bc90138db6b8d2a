"""`moviola describe IN`: shots with per-shot descriptions (docs/describe.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from moviola.commands._shared import add_shot_options
from moviola.errors import MoviolaError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "describe",
        help="describe each shot: scale, people, camera, light, colours, tags",
        description="Detect the shots of a video and describe each: a thumbnail, shot scale "
        "(extreme close-up .. extreme wide), people and faces, camera motion "
        "(static, pan, tilt, zoom, handheld), lighting, dominant colours, motion "
        "intensity, sharpness and object tags (YOLOv3-tiny, COCO classes); and what is "
        "said in it (Whisper tiny.en, English; --no-speech to skip).",
    )
    p.add_argument("input", help="input video file")
    add_shot_options(p)
    p.add_argument("--thumbnails", metavar="DIR", help="write one JPEG thumbnail per shot here")
    p.add_argument("-o", "--output", metavar="OUT.json", help="write the JSON result here")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-speech", action="store_true", help="do not transcribe what is said")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from moviola.analysis.describe import describe_shots
    from moviola.analysis.model import ShotList
    from moviola.commands._shared import ProgressBar

    if not Path(args.input).is_file():
        raise MoviolaError(f"no such file: {args.input}")
    bar = None if args.quiet or args.json or not sys.stderr.isatty() else ProgressBar()
    if args.shots:
        try:
            shots = ShotList.load(args.shots)
        except (OSError, ValueError, KeyError) as e:
            raise MoviolaError(f"cannot read shots from {args.shots}: {e}") from None
    else:
        from moviola.analysis.shots import detect_shots

        shots = detect_shots(args.input, method="fast" if args.fast else "transnetv2", progress=bar)
        if bar:
            bar.finish()
            bar = ProgressBar()
    describe_shots(
        args.input,
        shots,
        thumbnails=Path(args.thumbnails) if args.thumbnails else None,
        progress=bar,
    )
    if bar:
        bar.finish()
    if not args.no_speech:
        from moviola.analysis.dialogue import attach_dialogue

        attach_dialogue(args.input, shots)
    text = shots.to_json()
    if args.output:
        out = Path(args.output)
        tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
        tmp.write_text(text + "\n")
        tmp.replace(out)
    if args.json:
        print(text)
    else:
        for shot in shots.shots:
            d = shot.to_dict(shots.rate)
            print(
                f"{shot.index:4d}  {d['start_timecode']} - {d['end_timecode']}  "
                f"{shot.extra.get('summary', '')}"
            )
            if shot.extra.get("dialogue"):
                print(f'      "{shot.extra["dialogue"]}"')
        if args.output:
            print(f"wrote {args.output}: {len(shots.shots)} shots")
    return 0
