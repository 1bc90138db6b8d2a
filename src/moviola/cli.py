"""The `moviola` command line: parses, calls the library, prints.

Effect subcommands and their options are generated from the effects' declared parameters.
Errors a user can cause print one line and exit with code 2; Ctrl-C exits 130 and leaves no
partial output.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from fractions import Fraction

import av

from moviola._version import __version__
from moviola.errors import MoviolaError
from moviola.media import codec_choices, format_info, probe
from moviola.pipeline import Progress, registry, run
from moviola.pipeline.effect import Effect, Param

log = logging.getLogger("moviola")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (exit 2), like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise MoviolaError(f"{message} (see: {self.prog} --help)")


def _option_name(param: Param) -> str:
    return "--" + param.name.replace("_", "-")


def _param_help(param: Param) -> str:
    text = param.help or param.name
    extra = []
    if param.choices:
        extra.append("choices: " + ", ".join(param.choices))
    if param.min is not None or param.max is not None:
        extra.append(f"range {param.min if param.min is not None else '-inf'}.."
                     f"{param.max if param.max is not None else 'inf'}")
    if param.default is not None and param.type != "bool":
        extra.append(f"default {param.describe()['default']}")
    return text + (f" ({'; '.join(extra)})" if extra else "")


def _add_effect_options(parser: argparse.ArgumentParser, effect: type[Effect]) -> None:
    group = parser.add_argument_group(f"{effect.name} options")
    for param in effect.params:
        if param.type == "bool":
            group.add_argument(_option_name(param), dest=f"p_{param.name}",
                               action=argparse.BooleanOptionalAction, default=None,
                               help=_param_help(param))
        else:
            group.add_argument(_option_name(param), dest=f"p_{param.name}", default=None,
                               metavar=param.type.upper(), help=_param_help(param))


def _add_io_options(parser: argparse.ArgumentParser, taken: set[str] = frozenset()) -> None:
    """Input/output options; an effect parameter of the same name (trim's start/end) wins."""
    parser.add_argument("input", help="input video file")
    parser.add_argument("-o", "--output", required=True,
                        help="output file (format from the extension: .mp4 .mov .mkv .webm .avi "
                             ".gif .webp) or a folder (out/) for a PNG sequence")
    if "start" not in taken:
        parser.add_argument("--start", help="start of the input range (seconds or HH:MM:SS.mmm)")
    if "end" not in taken:
        parser.add_argument("--end", help="end of the input range (not included)")
    parser.add_argument("--codec", help="video codec: " + ", ".join(codec_choices()))
    parser.add_argument("--crf", type=int, help="quality for h264/h265/vp9/av1 (lower = better)")
    parser.add_argument("--preset", help="encoder preset (e.g. ultrafast..veryslow for h264)")
    parser.add_argument("--no-audio", action="store_true", help="do not carry the audio over")
    parser.add_argument("--strict", action="store_true",
                        help="fail on undecodable frames instead of skipping them")
    parser.add_argument("--deep", action="store_true",
                        help="process in 16 bits per channel (for 10-bit sources and outputs)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="moviola", description="Machine learning for the moving image.")
    parser.add_argument("--version", action="version", version=f"moviola {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("probe", help="describe a media file")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("effects", help="list the effects and their parameters")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--markdown", action="store_true", help="print the README's table")
    p.set_defaults(func=cmd_effects)

    p = sub.add_parser("chain", help="apply several effects in one pass",
                       description='Apply effects in order: moviola chain IN -o OUT '
                                   '"resize:width=1280" "fps:rate=30000/1001"')
    _add_io_options(p)
    p.add_argument("effects", nargs="+", metavar="EFFECT",
                   help='effect with parameters, e.g. "resize:width=1280,height=720"')
    p.set_defaults(func=cmd_chain)

    for name, effect in registry.effects().items():
        p = sub.add_parser(name, help=effect.summary, description=effect.summary)
        _add_io_options(p, {param.name for param in effect.params})
        _add_effect_options(p, effect)
        p.set_defaults(func=cmd_effect, effect=name)

    try:
        from moviola.models import cli as models_cli
    except ImportError:
        models_cli = None
    if models_cli is not None:
        models_cli.add_parser(sub)
    return parser


# -- commands -----------------------------------------------------------------------------------
def cmd_probe(args) -> int:
    info = probe(args.file)
    print(json.dumps(info.to_dict(), indent=2) if args.json else format_info(info))
    return 0


def cmd_effects(args) -> int:
    described = [e.describe() for e in registry.effects().values()]
    if args.json:
        print(json.dumps(described, indent=2))
        return 0
    if args.markdown:
        print(effects_markdown(described))
        return 0
    for effect in described:
        print(f"{effect['name']:10} {effect['summary']}")
        for param in effect["params"]:
            default = "" if param["default"] is None else f" = {param['default']}"
            print(f"    {param['name']} ({param['type']}{default}): {param['help']}")
    return 0


def effects_markdown(described: list[dict]) -> str:
    """The effects table of the README, generated from the declarations."""
    rows = ["| effect | what it does | kind | parameters |", "|---|---|---|---|"]
    for effect in described:
        params = ", ".join(f"`{p['name']}`" for p in effect["params"])
        rows.append(f"| `{effect['name']}` | {effect['summary']} | {effect['kind']} | {params} |")
    return "\n".join(rows)


def cmd_chain(args) -> int:
    return _run(args, [registry.parse_spec(spec) for spec in args.effects])


def cmd_effect(args) -> int:
    cls = registry.get(args.effect)
    values = {p.name: getattr(args, f"p_{p.name}") for p in cls.params
              if getattr(args, f"p_{p.name}") is not None}
    return _run(args, [cls(**values)])


def _run(args, effects: list[Effect]) -> int:
    bar = None if args.quiet or args.json or not sys.stderr.isatty() else ProgressBar()
    result = run(
        args.input, args.output, effects, start=getattr(args, "start", None),
        end=getattr(args, "end", None), codec=args.codec,
        crf=args.crf, preset=args.preset, audio=not args.no_audio, strict=args.strict,
        dtype="uint16" if args.deep else "uint8", progress=bar,
    )
    if bar:
        bar.finish()
    if args.json:
        print(json.dumps({
            "output": str(result.output), "frames_in": result.frames_in,
            "frames_out": result.frames_out, "skipped": result.skipped,
            "seconds": round(result.seconds, 3), "fps": round(result.fps, 2),
            "audio": result.audio, "effects": result.effects,
            "width": result.info.width, "height": result.info.height,
            "rate": _frac(result.info.rate),
        }, indent=2))
    else:
        skipped = f", {result.skipped} undecodable packets skipped" if result.skipped else ""
        print(f"wrote {result.output}: {result.frames_out} frames "
              f"{result.info.width}x{result.info.height} in {result.seconds:.1f} s "
              f"({result.fps:.1f} fps), audio {result.audio}{skipped}")
    return 0


def _frac(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


class ProgressBar:
    """A one-line progress bar on stderr: frames, fps, ETA."""

    def __init__(self, width: int = 30) -> None:
        self.width = width
        self.started = time.monotonic()

    def __call__(self, p: Progress) -> None:
        frac = p.fraction
        if frac is None:
            bar = "?" * self.width
            pct = "  ?%"
        else:
            filled = int(frac * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            pct = f"{frac * 100:3.0f}%"
        total = f"/{p.total}" if p.total else ""
        eta = f" ETA {_clock(p.eta)}" if p.eta is not None else ""
        sys.stderr.write(f"\r[{bar}] {pct} {p.frames}{total} frames {p.fps:5.1f} fps{eta}   ")
        sys.stderr.flush()

    def finish(self) -> None:
        sys.stderr.write("\n")


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


# -- entry point --------------------------------------------------------------------------------
class _LineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"moviola: {record.levelname.lower()}: {record.getMessage()}"


def _setup_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormatter())
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if debug else logging.WARNING)
    log.propagate = False


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    _setup_logging(debug)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        return args.func(args)
    except MoviolaError as exc:
        print(f"moviola: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nmoviola: cancelled; no output was written", file=sys.stderr)
        return 130
    except av.FFmpegError as exc:
        if debug:
            raise
        print(f"moviola: error: ffmpeg: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug: one line, traceback with --debug
        if debug:
            raise
        print(f"moviola: internal error: {type(exc).__name__}: {exc} "
              "(run with --debug for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
