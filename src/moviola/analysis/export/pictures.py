"""Pictures of the shots: one thumbnail per shot from a single streamed pass over the source,
and the contact sheet (a labelled grid of them, PNG or JPEG)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from moviola.analysis.model import ShotList, timecode
from moviola.analysis.output import atomic_path
from moviola.errors import MoviolaError


def thumb_size(shots: ShotList, width: int) -> tuple[int, int]:
    """(width, height) of a thumbnail ``width`` pixels wide, in the shots' aspect."""
    w, h = max(shots.width, 1), max(shots.height, 1)
    return width, max(2, round(width * h / w))


def thumbnail_frames(shots: ShotList) -> list[int]:
    """The frame shown for each shot: its middle frame (past a dissolve into it)."""
    out = []
    for s in shots.shots:
        first = min(s.end_frame, s.start_frame + s.transition_frames)
        out.append((first + s.end_frame) // 2)
    return out


def _from_source(
    path: Path, wanted: list[int], size: tuple[int, int]
) -> Iterator[tuple[int, np.ndarray]]:
    """(position, thumbnail) of the ``wanted`` frames found in ``path``, in frame order."""
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


def _stand_in(name: object, size: tuple[int, int]) -> np.ndarray:
    """A shot's saved thumbnail (``extra['thumbnail']``) resized, or a grey image."""
    from moviola.media.still import read_rgb

    if name and Path(str(name)).exists():
        try:
            return cv2.resize(read_rgb(str(name), "thumbnail"), size, interpolation=cv2.INTER_AREA)
        except MoviolaError:
            pass
    return np.full((size[1], size[0], 3), 64, np.uint8)


def iter_thumbnails(
    shots: ShotList, width: int = 240, source: str | os.PathLike | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """(shot position, RGB uint8 thumbnail) for every shot, in order, from one streamed pass
    over the source (each wanted frame is resized as soon as it is decoded, so memory holds
    one frame). When the source is missing, each shot's ``extra['thumbnail']`` image is used;
    a grey image stands in for anything that cannot be had."""
    size = thumb_size(shots, width)
    wanted = thumbnail_frames(shots)
    path = Path(source or shots.source)
    missing = set(range(len(wanted)))
    if path.exists():
        for i, thumb in _from_source(path, wanted, size):
            missing.discard(i)
            yield i, thumb
    for i in sorted(missing):
        yield i, _stand_in(shots.shots[i].extra.get("thumbnail"), size)


def _label(sheet: np.ndarray, text: str, at: tuple[int, int], scale: float, color, thick=1):
    cv2.putText(sheet, text, at, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thick, cv2.LINE_AA)


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
    tw, th = thumb_size(shots, width)
    label = max(18, tw // 10)
    pad = 6
    rows = (len(shots.shots) + columns - 1) // columns
    said = any(s.extra.get("dialogue") for s in shots.shots)
    line = label if said else 0  # a line of dialogue under each thumbnail
    cell_w, cell_h = tw + pad, th + label + line + pad
    title_h = label + pad
    sheet = np.full((title_h + rows * cell_h + pad, columns * cell_w + pad, 3), 24, np.uint8)
    scale = label / 30
    title = (
        f"{Path(shots.source).name}  {len(shots.shots)} shots  "
        f"{float(shots.rate):.3f} fps  {shots.width}x{shots.height}"
    )
    _label(sheet, title, (pad, title_h - pad), scale, (230, 230, 230))
    for i, thumb in iter_thumbnails(shots, width, source):
        r, c = divmod(i, columns)
        x, y = pad + c * cell_w, title_h + r * cell_h
        sheet[y : y + th, x : x + tw] = thumb
        shot = shots.shots[i]
        text = f"#{shot.index}  {timecode(shot.start_frame, shots.rate)}"
        _label(sheet, text, (x + 2, y + th + label - 5), scale, (240, 240, 240))
        dialogue = str(shot.extra.get("dialogue") or "")
        if dialogue:
            fit = max(8, int(tw / (label * 0.42)))  # Hershey simplex: ~0.42 label per glyph
            text = dialogue if len(dialogue) <= fit else dialogue[: fit - 3].rstrip() + "..."
            _label(
                sheet, f'"{text}"', (x + 2, y + th + label + line - 6), scale * 0.8, (255, 220, 140)
            )
        if shot.transition in ("dissolve", "fade"):
            mark = shot.transition[0].upper()
            _label(sheet, mark, (x + tw - label, y + label), scale, (255, 200, 0), 2)
    target = Path(target)
    params = (
        [cv2.IMWRITE_JPEG_QUALITY, quality] if target.suffix.lower() in (".jpg", ".jpeg") else []
    )
    with atomic_path(target) as tmp:
        if not cv2.imwrite(str(tmp), sheet[..., ::-1], params):
            raise MoviolaError(f"cannot write the contact sheet {target}")
    return target
