"""The editing view's link to moviola.analysis (shots, descriptions, search, exports).

Those modules are optional here: each is imported when first asked for, and what is missing is
reported by ``available()`` so the page can hide that part with a clear message.
"""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

from moviola.errors import MoviolaError


def _module(name: str):
    try:
        return importlib.import_module(f"moviola.analysis.{name}")
    except ImportError:
        return None


def _methods(shots_mod) -> list[str]:
    for attr in ("METHODS", "DETECTORS", "methods"):
        value = getattr(shots_mod, attr, None)
        if isinstance(value, dict):
            return [str(k) for k in value]
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
    try:
        param = inspect.signature(shots_mod.detect_shots).parameters.get("method")
    except (TypeError, ValueError):
        param = None
    if param is not None and isinstance(param.default, str):
        return [param.default]
    return []


def _export_formats(export_mod) -> list[str]:
    for attr in ("FORMATS", "EXPORTERS", "formats"):
        value = getattr(export_mod, attr, None)
        if isinstance(value, dict):
            return [str(k) for k in value]
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
    return []


def available() -> dict:
    shots_mod = _module("shots")
    describe_mod = _module("describe")
    library_mod = _module("library")
    export_mod = _module("export")
    has_shots = shots_mod is not None and hasattr(shots_mod, "detect_shots")
    out = {
        "shots": has_shots,
        "describe": describe_mod is not None and hasattr(describe_mod, "describe_shots"),
        "search": library_mod is not None and hasattr(library_mod, "Library"),
        "export": True,  # CSV and JSON are always possible; more with moviola.analysis.export
        "methods": _methods(shots_mod) if has_shots else [],
        "export_formats": [
            "csv",
            "json",
            *[
                f
                for f in (_export_formats(export_mod) if export_mod else [])
                if f not in ("csv", "json")
            ],
        ],
        "message": "",
    }
    if not has_shots:
        out["message"] = (
            "The editing view needs shot detection (moviola.analysis.shots), "
            "which this install does not have yet."
        )
    return out


def search(query: str, data_dir: Path, roots, limit: int = 20, filters: dict | None = None):
    """Shots ranked for ``query`` in the studio's library (``DATA/library.sqlite``: every shot
    list described in the studio), limited to files inside the media folders."""
    library_mod = _module("library")
    if library_mod is None or not hasattr(library_mod, "Library"):
        raise MoviolaError("search is not available in this install (moviola.analysis.library)")
    db = Path(data_dir) / "library.sqlite"
    if not db.exists():
        return []
    known = set(getattr(getattr(library_mod, "Filters", None), "__dataclass_fields__", {}))
    chosen = {k: v for k, v in (filters or {}).items() if k in known}
    library = library_mod.Library(db)
    try:
        hits = library.search(
            query, filters=library_mod.Filters(**chosen) if chosen else None, limit=limit * 2
        )
    finally:
        library.close()
    out = []
    for hit in hits:
        row = hit.to_dict() if hasattr(hit, "to_dict") else dict(hit)
        source = row.get("path") or row.get("source")
        media_id = roots.media_id(source) if source and Path(source).exists() else None
        if media_id is None:
            continue
        description = row.pop("description", None) or {}
        row.update({k: v for k, v in description.items() if k not in row})
        row["source"] = media_id
        row["index"] = row.get("shot", row.get("index", 0))
        row["frames"] = row["end_frame"] - row["start_frame"] + 1
        row.setdefault("transition", "")
        row.pop("path", None)
        out.append(json.loads(json.dumps(row, default=str)))
    return out[:limit]


def _kwargs(fn, **candidates) -> dict:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    return {k: v for k, v in candidates.items() if k in params}


def export(shots_json: Path, source: Path, fmt: str, out_dir: Path) -> Path:
    """Write the shot list in ``fmt`` beside it; returns the file."""
    from moviola.analysis.model import ShotList

    fmt = fmt.lower().strip(".")
    if fmt not in available()["export_formats"]:
        raise MoviolaError(f"unknown export format {fmt!r}")
    shot_list = ShotList.load(shots_json)
    export_mod = _module("export")
    ext = fmt
    if export_mod is not None:
        for suffix, name in getattr(export_mod, "EXTENSIONS", {}).items():
            if name == fmt:
                ext = suffix.lstrip(".")
                break
    target = out_dir / f"{Path(source).stem}-shots.{ext}"
    if fmt == "json" and export_mod is None:
        target.write_text(shot_list.to_json())
        return target
    if export_mod is not None:
        fn = getattr(export_mod, "export", None)
        if callable(fn):
            result = fn(shot_list, target, **_kwargs(fn, fmt=fmt, format=fmt))
            if isinstance(result, str | Path) and Path(result).is_file():
                return Path(result)
            if target.is_file():
                return target
    if fmt == "csv":
        import csv

        rows = shot_list.to_dict()["shots"]
        keys = [
            "index",
            "start_frame",
            "end_frame",
            "start_timecode",
            "end_timecode",
            "start_seconds",
            "end_seconds",
            "frames",
            "transition",
        ]
        with open(target, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        return target
    raise MoviolaError(f"export to {fmt} is not available in this install")
