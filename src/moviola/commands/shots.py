"""``moviola shots IN``: shot boundaries (hard cuts, dissolves, fades) with frame-exact
timecodes, as a table or JSON."""

from __future__ import annotations

import sys
from pathlib import Path

from moviola.errors import MoviolaError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "shots",
        help="find shot boundaries: hard cuts, dissolves and fades (TransNetV2 or --fast)",
        description=(
            "Find the shots of a video: hard cuts, dissolves and fades, frame-exact. By default "
            "with TransNetV2 (a pretrained network, model 'transnetv2', MIT; fetched and "
            "converted once: moviola models fetch transnetv2); --fast uses a classical detector "
            "(colour and picture changes, no model). Frames count from 0; end frames are "
            "inclusive; a dissolve or fade belongs to the shot it leads into."
        ),
    )
    p.add_argument("input", help="input video file")
    p.add_argument(
        "--fast", action="store_true", help="classical detector: no model, several times faster"
    )
    p.add_argument(
        "--threshold",
        type=float,
        help="TransNetV2: transition probability (default 0.5); --fast: sensitivity "
        "(default 0.5, higher finds more). Between 0 and 1",
    )
    p.add_argument("--start", help="start of the range to analyse (seconds or HH:MM:SS.mmm)")
    p.add_argument("--end", help="end of the range (not included)")
    p.add_argument("--json", action="store_true", help="print the shot list as JSON")
    p.add_argument("-o", "--output", help="also write the shot list as JSON to this file")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def format_table(shots) -> str:
    """The shot list as an aligned text table."""
    from moviola.analysis.model import timecode

    rows = [("#", "start", "end", "start TC", "end TC", "frames", "seconds", "transition")]
    for s in shots.shots:
        kind = s.transition
        if s.transition_frames:
            kind += f" ({s.transition_frames} fr)"
        rows.append(
            (
                str(s.index),
                str(s.start_frame),
                str(s.end_frame),
                timecode(s.start_frame, shots.rate),
                timecode(s.end_frame, shots.rate),
                str(s.frames),
                f"{float(s.duration):.3f}",
                kind,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [c.rjust(w) if i < 7 else c for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    rate = shots.rate
    head = (
        f"{shots.source}: {len(shots.shots)} shots in {shots.frames} frames at "
        f"{float(rate):.3f} fps ({shots.detector})"
    )
    return head + "\n" + "\n".join(lines)


def run(args) -> int:
    from moviola.analysis.output import write_text
    from moviola.analysis.shots import detect_shots

    if args.output and Path(args.output).is_dir():
        raise MoviolaError(f"-o {args.output} is a folder; give a file name like shots.json")
    bar = None
    if not (args.quiet or args.json) and sys.stderr.isatty():
        from moviola.commands._shared import ProgressBar

        bar = ProgressBar()
    shots = detect_shots(
        args.input,
        method="fast" if args.fast else "transnetv2",
        start=args.start,
        end=args.end,
        progress=bar,
        threshold=args.threshold,
    )
    if bar:
        bar.finish()
    text = shots.to_json()
    if args.output:
        write_text(args.output, text + "\n")
    print(text if args.json else format_table(shots))
    return 0
