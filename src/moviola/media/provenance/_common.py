"""What the parts of provenance/ share: the tag and the IPTC source types, reading a file's moviola
tags, and c2pa-python when it is installed (a warning, once, when it is not)."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from types import ModuleType

log = logging.getLogger("moviola")

TAG = "moviola_synthetic"
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
AI_SOURCE_TYPES = (TRAINED, COMPOSITE)
ASSERTION = "org.moviola.synthetic"  # kind, tool and version, for read() and other tools
_warned = False


def available() -> bool:
    """Whether c2pa-python (and so signing and reading manifests) is installed."""
    return importlib.util.find_spec("c2pa") is not None


def c2pa_or_warn() -> ModuleType | None:
    global _warned
    if available():
        import c2pa

        return c2pa
    if not _warned:
        _warned = True
        log.warning(
            "c2pa-python is not installed: synthetic outputs are tagged and labelled but not "
            "signed (pip install 'moviola[provenance]')"
        )
    return None


def parse_tag(value: str | None) -> tuple[str | None, str | None]:
    """("faces", "faceswap") from "faces; faceswap; moviola 0.1.0"; (None, None) for no tag."""
    if not value:
        return None, None
    parts = [p.strip() for p in value.split(";")]
    return parts[0] or "media", (parts[1] if len(parts) > 2 and parts[1] else None)


def container_tags(path: Path) -> tuple[dict[str, str], str | None]:
    """The moviola tags of a media file (container first, then its streams), and why it could
    not be opened as media (None when it could)."""
    import av
    from av.error import FFmpegError

    try:
        with av.open(str(path)) as container:
            found: dict[str, str] = {}
            for meta in [container.metadata, *(s.metadata for s in container.streams)]:
                for k, v in meta.items():
                    if k.lower() in (TAG, "comment") and k.lower() not in found:
                        found[k.lower()] = str(v)
            return found, None
    except (FFmpegError, OSError, UnicodeDecodeError) as e:
        return {}, one_line(e)


def one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:300]
