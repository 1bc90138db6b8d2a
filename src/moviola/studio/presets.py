"""Presets: an effect chain with its values, saved under a name (``DATA/presets.json``), loaded
back, deleted, exported as a JSON file and imported from one. A preset is checked as a job's
chain is (known effects and parameters, values that fit, files inside the media folders) before
it is kept; a bad file is refused with one plain line."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError
from moviola.studio.paths import PathRefused, sanitize_filename
from moviola.studio.records import read_records, write_records
from moviola.studio.state import StudioState

FILE = "presets.json"
FORMAT = "moviola-preset"
MAX_NAME = 60
MAX_FILE = 256 * 1024
MAX_PRESETS = 500
_LOCK = threading.Lock()  # one change at a time (the server's threads share the file)


def _read(data_dir: Path) -> dict[str, dict]:
    return read_records(data_dir, FILE, "presets")


def _write(data_dir: Path, presets: dict[str, dict]) -> None:
    write_records(data_dir, FILE, "presets", presets)


def load_all(data_dir: Path) -> list[dict]:
    """Every preset, by name."""
    return [presets for _, presets in sorted(_read(data_dir).items(), key=lambda p: p[0].lower())]


def check_name(name: Any) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise MoviolaError("name: a preset needs a name")
    if len(text) > MAX_NAME:
        raise MoviolaError(f"name: at most {MAX_NAME} characters")
    if "/" in text or not text.isprintable():
        raise MoviolaError("name: letters, digits, spaces and punctuation other than /")
    return text


def _checked(state: StudioState, effects: Any) -> list[dict]:
    """The chain as a preset keeps it (the values as given: media ids, not server paths)."""
    from moviola.pipeline import registry
    from moviola.studio.specs import check_chain

    if not isinstance(effects, list) or not effects:
        raise MoviolaError("a preset holds a chain of at least one effect")
    for item in effects:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or name not in registry.effects():
            if isinstance(name, str):
                raise MoviolaError(f"unknown effect {name!r}")
            raise MoviolaError('each effect is {"name": ..., "params": {...}}')
    try:
        chain = check_chain(effects, state.roots)
    except PathRefused as exc:
        raise MoviolaError(str(exc)) from None
    return [{"name": e["name"], "params": e["shown"]} for e in chain]


def save(state: StudioState, name: Any, effects: Any) -> dict:
    """Keep ``effects`` as the preset ``name`` (replacing one of that name)."""
    name = check_name(name)
    chain = _checked(state, effects)
    with _LOCK:
        presets = _read(state.data_dir)
        if name not in presets and len(presets) >= MAX_PRESETS:
            raise MoviolaError(f"at most {MAX_PRESETS} presets: delete some first")
        preset = {"name": name, "effects": chain, "saved": time.time()}
        presets[name] = preset
        _write(state.data_dir, presets)
    return preset


def get(data_dir: Path, name: str) -> dict:
    preset = _read(data_dir).get(name)
    if preset is None:
        raise MoviolaError(f"no preset named {name!r}")
    return preset


def delete(data_dir: Path, name: str) -> None:
    with _LOCK:
        presets = _read(data_dir)
        if presets.pop(name, None) is None:
            raise MoviolaError(f"no preset named {name!r}")
        _write(data_dir, presets)


def file_stem(name: str) -> str:
    return sanitize_filename(name, 60).replace(".", "_")


def export_text(data_dir: Path, name: str) -> str:
    """The preset as a file to share: ``{"format": "moviola-preset", "version": 1, "name",
    "effects"}``."""
    preset = get(data_dir, name)
    data = {"format": FORMAT, "version": 1, "name": preset["name"], "effects": preset["effects"]}
    return json.dumps(data, indent=2) + "\n"


def import_text(state: StudioState, body: bytes) -> dict:
    """A preset file (as exported) checked and kept under its name."""
    try:
        data = json.loads(bytes(body).decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, NaN, nested too deep
        raise MoviolaError("the file is not a preset: it is not JSON") from None
    if not isinstance(data, dict) or "effects" not in data:
        raise MoviolaError('the file is not a preset: it has no "effects"')
    if data.get("format", FORMAT) != FORMAT:
        raise MoviolaError(f"the file is not a preset: its format is {data.get('format')!r}")
    return save(state, data.get("name"), data["effects"])


def _no_constant(text: str) -> None:
    raise ValueError(text)  # NaN, Infinity: Python's json takes them, JSON does not
