"""Job specs from what the page sends: the effect chain checked against the effects'
declarations, files confined to the media folders, the preview range and the output format.

Which values name files comes from each parameter's declaration (its type and ``kind``, see
moviola.pipeline.params), never from knowledge of an effect: the studio turns media ids into
real paths there and refuses anything outside its folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError
from moviola.pipeline.params import Param
from moviola.studio.paths import MediaRoots, PathRefused, sanitize_filename

OUTPUT_FORMATS = ("mp4", "mov", "mkv", "webm", "avi", "gif", "webp")
MAX_PREVIEW_SECONDS = 30.0
MAX_CHAIN = 16


def looks_like_path(value: Any) -> bool:
    return isinstance(value, str) and ("/" in value or "\\" in value or value.startswith("~"))


def confine(roots: MediaRoots, param: Param, value: str) -> str:
    """One value of ``param`` with the media ids it holds made real paths, as the parameter's
    declaration says where files are: ``path``: the whole value; ``keyframes``: the IMAGE of
    ``FRAME=IMAGE``; ``path-or-keyword`` (and any other text): the value when it looks like a
    path. PathRefused when a file is outside the media folders."""
    kind = param.kind or ("path" if param.is_path else None)
    if kind == "path":
        return str(roots.resolve(value))
    if kind == "keyframes":
        where, sep, image = value.partition("=")
        if sep:
            return f"{where}={roots.resolve(image.strip())}"
    if (kind is not None or param.type_name == "str") and looks_like_path(value):
        return str(roots.resolve(value))
    return value


def effect_values(roots: MediaRoots, cls, params: dict) -> tuple[dict, dict]:
    """(values for the worker, values to show): media ids become real paths, only inside the
    media folders; empty values are left out (the effect's default applies)."""
    known = {p.name: p for p in cls.params}
    values, shown = {}, {}
    for key, value in (params or {}).items():
        param = known.get(key)
        if param is None:
            raise MoviolaError(f"{cls.name}: unknown parameter {key!r}")
        if value is None or value == "" or value == []:
            continue
        items = value if isinstance(value, list) else [value]
        if not param.multiple and len(items) != 1:
            raise MoviolaError(f"{cls.name}: {key} takes one value")
        out = []
        for item in items:
            if not isinstance(item, str | int | float | bool):
                raise MoviolaError(f"{cls.name}: {key}: unsupported value {item!r}")
            if isinstance(item, str) or param.is_path:
                try:
                    item = confine(roots, param, str(item))
                except PathRefused as exc:
                    raise MoviolaError(
                        f"{cls.name}: {key}: {exc} (files must come from the media folders)"
                    ) from None
            out.append(item)
        values[key] = out if param.multiple else out[0]
        shown[key] = value
    return values, shown


def _chain(data: dict, roots: MediaRoots) -> list[dict]:
    from moviola.pipeline import registry

    chain = data.get("effects")
    if isinstance(data.get("effect"), str):
        chain = [{"name": data["effect"], "params": data.get("params") or {}}]
    if not isinstance(chain, list) or not chain:
        raise MoviolaError("choose at least one effect")
    if len(chain) > MAX_CHAIN:
        raise MoviolaError(f"at most {MAX_CHAIN} effects in a chain")
    effects = []
    for item in chain:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise MoviolaError('each effect is {"name": ..., "params": {...}}')
        cls = registry.get(item["name"])
        values, shown = effect_values(roots, cls, item.get("params") or {})
        cls(**values)  # checks every value now, so a mistake is answered at once
        effects.append({"name": cls.name, "params": values, "shown": shown})
    return effects


def preview_range(preview: Any) -> dict | None:
    """``{"start", "end"}`` seconds of a preview (``end``, or ``length`` seconds from
    ``start``, 2 s unless given), at most MAX_PREVIEW_SECONDS long; None for the whole clip."""
    from moviola.media.time import parse_time

    if not preview:
        return None
    if not isinstance(preview, dict):
        preview = {}
    start = parse_time(preview.get("start") or 0) or 0
    if preview.get("end") not in (None, ""):
        end = parse_time(preview["end"])
    else:
        end = start + (parse_time(preview.get("length") or 2) or 2)
    if end is None or end <= start:
        raise MoviolaError("the preview must end after it starts")
    if end - start > MAX_PREVIEW_SECONDS:
        raise MoviolaError(f"a preview is at most {MAX_PREVIEW_SECONDS:g} s long")
    return {"start": float(start), "end": float(end)}


def _crf(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        crf = int(value)
    except (TypeError, ValueError):
        raise MoviolaError("crf must be a whole number 0..63") from None
    if not 0 <= crf <= 63:
        raise MoviolaError("crf must be 0..63")
    return crf


def effects_spec(data: dict, input_path: Path, roots: MediaRoots) -> dict:
    """The spec of an effects job (what the worker runs) from the page's request."""
    effects = _chain(data, roots)
    preview = preview_range(data.get("preview"))
    fmt = str(data.get("format") or "mp4").lower().lstrip(".")
    if fmt not in OUTPUT_FORMATS:
        raise MoviolaError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}")
    stem = sanitize_filename(input_path.stem, 60).replace(".", "_")
    names = "-".join(e["name"] for e in effects)[:60]
    output_name = sanitize_filename(f"{stem}-{names}{'-preview' if preview else ''}.{fmt}")
    return {
        "input": data["input"],
        "input_path": str(input_path),
        "effects": effects,
        "preview": preview,
        "format": fmt,
        "crf": _crf(data.get("crf")),
        "audio": bool(data.get("audio", True)),
        "output_name": output_name,
    }


def effects_title(spec: dict, input_path: Path) -> str:
    names = "+".join(e["name"] for e in spec["effects"])
    return f"{names} on {input_path.name}" + (" (preview)" if spec["preview"] else "")


def shots_spec(data: dict, input_path: Path) -> dict:
    """The spec of a shot-detection job (with descriptions when asked)."""
    return {
        "input": data["input"],
        "input_path": str(input_path),
        "method": data.get("method") or None,
        "describe": bool(data.get("describe")),
    }
