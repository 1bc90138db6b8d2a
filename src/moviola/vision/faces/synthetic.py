"""What marks an output with synthetic faces as such: its container tags.

(The visible label in the picture is :func:`moviola.vision.meshwarp.draw_label`.)
"""

from __future__ import annotations

from moviola._version import __version__


def synthetic_tags(tool: str) -> dict[str, str]:
    """Container tags saying that the output holds synthetic faces made by moviola ``tool``."""
    return {
        "moviola_synthetic": f"faces; {tool}; moviola {__version__}",
        "comment": f"contains synthetic faces made with moviola {tool}",
    }
