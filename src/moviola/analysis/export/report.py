"""The HTML report: a self-contained page with a table of the shots, a thumbnail each,
timecodes, durations, transitions and every description."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

import cv2

from moviola.analysis.export.pictures import iter_thumbnails
from moviola.analysis.export.tables import cell, description_keys
from moviola.analysis.model import Shot, ShotList, timecode
from moviola.analysis.output import write_text

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;background:#fafafa;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:6px 8px;
text-align:left;vertical-align:top}th{background:#eee;position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums}img{display:block;border-radius:3px}
code{font-size:13px}.meta{color:#666}
"""


def _thumbnails(
    shots: ShotList, target: Path, width: int, source: str | os.PathLike | None, embed: bool
) -> dict[int, str]:
    """Image addresses by shot position: base64 JPEG, or files in ``NAME_files/``."""
    thumbs: dict[int, str] = {}
    folder = target.with_name(target.stem + "_files")
    if not embed:
        folder.mkdir(exist_ok=True)
    if not (
        Path(source or shots.source).exists() or any("thumbnail" in s.extra for s in shots.shots)
    ):
        return thumbs
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
    return thumbs


def _head(shots: ShotList, keys: list[str]) -> list[str]:
    esc = html.escape
    rate = shots.rate
    name = esc(Path(shots.source).name)
    head = ["#", "thumbnail", "start", "end", "duration", "frames", "transition", *keys]
    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{name}: shots</title>",
        f"<style>{_CSS}</style>",
        "</head><body>",
        f"<h1>{name}</h1>",
        f'<p class="meta">{len(shots.shots)} shots, {shots.frames} frames at '
        f"{rate.numerator}/{rate.denominator} fps ({float(rate):.3f}), "
        f"{shots.width}x{shots.height}, audio: {'yes' if shots.audio else 'no'}"
        + (f", detector: {esc(shots.detector)}" if shots.detector else "")
        + f"<br>source: <code>{esc(shots.source)}</code></p>",
        "<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead><tbody>",
    ]


def _row(shot: Shot, shots: ShotList, keys: list[str], img: str) -> str:
    esc = html.escape
    rate = shots.rate
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
    ] + [f"<td>{esc(cell(shot.extra.get(k)))}</td>" for k in keys]
    return "<tr>" + "".join(cells) + "</tr>"


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
    thumbs = _thumbnails(shots, target, width, source, embed)
    keys = description_keys(shots)
    out = _head(shots, keys)
    for i, shot in enumerate(shots.shots):
        img = (
            f'<img src="{thumbs[i]}" width="{width}" alt="shot {shot.index}">'
            if i in thumbs
            else ""
        )
        out.append(_row(shot, shots, keys, img))
    out += ["</tbody></table>", "</body></html>", ""]
    return write_text(target, "\n".join(out))
