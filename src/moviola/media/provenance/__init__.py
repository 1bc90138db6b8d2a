"""C2PA Content Credentials on moviola's synthetic outputs, and reading them back.

A signed C2PA manifest says that a file was made (``c2pa.created``) or changed (``c2pa.edited``)
by a trained model (the IPTC digital source types ``trainedAlgorithmicMedia`` and
``compositeWithTrainedAlgorithmicMedia``), by ``moviola <version>``, with which tool, from which
source. It goes beside the container tags (``moviola_synthetic``, ``comment``) and the visible
labels, not instead of them.

- :func:`sign` embeds a manifest into a finished file through a temporary file beside it and an
  atomic rename (MP4, MOV, M4V, M4A, WAV, MP3, FLAC, AVI, JPEG, PNG, GIF, WebP: what c2pa-python
  embeds into). For what it cannot embed into (Matroska, WebM, Ogg, Opus...) it writes a sidecar
  manifest store ``OUT.c2pa`` beside it (``out.mkv.c2pa``), bound to the file's bytes by a
  SHA-256 data hash. A folder (a PNG sequence) has each of its files signed. This is what every
  command calls for its own synthetic outputs.
- :func:`sign_tagged` is the pipeline's step: it signs an output whose tags carry
  ``moviola_synthetic`` (which effect made it, read from the tag).
- :func:`read` gives the container tags and the manifest (embedded or sidecar), with the state
  of its validation.

The signer: a local CA and an end-entity certificate (ECDSA P-256, ES256) made on first use under
``$MOVIOLA_HOME/c2pa`` (keys 0600), or the user's own certificate chain and key
(``--sign-cert``/``--sign-key``, or ``MOVIOLA_SIGN_CERT``/``MOVIOLA_SIGN_KEY``). Other readers
(c2patool, contentcredentials.org/verify) know nothing of a local CA: they show such a signature
as valid but from an untrusted signer.

c2pa-python is optional (the ``provenance`` extra): without it nothing is signed and one warning
says so. The package imports nothing above media/: credentials.py (the signer), sidecar.py (the
data-hashed sidecar), reading.py (:func:`read`), _common.py (tags, source types).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moviola._version import __version__
from moviola.errors import MoviolaError
from moviola.media.provenance._common import (
    AI_SOURCE_TYPES,
    ASSERTION,
    COMPOSITE,
    TAG,
    TRAINED,
    available,
    c2pa_or_warn,
    container_tags,
    one_line,
    parse_tag,
)
from moviola.media.provenance.credentials import (
    CERT_ENV,
    KEY_ENV,
    Credentials,
    credentials,
    home,
    local_dir,
)
from moviola.media.provenance.reading import LOCAL_NOTE, read, summarize
from moviola.media.provenance.sidecar import data_hashed, sidecar_path

__all__ = [
    "AI_SOURCE_TYPES",
    "ASSERTION",
    "CERT_ENV",
    "COMPOSITE",
    "KEY_ENV",
    "LOCAL_NOTE",
    "TAG",
    "TRAINED",
    "Credentials",
    "Signed",
    "available",
    "check_signer",
    "credentials",
    "home",
    "local_dir",
    "parse_tag",
    "prepare",
    "read",
    "sidecar_path",
    "sign",
    "sign_tagged",
    "summarize",
    "use_credentials",
]


@dataclass(frozen=True)
class Signed:
    """What :func:`sign` did: the manifest went into the file (``embedded``) or beside it
    (``sidecar``, at ``sidecar``); ``files`` counts the files signed (a folder's)."""

    path: Path
    store: str
    sidecar: Path | None
    signer: str
    files: int = 1


def sign(
    path: str | os.PathLike,
    *,
    kind: str,
    title: str | None = None,
    ingredient: str | os.PathLike | None = None,
    cert: str | os.PathLike | None = None,
    key: str | os.PathLike | None = None,
    tool: str | None = None,
    action: str | None = None,
) -> Signed | None:
    """Sign the finished file ``path`` as synthetic ``kind`` ("faces", "speech", "video"...)
    made by moviola ``tool`` (None: read from the file's ``moviola_synthetic`` tag).

    ``action`` is "created" (trainedAlgorithmicMedia) or "edited" (the source ``ingredient``
    opened, then changed: compositeWithTrainedAlgorithmicMedia); by default "edited" when an
    ingredient is given, else "created" (a given ingredient is then a component, placed).
    ``cert``/``key``: see :func:`credentials`. Returns what was written, or None when
    c2pa-python is not installed (a warning, once). A failure raises MoviolaError and leaves the
    file as it was.
    """
    path = Path(path)
    if not path.exists():
        raise MoviolaError(f"cannot sign {path}: no such file")
    action = action or ("edited" if ingredient else "created")
    if action not in ("created", "edited"):
        raise MoviolaError(f"unknown C2PA action {action!r}: created or edited")
    c2pa = c2pa_or_warn()
    if c2pa is None:
        return None
    creds = credentials(cert, key)
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    done: list[Signed] = []
    for file in files:
        spec = _definition(file, kind, title, tool or _tool_of(file), action)
        done.append(_sign_file(c2pa, file, spec, creds, ingredient, action))
    if path.is_dir():
        return Signed(path, "embedded", None, creds.signer, files=len(done))
    return done[0]


def sign_tagged(
    path: str | os.PathLike,
    tags: dict[str, str],
    *,
    ingredient: str | os.PathLike | None = None,
    cert: str | os.PathLike | None = None,
    key: str | os.PathLike | None = None,
) -> Signed | None:
    """Sign ``path`` when its ``tags`` mark it synthetic (``moviola_synthetic`` =
    "KIND; TOOL; moviola VERSION"), as edited from ``ingredient``; else do nothing."""
    kind, tool = parse_tag(tags.get(TAG))
    if kind is None:
        return None
    try:
        return sign(path, kind=kind, tool=tool, ingredient=ingredient, cert=cert, key=key)
    except MoviolaError as e:
        raise MoviolaError(f"wrote {path}, tagged as synthetic, but did not sign it: {e}") from None


def prepare(tags: dict[str, str]) -> None:
    """Before a long run whose output will be signed: check the credentials (make the local ones)
    so that a bad certificate fails before any work."""
    if parse_tag(tags.get(TAG))[0] is not None and available():
        check_signer(credentials())


def use_credentials(cert: str | None, key: str | None) -> None:
    """Check ``cert`` and ``key`` (one line if unusable, C2PA's own checks included) and make
    them this process's (and its workers') signer, as the CLI's --sign-cert/--sign-key do."""
    if not cert and not key:
        return
    if not cert or not key:
        raise MoviolaError("give both --sign-cert and --sign-key")
    found = credentials(cert, key)
    if available():
        check_signer(found)
    os.environ[CERT_ENV] = str(Path(cert).resolve())
    os.environ[KEY_ENV] = str(Path(key).resolve())


def check_signer(creds: Credentials) -> None:
    """Sign a few bytes with ``creds``: C2PA refuses some certificates that load well (no
    authority key identifier, a wrong key usage), and that must show before any work."""
    import io

    import c2pa

    spec = {"assertions": [{"label": "c2pa.actions", "data": {"actions": [_made("created")]}}]}
    info = c2pa.C2paSignerInfo(creds.alg, creds.chain, creds.key, None)
    try:
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(spec) as builder:
            data_hashed(c2pa, builder, signer, io.BytesIO(b"moviola"))
    except c2pa.C2paError as e:
        raise MoviolaError(f"C2PA refuses the signer {creds.signer}: {one_line(e)}") from None


def _tool_of(path: Path) -> str | None:
    return parse_tag(container_tags(path)[0].get(TAG))[1]


def _made(action: str) -> dict[str, Any]:
    return {
        "action": f"c2pa.{action}",
        "digitalSourceType": TRAINED if action == "created" else COMPOSITE,
        "softwareAgent": {"name": f"moviola {__version__}"},
    }


def _definition(path: Path, kind: str, title, tool, action: str) -> dict[str, Any]:
    made = _made(action)
    made["description"] = f"synthetic {kind} made with moviola" + (f" {tool}" if tool else "")
    return {
        "claim_generator_info": [{"name": "moviola", "version": __version__}],
        "title": title or path.name,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [made]}},
            {"label": ASSERTION, "data": {"kind": kind, "tool": tool, "version": __version__}},
        ],
    }


