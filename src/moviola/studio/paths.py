"""Where the studio may read and write: the media folders and its own data folder, nothing else.

A file is named in the API by a *media id*, ``ROOT/relative/path``: ``ROOT`` is the id of one
configured media folder (or ``uploads``, the studio's own upload folder). Every id is checked
before any file is touched: no absolute paths, no ``..``, no NUL or backslash, and the real path
(symlinks followed) must lie inside the root's real path.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from moviola.errors import MoviolaError
from moviola.media.formats import VIDEO_EXTENSIONS

# Files the studio lists and accepts: video containers, plus still images (a background for
# matte, a face for faceswap, a style picture) and sounds (a voice, music). Every upload is
# also probed: the extension alone proves nothing.
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})
AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac"})
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS | IMAGE_EXTENSIONS | AUDIO_EXTENSIONS

# The studio's own folders: its uploads, and its jobs' results (``results/JOB/FILE``), which
# become footage for the next job.
RESERVED_ROOTS = ("uploads", "results")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}


class PathRefused(MoviolaError):
    """A media id that names something outside the allowed folders (answered 403), or a file
    inside them that does not exist (``missing``: answered 404)."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def sanitize_filename(name: str, max_length: int = 96) -> str:
    """A safe file name from whatever a browser sent: last path component only, ASCII letters,
    digits, ``. _ -``; no leading dot; extension lower-cased; never empty."""
    name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    name = re.split(r"[\\/]", name)[-1].replace("\x00", "")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = _UNSAFE.sub("_", stem).strip("._-") or "upload"
    ext = _UNSAFE.sub("", ext).lower()[:10]
    if stem.lower() in _WINDOWS_RESERVED:
        stem = f"{stem}_"
    stem = stem[: max(1, max_length - len(ext) - 1)]
    return f"{stem}.{ext}" if ext else stem


def _root_id(path: Path, taken: set[str]) -> str:
    base = sanitize_filename(path.name or "media").replace(".", "-").lower() or "media"
    if base in RESERVED_ROOTS:
        base = "media"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@dataclass(frozen=True)
class Root:
    id: str
    path: Path  # real path (symlinks resolved)
    label: str
    writable: bool


class MediaRoots:
    """The folders the studio may read (media folders) and write (its upload folder)."""

    def __init__(
        self,
        media_dirs: Sequence[str | os.PathLike],
        uploads: str | os.PathLike,
        results: str | os.PathLike | None = None,
    ) -> None:
        """``results``: the folder of the jobs' folders (``DATA/jobs``), offered read only as
        the root ``results`` after the media folders."""
        uploads_path = Path(uploads)
        uploads_path.mkdir(parents=True, exist_ok=True)
        self.roots: dict[str, Root] = {
            "uploads": Root("uploads", uploads_path.resolve(strict=True), "Uploads", True)
        }
        for raw in media_dirs:
            path = Path(raw).expanduser()
            if not path.is_dir():
                raise MoviolaError(f"media folder not found: {raw}")
            real = path.resolve(strict=True)
            if any(r.path == real for r in self.roots.values()):
                continue
            rid = _root_id(real, set(self.roots))
            self.roots[rid] = Root(rid, real, real.name or str(real), False)
        if results is not None:
            results_path = Path(results)
            results_path.mkdir(parents=True, exist_ok=True)
            self.roots["results"] = Root(
                "results", results_path.resolve(strict=True), "Results", False
            )

    @property
    def uploads(self) -> Root:
        return self.roots["uploads"]

    def resolve(self, media_id: str, *, must_exist: bool = True) -> Path:
        """The real path of a media id, or PathRefused."""
        if not isinstance(media_id, str) or not media_id:
            raise PathRefused("no file given")
        if "\x00" in media_id or "\\" in media_id or media_id.startswith(("/", "~")):
            raise PathRefused(f"not a media id: {media_id!r}")
        root_id, _, rel = media_id.partition("/")
        root = self.roots.get(root_id)
        if root is None:
            raise PathRefused(f"unknown media folder {root_id!r}")
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if not parts or any(p == ".." for p in parts):
            raise PathRefused(f"not a media id: {media_id!r}")
        candidate = root.path.joinpath(*parts)
        try:
            real = candidate.resolve(strict=must_exist)
        except (FileNotFoundError, NotADirectoryError):
            raise PathRefused(f"no such file: {media_id}", missing=True) from None
        except (OSError, RuntimeError):
            raise PathRefused(f"not a media id: {media_id!r}") from None
        if not real.is_relative_to(root.path):
            raise PathRefused(f"outside the media folders: {media_id!r}")
        return real

    def media_id(self, path: str | os.PathLike) -> str | None:
        """The media id of a real path inside a root, or None."""
        real = Path(path).resolve()
        for root in self.roots.values():
            if real.is_relative_to(root.path):
                return f"{root.id}/{real.relative_to(root.path).as_posix()}"
        return None

    def contains(self, path: str | os.PathLike) -> bool:
        return self.media_id(path) is not None

    def listing(self, limit: int = 2000, depth: int = 4) -> list[dict]:
        """Media files in every root (hidden files and folders skipped, symlinks leaving a root
        skipped), newest first within each root."""
        out: list[dict] = []
        for root in self.roots.values():
            found = []
            for dirpath, dirnames, filenames in os.walk(root.path, followlinks=False):
                here = Path(dirpath)
                level = len(here.relative_to(root.path).parts)
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and level < depth)
                for name in filenames:
                    if name.startswith(".") or Path(name).suffix.lower() not in MEDIA_EXTENSIONS:
                        continue
                    path = here / name
                    try:
                        real = path.resolve(strict=True)
                        if not real.is_relative_to(root.path) or not real.is_file():
                            continue
                        stat = real.stat()
                    except OSError:
                        continue
                    found.append(
                        {
                            "id": f"{root.id}/{path.relative_to(root.path).as_posix()}",
                            "root": root.id,
                            "name": path.relative_to(root.path).as_posix(),
                            "size": stat.st_size,
                            "mtime": stat.st_mtime,
                            "image": path.suffix.lower() in IMAGE_EXTENSIONS,
                            "audio": path.suffix.lower() in AUDIO_EXTENSIONS - VIDEO_EXTENSIONS,
                        }
                    )
                    if len(found) >= limit:
                        break
            found.sort(key=lambda f: (f["image"], f["audio"], -f["mtime"]))
            out.extend(found)
        return out[:limit]

    def describe(self) -> list[dict]:
        return [{"id": r.id, "label": r.label, "writable": r.writable} for r in self.roots.values()]


def unique_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name-2``, ``name-3``... if taken."""
    stem, ext = os.path.splitext(name)
    candidate, n = folder / name, 1
    while candidate.exists():
        n += 1
        candidate = folder / f"{stem}-{n}{ext}"
    return candidate
