"""Exports of a shot list for editors and for people: CSV, JSON, CMX 3600 EDL, OpenTimelineIO,
FCPXML (Final Cut Pro X), FCP 7 XML (Premiere), a contact sheet image and an HTML report.

The timeline formats hold the shots as clips, in order, each cutting the source file at the
shot's frames; played back, the timeline is the source itself. They are made with
OpenTimelineIO (``opentimelineio``) and its adapter plug-ins (``otio-cmx3600-adapter``,
``otio-fcpx-xml-adapter``, ``otio-fcp-adapter``); what those adapters get wrong is corrected
here and listed in docs/export.md. Every output is written to a temporary file beside the
target and renamed into place when it is complete.

    from moviola.analysis.export import export
    export(shots, "cut.edl")            # format from the extension
    export(shots, "sheet.png", columns=5)
"""

from __future__ import annotations

import base64
import contextlib
import csv
import html
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from moviola.analysis.model import Shot, ShotList, timecode, timecode_base
from moviola.errors import MoviolaError

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
BASE_COLUMNS = (
    "index",
    "start_frame",
    "end_frame",
    "start_timecode",
    "end_timecode",
    "start_seconds",
    "end_seconds",
    "frames",
    "duration_seconds",
    "transition",
    "transition_frames",
)
# Keys of Shot.extra that are not descriptions to print (paths, vectors).
_HIDDEN = {"thumbnail", "embedding", "vector"}


# -- helpers ------------------------------------------------------------------------------------
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


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``target`` (same extension); renamed to ``target`` when the
    block ends without error, removed otherwise."""
    target = Path(target)
    if target.is_dir():
        raise MoviolaError(f"output is a folder: {target} (give a file name)")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise MoviolaError(f"output folder does not exist: {folder}")
    tmp = folder / f".{target.stem}.{os.getpid()}.part{target.suffix}"
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _write_text(target: Path, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _cell(value: Any) -> str:
    """One description value as text for a table cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=_json_default)
    return str(value)


def describe(shot: Shot) -> str:
    """A one-line summary of what is known about a shot (for clip names, markers, notes)."""
    extra = shot.extra
    parts: list[str] = []
    if extra.get("summary"):
        parts.append(str(extra["summary"]))
    else:
        for key in ("scale", "camera", "lighting"):
            if extra.get(key):
                parts.append(str(extra[key]))
        people = extra.get("people")
        if isinstance(people, int | float) and people:
            parts.append(f"{int(people)} {'person' if people == 1 else 'people'}")
        tags = extra.get("tags")
        if tags:
            names = [
                t
                if isinstance(t, str)
                else str(
                    t[0]
                    if isinstance(t, list | tuple)
                    else t.get("name", t)
                    if isinstance(t, dict)
                    else t
                )
                for t in list(tags)[:3]
            ]
            parts.append(", ".join(names))
    if shot.transition in ("dissolve", "fade"):
        parts.append(f"{shot.transition} in ({shot.transition_frames} frames)")
    return "; ".join(parts)


def description_keys(shots: ShotList) -> list[str]:
    """The Shot.extra keys present in any shot, in first-seen order (minus hidden ones)."""
    keys: list[str] = []
    for shot in shots.shots:
        for key in shot.extra:
            if key not in keys and key not in _HIDDEN and key not in BASE_COLUMNS:
                keys.append(key)
    return keys


def _row(shot: Shot, rate: Fraction) -> dict[str, Any]:
    return {
        "index": shot.index,
        "start_frame": shot.start_frame,
        "end_frame": shot.end_frame,
        "start_timecode": timecode(shot.start_frame, rate),
        "end_timecode": timecode(shot.end_frame, rate),
        "start_seconds": f"{float(shot.start):.6f}",
        "end_seconds": f"{float(shot.end):.6f}",
        "frames": shot.frames,
        "duration_seconds": f"{float(shot.duration):.6f}",
        "transition": shot.transition,
        "transition_frames": shot.transition_frames,
    }


