"""FCPXML 1.8 (Final Cut Pro X, DaVinci Resolve) through OpenTimelineIO's fcpx_xml adapter, then
corrected: the adapter knows only a table of rates (not the exact 30000/1001 of a file), names
formats by calling ffprobe, and places audio as connected clips with offsets computed at an
integer rate."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

from moviola.analysis.export.tables import describe
from moviola.analysis.export.timelines import adapter_module, otio_module, timeline
from moviola.analysis.model import ShotList
from moviola.analysis.output import write_text


def write_fcpxml(shots: ShotList, target: str | os.PathLike, **kw) -> Path:
    """FCPXML 1.8 through the fcpx_xml adapter, given the video track; its format gets the
    exact frame duration and the frame size, every time is snapped to the frame grid, and each
    spine clip becomes an ``asset-clip`` (video and audio of the file together) with a note
    holding the shot's description."""
    otio = otio_module()
    module = adapter_module(otio, "fcpx_xml")
    rate = shots.rate
    frame_duration = 1 / rate
    table = getattr(module, "FRAMERATE_FRAMEDURATION", None)
    if isinstance(table, dict):  # the adapter looks the rate up by its float value
        table.setdefault(float(rate), rational_seconds(frame_duration))
    tl = timeline(shots, audio=False, **kw)
    text = otio.adapters.write_to_string(tl, "fcpx_xml")
    root = ET.fromstring(text.split("<!DOCTYPE fcpxml>", 1)[-1].strip().encode())
    fix_fcpxml(root, shots, frame_duration)
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    doc = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n' + body + "\n"
    return write_text(target, doc)


def rational_seconds(value: Fraction) -> str:
    """A time as FCPXML writes it: "0s", "5s" or "1001/30000s"."""
    value = Fraction(value)
    if value == 0:
        return "0s"
    if value.denominator == 1:
        return f"{value.numerator}s"
    return f"{value.numerator}/{value.denominator}s"


def _parse_seconds(text: str) -> Fraction:
    text = text.strip().rstrip("s")
    return Fraction(text) if text else Fraction(0)


def fix_fcpxml(root: ET.Element, shots: ShotList, frame: Fraction) -> None:
    """Correct what the adapter writes (see write_fcpxml), in place."""
    _fix_resources(root, shots, frame)
    # Browser clips the adapter adds, one per shot, all spanning the whole file: one is enough.
    for extra in [c for c in list(root) if c.tag == "asset-clip"]:
        root.remove(extra)
    for spine in root.iter("spine"):
        _asset_clips(spine, shots)
    # Every time on the frame grid, written exactly.
    for el in root.iter():
        for key in ("offset", "start", "duration"):
            value = el.get(key)
            if value and value.endswith("s"):
                t = _parse_seconds(value)
                el.set(key, rational_seconds(round(t / frame) * frame))


def _fix_resources(root: ET.Element, shots: ShotList, frame: Fraction) -> None:
    for fmt in root.iter("format"):
        fmt.set("frameDuration", rational_seconds(frame))
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


def _asset_clips(spine: ET.Element, shots: ShotList) -> None:
    """Each video clip of the spine becomes an asset-clip with the shot's description."""
    for i, clip in enumerate(list(spine)):
        video = clip.find("video")
        if clip.tag != "clip" or video is None:
            continue
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
        text = describe(shots.shots[i]) if i < len(shots.shots) else ""
        if text:
            ET.SubElement(new, "note").text = text
        for marker in clip.findall("marker"):
            new.append(marker)
        spine.remove(clip)
        spine.insert(i, new)
