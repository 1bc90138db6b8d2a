"""Output formats: the codecs moviola encodes with, the containers that hold them, and the
checks that turn an output path and options into a Target (container and codec).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from moviola.errors import MoviolaError
from moviola.media.atomic import final_path

log = logging.getLogger("moviola")
_SAID: set[str] = set()  # outputs whose missing extension was already reported


@dataclass(frozen=True)
class Codec:
    key: str
    encoder: str
    pix_fmt: str  # 8-bit, no alpha
    alpha_pix_fmt: str | None = None  # when frames carry alpha (None: alpha not supported)
    deep_pix_fmt: str | None = None  # when frames have more than 8 bits
    options: dict = field(default_factory=dict)
    crf_option: str | None = "crf"
    preset_option: str | None = "preset"
    profile: str | None = None
    tag: str | None = None
    even_size: bool = True  # chroma subsampled: width and height must be even
    crf_range: tuple[int, int] | None = None  # the values --crf takes (None: no --crf)
    presets: tuple[str, ...] | None = None  # the values --preset takes (None: no --preset)


# x264's and x265's preset names, fastest first.
_X26X_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium", "slow", "slower", "veryslow", "placebo",
)  # fmt: skip


CODECS: dict[str, Codec] = {
    c.key: c
    for c in (
        Codec(
            "h264",
            "libx264",
            "yuv420p",
            deep_pix_fmt="yuv420p10le",
            options={"crf": "18", "preset": "medium"},
            crf_range=(0, 51),
            presets=_X26X_PRESETS,
        ),
        Codec(
            "h265",
            "libx265",
            "yuv420p",
            alpha_pix_fmt=None,
            deep_pix_fmt="yuv420p10le",
            options={"crf": "20", "preset": "medium", "x265-params": "log-level=error"},
            tag="hvc1",
            crf_range=(0, 51),
            presets=_X26X_PRESETS,
        ),
        Codec(
            "prores",
            "prores_ks",
            "yuv422p10le",
            deep_pix_fmt="yuv422p10le",
            options={"profile": "3"},
            crf_option=None,
            preset_option=None,
        ),
        Codec(
            "prores4444",
            "prores_ks",
            "yuv444p10le",
            alpha_pix_fmt="yuva444p10le",
            deep_pix_fmt="yuv444p10le",
            options={"profile": "4", "alpha_bits": "16"},
            crf_option=None,
            preset_option=None,
            even_size=False,
        ),
        Codec(
            "vp9",
            "libvpx-vp9",
            "yuv420p",
            alpha_pix_fmt="yuva420p",
            options={"crf": "32", "b": "0", "row-mt": "1", "deadline": "good", "cpu-used": "4"},
            preset_option=None,
            crf_range=(0, 63),
        ),
        Codec(
            "av1",
            "libsvtav1",
            "yuv420p",
            deep_pix_fmt="yuv420p10le",
            options={"crf": "35", "preset": "8"},
            crf_range=(1, 63),
            presets=tuple(str(n) for n in range(-1, 14)),  # SVT-AV1: -1 (its default) to 13
        ),
        Codec(
            "ffv1",
            "ffv1",
            "bgr0",
            alpha_pix_fmt="bgra",
            deep_pix_fmt="gbrp16le",
            options={"level": "3", "slicecrc": "1", "g": "1"},
            crf_option=None,
            preset_option=None,
            even_size=False,
        ),
        Codec(
            "png",
            "png",
            "rgb24",
            alpha_pix_fmt="rgba",
            deep_pix_fmt="rgb48be",
            crf_option=None,
            preset_option=None,
            even_size=False,
        ),
        Codec(
            "jpeg",
            "mjpeg",
            "yuvj444p",
            options={"qmin": "1", "qmax": "3"},
            crf_option=None,
            preset_option=None,
            even_size=False,
        ),
        Codec(
            "tiff",
            "tiff",
            "rgb24",
            alpha_pix_fmt="rgba",
            deep_pix_fmt="rgb48le",
            crf_option=None,
            preset_option=None,
            even_size=False,
        ),
        Codec(
            "gif",
            "gif",
            "pal8",
            alpha_pix_fmt=None,
            crf_option=None,
            preset_option=None,
            even_size=False,
        ),
        Codec(
            "webp",
            "libwebp_anim",
            "yuv420p",
            alpha_pix_fmt="yuva420p",
            options={"quality": "90"},
            crf_option=None,
            preset_option=None,
        ),
    )
}
ALIASES = {
    "x264": "h264",
    "avc": "h264",
    "x265": "h265",
    "hevc": "h265",
    "prores422": "prores",
    "prores_4444": "prores4444",
    "vp09": "vp9",
    "svtav1": "av1",
}

# Extension -> (muxer, default codec, default codec when frames carry alpha, codecs allowed)
CONTAINERS = {
    ".mp4": ("mp4", "h264", "h264", {"h264", "h265", "av1", "vp9"}),
    ".m4v": ("mp4", "h264", "h264", {"h264", "h265", "av1"}),
    ".mov": ("mov", "h264", "prores4444", {"h264", "h265", "prores", "prores4444", "png"}),
    ".mkv": (
        "matroska",
        "h264",
        "ffv1",
        {"h264", "h265", "prores", "prores4444", "vp9", "av1", "ffv1", "png"},
    ),
    ".webm": ("webm", "vp9", "vp9", {"vp9", "av1"}),
    ".avi": ("avi", "h264", "ffv1", {"h264", "ffv1", "png"}),
    ".gif": ("gif", "gif", "gif", {"gif"}),
    ".webp": ("webp", "webp", "webp", {"webp"}),
    # One still image: the effects must produce exactly one frame.
    ".png": ("image2", "png", "png", {"png"}),
    ".jpg": ("image2", "jpeg", "jpeg", {"jpeg"}),
    ".jpeg": ("image2", "jpeg", "jpeg", {"jpeg"}),
    ".tif": ("image2", "tiff", "tiff", {"tiff"}),
    ".tiff": ("image2", "tiff", "tiff", {"tiff"}),
}
STILL_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
PNG_NAME = "frame_%06d.png"


def codec_choices() -> list[str]:
    return sorted(CODECS)


@dataclass
class Target:
    """Where and how output is written, resolved from the path and options."""

    path: Path  # file, or folder for PNG sequences
    muxer: str
    codec: str | None  # None: decided from the first frame (alpha or not)
    sequence_pattern: str | None = None  # file name pattern inside the folder


def resolve_target(
    path: str | os.PathLike,
    codec: str | None = None,
    *,
    crf: int | None = None,
    preset: str | None = None,
) -> Target:
    """Check an output path (and the encoder's ``crf`` and ``preset``) and choose the container
    and codec. Raises MoviolaError.

    A path ending in ``/`` (or naming an existing folder, or holding a ``%d`` pattern) is a PNG
    sequence; any other path needs an extension that names its format.
    """
    target = _target(path, codec, check_folder=True)
    check_encoder(target, crf, preset)
    return target


def check_encoding(
    path: str | os.PathLike,
    codec: str | None = None,
    *,
    crf: int | None = None,
    preset: str | None = None,
) -> None:
    """``resolve_target``'s checks of the format, codec, ``crf`` and ``preset`` of an output
    named like ``path``, without those of its folder (which may not exist yet)."""
    check_encoder(_target(path, codec, check_folder=False), crf, preset)


def _target(path: str | os.PathLike, codec: str | None, *, check_folder: bool) -> Target:
    text = str(path)
    p = Path(text)
    if codec is not None:
        codec = ALIASES.get(codec.lower(), codec.lower())
        if codec not in CODECS:
            raise MoviolaError(f"unknown codec {codec!r}; choose from {', '.join(codec_choices())}")
    if text.endswith(("/", os.sep)) or "%" in p.name or (p.suffix == "" and p.is_dir()):
        return _sequence_target(p, codec, check_folder)
    if p.suffix == "":  # said, not silent: a name without a format is a PNG sequence folder
        target = _sequence_target(p, codec, check_folder)  # a refusal comes alone, unwarned
        if check_folder and str(p) not in _SAID:  # (an output is resolved more than once)
            _SAID.add(str(p))
            log.warning("%s has no extension: writing a PNG sequence into %s/", p, p)
        return target
    return _file_target(p, codec, check_folder)


def _sequence_target(p: Path, codec: str | None, check_folder: bool) -> Target:
    if "%" in p.name:
        folder, pattern = p.parent, p.name
    else:
        folder, pattern = p, PNG_NAME
    if codec not in (None, "png"):
        raise MoviolaError(f"an image sequence is written as PNG, not {codec}")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise MoviolaError(f"output folder for the PNG sequence exists and is not empty: {folder}")
    if check_folder:
        _check_writable(final_path(folder).parent)
    return Target(folder, "image2", "png", pattern)


def _file_target(p: Path, codec: str | None, check_folder: bool) -> Target:
    ext = p.suffix.lower()
    if ext not in CONTAINERS:
        raise MoviolaError(
            f"unknown output format {ext!r}; use one of "
            f"{', '.join(sorted(CONTAINERS))} or a folder (out/) for a PNG sequence"
        )
    if p.is_dir():
        raise MoviolaError(f"output path is a folder: {p}")
    muxer, _default, _alpha_default, allowed = CONTAINERS[ext]
    if codec is not None and codec not in allowed:
        raise MoviolaError(f"{ext} cannot hold {codec}; it takes {', '.join(sorted(allowed))}")
    if check_folder:
        _check_writable(final_path(p).parent)
    return Target(p, muxer, codec)


def check_encoder(target: Target, crf: int | None, preset: str | None) -> None:
    """Refuse a ``crf`` or ``preset`` that the target's codec does not take, with one line.
    Without a chosen codec, the container's defaults (with and without alpha) are checked;
    a codec that takes no --crf or --preset at all is refused when the first frame decides."""
    if target.codec is not None:
        keys = [target.codec]
    else:
        _muxer, default, alpha_default, _ = CONTAINERS[target.path.suffix.lower()]
        keys = [default, alpha_default]
    for codec in {CODECS[k].key: CODECS[k] for k in keys}.values():
        check_codec_options(codec, crf, preset, strict=False)


def check_codec_options(
    codec: Codec, crf: int | None, preset: str | None, *, strict: bool = True
) -> None:
    """Refuse a ``crf`` outside ``codec``'s range or a ``preset`` it does not know; with
    ``strict``, also one it takes no --crf or --preset at all."""
    if crf is not None:
        if codec.crf_range is None:
            if strict:
                raise MoviolaError(f"--crf does not apply to {codec.key}")
        elif isinstance(crf, bool) or not isinstance(crf, int):
            raise MoviolaError(f"--crf must be a whole number, not {crf!r}")
        elif not codec.crf_range[0] <= crf <= codec.crf_range[1]:
            lo, hi = codec.crf_range
            raise MoviolaError(f"--crf {crf} is out of range for {codec.key}: use {lo} to {hi}")
    if preset is not None:
        if codec.presets is None:
            if strict:
                raise MoviolaError(f"--preset does not apply to {codec.key}")
        elif str(preset) not in codec.presets:
            raise MoviolaError(
                f"--preset {preset} is not a preset of {codec.key}; use one of "
                f"{', '.join(codec.presets)}"
            )


def _check_writable(folder: Path) -> None:
    folder = folder if str(folder) else Path(".")
    if not folder.exists():
        raise MoviolaError(f"output folder does not exist: {folder}")
    if not folder.is_dir():
        raise MoviolaError(f"not a folder: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MoviolaError(f"output folder is not writable: {folder}")


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    pa, pb = Path(a), Path(b)
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    except OSError:
        pass
    return pa.resolve() == pb.resolve()


# Files taken as video wherever folders are listed (batch, the studio's media, the index); the
# extension only picks candidates, every file is probed before use.
VIDEO_EXTENSIONS = frozenset(
    {
        ".3gp", ".avi", ".dv", ".flv", ".gif", ".m2ts", ".m4v", ".mkv", ".mov", ".mp4",
        ".mpeg", ".mpg", ".mts", ".mxf", ".ogv", ".ts", ".webm", ".wmv", ".y4m",
    }
)  # fmt: skip