# -- CSV and JSON -------------------------------------------------------------------------------
def write_csv(shots: ShotList, target: str | os.PathLike) -> Path:
    """One row per shot: frames, timecodes, seconds, transition, then every description."""
    keys = description_keys(shots)
    if any("thumbnail" in s.extra for s in shots.shots):
        keys.append("thumbnail")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*BASE_COLUMNS, *keys])
    for shot in shots.shots:
        row = _row(shot, shots.rate)
        writer.writerow([row[c] for c in BASE_COLUMNS] + [_cell(shot.extra.get(k)) for k in keys])
    return _write_text(Path(target), buf.getvalue())


def write_json(shots: ShotList, target: str | os.PathLike) -> Path:
    """The shot list as ``moviola shots --json`` prints it (loads back with ShotList.load)."""
    data = _jsonable(shots.to_dict())
    return _write_text(Path(target), json.dumps(data, indent=2) + "\n")


# -- the OpenTimelineIO timeline ----------------------------------------------------------------
def _otio():
    try:
        import opentimelineio as otio
    except ImportError:
        raise MoviolaError(
            "timeline exports need OpenTimelineIO: pip install 'moviola[analysis]'"
        ) from None
    return otio


def _adapter_module(otio, name: str):
    try:
        return otio.adapters.from_name(name).module()
    except Exception:  # noqa: BLE001 - any failure to find the plug-in reads the same
        packages = {
            "cmx_3600": "otio-cmx3600-adapter",
            "fcpx_xml": "otio-fcpx-xml-adapter",
            "fcp_xml": "otio-fcp-adapter",
        }
        raise MoviolaError(
            f"the OpenTimelineIO {name} adapter is missing: pip install {packages.get(name, name)}"
        ) from None


