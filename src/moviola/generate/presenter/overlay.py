"""The lower-third name card ("Name, title"), rendered once and faded in and out."""

from __future__ import annotations

import numpy as np

from moviola.vision.captions import load_font

FADE = 0.35  # s
SHOWN = (0.6, 6.5)  # s: from, until (or until the end, less a second)


class NameCard:
    """A name (bold) and an optional title (smaller) on a dark band with an accent bar."""

    def __init__(self, text: str, width: int, height: int) -> None:
        from PIL import Image, ImageDraw

        name, _, title = text.partition(",")
        name, title = name.strip(), title.strip()
        big = max(12, round(height * 0.045))
        small = max(10, round(height * 0.03))
        f_name = load_font(None, big)
        f_title = (
            load_font("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", small)
            if _has_regular()
            else load_font(None, small)
        )
        probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
        nb = probe.textbbox((0, 0), name, font=f_name)
        tb = probe.textbbox((0, 0), title, font=f_title) if title else (0, 0, 0, 0)
        pad = max(6, big // 2)
        bar = max(3, big // 6)
        text_w = max(nb[2], tb[2])
        cw = int(min(width - 2 * pad, text_w + 3 * pad + bar))
        ch = int(nb[3] + (tb[3] + pad // 2 if title else 0) + 2 * pad)
        card = Image.new("RGBA", (cw, ch), (16, 20, 30, 200))
        draw = ImageDraw.Draw(card)
        draw.rectangle((0, 0, bar - 1, ch), fill=(230, 170, 40, 255))
        draw.text((bar + pad, pad), name, font=f_name, fill=(255, 255, 255, 255))
        if title:
            draw.text(
                (bar + pad, pad + nb[3] + pad // 2), title, font=f_title, fill=(210, 215, 225, 255)
            )
        rgba = np.asarray(card, np.float32)
        self.rgb = rgba[..., :3]
        self.alpha = rgba[..., 3:] / 255.0
        self.x = max(0, round(width * 0.05))
        self.y = max(0, round(height * 0.80) - ch)

    def draw(self, image: np.ndarray, t: float, duration: float) -> None:
        """Blend the card into ``image`` (in place) with its fade at time ``t``."""
        start, end = SHOWN[0], min(SHOWN[1], max(duration - 1.0, SHOWN[0] + 1.0))
        if t < start or t > end:
            return
        k = float(min(1.0, (t - start) / FADE, (end - t) / FADE))
        h, w = self.rgb.shape[:2]
        region = image[self.y : self.y + h, self.x : self.x + w].astype(np.float32)
        h, w = region.shape[:2]
        a = self.alpha[:h, :w] * k
        image[self.y : self.y + h, self.x : self.x + w] = (
            self.rgb[:h, :w] * a + region * (1 - a)
        ).astype(np.uint8)


def _has_regular() -> bool:
    from pathlib import Path

    return Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").is_file()
