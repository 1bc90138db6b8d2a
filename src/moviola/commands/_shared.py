"""What the command-line front end shares between its commands: the parser class, the
input/output options, running a chain with a progress bar. Command modules in this package
(``moviola/commands/NAME.py`` with ``add_parser(sub)``) are found by the CLI automatically."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any

from moviola import engines
from moviola.errors import MoviolaError
from moviola.media import codec_choices
from moviola.pipeline import Progress
from moviola.pipeline.effect import Effect
from moviola.pipeline.options import RunOptions
from moviola.pipeline.params import Param


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (exit 2), like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise MoviolaError(f"{message} (see: {self.prog} --help)")


def bounded(kind: type[int] | type[float], low: float, high: float) -> Callable[[str], Any]:
    """An argparse ``type``: a whole (``int``) or finite (``float``) number from ``low`` to
    ``high``; anything else is a one-line usage error naming the range."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None
        if not low <= value <= high:  # NaN fails this too
            raise argparse.ArgumentTypeError(f"{text} is out of range ({low:g} to {high:g})")
        return value

    parse.__name__ = kind.__name__
    return parse


def _option_name(param: Param) -> str:
    return "--" + param.name.replace("_", "-")


def _param_help(param: Param) -> str:
    text = param.help or param.name
    extra = []
    if param.choices:
        extra.append("choices: " + ", ".join(param.choices))
    if param.min is not None or param.max is not None:
        extra.append(
            f"range {param.min if param.min is not None else '-inf'}.."
            f"{param.max if param.max is not None else 'inf'}"
        )
    if param.multiple:
        extra.append("repeatable")
    if param.default is not None and param.type_name != "bool":
        extra.append(f"default {param.describe()['default']}")
    return text + (f" ({'; '.join(extra)})" if extra else "")


def add_effect_options(parser: argparse.ArgumentParser, effect: type[Effect]) -> None:
    group = parser.add_argument_group(f"{effect.name} options")
    for param in effect.params:
        if param.type_name == "bool":
            group.add_argument(
                _option_name(param),
                dest=f"p_{param.name}",
                action=argparse.BooleanOptionalAction,
                default=None,
                help=_param_help(param),
            )
        else:
            group.add_argument(
                _option_name(param),
                dest=f"p_{param.name}",
                default=None,
                action="append" if param.multiple else "store",
                metavar=param.type_name.upper(),
                help=_param_help(param),
            )


def add_io_options(parser: argparse.ArgumentParser, taken: AbstractSet[str] = frozenset()) -> None:
    """Input/output options; an effect parameter of the same name (trim's start/end) wins."""
    parser.add_argument("input", help="input video file")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file (format from the extension: .mp4 .mov .mkv .webm .avi "
        ".gif .webp) or a folder (out/) for a PNG sequence",
    )
    if "start" not in taken:
        parser.add_argument("--start", help="start of the input range (seconds or HH:MM:SS.mmm)")
    if "end" not in taken:
        parser.add_argument("--end", help="end of the input range (not included)")
    parser.add_argument("--codec", help="video codec: " + ", ".join(codec_choices()))
    parser.add_argument("--crf", type=int, help="quality for h264/h265/vp9/av1 (lower = better)")
    parser.add_argument("--preset", help="encoder preset (e.g. ultrafast..veryslow for h264)")
    parser.add_argument("--no-audio", action="store_true", help="do not carry the audio over")
    parser.add_argument(
        "--strict", action="store_true", help="fail on undecodable frames instead of skipping them"
    )
    parser.add_argument(
        "--deep",
        action="store_true",
        help="process in 16 bits per channel (for 10-bit sources and outputs)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_engine_options(parser)


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("engine options")
    group.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local (default): this process; ray: chunks as Ray tasks (pip install 'moviola[ray]')",
    )
    group.add_argument("--address", help="Ray cluster address (default: start a local Ray)")
    group.add_argument(
        "--workers",
        type=bounded(int, 1, 4096),
        help="CPUs of the local Ray instance (default: all)",
    )
    group.add_argument(
        "--chunk-seconds",
        type=bounded(float, 0.5, 3600),
        default=10.0,
        help="chunk length for --engine ray, cut at keyframes (default 10)",
    )


def add_shot_options(parser: argparse.ArgumentParser, *, shots: bool = True) -> None:
    """Where a command that works shot by shot gets its shots: --shots FILE, else detected
    (TransNetV2, or --fast for the classical detector)."""
    if shots:
        parser.add_argument(
            "--shots",
            metavar="SHOTS.json",
            help="shot list JSON (from `moviola shots --json`); default: detect the shots now",
        )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="detect shots with the fast classical detector instead of TransNetV2",
    )


def engine_options(args) -> dict[str, Any]:
    """The engine the command line chose (add_engine_options), as ``engines.run``'s keywords."""
    return {name: getattr(args, name) for name in ("engine", "address", "workers", "chunk_seconds")}


def run_options(args) -> RunOptions:
    """The run options the command line gave (the io options of add_io_options)."""
    return RunOptions(
        start=getattr(args, "start", None),
        end=getattr(args, "end", None),
        codec=args.codec,
        crf=args.crf,
        preset=args.preset,
        audio=not args.no_audio,
        strict=args.strict,
        dtype="uint16" if args.deep else "uint8",
    )


def run_effects(args, effects: list[Effect]) -> int:
    bar = None if args.quiet or args.json or not sys.stderr.isatty() else ProgressBar()
    options = RunOptions.of(run_options(args), progress=bar)
    result = engines.run(args.input, args.output, effects, options, **engine_options(args))
    if bar:
        bar.finish()
    if args.json:
        print(
            json.dumps(
                result.summary(),
                indent=2,
            )
        )
    else:
        skipped = f", {result.skipped} undecodable packets skipped" if result.skipped else ""
        print(
            f"wrote {result.output}: {result.frames_out} frames "
            f"{result.info.width}x{result.info.height} in {result.seconds:.1f} s "
            f"({result.fps:.1f} fps), audio {result.audio}{skipped}"
        )
    return 0


class ProgressBar:
    """A progress bar on stderr (rich): bar, percentage, frames, fps and ETA.

    Called with :class:`~moviola.pipeline.Progress` events; ``finish()`` ends the line.
    """

    def __init__(self, description: str = "") -> None:
        from rich.console import Console
        from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.completed}{task.fields[total_text]} frames {task.fields[fps]} fps"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._task = self._bar.add_task(
            description, total=None, total_text="", fps="  0.0", start=False
        )
        self._started = False

    def __call__(self, p: Progress) -> None:
        if not self._started:
            self._bar.start()
            self._bar.start_task(self._task)
            self._started = True
        total = p.total if p.total else None
        if p.done:
            total = p.frames
        self._bar.update(
            self._task,
            completed=p.frames,
            total=total,
            total_text=f"/{total}" if total else "",
            fps=f"{p.fps:5.1f}",
        )

    def finish(self) -> None:
        if self._started:
            self._bar.stop()


def effect_values(args, cls: type[Effect]) -> dict:
    """The effect parameters given on the command line (``--name`` options made by
    add_effect_options)."""
    return {
        p.name: getattr(args, f"p_{p.name}")
        for p in cls.params
        if getattr(args, f"p_{p.name}") is not None
    }


def video_summary(result: Any) -> dict[str, Any]:
    """The fields every made-video result reports in --json (latentwalk, montage): output path,
    frames, size and the exact frame rate."""
    return {
        "output": str(result.output),
        "frames": result.frames,
        "width": result.width,
        "height": result.height,
        "rate": f"{result.fps.numerator}/{result.fps.denominator}",
    }
