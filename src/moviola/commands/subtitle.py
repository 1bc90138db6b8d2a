"""``moviola subtitle IN -o OUT``: a subtitle track muxed in, or burned into the picture."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from moviola.commands._shared import add_io_options, run_effects
from moviola.commands.transcribe import add_model_option
from moviola.errors import MoviolaError

BURN = ("size", "position", "style", "font")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "subtitle",
        help="add subtitles to a video: a subtitle track, or burned in (--burn)",
        description=(
            "Add subtitles to a video. Without --from, the speech is transcribed first "
            "(Whisper tiny.en, ENGLISH ONLY; --model whisper-base for other languages). The "
            "subtitles are muxed as a track without re-encoding anything (mov_text in "
            ".mp4/.mov, SRT in .mkv, WebVTT in .webm), keeping the tracks already there; with "
            "--burn they are drawn into the picture instead (the video is re-encoded; the "
            "audio is kept). Cues are cut for reading: 42 characters a line, two lines at most."
        ),
    )
    add_io_options(p)
    p.add_argument(
        "--from",
        dest="source",
        metavar="FILE",
        help="subtitles to use: .srt, .vtt, or a transcript .json from `moviola transcribe`",
    )
    p.add_argument("--burn", action="store_true", help="draw the subtitles into the picture")
    p.add_argument(
        "--language", metavar="CODE", help="language of the speech (and of the subtitle track)"
    )
    add_model_option(p, " when transcribing")
    p.add_argument("--speakers", metavar="auto|N", help="label speakers when transcribing")
    p.add_argument("--title", help="name of the subtitle track")
    p.add_argument(
        "--size", type=float, help="burned text height, a fraction of the picture's (--burn)"
    )
    p.add_argument("--position", choices=("bottom", "top"), help="where burned text goes")
    p.add_argument("--style", choices=("outline", "box"), help="burned text style")
    p.add_argument("--font", metavar="FILE.ttf", help="font for burned text")
    p.set_defaults(func=run)


ISO639_2 = {"en": "eng", "fr": "fra", "de": "deu", "es": "spa", "it": "ita", "pt": "por",
            "nl": "nld", "ja": "jpn", "zh": "zho", "ru": "rus", "ko": "kor", "ar": "ara"}  # fmt: skip


def _cues(args) -> list:
    from moviola.media.subtitles import read_subtitles

    if args.source:
        src = Path(args.source)
        if src.suffix.lower() == ".json":
            from moviola.speech.transcript import load_transcript

            return load_transcript(src).cues()
        return read_subtitles(src)
    from moviola.commands.transcribe import parse_speakers
    from moviola.speech.transcribe import Transcriber

    transcriber = Transcriber(args.model, language=args.language)
    transcript = transcriber.transcribe(args.input, speakers=parse_speakers(args.speakers))
    print(
        f"transcribed {len(transcript.words)} words ({transcript.language})",
        file=sys.stderr,
    )
    return transcript.cues()


def run(args) -> int:
    from moviola.media import atomic
    from moviola.media.subtitles import format_srt, mux_subtitles

    src = Path(args.input)
    if not src.is_file():
        raise MoviolaError(f"no such file: {args.input}")
    if Path(args.output).resolve() == src.resolve():
        raise MoviolaError("the output would overwrite the input")
    if not args.burn and any(getattr(args, k) is not None for k in BURN):
        raise MoviolaError("--size, --position, --style and --font style burned text: add --burn")
    cues = _cues(args)
    if not cues:
        raise MoviolaError("no subtitles to add: nothing was said (or the file has no cues)")
    if not args.burn:
        code = args.language or ("en" if args.model == "whisper-tiny-en" else None)
        language = ISO639_2.get(code or "", code if code and len(code) == 3 else None)
        mux_subtitles(src, cues, args.output, language=language, title=args.title)
        print(f"wrote {args.output}: {len(cues)} subtitles added as a track")
        return 0
    from moviola.pipeline import registry

    srt = atomic.make_temp(args.output, suffix=".srt")
    try:
        Path(srt).write_text(format_srt(cues), encoding="utf-8")
        values = {k: getattr(args, k) for k in BURN if getattr(args, k) is not None}
        return run_effects(args, [registry.create("captions", subtitles=str(srt), **values)])
    finally:
        with contextlib.suppress(OSError):
            Path(srt).unlink()
