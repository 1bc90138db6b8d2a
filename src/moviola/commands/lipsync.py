"""``moviola lipsync VIDEO --audio SPEECH -o OUT``: a filmed face dubbed with new speech
(see moviola.generate.lipsync)."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    p = sub.add_parser(
        "lipsync",
        help="dub a filmed face: its mouth follows new speech, which replaces (or --mix "
        "mixes with) the sound; labelled and signed as synthetic",
        description=(
            "Move the mouth of the largest face in VIDEO to new speech (--audio: a recording, "
            "or `moviola speak` output): the words are found by Whisper and their phonemes by "
            "espeak-ng; the face keeps its own head motion, blinks and expression. The new "
            "speech replaces the sound from the start (--mix: mixed over it); the video keeps "
            "its length. Tagged, signed (C2PA) and visibly labelled as synthetic. Example: "
            "moviola lipsync talk.mp4 --audio dub.wav -o dubbed.mp4"
        ),
    )
    p.add_argument("video", help="footage with a face")
    p.add_argument("--audio", required=True, metavar="SPEECH", help="the new speech")
    p.add_argument("-o", "--output", required=True, help="output video")
    p.add_argument("--mix", action="store_true", help="mix the speech over the clip's sound")
    p.add_argument("--no-label", action="store_true", help="no visible 'SYNTHETIC' label")
    p.add_argument("--start", help="process from this time (seconds or HH:MM:SS)")
    p.add_argument("--end", help="process until this time")
    p.add_argument("--crf", type=int, help="video quality (lower = better)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from moviola.commands._shared import ProgressBar
    from moviola.generate.lipsync import lipsync

    bar = None if args.quiet or not sys.stderr.isatty() else ProgressBar("lipsync")
    result, effect = lipsync(
        args.video,
        args.audio,
        args.output,
        mix=args.mix,
        label=not args.no_label,
        start=args.start,
        end=args.end,
        crf=args.crf,
        progress=bar,
    )
    if bar:
        bar.finish()
    if effect.faces_seen == 0:
        print("moviola: warning: no face found in any frame: the picture is unchanged",
              file=sys.stderr)  # fmt: skip
    print(
        f"wrote {result.output}: {result.frames_out} frames, a face in {effect.faces_seen}, "
        f"{len(effect.phonemes)} phonemes, audio {'mixed' if args.mix else 'replaced'}"
    )
    return 0
