"""Shared by the bench scripts: put a section of figures into a markdown file."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, section: str, title: str = "# Benchmarks") -> None:
    """Replace the section with the same "## " heading in a markdown file (or append it)."""
    text = path.read_text() if path.exists() else title + "\n\n"
    heading = section.splitlines()[0]
    if heading in text:
        start = text.index(heading)
        nxt = text.find("\n## ", start + len(heading))
        rest = "\n" + text[nxt + 1 :] if nxt != -1 else ""
        text = text[:start] + section.rstrip("\n") + "\n" + rest
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