def _builder(c2pa, spec: dict, ingredient, action: str):
    actions = spec["assertions"][0]["data"]["actions"]
    if ingredient is not None:
        ref = {"ingredientIds": ["source"]}
        if action == "edited":
            actions.insert(0, {"action": "c2pa.opened", "parameters": ref})
        else:
            actions.append({"action": "c2pa.placed", "parameters": ref})
    builder = c2pa.Builder(spec)
    if ingredient is not None:
        source = Path(ingredient)
        relation = "parentOf" if action == "edited" else "componentOf"
        info = {"title": source.name, "relationship": relation, "label": "source"}
        try:
            with open(source, "rb") as f:
                builder.add_ingredient(info, source.suffix.lstrip(".").lower() or "bin", f)
        except (OSError, c2pa.C2paError):  # a format c2pa cannot open: named, not read
            builder.close()
            spec = {**spec, "ingredients": [{**info, "format": "application/octet-stream"}]}
            builder = c2pa.Builder(spec)
    return builder


def _embeddable(c2pa, path: Path) -> bool:
    ext = path.suffix.lower().lstrip(".")
    return bool(ext) and ext != "c2pa" and ext in c2pa.Builder.get_supported_mime_types()


def _sign_file(c2pa, path: Path, spec: dict, creds: Credentials, ingredient, action) -> Signed:
    from moviola.media.atomic import atomic_output, write_bytes

    info = c2pa.C2paSignerInfo(creds.alg, creds.chain, creds.key, None)
    try:
        if _embeddable(c2pa, path):
            try:
                with c2pa.Signer.from_info(info) as signer:
                    builder = _builder(c2pa, json.loads(json.dumps(spec)), ingredient, action)
                    with (
                        atomic_output(path) as tmp,
                        open(path, "rb") as src,
                        open(tmp, "w+b") as dst,
                    ):
                        builder.sign(signer, path.suffix.lstrip(".").lower(), src, dst)
                return Signed(path, "embedded", None, creds.signer)
            except c2pa.C2paError.NotSupported:
                pass  # listed, but not this file's flavour: a sidecar instead
        with c2pa.Signer.from_info(info) as signer:
            builder = _builder(c2pa, spec, ingredient, action)
            try:
                with open(path, "rb") as f:
                    manifest = data_hashed(c2pa, builder, signer, f)
            finally:
                builder.close()
        side = write_bytes(sidecar_path(path), manifest)
        return Signed(path, "sidecar", side, creds.signer)
    except c2pa.C2paError as e:
        raise MoviolaError(f"cannot sign {path.name} (C2PA): {one_line(e)}") from None
    except OSError as e:
        raise MoviolaError(f"cannot sign {path}: {e.strerror or e}") from None
