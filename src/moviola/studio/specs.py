"""Job specs from what the page sends: the effect chain checked against the effects'
declarations, files confined to the media folders, the preview range and the output format.

Which values name files comes from each parameter's declaration (its type and ``kind``, see
moviola.pipeline.params), never from knowledge of an effect: the studio turns media ids into
real paths there and refuses anything outside its folders.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError
from moviola.pipeline.params import Param
from moviola.studio.paths import MediaRoots, PathRefused, sanitize_filename

OUTPUT_FORMATS = ("mp4", "mov", "mkv", "webm", "avi", "gif", "webp")
MAX_PREVIEW_SECONDS = 30.0
MAX_CHAIN = 16


# A path-or-keyword value that is one of these is not a file: a colour, or a bare keyword word
# (no dot, no slash), such as matte's auto, green, blur or transparent.
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_KEYWORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def looks_like_path(value: Any) -> bool:
    return isinstance(value, str) and ("/" in value or "\\" in value or value.startswith("~"))


def path_kind(param: Param) -> str | None:
    """How ``param``'s values name files (one of moviola.pipeline.params.KINDS), or None when
    they never do."""
    return param.kind or ("path" if param.is_path else None)


def is_keyword(value: str) -> bool:
    """Whether a path-or-keyword value is a colour or a keyword rather than a file."""
    return bool(_COLOUR.fullmatch(value) or _KEYWORD.fullmatch(value))


def confine(roots: MediaRoots, param: Param, value: str) -> str:
    """One value of ``param`` with the media ids it holds made real paths, as the parameter's
    declaration says where files are: ``path``: the whole value; ``path-or-keyword``: the value
    unless it is a colour (#RRGGBB) or a bare keyword word (no dot, no slash); ``keyframes``:
    the IMAGE of ``FRAME=IMAGE`` (a value without ``=`` as for path-or-keyword). A value is a
    file exactly there. PathRefused when such a file is outside the media and data folders, or
    when a text parameter that takes no file is given something that looks like one (the
    effect would open it unconfined)."""
    kind = path_kind(param)
    if kind == "path":
        return str(roots.resolve(value))
    text = value.strip()
    if kind == "keyframes":
        where, sep, image = text.partition("=")
        if sep:
            return f"{where.strip()}={roots.resolve(image.strip())}"
    if kind in ("path-or-keyword", "keyframes"):
        return text if is_keyword(text) else str(roots.resolve(text))
    if param.type_name == "str" and looks_like_path(value):
        raise PathRefused(f"takes no file, got {value!r}")
    return value


def effect_values(roots: MediaRoots, cls, params: Any) -> tuple[dict, dict]:
    """(values for the worker, values to show): media ids become real paths, only inside the
    media folders; empty values are left out (the effect's default applies). PathRefused (a
    403) when a file is outside them."""
    if not isinstance(params, dict):
        raise MoviolaError(f"{cls.name}: params must be an object of name: value")
    known = {p.name: p for p in cls.params}
    values, shown = {}, {}
    for key, value in params.items():
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
            if isinstance(item, str) or path_kind(param) is not None:
                try:
                    item = confine(roots, param, str(item))
                except PathRefused as exc:
                    raise PathRefused(
                        f"{cls.name}: {key}: {exc} (files must come from the media folders)",
                        missing=exc.missing,
                    ) from None
                except MoviolaError as exc:
                    raise MoviolaError(f"{cls.name}: {key}: {exc}") from None
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
        effect = cls(**values)  # checks every value now, so a mistake is answered at once
        _changes_something(effect)
        effects.append({"name": cls.name, "params": values, "shown": shown})
    return effects


def check_chain(effects: Any, roots: MediaRoots) -> list[dict]:
    """An effect chain checked as a job's would be (known effects and parameters, values that
    fit, files inside the media folders): ``[{"name", "params", "shown"}]``."""
    return _chain({"effects": effects}, roots)


def _changes_something(effect) -> None:
    """Refuse a classical retiming effect that, as filled in, keeps the clip as it is (trim
    with nothing filled in would silently copy the clip)."""
    from moviola.media.frame import StreamInfo
    from moviola.media.timeline import Timeline
    from moviola.pipeline.runner import Chain

    if type(effect).timing != "retime" or effect.kind != "classical":
        return
    rate = Fraction(30000, 1001)
    info = StreamInfo(64, 64, rate, 1 / rate, frames=300, duration=300 / rate)
    if Chain([effect]).timeline(Timeline()).is_identity and effect.configure(info) == info:
        names = ", ".join(p.name.replace("_", " ") for p in effect.params)
        raise MoviolaError(
            f"{effect.name}: as filled in, it keeps the whole clip unchanged: fill in {names}"
        )


def check_start(spec: dict, duration: float | None) -> None:
    """Refuse, before the job is queued, a preview (or a first effect's ``start``) that
    begins at or past the end of the clip (``duration`` seconds, from probe)."""
    if duration is None:
        return
    for key in ("preview", "range"):
        part = spec.get(key)
        if part and part["start"] >= duration:
            raise MoviolaError(
                f"{key}: starts at {part['start']:g} s, past the end of the clip ({duration:.2f} s)"
            )
    from moviola.pipeline import registry

    first = spec["effects"][0]
    if registry.get(first["name"]).timing != "retime" or "start" not in first["params"]:
        return
    start = getattr(registry.create(first["name"], **first["params"]), "start", None)
    if isinstance(start, Fraction) and start >= duration:
        raise MoviolaError(
            f"{first['name']}: start: {float(start):g} s is past the end of the clip "
            f"({duration:.2f} s)"
        )


def preview_range(preview: Any) -> dict | None:
    """``{"start", "end"}`` seconds of a preview (``end``, or ``length`` seconds from
    ``start``, 2 s unless given), at most MAX_PREVIEW_SECONDS long; None for the whole clip."""
    if not preview:
        return None
    if not isinstance(preview, dict):
        preview = {}
    try:
        return _range(preview)
    except (TypeError, ValueError, OverflowError, ArithmeticError):  # a list, 1e400...
        raise MoviolaError("the preview's start, end and length must be times") from None


def _range(preview: dict) -> dict:
    from moviola.media.time import parse_time

    start = parse_time(preview.get("start") or 0) or 0
    if preview.get("end") not in (None, ""):
        end = parse_time(preview["end"])
    else:
        end = start + (parse_time(preview.get("length") or 2) or 2)
    if end is None or end <= start:
        raise MoviolaError("the preview must end after it starts")
    if end - start > MAX_PREVIEW_SECONDS:
        raise MoviolaError(f"a preview is at most {MAX_PREVIEW_SECONDS:g} s long")
    return _times(start, end)


def _times(start: Fraction | int, end: Fraction | int) -> dict:
    """A range as seconds to show and as exact times to run (a frame's time such as
    ``1001/10000``, which a float would round off the frame)."""
    return {
        "start": float(start),
        "end": float(end),
        "start_exact": str(start),
        "end_exact": str(end),
    }


def clip_range(value: Any) -> dict | None:
    """``{"start", "end"}`` of a whole run limited to the player's in and out points (no
    length limit, unlike a preview); None for the whole clip."""
    from moviola.media.time import parse_time

    if not value:
        return None
    if not isinstance(value, dict):
        raise MoviolaError("range: give its start and end")
    try:
        start = parse_time(value.get("start") or 0) or Fraction(0)
        end = parse_time(value.get("end"))
    except (TypeError, ValueError, OverflowError, ArithmeticError):
        raise MoviolaError("range: its start and end must be times") from None
    if end is None or end <= start:
        raise MoviolaError("range: the out point must come after the in point")
    return _times(start, end)


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
    part = None if preview else clip_range(data.get("range"))
    fmt = str(data.get("format") or "mp4").lower().lstrip(".")
    if fmt not in OUTPUT_FORMATS:
        raise MoviolaError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}")
    stem = sanitize_filename(input_path.stem, 60).replace(".", "_")
    names = "-".join(e["name"] for e in effects)[:60]
    output_name = sanitize_filename(
        f"{stem}-{names}{'-preview' if preview else '-part' if part else ''}.{fmt}"
    )
    return {
        "input": data["input"],
        "input_path": str(input_path),
        "effects": effects,
        "preview": preview,
        "range": part,
        "format": fmt,
        "crf": _crf(data.get("crf")),
        "audio": bool(data.get("audio", True)),
        "output_name": output_name,
    }


def _changed(effect: dict) -> str:
    """``name · param value, param value`` with the parameters that differ from the
    effect's defaults (files by their names)."""
    from moviola.pipeline import registry
    from moviola.pipeline.params import plain

    known = {p.name: p for p in registry.get(effect["name"]).params}
    parts = []
    for key, value in (effect.get("shown") or effect.get("params") or {}).items():
        param = known.get(key)
        if param is None:
            continue
        values = value if isinstance(value, list) else [value]
        if [str(v) for v in values] == [str(plain(param.default))]:
            continue
        if path_kind(param) is not None:
            values = [str(v).replace("\\", "/").rsplit("/", 1)[-1] for v in values]
        text = ", ".join(str(v) for v in values)
        parts.append(f"{key.replace('_', ' ')} {text[:40]}")
    return " · ".join([effect["name"], ", ".join(parts)]) if parts else effect["name"]


