"""Reading back what marks a file as synthetic: its moviola container tags and its C2PA manifest
(embedded, or a sidecar beside it), validated with this machine's local CA as a trust anchor, so
that its own signatures read as "local CA" and any other valid one as "unknown signer"."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError
from moviola.media.provenance._common import (
    AI_SOURCE_TYPES,
    ASSERTION,
    TAG,
    available,
    container_tags,
    parse_tag,
)
from moviola.media.provenance.credentials import local_dir
from moviola.media.provenance.sidecar import sidecar_path

LOCAL_NOTE = (
    "signed with this machine's local moviola CA: other readers (c2patool, "
    "contentcredentials.org/verify) show the signer as untrusted; use --sign-cert/--sign-key "
    "for a certificate they trust"
)


def read(path: str | os.PathLike) -> dict[str, Any]:
    """What marks ``path`` as synthetic: its moviola container tags and its C2PA manifest
    (embedded, or a sidecar ``.c2pa`` beside it) with the state of its validation.

    Raises MoviolaError for a missing file, or one that is neither media nor signed."""
    path = Path(path)
    if not path.exists():
        raise MoviolaError(f"no such file: {path}")
    if not path.is_file():
        raise MoviolaError(f"{path} is not a file")
    tags, media_error = container_tags(path)
    manifest = _read_manifest(path) if available() else None
    if media_error is not None and manifest is None:
        raise MoviolaError(f"{path} is not a media file moviola can read ({media_error})")
    kind, tool = parse_tag(tags.get(TAG))
    ai = bool(manifest and manifest["ai_generated"])
    if manifest and manifest.get("moviola"):
        kind = kind or manifest["moviola"].get("kind")
        tool = tool or manifest["moviola"].get("tool")
    return {
        "path": str(path),
        "synthetic": bool(kind) or ai,
        "kind": kind,
        "tool": tool,
        "tags": tags,
        "manifest": manifest,
        "c2pa": "installed" if available() else "not installed: manifests cannot be read",
    }


def _reader_context(c2pa):
    """Default settings, with this machine's local CA as a trust anchor when there is one."""
    ca = local_dir() / "ca.pem"
    try:
        return c2pa.Context.from_dict({"trust": {"user_anchors": ca.read_text()}})
    except (OSError, UnicodeDecodeError, c2pa.C2paError):
        return c2pa.Context()


def _read_manifest(path: Path) -> dict[str, Any] | None:
    import c2pa

    context = _reader_context(c2pa)
    report, sidecar = None, None
    try:
        with open(path, "rb") as f:
            fmt = path.suffix.lower().lstrip(".") or "application/octet-stream"
            report = c2pa.Reader(fmt, f, None, context).json()
    except c2pa.C2paError:
        # ours (out.mkv.c2pa), else c2patool's naming (out.c2pa) when it is this file's
        for side in (sidecar_path(path), path.with_suffix(".c2pa")):
            if not side.is_file() or side == path:
                continue
            try:
                with open(path, "rb") as f:
                    data = side.read_bytes()
                    found = c2pa.Reader("application/octet-stream", f, data, context).json()
            except (OSError, c2pa.C2paError):
                continue
            if side == sidecar_path(path) or json.loads(found).get("validation_state") != "Invalid":
                report, sidecar = found, side
                break
    if report is None:
        return None
    return summarize(json.loads(report), sidecar)


def summarize(report: dict[str, Any], sidecar: Path | None = None) -> dict[str, Any]:
    """The parts of a c2pa Reader report that say what the file is and whether to believe it."""
    active = report.get("manifests", {}).get(report.get("active_manifest"), {})
    actions, moviola = [], None
    for a in active.get("assertions", []):
        if a.get("label", "").startswith("c2pa.actions"):
            actions += a.get("data", {}).get("actions", [])
        elif a.get("label") == ASSERTION:
            moviola = a.get("data")
    state = report.get("validation_state") or ("Invalid" if report.get("validation_status") else "")
    problems = [
        s.get("explanation") or s.get("code")
        for s in report.get("validation_status", [])
        if s.get("code") != "signingCredential.untrusted"
    ]
    info = active.get("signature_info", {})
    trust = {"Trusted": "local CA", "Valid": "unknown signer"}.get(state)
    return {
        "store": "sidecar" if sidecar else "embedded",
        "sidecar": str(sidecar) if sidecar else None,
        "title": active.get("title"),
        "claim_generator": active.get("claim_generator_info"),
        "signer": {k: info.get(k) for k in ("common_name", "issuer", "alg", "time")},
        "actions": [
            {
                "action": a.get("action"),
                "digitalSourceType": a.get("digitalSourceType"),
                "softwareAgent": (a.get("softwareAgent") or {}).get("name")
                if isinstance(a.get("softwareAgent"), dict)
                else a.get("softwareAgent"),
                "description": a.get("description"),
            }
            for a in actions
        ],
        "ai_generated": any(a.get("digitalSourceType") in AI_SOURCE_TYPES for a in actions),
        "moviola": moviola,
        "ingredients": [
            {"title": i.get("title"), "relationship": i.get("relationship")}
            for i in active.get("ingredients", [])
        ],
        "validation_state": state,
        "valid": state in ("Valid", "Trusted"),
        "trust": trust,
        "problems": problems,
        "note": LOCAL_NOTE if trust == "local CA" else None,
        "report": report,
    }
