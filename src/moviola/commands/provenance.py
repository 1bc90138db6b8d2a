"""``moviola provenance FILE``: is this file marked as synthetic, by what, and does its C2PA
manifest check? (media/provenance.py does the reading.)"""

from __future__ import annotations

import json
from typing import Any

_SOURCE_TYPES = {
    "trainedAlgorithmicMedia": "made by a trained model",
    "compositeWithTrainedAlgorithmicMedia": "with parts made by a trained model",
}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "provenance",
        help="show a file's marks of synthetic content: tags and C2PA Content Credentials",
        description=(
            "Say whether FILE is marked as synthetic (moviola's container tags, a C2PA "
            "manifest embedded or in a FILE.c2pa sidecar), by which tool, who signed it and "
            "whether the signature and the content hashes check. A local moviola CA's "
            "signature is valid here and shown as untrusted by other readers "
            "(see docs/provenance.md)."
        ),
    )
    p.add_argument("file", help="a video, audio or image file")
    p.add_argument("--json", action="store_true", help="print everything as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from moviola.media import provenance

    found = provenance.read(args.file)
    print(json.dumps(found, indent=2, default=str) if args.json else describe(found))
    return 0


def describe(found: dict[str, Any]) -> str:
    """The report as a few lines of text."""
    m = found["manifest"]
    what = found["kind"] or "content"
    if found["synthetic"]:
        by = f", made with moviola {found['tool']}" if found["tool"] else ""
        lines = [f"{found['path']}: synthetic {what}{by}"]
    else:
        lines = [f"{found['path']}: no mark of synthetic content"]
    tags = found["tags"]
    if tags:
        lines.append("  tags: " + "; ".join(f"{k}={v!r}" for k, v in sorted(tags.items())))
    else:
        lines.append("  tags: none")
    if m is None:
        lines.append(
            "  C2PA: no manifest" if found["c2pa"] == "installed" else f"  C2PA: {found['c2pa']}"
        )
        return "\n".join(lines)
    where = f"sidecar {m['sidecar']}" if m["sidecar"] else "embedded"
    lines.append(f"  C2PA manifest: {where}")
    for a in m["actions"]:
        source = (a.get("digitalSourceType") or "").rsplit("/", 1)[-1]
        parts = [a.get("action") or "?"]
        if a.get("softwareAgent"):
            parts.append(f"by {a['softwareAgent']}")
        if source:
            parts.append(_SOURCE_TYPES.get(source, source))
        if a.get("description"):
            parts.append(f"({a['description']})")
        lines.append("    " + " ".join(parts))
    for i in m["ingredients"]:
        lines.append(f"    from {i['title']} ({i['relationship']})")
    signer = m["signer"]
    named = ", ".join(filter(None, (signer.get("common_name"), signer.get("issuer")))) or "?"
    when = f", signed {signer['time']}" if signer.get("time") else ""
    lines.append(f"  signer: {named} ({signer.get('alg') or '?'}{when})")
    if m["valid"]:
        trust = {
            "local CA": "signed by this machine's local moviola CA",
            "unknown signer": "signer not on a trust list this reader knows",
        }.get(m["trust"] or "", "")
        lines.append(f"  validation: valid{'; ' + trust if trust else ''}")
    else:
        lines.append(f"  validation: FAILED ({'; '.join(m['problems']) or m['validation_state']})")
    if m["note"]:
        lines.append(f"  note: {m['note']}")
    return "\n".join(lines)