def source_timecode(path: str | os.PathLike, rate: Fraction) -> int:
    """The source's start timecode in frames (its ``timecode`` tag, as cameras write it), or 0."""
    import av

    try:
        with av.open(str(path)) as container:
            tags = dict(container.metadata)
            for stream in container.streams:
                tags.update({k: v for k, v in stream.metadata.items() if k == "timecode"})
    except (av.FFmpegError, OSError):
        return 0
    text = tags.get("timecode")
    if not text:
        return 0
    m = re.fullmatch(r"(\d+):(\d+):(\d+)[:;.,](\d+)", text.strip())
    if not m:
        return 0
    hh, mm, ss, ff = (int(g) for g in m.groups())
    base, drop = timecode_base(rate)
    frames = ((hh * 60 + mm) * 60 + ss) * base + ff
    if drop and (";" in text or "," in text or "." in text):
        dropped = 2 * base // 30
        minutes = hh * 60 + mm
        frames -= dropped * (minutes - minutes // 10)
    return frames


def _source_uri(source: str) -> str:
    path = Path(source)
    return (
        path.resolve().as_uri()
        if path.exists() or not source.startswith(("file:", "http"))
        else source
    )


def timeline(
    shots: ShotList,
    *,
    name: str | None = None,
    start_timecode: int | None = None,
    audio: bool | None = None,
    markers: bool = True,
):
    """The shots as an OpenTimelineIO Timeline: one video track (and one audio track when the
    source has audio) of clips cutting the source file at each shot, at the source's exact rate
    (30000/1001 is stored as the float 29.97002997..., which OpenTimelineIO treats as NTSC)."""
    otio = _otio()
    rate = float(shots.rate)
    rt = otio.opentime.RationalTime
    tr = otio.opentime.TimeRange
    if start_timecode is None:
        start_timecode = (
            source_timecode(shots.source, shots.rate) if Path(shots.source).exists() else 0
        )
    audio = shots.audio if audio is None else audio
    stem = Path(shots.source).stem
    tl = otio.schema.Timeline(name=name or f"{stem} shots")
    tl.metadata["moviola"] = _jsonable(
        {
            "source": shots.source,
            "rate": f"{shots.rate.numerator}/{shots.rate.denominator}",
            "width": shots.width,
            "height": shots.height,
            "frames": shots.frames,
            "detector": shots.detector,
            "start_timecode_frames": start_timecode,
        }
    )
    uri = _source_uri(shots.source)
    available = tr(rt(start_timecode, rate), rt(max(shots.frames, 1), rate))
    kinds = [otio.schema.TrackKind.Video] + ([otio.schema.TrackKind.Audio] if audio else [])
    for kind in kinds:
        track = otio.schema.Track(
            name="V1" if kind == otio.schema.TrackKind.Video else "A1", kind=kind
        )
        for shot in shots.shots:
            ref = otio.schema.ExternalReference(target_url=uri, available_range=available)
            ref.metadata["moviola"] = {"width": shots.width, "height": shots.height}
            clip = otio.schema.Clip(
                name=f"{stem} shot {shot.index:03d}",
                media_reference=ref,
                source_range=tr(rt(start_timecode + shot.start_frame, rate), rt(shot.frames, rate)),
            )
            clip.metadata["moviola"] = _jsonable(shot.to_dict(shots.rate))
            text = describe(shot)
            if markers and text and kind == otio.schema.TrackKind.Video:
                clip.markers.append(
                    otio.schema.Marker(
                        name=text,
                        color=otio.schema.MarkerColor.BLUE,
                        marked_range=tr(rt(start_timecode + shot.start_frame, rate), rt(1, rate)),
                    )
                )
            track.append(clip)
        tl.tracks.append(track)
    return tl


def write_otio(shots: ShotList, target: str | os.PathLike, **kw) -> Path:
    otio = _otio()
    text = otio.adapters.write_to_string(timeline(shots, **kw), "otio_json")
    return _write_text(Path(target), text)


def _reel(stem: str) -> str:
    reel = re.sub(r"[^A-Za-z0-9_]", "", stem).upper()[:8]
    return reel or "AX"


def write_edl(shots: ShotList, target: str | os.PathLike, **kw) -> Path:
    """CMX 3600 EDL through OpenTimelineIO's cmx_3600 adapter: one cut event per shot, source
    and record timecodes (drop-frame ';' at 29.97 and 59.94), the clip name, the file, and a
    LOC marker with the shot's description. Events are 'B' (video and audio) when the source has
    audio. An 'FCM:' line is added, which the adapter does not write."""
    otio = _otio()
    _adapter_module(otio, "cmx_3600")
    tl = timeline(shots, **kw)
    reel = _reel(Path(shots.source).stem)
    for clip in tl.find_clips():
        # Editors relink EDL events by reel and file name: the clip is named after the file.
        clip.metadata.setdefault("cmx_3600", {})["reel"] = reel
        clip.name = Path(shots.source).name
    has_audio = len(tl.tracks) > 1
    text = otio.adapters.write_to_string(tl, "cmx_3600", rate=float(shots.rate), reelname_len=8)
    _, drop = timecode_base(shots.rate)
    lines = text.splitlines()
    out: list[str] = []
    for line in lines:
        if has_audio:
            line = re.sub(r"^(\d{3,}  .{8} )V    ( )", r"\1B    \2", line)
        out.append(line)
        if line.startswith("TITLE:"):
            out.append(f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}")
    if not out or not out[0].startswith("TITLE:"):
        out.insert(0, f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}")
    return _write_text(Path(target), "\n".join(out) + "\n")


def write_fcp7_xml(shots: ShotList, target: str | os.PathLike, **kw) -> Path:
    """Final Cut Pro 7 XML (xmeml), which Premiere Pro and DaVinci Resolve import, through
    OpenTimelineIO's fcp_xml adapter (it writes NTSC rates as timebase 30 + ntsc TRUE)."""
    otio = _otio()
    _adapter_module(otio, "fcp_xml")
    text = otio.adapters.write_to_string(timeline(shots, **kw), "fcp_xml")
    return _write_text(Path(target), text)


def write_fcpxml(shots: ShotList, target: str | os.PathLike, **kw) -> Path:
    """FCPXML 1.8 (Final Cut Pro X, DaVinci Resolve) through OpenTimelineIO's fcpx_xml adapter,
    then corrected: the adapter knows only a table of rates (not the exact 30000/1001 of a
    file), names formats by calling ffprobe, and places audio as connected clips with offsets
    computed at an integer rate. So it is given the video track, its format gets the exact
    frame duration and the frame size, every time is snapped to the frame grid, and each spine
    clip becomes an ``asset-clip`` (video and audio of the file together) with a note holding
    the shot's description."""
    otio = _otio()
    module = _adapter_module(otio, "fcpx_xml")
    rate = shots.rate
    frame_duration = 1 / rate
    table = getattr(module, "FRAMERATE_FRAMEDURATION", None)
    if isinstance(table, dict):  # the adapter looks the rate up by its float value
        table.setdefault(float(rate), _rational_seconds(frame_duration))
    tl = timeline(shots, audio=False, **kw)
    text = otio.adapters.write_to_string(tl, "fcpx_xml")
    root = ET.fromstring(text.split("<!DOCTYPE fcpxml>", 1)[-1].strip().encode())
    _fix_fcpxml(root, shots, frame_duration)
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    doc = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n' + body + "\n"
    return _write_text(Path(target), doc)


def _rational_seconds(value: Fraction) -> str:
    value = Fraction(value)
    if value == 0:
        return "0s"
    if value.denominator == 1:
        return f"{value.numerator}s"
    return f"{value.numerator}/{value.denominator}s"


def _parse_seconds(text: str) -> Fraction:
    text = text.strip().rstrip("s")
    return Fraction(text) if text else Fraction(0)


def _fix_fcpxml(root: ET.Element, shots: ShotList, frame: Fraction) -> None:
    for fmt in root.iter("format"):
        fmt.set("frameDuration", _rational_seconds(frame))
        if not fmt.get("name"):
            fmt.attrib.pop("name", None)
        fmt.set("width", str(shots.width))
        fmt.set("height", str(shots.height))
    for asset in root.iter("asset"):
        asset.set("name", Path(shots.source).name)
        asset.set("hasVideo", "1")
        if shots.audio:
            asset.set("hasAudio", "1")
            asset.set("audioSources", "1")
    # Browser clips the adapter adds, one per shot, all spanning the whole file: one is enough.
    top = [c for c in list(root) if c.tag == "asset-clip"]
    for extra in top:
        root.remove(extra)
    for spine in root.iter("spine"):
        for i, clip in enumerate(list(spine)):
            if clip.tag != "clip" or clip.find("video") is None:
                continue
            video = clip.find("video")
            new = ET.Element(
                "asset-clip",
                {
                    "name": clip.get("name", ""),
                    "ref": video.get("ref", ""),
                    "offset": clip.get("offset", "0s"),
                    "start": clip.get("start", "0s"),
                    "duration": clip.get("duration", "0s"),
                },
            )
            shot = shots.shots[i] if i < len(shots.shots) else None
            text = describe(shot) if shot is not None else ""
            if text:
                ET.SubElement(new, "note").text = text
            for marker in clip.findall("marker"):
                new.append(marker)
            spine.remove(clip)
            spine.insert(i, new)
    # Every time on the frame grid, written exactly.
    for el in root.iter():
        for key in ("offset", "start", "duration"):
            value = el.get(key)
            if value and value.endswith("s"):
                t = _parse_seconds(value)
                el.set(key, _rational_seconds(round(t / frame) * frame))


# -- pictures: thumbnails, contact sheet, HTML --------------------------------------------------
def _thumb_size(shots: ShotList, width: int) -> tuple[int, int]:
    w, h = max(shots.width, 1), max(shots.height, 1)
    return width, max(2, round(width * h / w))


def thumbnail_frames(shots: ShotList) -> list[int]:
    """The frame shown for each shot: its middle frame (past a dissolve into it)."""
    out = []
    for s in shots.shots:
        first = min(s.end_frame, s.start_frame + s.transition_frames)
        out.append((first + s.end_frame) // 2)
    return out


def iter_thumbnails(
    shots: ShotList, width: int = 240, source: str | os.PathLike | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """(shot position, RGB uint8 thumbnail) for every shot, in order, from one streamed pass
    over the source (each wanted frame is resized as soon as it is decoded, so memory holds
    one frame). When the source is missing, each shot's ``extra['thumbnail']`` image is used;
    a grey image stands in for anything that cannot be had."""
    size = _thumb_size(shots, width)
    wanted = thumbnail_frames(shots)
    path = Path(source or shots.source)
    done = 0
    if path.exists():
        from moviola.media.reader import VideoReader

        order = sorted(range(len(wanted)), key=lambda i: wanted[i])
        pos = 0
        with VideoReader(path, alpha=False) as reader:
            for n, frame in enumerate(reader):
                if pos >= len(order):
                    break
                while pos < len(order) and wanted[order[pos]] == n:
                    yield order[pos], cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
                    pos += 1
                    done += 1
        missing = order[pos:]
    else:
        missing = list(range(len(wanted)))
    for i in missing:
        thumb = None
        name = shots.shots[i].extra.get("thumbnail")
        if name and Path(name).exists():
            image = cv2.imread(str(name), cv2.IMREAD_COLOR)
            if image is not None:
                thumb = cv2.resize(image[..., ::-1], size, interpolation=cv2.INTER_AREA)
        yield i, thumb if thumb is not None else np.full((size[1], size[0], 3), 64, np.uint8)


def write_contact_sheet(
    shots: ShotList,
    target: str | os.PathLike,
    *,
    columns: int = 5,
    width: int = 240,
    source: str | os.PathLike | None = None,
    quality: int = 90,
) -> Path:
    """A grid of one thumbnail per shot, each labelled with its number and start timecode."""
    if not shots.shots:
        raise MoviolaError("no shots to put on a contact sheet")
    columns = max(1, min(columns, len(shots.shots)))
    tw, th = _thumb_size(shots, width)
    label = max(18, tw // 10)
    pad = 6
    rows = (len(shots.shots) + columns - 1) // columns
    cell_w, cell_h = tw + pad, th + label + pad
    title_h = label + pad
    sheet = np.full((title_h + rows * cell_h + pad, columns * cell_w + pad, 3), 24, np.uint8)
    scale = label / 30
    title = (
        f"{Path(shots.source).name}  {len(shots.shots)} shots  "
        f"{float(shots.rate):.3f} fps  {shots.width}x{shots.height}"
    )
    cv2.putText(
        sheet,
        title,
        (pad, title_h - pad),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (230, 230, 230),
        1,
        cv2.LINE_AA,
    )
    for i, thumb in iter_thumbnails(shots, width, source):
        r, c = divmod(i, columns)
        x, y = pad + c * cell_w, title_h + r * cell_h
        sheet[y : y + th, x : x + tw] = thumb
        shot = shots.shots[i]
        text = f"#{shot.index}  {timecode(shot.start_frame, shots.rate)}"
        cv2.putText(
            sheet,
            text,
            (x + 2, y + th + label - 5),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (240, 240, 240),
            1,
            cv2.LINE_AA,
        )
        if shot.transition in ("dissolve", "fade"):
            cv2.putText(
                sheet,
                shot.transition[0].upper(),
                (x + tw - label, y + label),
                cv2.FONT_HERSHEY_SIMPLEX,
                scale,
                (255, 200, 0),
                2,
                cv2.LINE_AA,
            )
    target = Path(target)
    params = (
        [cv2.IMWRITE_JPEG_QUALITY, quality] if target.suffix.lower() in (".jpg", ".jpeg") else []
    )
    with atomic_path(target) as tmp:
        if not cv2.imwrite(str(tmp), sheet[..., ::-1], params):
            raise MoviolaError(f"cannot write the contact sheet {target}")
    return target


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;background:#fafafa;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:6px 8px;
text-align:left;vertical-align:top}th{background:#eee;position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums}img{display:block;border-radius:3px}
code{font-size:13px}.meta{color:#666}
"""


def write_html(
    shots: ShotList,
    target: str | os.PathLike,
    *,
    width: int = 240,
    source: str | os.PathLike | None = None,
    embed: bool = True,
) -> Path:
    """A self-contained HTML report: a table of the shots with a thumbnail each (inlined as
    base64 JPEG, or with ``embed=False`` in a folder ``NAME_files/`` beside the report),
    timecodes, durations, transitions and every description."""
    target = Path(target)
    thumbs: dict[int, str] = {}
    folder = target.with_name(target.stem + "_files")
    if not embed:
        folder.mkdir(exist_ok=True)
    if Path(source or shots.source).exists() or any("thumbnail" in s.extra for s in shots.shots):
        for i, thumb in iter_thumbnails(shots, width, source):
            ok, data = cv2.imencode(".jpg", thumb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 82])
            if not ok:
                continue
            if embed:
                thumbs[i] = "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode()
            else:
                name = f"shot{shots.shots[i].index:03d}.jpg"
                (folder / name).write_bytes(data.tobytes())
                thumbs[i] = f"{folder.name}/{name}"
    keys = description_keys(shots)
    esc = html.escape
    rate = shots.rate
    head = ["#", "thumbnail", "start", "end", "duration", "frames", "transition", *keys]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(Path(shots.source).name)}: shots</title>",
        f"<style>{_CSS}</style>",
        "</head><body>",
        f"<h1>{esc(Path(shots.source).name)}</h1>",
        f'<p class="meta">{len(shots.shots)} shots, {shots.frames} frames at '
        f"{rate.numerator}/{rate.denominator} fps ({float(rate):.3f}), "
        f"{shots.width}x{shots.height}, audio: {'yes' if shots.audio else 'no'}"
        + (f", detector: {esc(shots.detector)}" if shots.detector else "")
        + f"<br>source: <code>{esc(shots.source)}</code></p>",
        "<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead><tbody>",
    ]
    for i, shot in enumerate(shots.shots):
        img = (
            f'<img src="{thumbs[i]}" width="{width}" alt="shot {shot.index}">'
            if i in thumbs
            else ""
        )
        transition = shot.transition + (
            f" ({shot.transition_frames} frames)" if shot.transition_frames else ""
        )
        cells = [
            f'<td class="n" id="shot{shot.index}">{shot.index}</td>',
            f"<td>{img}</td>",
            f"<td><code>{timecode(shot.start_frame, rate)}</code></td>",
            f"<td><code>{timecode(shot.end_frame, rate)}</code></td>",
            f'<td class="n">{float(shot.duration):.2f} s</td>',
            f'<td class="n">{shot.frames}</td>',
            f"<td>{esc(transition)}</td>",
        ] + [f"<td>{esc(_cell(shot.extra.get(k)))}</td>" for k in keys]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody></table>", "</body></html>", ""]
    return _write_text(target, "\n".join(out))


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


# -- one entry point ----------------------------------------------------------------------------
WRITERS = {
    "csv": write_csv,
    "json": write_json,
    "edl": write_edl,
    "otio": write_otio,
    "fcpxml": write_fcpxml,
    "xml": write_fcp7_xml,
    "contact": write_contact_sheet,
    "html": write_html,
}


def export(shots: ShotList, target: str | os.PathLike, fmt: str | None = None, **options) -> Path:
    """Write ``shots`` to ``target`` in ``fmt`` (or the format its extension names)."""
    fmt = infer_format(target, fmt)
    if not shots.shots:
        raise MoviolaError("the shot list is empty: nothing to export")
    check_shots(shots)
    return WRITERS[fmt](shots, target, **options)
