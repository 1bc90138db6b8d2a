"""Effects and the runner that chains them over one decode and one encode pass."""

from moviola.media.time import parse_fraction, parse_rate, parse_time
from moviola.pipeline.effect import Effect
from moviola.pipeline.options import RunOptions
from moviola.pipeline.params import Param, parse_bool, parse_color, parse_path
from moviola.pipeline.registry import create, effects, get, parse_spec, register
from moviola.pipeline.runner import Chain, Progress, RunResult, run

__all__ = [
    "Chain",
    "Effect",
    "Param",
    "Progress",
    "RunOptions",
    "RunResult",
    "create",
    "effects",
    "get",
    "parse_bool",
    "parse_color",
    "parse_fraction",
    "parse_path",
    "parse_rate",
    "parse_spec",
    "parse_time",
    "register",
    "run",
]
