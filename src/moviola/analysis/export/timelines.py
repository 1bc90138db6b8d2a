"""The shot list as an OpenTimelineIO timeline, and the timeline formats written by its adapter
plug-ins: OTIO JSON, CMX 3600 EDL and Final Cut Pro 7 XML (FCPXML is in ``fcpxml``)."""

from __future__ import annotations

import os
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from moviola.analysis.export.tables import describe, jsonable
from moviola.analysis.model import ShotList, timecode_base
from moviola.analysis.output import write_text
from moviola.errors import MoviolaError

_PACKAGES = {
    "cmx_3600": "otio-cmx3600-adapter",
    "fcpx_xml": "otio-fcpx-xml-adapter",
    "fcp_xml": "otio-fcp-adapter",
}


def otio_module() -> Any:
    """The ``opentimelineio`` module (MoviolaError naming the extra when it is missing)."""
    try:
        import opentimelineio as otio
    except ImportError:
        raise MoviolaError(
            "timeline exports need OpenTimelineIO: pip install 'moviola[analysis]'"
        ) from None
    return otio


def adapter_module(otio: Any, name: str) -> Any:
    """The module of an OpenTimelineIO adapter plug-in (MoviolaError naming its package)."""
    try:
        return otio.adapters.from_name(name).module()
    except Exception:  # noqa: BLE001 - any failure to find the plug-in reads the same
        raise MoviolaError(
            f"the OpenTimelineIO {name} adapter is missing: pip install {_PACKAGES.get(name, name)}"
        ) from None


def source_timecode(path: str | os.PathLike, rate: Fraction) -> int:
    """The source's start timecode in frames (its ``timecode`` tag, as cameras write it), or 0."""
    import av
    import av.error

    try:
        with av.open(str(path)) as container:
            tags = dict(container.metadata)
            for stream in container.streams:
                tags.update({k: v for k, v in stream.metadata.items() if k == "timecode"})
    except (av.error.FFmpegError, OSError):
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


def _metadata(shots: ShotList, start_timecode: int) -> dict[str, Any]:
    return jsonable(
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


def _track(otio: Any, shots: ShotList, kind: Any, start_timecode: int, markers: bool) -> Any:
    """One track of clips, each cutting the source at a shot (with a marker holding the
    shot's description on the video track)."""
    rate = float(shots.rate)
    rt = otio.opentime.RationalTime
    tr = otio.opentime.TimeRange
    video = kind == otio.schema.TrackKind.Video
    uri = _source_uri(shots.source)
    stem = Path(shots.source).stem
    available = tr(rt(start_timecode, rate), rt(max(shots.frames, 1), rate))
    track = otio.schema.Track(name="V1" if video else "A1", kind=kind)
    for shot in shots.shots:
        ref = otio.schema.ExternalReference(target_url=uri, available_range=available)
        ref.metadata["moviola"] = {"width": shots.width, "height": shots.height}
        start = rt(start_timecode + shot.start_frame, rate)
        clip = otio.schema.Clip(
            name=f"{stem} shot {shot.index:03d}",
            media_reference=ref,
            source_range=tr(start, rt(shot.frames, rate)),
        )
        clip.metadata["moviola"] = jsonable(shot.to_dict(shots.rate))
        text = describe(shot)
        if markers and text and video:
            clip.markers.append(
                otio.schema.Marker(
                    name=text,
                    color=otio.schema.MarkerColor.BLUE,
                    marked_range=tr(start, rt(1, rate)),
                )
            )
        track.append(clip)
    return track


def timeline(
    shots: ShotList,
    *,
    name: str | None = None,
    start_timecode: int | None = None,
    audio: bool | None = None,
    markers: bool = True,
) -> Any:
    """The shots as an OpenTimelineIO Timeline: one video track (and one audio track when the
    source has audio) of clips cutting the source file at each shot, at the source's exact rate
    (30000/1001 is stored as the float 29.97002997..., which OpenTimelineIO treats as NTSC)."""
    otio = otio_module()
    if start_timecode is None:
        start_timecode = (
            source_timecode(shots.source, shots.rate) if Path(shots.source).exists() else 0
        )
    audio = shots.audio if audio is None else audio
    tl = otio.schema.Timeline(name=name or f"{Path(shots.source).stem} shots")
    tl.metadata["moviola"] = _metadata(shots, start_timecode)
    kinds = [otio.schema.TrackKind.Video] + ([otio.schema.TrackKind.Audio] if audio else [])
    for kind in kinds:
        tl.tracks.append(_track(otio, shots, kind, start_timecode, markers))
    return tl


def write_otio(shots: ShotList, target: str | os.PathLike, **kw) -> Path:
    otio = otio_module()
    text = otio.adapters.write_to_string(timeline(shots, **kw), "otio_json")
    return write_text(target, text)


def _reel(stem: str) -> str:
    reel = re.sub(r"[^A-Za-z0-9_]", "", stem).upper()[:8]
    return reel or "AX"


def write_edl(shots: ShotList, target: str | os.PathLike, **kw) -> Path:
    """CMX 3600 EDL through OpenTimelineIO's cmx_3600 adapter: one cut event per shot, source
    and record timecodes (drop-frame ';' at 29.97 and 59.94), the clip name, the file, and a
    LOC marker with the shot's description. Events are 'B' (video and audio) when the source has
    audio. An 'FCM:' line is added, which the adapter does not write."""
    otio = otio_module()
    adapter_module(otio, "cmx_3600")
    tl = timeline(shots, **kw)
    reel = _reel(Path(shots.source).stem)
    for clip in tl.find_clips():
        # Editors relink EDL events by reel and file name: the clip is named after the file.
        clip.metadata.setdefault("cmx_3600", {})["reel"] = reel
        clip.name = Path(shots.source).name
    has_audio = len(tl.tracks) > 1
    text = otio.adapters.write_to_string(tl, "cmx_3600", rate=float(shots.rate), reelname_len=8)
    _, drop = timecode_base(shots.rate)
    fcm = f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}"
    out: list[str] = []
    for line in text.splitlines():
        if has_audio:
            line = re.sub(r"^(\d{3,}  .{8} )V    ( )", r"\1B    \2", line)
        out.append(line)
        if line.startswith("TITLE:"):
            out.append(fcm)
    if not out or not out[0].startswith("TITLE:"):
        out.insert(0, fcm)
    return write_text(target, "\n".join(out) + "\n")


def write_fcp7_xml(shots: ShotList, target: str | os.PathLike, **kw) -> Path:
    """Final Cut Pro 7 XML (xmeml), which Premiere Pro and DaVinci Resolve import, through
    OpenTimelineIO's fcp_xml adapter (it writes NTSC rates as timebase 30 + ntsc TRUE)."""
    otio = otio_module()
    adapter_module(otio, "fcp_xml")
    text = otio.adapters.write_to_string(timeline(shots, **kw), "fcp_xml")
    return write_text(target, text)
