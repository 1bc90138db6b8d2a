"""moviola: machine learning for the moving image, on your own footage, on your own machine."""

from moviola._version import __version__
from moviola.api import Clip, open
from moviola.errors import MoviolaError
from moviola.media import probe
from moviola.pipeline import Effect, Param, effects, register

__all__ = [
    "Clip",
    "Effect",
    "MoviolaError",
    "Param",
    "__version__",
    "effects",
    "open",
    "probe",
    "register",
]
