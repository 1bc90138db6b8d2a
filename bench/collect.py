"""Copy the figures sections that the bench scripts write into each effect's page into
docs/benchmarks.md, so that one page holds every figure (each with the command that made it).

    .venv/bin/python bench/collect.py

Run after any bench script; `make bench-effects` does.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, write_section  # noqa: E402

# (page, heading of a section written by a bench script)
SECTIONS = [
    ("shots.md", "## Shot boundary detection"),
    ("describe.md", "## Measured quality of the detectors"),
    ("recolor.md", "## Colorization (`colorize`): error and flicker on real footage"),
    ("recolor.md", "## Recolor (`recolor`): speed on real footage"),
    ("depth.md", "## Depth from motion: error against ground truth"),
    ("depth.md", "## Parallax render speed"),
    ("stylize.md", "## Stylize: speed and flicker"),
    ("stylize.md", "## Vintage filter: flicker"),
    ("latentwalk.md", "## Latent walks"),
    ("faces.md", "## Face tracking"),
    ("faces.md", "## Puppet speed"),
    ("engines.md", "## Ray engine: 1 vs 2 workers"),
    ("presenter.md", "## Presenter and lipsync: speed and mouth sync"),
    ("montage.md", "## Montage and downbeats: figures"),
    ("score.md", "## Score: cuts on beats, speed, loudness, dialogue"),
    ("composer.md", "## Composer: held-out likelihood and musical statistics"),
]


def section(text: str, heading: str) -> str | None:
    if heading not in text:
        return None
    start = text.index(heading)
    nxt = text.find("\n## ", start + len(heading))
    body = text[start:] if nxt == -1 else text[start : nxt + 1]
    return body.rstrip() + "\n"


def main() -> None:
    docs = ROOT / "docs"
    target = docs / "benchmarks.md"
    missing = []
    for page, heading in SECTIONS:
        body = section((docs / page).read_text(), heading)
        if body is None:
            missing.append(f"{page}: {heading}")
            continue
        title, rest = body.split("\n", 1)
        link = f"\n(From [{page}]({page}), where the method is explained.)\n"
        write_section(target, title + "\n" + link + rest)
    for item in missing:
        print(f"collect: not found (run its bench script): {item}", file=sys.stderr)


if __name__ == "__main__":
    main()
