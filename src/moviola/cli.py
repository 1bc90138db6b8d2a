"""The `moviola` command line: parses, calls the library, prints.

Effect subcommands and their options are generated from the effects' declared parameters.
Errors a user can cause print one line and exit with code 2; Ctrl-C exits 130 and leaves no
partial output.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator

from av.error import FFmpegError

import moviola.effects  # noqa: F401  (registers the built-in effects and plugins)
from moviola._version import __version__
from moviola.commands import discover as discover_commands
from moviola.commands._shared import (
    Parser,
    add_effect_options,
    add_io_options,
    effect_values,
    run_effects,
)
from moviola.errors import MoviolaError
from moviola.media import format_info, probe, provenance
from moviola.models.runtime.device import DEVICES
from moviola.models.runtime.device import use as use_device
from moviola.pipeline import registry

log = logging.getLogger("moviola")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="moviola", description="Machine learning for the moving image.")
    parser.add_argument("--version", action="version", version=f"moviola {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    parser.add_argument(
        "--sign-cert",
        metavar="PEM",
        help="sign synthetic outputs (C2PA) with this certificate chain, signer first "
        "(default: a local CA made on first use; see docs/provenance.md)",
    )
    parser.add_argument("--sign-key", metavar="PEM", help="the private key of --sign-cert")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("probe", help="describe a media file")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("effects", help="list the effects and their parameters")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--markdown", action="store_true", help="print the README's table")
    p.set_defaults(func=cmd_effects)

    p = sub.add_parser(
        "chain",
        help="apply several effects in one pass",
        description="Apply effects in order: moviola chain IN -o OUT "
        '"resize:width=1280" "fps:rate=30000/1001"',
    )
    add_io_options(p)
    p.add_argument(
        "effects",
        nargs="+",
        metavar="EFFECT",
        help='effect with parameters, e.g. "resize:width=1280,height=720"',
    )
    p.set_defaults(func=cmd_chain)

    for name, effect in registry.effects().items():
        p = sub.add_parser(name, help=effect.summary, description=effect.summary)
        add_io_options(p, {param.name for param in effect.params})
        add_effect_options(p, effect)
        p.set_defaults(func=cmd_effect, effect=name)

    for module in discover_commands():
        module.add_parser(sub)
    for name, command in sub.choices.items():
        if name not in _NO_MODELS:
            add_device_option(command)
    return parser


# commands that run no model, and so take no --device
_NO_MODELS = frozenset({"probe", "effects", "models"})


def add_device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device",
        choices=DEVICES,
        default=None,
        help="where models run: auto (a GPU when one is usable, default), cpu, cuda, rocm, "
        "coreml, dml; a GPU that is not usable here is an error, not a silent fall-back",
    )


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
    return run_effects(args, [registry.parse_spec(spec) for spec in args.effects])


def cmd_effect(args) -> int:
    cls = registry.get(args.effect)
    return run_effects(args, [cls(**effect_values(args, cls))])


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


def _positional_form(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """An effect may declare another way to write its command (``Effect.positional``): for
    puppet, ``moviola puppet PORTRAIT --driver VIDEO ...`` is read as the effect form
    ``moviola puppet VIDEO --portrait PORTRAIT ...`` (the driving video is the input)."""
    if not argv or argv[0] not in registry.effects():
        return argv
    declared = registry.get(argv[0]).positional
    if declared is None:
        return argv
    param, input_option = declared
    flag = "--" + input_option.replace("_", "-")
    if flag not in argv[:-1]:
        return argv
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    takes_value = {
        o for a in sub.choices[argv[0]]._actions if a.nargs != 0 for o in a.option_strings
    }
    i = argv.index(flag)
    video, rest = argv[i + 1], argv[1:i] + argv[i + 2 :]
    for j, token in enumerate(rest):
        if not token.startswith("-") and (j == 0 or rest[j - 1] not in takes_value):
            option = "--" + param.replace("_", "-")
            return [argv[0], video, *rest[:j], *rest[j + 1 :], option, token]
    return argv


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: stopped like Ctrl-C (temporary output removed), exit 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, _frame: object) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def _stop_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP stop a run the way Ctrl-C does (only in the main thread, restored
    afterwards, so that a program calling ``main`` keeps its own handlers)."""
    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, _terminate) for s in wanted}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def main(argv: list[str] | None = None) -> int:
    with _stop_signals():
        return _main(sys.argv[1:] if argv is None else argv)


def _main(argv: list[str]) -> int:
    debug = "--debug" in argv
    _setup_logging(debug)
    try:
        parser = build_parser()
        args = parser.parse_args(_positional_form(parser, argv))
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        use_device(getattr(args, "device", None))
        provenance.use_credentials(args.sign_cert, args.sign_key)
        return args.func(args)
    except MoviolaError as exc:
        print(f"moviola: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("\nmoviola: cancelled; no output was written", file=sys.stderr)
        return 128 + exc.signum if isinstance(exc, Terminated) else 130
    except BrokenPipeError:  # `moviola search ... | head`: the reader went away, fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except FFmpegError as exc:
        if debug:
            raise
        print(f"moviola: error: ffmpeg: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug: one line, traceback with --debug
        if debug:
            raise
        print(
            f"moviola: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
