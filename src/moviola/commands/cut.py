"""``moviola cut IN -o OUT``: cut by speech: silences, hesitations, or keep what is said."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

from moviola.commands._shared import bounded
from moviola.commands.transcribe import add_model_option
from moviola.errors import MoviolaError

TIMELINES = (".otio", ".edl", ".fcpxml", ".xml")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "cut",
        help="cut by speech: remove silences (--silence) and hesitations (--fillers), or keep "
        "only given sentences (--keep)",
        description=(
            "Edit a clip by what is said, as auto-editor and Descript do. --silence removes "
            "the stretches Silero VAD hears no speech in (not a loudness threshold); "
            "--fillers removes um, uh, erm, hmm (transcribed with Whisper); --keep TEXT keeps "
            "only the sentences that match the texts given, in order (text-based editing). "
            "Rules combine. Cuts fall on frame boundaries, picture and sound together, with a "
            "short audio crossfade at each join. OUT is a video, or a timeline (.otio, .edl, "
            ".fcpxml, .xml) that cuts the source instead of rendering it."
        ),
    )
    p.add_argument("input", help="video (or audio-bearing clip) to cut")
    p.add_argument("-o", "--output", required=True, help="output video, or .otio/.edl/.fcpxml/.xml")
    p.add_argument("--silence", action="store_true", help="remove silences (VAD)")
    p.add_argument(
        "--min-silence",
        type=bounded(float, 0.05, 60),
        default=0.5,
        metavar="S",
        help="shortest silence removed, seconds (default %(default)s)",
    )
    p.add_argument(
        "--margin",
        type=bounded(float, 0, 5),
        default=0.15,
        metavar="S",
        help="speech kept around each cut, seconds (default %(default)s)",
    )
    p.add_argument("--fillers", action="store_true", help="remove um, uh, erm, hmm")
    p.add_argument(
        "--keep",
        action="append",
        metavar="TEXT",
        help="keep the sentence that says TEXT (repeatable: kept in the order given)",
    )
    p.add_argument(
        "--transcript", metavar="JSON", help="a transcript from `moviola transcribe` to use"
    )
    add_model_option(p, " when a transcript is needed")
    p.add_argument(
        "--crossfade",
        type=bounded(float, 0, 0.5),
        default=0.02,
        metavar="S",
        help="audio crossfade at each join, seconds (default %(default)s)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _transcript(args):
    from moviola.speech.edit import FILLER_PROMPT
    from moviola.speech.transcribe import Transcriber
    from moviola.speech.transcript import load_transcript

    if args.transcript:
        return load_transcript(args.transcript)
    prompt = FILLER_PROMPT if args.fillers else None
    return Transcriber(args.model, prompt=prompt).transcribe(args.input)


def keep_spans(args, duration: float) -> list[tuple[float, float]]:
    from moviola.speech import edit

    spans = [(0.0, duration)]
    if args.silence:
        speech = edit.speech_spans(args.input, min_silence=args.min_silence, margin=args.margin)
        spans = edit.intersect(spans, speech)
    if args.fillers or args.keep:
        transcript = _transcript(args)
        if args.keep:
            spans = edit.intersect(spans, edit.keep_text(transcript, args.keep, args.margin))
        if args.fillers:
            found = edit.filler_words(transcript)
            print(f"{len(found)} hesitations found", file=sys.stderr)
            spans = edit.without(spans, [(w.start, w.end) for w in found])
    return spans


def run(args) -> int:
    from moviola.media.probe import probe
    from moviola.media.splice import frame_times, snap, splice

    if not (args.silence or args.fillers or args.keep):
        raise MoviolaError("say what to cut: --silence, --fillers and/or --keep TEXT")
    src = Path(args.input)
    if not src.is_file():
        raise MoviolaError(f"no such file: {args.input}")
    if Path(args.output).resolve() == src.resolve():
        raise MoviolaError("the output would overwrite the input")
    info = probe(src)
    if not info.audio:
        raise MoviolaError(f"no audio in {src}: nothing to cut by")
    if not info.video:
        raise MoviolaError(f"{src} has no video: cut works on video clips")
    times, end = frame_times(src)
    cut = snap(keep_spans(args, float(end)), times, end)
    if not cut.spans:
        raise MoviolaError("nothing would be left: no speech was found")
    removed = float(end - cut.kept)
    if Path(args.output).suffix.lower() in TIMELINES:
        _export(args, cut, info)
    else:
        splice(src, cut, args.output, crossfade=args.crossfade)
    print(
        f"{args.output}: kept {len(cut.spans)} stretches, {float(cut.kept):.2f} s of "
        f"{float(end):.2f} s ({removed:.2f} s removed)",
        file=sys.stderr,
    )
    return 0


def _export(args, cut, info) -> None:
    from moviola.analysis.export import export
    from moviola.analysis.model import Shot, ShotList

    v = info.video[0]
    shots = [
        Shot(index=i, start_frame=a, end_frame=b, start=s, end=e)
        for i, ((a, b), (s, e)) in enumerate(zip(cut.frames, cut.spans, strict=True))
    ]
    frames = cut.frames[-1][1] + 1 if cut.frames else 0
    rate = Fraction(v.rate)
    export(
        ShotList(
            source=str(Path(args.input).resolve()),
            rate=rate,
            width=v.width,
            height=v.height,
            frames=max(frames, round(cut.duration * rate)),
            shots=shots,
            detector="moviola cut",
            audio=True,
        ),
        args.output,
    )
