"""``moviola presenter PORTRAIT -o OUT.mp4 --text T``: a talking head from one photo
(see moviola.generate.presenter)."""

from __future__ import annotations

import argparse
import json
import sys

from moviola.commands._shared import bounded


def add_parser(sub) -> None:
    p = sub.add_parser(
        "presenter",
        help="a talking presenter from one portrait and a text (or a recording); labelled "
        "and signed as synthetic",
        description=(
            "Make a talking head from one photo or painting: the text is spoken (Kokoro-82M or "
            "Piper, offline) or a recording is used (--audio: its words found by Whisper), the "
            "face's mouth follows the phonemes, the eyes blink, the brows lift on stressed "
            "syllables, the head sways a little. Optional new background (the matte effect), a "
            "lower-third name card and the sentences as a subtitle track. The output is tagged, "
            "signed (C2PA) and visibly labelled as synthetic. Example: moviola presenter "
            "photo.jpg -o news.mp4 --text 'Good evening.' --name 'Ada Lovelace, anchor'"
        ),
    )
    p.add_argument("portrait", help="photo or painting with a face")
    p.add_argument("-o", "--output", required=True, help="output video (.mp4 .mov .mkv .webm)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--text", metavar="T", help="what the presenter says")
    src.add_argument("--script", metavar="FILE", help="a UTF-8 text file to say")
    src.add_argument("--audio", metavar="FILE", help="a recording to lip-sync instead of a voice")
    p.add_argument("--voice", help="voice name or blend (`moviola voices`); default alpha")
    p.add_argument("--speed", type=bounded(float, 0.5, 2.0), default=1.0, help="speaking rate")
    p.add_argument(
        "--face-index",
        type=bounded(int, 0, 99),
        metavar="N",
        help="which face speaks when the portrait has several (0: the largest)",
    )
    p.add_argument("--background", metavar="IMG", help="replace the background (matte)")
    p.add_argument("--name", metavar="'NAME, TITLE'", help="a lower-third name card")
    p.add_argument(
        "--size", default="512", help="512 (long side), 720p (height) or WxH (cropped); 512"
    )
    p.add_argument("--fps", default="25", choices=("24", "25", "30"), help="frame rate (25)")
    p.add_argument("--no-label", action="store_true", help="no visible 'SYNTHETIC' label")
    p.add_argument("--no-subtitles", action="store_true", help="no subtitle track")
    p.add_argument("--seed", type=bounded(int, 0, 2**31 - 1), default=0, help="idle motion seed")
    p.add_argument(
        "--sway", type=bounded(float, 0.0, 3.0), default=1.0, help="head motion (0: still)"
    )
    p.add_argument("--crf", type=int, help="video quality (lower = better)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from moviola.generate.presenter import Presenter, PresenterSettings

    settings = PresenterSettings(
        portrait=args.portrait,
        text=args.text,
        script=args.script,
        audio=args.audio,
        voice=args.voice,
        speed=args.speed,
        face_index=args.face_index,
        background=args.background,
        name=args.name,
        size=args.size,
        fps=args.fps,
        label=not args.no_label,
        subtitles=not args.no_subtitles,
        seed=args.seed,
        sway=args.sway,
    )
    presenter = Presenter(settings)
    show = not (args.quiet or args.json) and sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show and (done % 25 == 0 or done == total):
            print(f"\r  {done}/{total} frames", end="", file=sys.stderr, flush=True)

    result = presenter.render(args.output, crf=args.crf, progress=progress)
    if show:
        print(file=sys.stderr)
    for note in result.notes:
        print(f"moviola: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps({
            "output": str(result.output), "frames": result.frames, "width": result.width,
            "height": result.height, "fps": str(result.fps), "seconds": round(result.duration, 3),
            "faces": result.faces, "face_index": result.face_index, "voice": result.voice,
            "subtitles": result.subtitles, "render_fps": round(result.speed, 2),
        }, indent=2))  # fmt: skip
    else:
        print(
            f"wrote {result.output}: {result.frames} frames {result.width}x{result.height} at "
            f"{result.fps} fps, {result.duration:.1f} s of speech ({result.voice}), "
            f"{result.subtitles} subtitles, {result.speed:.1f} frames/s"
        )
    return 0