def effects_title(spec: dict, input_path: Path) -> str:
    """The effects and the parameters that differ from their defaults, on the clip:
    ``resize · width 640 + blur on clip.mp4``."""
    names = " + ".join(_changed(e) for e in spec["effects"])
    if len(names) > 140:
        names = names[:139] + "…"
    part = spec.get("range")
    where = f" ({part['start']:.2f} s to {part['end']:.2f} s)" if part else ""
    return f"{names} on {input_path.name}" + (" (preview)" if spec["preview"] else where)


def shots_spec(data: dict, input_path: Path, methods: Sequence[str] = ()) -> dict:
    """The spec of a shot-detection job (with descriptions when asked); ``method``, when
    given, one of ``methods``."""
    method = data.get("method") or None
    if method is not None and (not isinstance(method, str) or method not in methods):
        raise MoviolaError(f"method must be one of {', '.join(methods)}")
    return {
        "input": data["input"],
        "input_path": str(input_path),
        "method": method,
        "describe": bool(data.get("describe")),
    }


TRANSCRIBE_MODELS = ("whisper-tiny-en", "whisper-base")


def transcript_spec(data: dict, input_path: Path) -> dict:
    """The spec of a transcription job: ``model`` (one of TRANSCRIBE_MODELS) and ``speakers``
    ("auto", a count from 1 to 32, or none)."""
    model = data.get("model") or TRANSCRIBE_MODELS[0]
    if model not in TRANSCRIBE_MODELS:
        raise MoviolaError(f"model must be one of {', '.join(TRANSCRIBE_MODELS)}")
    speakers = data.get("speakers")
    if speakers in (None, "", False):
        speakers = None
    elif speakers != "auto" and not (
        isinstance(speakers, int) and not isinstance(speakers, bool) and 1 <= speakers <= 32
    ):
        raise MoviolaError("speakers must be 'auto' or a number from 1 to 32")
    language = data.get("language") or None
    if language is not None and not (isinstance(language, str) and language.isalpha()):
        raise MoviolaError("language must be a language code such as 'en' or 'fr'")
    return {
        "input": data["input"],
        "input_path": str(input_path),
        "model": model,
        "speakers": speakers,
        "language": language,
    }
