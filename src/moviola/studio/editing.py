"""The editing view's link to moviola.analysis (shots, descriptions, search, exports).

They are imported when first asked for; ``available()`` tells the page when the analysis extra
is missing, so it can hide the view with a clear message.
"""

from __future__ import annotations

import json
from pathlib import Path

from moviola.errors import MoviolaError

# Below this score a shot is no match for the query: the page says "no match" and shows the
# closest shots as weak. Measured by bench/studio_search.py on the sample footage (described
# shots of Megamind.avi, vtest.avi, tree.avi): things the footage does not show scored up to
# 0.385 (a forest fire against the tree clip), things it shows from 0.148 (summaries that miss
# them) to 0.521; 0.35 keeps the clear matches and drops all but one absent thing
# (docs/studio.md has the table).
MATCH_THRESHOLD = 0.35


def available() -> dict:
    """What the editing view can do in this install (the page hides what is missing)."""
    try:
        from moviola.analysis import export as exporter
        from moviola.analysis import shots
    except ImportError as exc:  # an install without the analysis extra
        return {
            "shots": False,
            "describe": False,
            "search": False,
            "export": False,
            "methods": [],
            "export_formats": [],
            "message": f"The editing view needs moviola[analysis]: {exc}",
        }
    return {
        "shots": True,
        "describe": True,
        "search": True,
        "export": True,
        "methods": list(shots.METHODS),
        "export_formats": list(exporter.FORMATS),
        "message": "",
    }


def search(query: str, data_dir: Path, roots, limit: int = 20, filters: dict | None = None):
    """Shots ranked for ``query`` in the studio's library (``DATA/library.sqlite``: every shot
    list described in the studio), limited to files inside the media folders."""
    from moviola.analysis import library as library_mod

    db = Path(data_dir) / "library.sqlite"
    if not db.exists():
        return []
    known = set(library_mod.Filters.__dataclass_fields__)
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
        row = hit.to_dict()
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


def export(shots_json: Path, source: Path, fmt: str, out_dir: Path) -> Path:
    """Write the shot list in ``fmt`` into ``out_dir``; returns the file."""
    from moviola.analysis import export as exporter
    from moviola.analysis.model import ShotList

    fmt = fmt.lower().strip(".")
    if fmt not in exporter.FORMATS:
        raise MoviolaError(f"unknown export format {fmt!r}")
    ext = next(suffix for suffix, name in exporter.EXTENSIONS.items() if name == fmt)
    target = out_dir / f"{Path(source).stem}-shots{ext}"
    return Path(exporter.export(ShotList.load(shots_json), target, fmt))
