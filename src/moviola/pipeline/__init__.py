"""Effects and the runner that chains them over one decode and one encode pass."""

from moviola.pipeline.effect import Effect, Param, parse_rate
from moviola.pipeline.registry import create, effects, get, parse_spec, register
from moviola.pipeline.runner import Chain, Progress, RunResult, run

__all__ = [
    "Chain",
    "Effect",
    "Param",
    "Progress",
    "RunResult",
    "create",
    "effects",
    "get",
    "parse_rate",
    "parse_spec",
    "register",
    "run",
]
