"""Where the studio's shot search says "no match": the best score of queries about what the
sample footage shows against the best score of queries about what it does not show, over the
described shots of samples/Megamind.avi, vtest.avi and tree.avi (as the studio describes them:
moviola.analysis shots, descriptions and library).

    .venv/bin/python bench/studio_search.py [--db /tmp/library.sqlite]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CLIPS = ("Megamind.avi", "vtest.avi", "tree.avi")
# what the footage shows (an animated character and faces, people walking in a hall, a tree)
RELATED = (
    "people walking",
    "a crowd of pedestrians",
    "a close-up of a face",
    "a cartoon character",
    "a tree",
    "two people talking",
)
# what it does not show
UNRELATED = (
    "a boat on the ocean at sunset",
    "a rocket launch",
    "a plate of food on a table",
    "a car chase at night",
    "snow on mountains",
    "a dog running on a beach",
    "fireworks over a city",
    "an aerial view of a forest fire",
)


def build(db: Path) -> None:
    from moviola.analysis.describe import describe_shots
    from moviola.analysis.library import Library
    from moviola.analysis.shots import detect_shots

    library = Library(db)
    try:
        for name in CLIPS:
            path = SAMPLES / name
            shots = describe_shots(path, detect_shots(path))
            library.add(shots, str(path))
            print(f"{name}: {len(shots.shots)} shots described", file=sys.stderr)
    finally:
        library.close()


def best(db: Path, query: str) -> float:
    from moviola.analysis.library import Library

    library = Library(db)
    try:
        hits = library.search(query, limit=3)
    finally:
        library.close()
    return max((h.score for h in hits), default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=Path("/tmp/studio-search.sqlite"))
    args = parser.parse_args()
    if not args.db.exists():
        build(args.db)
    rows = [("shown", q, best(args.db, q)) for q in RELATED]
    rows += [("not shown", q, best(args.db, q)) for q in UNRELATED]
    print("| query | footage | best score |\n|---|---|---|")
    for kind, query, score in rows:
        print(f"| {query} | {kind} | {score:.3f} |")
    shown = min(s for k, _, s in rows if k == "shown")
    absent = max(s for k, _, s in rows if k == "not shown")
    print(f"\nlowest score of a shown thing {shown:.3f}; highest of an absent one {absent:.3f}")


if __name__ == "__main__":
    main()
