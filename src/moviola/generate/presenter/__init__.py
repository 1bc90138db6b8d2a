"""``moviola presenter``: a talking head made from one photo or painting and a text (or a
recording). See :mod:`.render` for the steps and docs/presenter.md for use and limits."""

from __future__ import annotations

from moviola.generate.presenter.render import (
    LABEL_TEXT,
    Presenter,
    PresenterResult,
    PresenterSettings,
    opening_series,
    output_size,
)

__all__ = [
    "LABEL_TEXT",
    "Presenter",
    "PresenterResult",
    "PresenterSettings",
    "opening_series",
    "output_size",
]
