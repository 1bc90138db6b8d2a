"""``moviola transcribe IN -o OUT``: what is said, with word times (and speakers)."""

from __future__ import annotations

import sys
from pathlib import Path

from moviola.errors import MoviolaError

MODELS = ("whisper-tiny-en", "whisper-base")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "transcribe",
        help="transcribe speech (Whisper): JSON with word times, SRT, WebVTT or text",
        description=(
            "Transcribe the speech of a video or audio file, offline, with Whisper "
            "(faster-whisper, int8 on the CPU) and word timestamps. Only what Silero VAD hears "
            "as speech reaches Whisper, so silence and music give no invented words. The "
            "default model, whisper-tiny-en, knows ENGLISH ONLY; --model whisper-base knows 99 "
            "languages (detected, or set with --language) and is about twice as slow. The "
            "output format follows OUT's extension: .json (segments with start, end, text, "
            "speaker and words with start, end, probability), .srt, .vtt or .txt."
        ),
    )
    p.add_argument("input", help="video or audio file")
    p.add_argument("-o", "--output", help="transcript file: .json, .srt, .vtt or .txt")
    p.add_argument("--json", action="store_true", help="print the transcript as JSON")
    add_model_option(p)
    p.add_argument(
        "--language",
        metavar="CODE",
        help="language spoken (ISO 639-1, e.g. fr); whisper-base only, detected when not given",
    )
    p.add_argument(
        "--speakers",
        metavar="auto|N",
        help="tell speakers apart (GE2E speaker embeddings, agglomerative clustering): "
        "'auto' or the number of speakers",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def add_model_option(p, when: str = "") -> None:
    """The ``--model`` option of the commands that transcribe (transcribe, subtitle, cut)."""
    p.add_argument(
        "--model",
        choices=MODELS,
        default=MODELS[0],
        help=f"Whisper model{when} (default %(default)s; whisper-tiny-en is English only)",
    )


def parse_speakers(value: str | None) -> int | str | None:
    if value is None or value == "auto":
        return value
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not 1 <= n <= 32:
        raise MoviolaError(f"--speakers must be 'auto' or a number from 1 to 32, not {value!r}")
    return n


def output_suffix(path: str) -> str:
    from moviola.speech.transcript import FORMATS

    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise MoviolaError(f"cannot write a transcript as {path}: use {', '.join(FORMATS)}")
    return suffix


def run(args) -> int:
    from moviola.media import atomic
    from moviola.speech.transcribe import Transcriber

    if not args.output and not args.json:
        raise MoviolaError("say where the transcript goes: -o OUT (.json/.srt/.vtt/.txt) or --json")
    if not Path(args.input).is_file():
        raise MoviolaError(f"no such file: {args.input}")
    suffix = output_suffix(args.output) if args.output else None
    if args.output and Path(args.output).resolve() == Path(args.input).resolve():
        raise MoviolaError("the output would overwrite the input")
    speakers = parse_speakers(args.speakers)
    transcriber = Transcriber(args.model, language=args.language)
    bar = (
        None if args.quiet or args.json or not sys.stderr.isatty() else _SecondsBar("transcribing")
    )
    try:
        transcript = transcriber.transcribe(args.input, speakers=speakers, progress=bar)
    finally:
        if bar:
            bar.finish()
    if suffix and args.output:
        atomic.write_text(args.output, transcript.format(suffix))
    if args.json:
        sys.stdout.write(transcript.format(".json"))
    else:
        words = len(transcript.words)
        who = f", {len(transcript.speakers)} speakers" if transcript.speakers else ""
        print(
            f"{args.output}: {len(transcript.segments)} segments, {words} words{who}, "
            f"{transcript.duration:.1f} s of audio ({transcript.language})",
            file=sys.stderr,
        )
    return 0


class _SecondsBar:
    """A progress bar in seconds of audio (rich, on stderr)."""

    def __init__(self, description: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn(description),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.completed:.0f} s of audio"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._task = self._bar.add_task(description, total=None)
        self._started = False  # shown once there is audio to hear (not before an error)

    def __call__(self, done: float, total: float | None) -> None:
        if not self._started:
            self._bar.start()
            self._started = True
        self._bar.update(self._task, completed=done, total=total)

    def finish(self) -> None:
        if self._started:
            self._bar.stop()
