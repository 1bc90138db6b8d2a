"""Named records kept in one JSON file in the studio's data folder (presets, projects): read
whole, written whole through a temporary file; the callers hold their own lock."""

from __future__ import annotations

import json
from pathlib import Path

from moviola.errors import MoviolaError
from moviola.media.atomic import write_text


def read_records(data_dir: Path, file: str, key: str) -> dict[str, dict]:
    """The ``key`` table of ``file`` ({} when the file does not exist yet)."""
    try:
        data = json.loads((Path(data_dir) / file).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise MoviolaError(f"the {key} file {file} in the data folder is unreadable") from None
    records = data.get(key) if isinstance(data, dict) else None
    return records if isinstance(records, dict) else {}


def write_records(data_dir: Path, file: str, key: str, records: dict[str, dict]) -> None:
    write_text(Path(data_dir) / file, json.dumps({key: records}, indent=1))
