"""Exports of a shot list for editors and for people: CSV, JSON, CMX 3600 EDL, OpenTimelineIO,
FCPXML (Final Cut Pro X), FCP 7 XML (Premiere), a contact sheet image and an HTML report.

The timeline formats hold the shots as clips, in order, each cutting the source file at the
shot's frames; played back, the timeline is the source itself. They are made with
OpenTimelineIO (``opentimelineio``) and its adapter plug-ins (``otio-cmx3600-adapter``,
``otio-fcpx-xml-adapter``, ``otio-fcp-adapter``); what those adapters get wrong is corrected
here and listed in docs/export.md. Every output is written to a temporary file beside the
target and renamed into place when it is complete.

One module per format family: ``tables`` (CSV, JSON, the rows and descriptions they share),
``timelines`` (the OpenTimelineIO timeline, OTIO, EDL, FCP 7 XML), ``fcpxml``, ``pictures``
(thumbnails, contact sheet) and ``report`` (HTML).

    from moviola.analysis.export import export
    export(shots, "cut.edl")            # format from the extension
    export(shots, "sheet.png", columns=5)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from moviola.analysis.export.fcpxml import write_fcpxml
from moviola.analysis.export.pictures import (
    iter_thumbnails,
    thumbnail_frames,
    write_contact_sheet,
)
from moviola.analysis.export.report import write_html
from moviola.analysis.export.tables import (
    BASE_COLUMNS,
    describe,
    description_keys,
    write_csv,
    write_json,
)
from moviola.analysis.export.timelines import (
    source_timecode,
    timeline,
    write_edl,
    write_fcp7_xml,
    write_otio,
)
from moviola.analysis.model import ShotList
from moviola.analysis.output import atomic_path
from moviola.errors import MoviolaError

__all__ = [
    "BASE_COLUMNS",
    "EXTENSIONS",
    "FORMATS",
    "WRITERS",
    "atomic_path",
    "check_shots",
    "describe",
    "description_keys",
    "export",
    "infer_format",
    "iter_thumbnails",
    "source_timecode",
    "thumbnail_frames",
    "timeline",
    "write_contact_sheet",
    "write_csv",
    "write_edl",
    "write_fcp7_xml",
    "write_fcpxml",
    "write_html",
    "write_json",
    "write_otio",
]

FORMATS = ("csv", "json", "edl", "otio", "fcpxml", "xml", "contact", "html")
EXTENSIONS = {
    ".csv": "csv",
    ".json": "json",
    ".edl": "edl",
    ".otio": "otio",
    ".fcpxml": "fcpxml",
    ".xml": "xml",
    ".png": "contact",
    ".jpg": "contact",
    ".jpeg": "contact",
    ".html": "html",
    ".htm": "html",
}
WRITERS: dict[str, Callable[..., Path]] = {
    "csv": write_csv,
    "json": write_json,
    "edl": write_edl,
    "otio": write_otio,
    "fcpxml": write_fcpxml,
    "xml": write_fcp7_xml,
    "contact": write_contact_sheet,
    "html": write_html,
}


def infer_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The export format: ``fmt`` when given, else from the output's extension."""
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise MoviolaError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise MoviolaError(
            f"cannot tell the export format from {Path(path).name!r}: use an extension "
            f"({' '.join(EXTENSIONS)}) or --format"
        )
    return EXTENSIONS[suffix]


def check_shots(shots: ShotList) -> None:
    """Shots must be in order, not overlap, and hold at least one frame each."""
    previous = -1
    for shot in shots.shots:
        if shot.start_frame < 0 or shot.end_frame < shot.start_frame:
            raise MoviolaError(
                f"shot {shot.index} has no frames ({shot.start_frame}..{shot.end_frame})"
            )
        if shot.start_frame <= previous:
            raise MoviolaError(
                f"shot {shot.index} starts at frame {shot.start_frame}, inside "
                "the shot before it: the shot list is not in order"
            )
        previous = shot.end_frame


def export(shots: ShotList, target: str | os.PathLike, fmt: str | None = None, **options) -> Path:
    """Write ``shots`` to ``target`` in ``fmt`` (or the format its extension names)."""
    fmt = infer_format(target, fmt)
    if not shots.shots:
        raise MoviolaError("the shot list is empty: nothing to export")
    check_shots(shots)
    return WRITERS[fmt](shots, target, **options)
