"""Built-in learned styles: small style networks trained here by ``moviola train-style``.

Each ships in the package (``styles/NAME.onnx``, float32, 1.7 MB; range "0,1" in its metadata)
and runs with ONNX Runtime like any ``stylize --model`` file: ``stylize --style-model NAME``.
They were trained by ``scripts/train-styles`` (the exact commands, seeds and steps) from style
images with redistributable licenses found in packages: Starry Night in OpenCV's samples, four
more Van Gogh paintings in Debian's GCompris data; sources, licenses and figures:
docs/stylize.md. Two more were trained the same way (from scikit-image's Hubble Deep
Field and immunohistochemistry images) and not shipped: at five minutes of CPU training they
were streaks and glitches, not looks (the contact sheet in docs/stylize/ shows them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STYLES_DIR = Path(__file__).resolve().parent / "styles"


@dataclass(frozen=True)
class BuiltinStyle:
    file: str
    image: str  # what the style image is
    source: str  # where it was found
    license: str


BUILTIN_STYLES: dict[str, BuiltinStyle] = {
    "starry-night": BuiltinStyle(
        "starry-night.onnx",
        "Vincent van Gogh, The Starry Night (1889)",
        "OpenCV's sample data, samples/data/starry_night.jpg (samples/photos/ after make samples)",
        "public domain (the painting); OpenCV's samples: Apache-2.0",
    ),
    **{
        name: BuiltinStyle(
            f"{name}.onnx",
            f"Vincent van Gogh, {title}",
            f"Debian's gcompris-qt-data 3.1-2, details.rcc: {file} (scripts/style-paintings)",
            "public domain (the painting); the reproduction: CC-BY-SA-4.0 in Debian's copyright "
            "file for GCompris (2015-2017 Timothee Giet)",
        )
        for name, title, file in (
            ("night-cafe", "The Night Cafe (1888)", "Van_Gogh_The_Night_Cafe_background.webp"),
            ("cafe-terrace", "Cafe Terrace at Night (1888)", "Gogh4_background.webp"),
            (
                "church-auvers",
                "The Church at Auvers (1890)",
                "Eglise_dAuvers-sur-Oise_background.webp",
            ),
            (
                "pere-tanguy",
                "Portrait of Pere Tanguy (1887)",
                "PortraitOfPereTanguy_background.webp",
            ),
        )
    },
}


def builtin_path(name: str | None) -> Path | None:
    """The shipped file of built-in style ``name``; None when ``name`` is not one (or its file
    is missing from this installation)."""
    style = BUILTIN_STYLES.get(name or "")
    if style is None:
        return None
    path = STYLES_DIR / style.file
    return path if path.is_file() else None
