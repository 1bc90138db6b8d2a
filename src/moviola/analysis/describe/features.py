"""Measures of one picture for shot descriptions: named colours and dominant colours (k-means in
Lab), colour temperature (McCamy), key and contrast, sharpness (variance of the Laplacian) and
cheap scenery cues (greenery, sky, street)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

# Named colours for dominant-colour labels (sRGB).
_PALETTE = {
    "black": (20, 20, 20),
    "dark gray": (70, 70, 70),
    "gray": (128, 128, 128),
    "light gray": (190, 190, 190),
    "white": (245, 245, 245),
    "red": (200, 30, 30),
    "dark red": (110, 20, 25),
    "orange": (235, 130, 30),
    "brown": (120, 75, 40),
    "tan": (200, 160, 110),
    "beige": (225, 210, 175),
    "yellow": (235, 215, 50),
    "olive": (120, 120, 40),
    "green": (50, 160, 60),
    "dark green": (25, 80, 35),
    "teal": (30, 120, 120),
    "cyan": (60, 200, 210),
    "sky blue": (120, 170, 230),
    "blue": (40, 80, 200),
    "navy": (20, 30, 90),
    "purple": (110, 50, 140),
    "magenta": (200, 50, 160),
    "pink": (235, 150, 180),
    "skin": (220, 170, 140),
}


def _lab(rgb: np.ndarray) -> np.ndarray:
    """float32 Lab (L 0..100) of uint8 sRGB pixels, any shape (..., 3)."""
    arr = np.ascontiguousarray(rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0)
    return cv2.cvtColor(arr, cv2.COLOR_RGB2Lab).reshape(rgb.shape[:-1] + (3,))


_PALETTE_NAMES = list(_PALETTE)
_PALETTE_LAB = _lab(np.array([_PALETTE[n] for n in _PALETTE_NAMES], np.uint8))


def color_name(rgb: tuple[int, int, int] | np.ndarray) -> str:
    """Nearest named colour (Lab distance) of an sRGB colour."""
    lab = _lab(np.asarray(rgb, np.uint8).reshape(1, 3))[0]
    return _PALETTE_NAMES[int(np.argmin(((_PALETTE_LAB - lab) ** 2).sum(1)))]


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def color_temperature(rgb: np.ndarray) -> float | None:
    """Correlated colour temperature (kelvin) of the mean linear colour of an sRGB image's
    mid-tones, by McCamy's approximation; None when there are no mid-tones."""
    px = rgb.reshape(-1, 3).astype(np.float32) / 255.0
    y = px @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    mid = px[(y > 0.08) & (y < 0.95)]
    if len(mid) < 16:
        return None
    lin = _srgb_to_linear(mid).mean(0)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ lin
    total = xyz.sum()
    if total <= 0:
        return None
    x, yy = xyz[0] / total, xyz[1] / total
    if abs(0.1858 - yy) < 1e-6:
        return None
    n = (x - 0.3320) / (0.1858 - yy)
    cct = 449 * n**3 + 3525 * n**2 + 6823.3 * n + 5520.33
    return float(np.clip(cct, 1500, 20000))


def temperature_label(kelvin: float | None) -> str:
    if kelvin is None:
        return "neutral"
    if kelvin < 4500:
        return "warm"
    if kelvin > 7500:
        return "cool"
    return "neutral"


def lighting(rgb: np.ndarray) -> dict[str, Any]:
    """Key, contrast and luma figures of one sRGB uint8 image (small sizes are enough)."""
    y = (rgb[..., :3].astype(np.float32) / 255.0) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    return {
        "mean": float(y.mean()),
        "contrast": float(y.std()),
        "dark": float((y < 0.15).mean()),
        "bright": float((y > 0.85).mean()),
        "p5": float(np.percentile(y, 5)),
        "p95": float(np.percentile(y, 95)),
    }


def key_label(mean: float, dark: float, bright: float) -> str:
    if mean < 0.3 and dark > 0.25:
        return "low-key"
    if mean > 0.6 and dark < 0.08:
        return "high-key"
    return "mid-key"


def contrast_label(std: float) -> str:
    return "low" if std < 0.12 else "high" if std > 0.24 else "medium"


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian of an 8-bit gray image resized to 640 px wide."""
    h, w = gray.shape
    if w != 640:
        gray = cv2.resize(gray, (640, max(1, round(h * 640 / w))), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(gray, cv2.CV_64F, ksize=3).var())


def sharpness_label(value: float) -> str:
    return "soft" if value < 60 else "sharp" if value > 300 else "medium"


def dominant_colors(pixels: np.ndarray, k: int = 5) -> list[dict[str, Any]]:
    """k-means (Lab) of N x 3 uint8 sRGB pixels: the clusters, largest first, with a name, hex
    and share; clusters under 5 % are dropped, neighbours with the same name merged."""
    pixels = pixels.reshape(-1, 3)
    if len(pixels) < k:
        return []
    lab = _lab(pixels).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(1234)
    _, labels, _ = cv2.kmeans(lab, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    labels = labels.ravel()
    out: dict[str, dict[str, Any]] = {}
    for c in range(k):
        members = pixels[labels == c]
        if not len(members):
            continue
        share = len(members) / len(pixels)
        rgb = np.median(members, axis=0).astype(np.uint8)
        name = color_name(rgb)
        if name in out:
            out[name]["share"] += share
            continue
        out[name] = {
            "name": name,
            "hex": "#{:02x}{:02x}{:02x}".format(*map(int, rgb)),
            "share": share,
        }
    colors = sorted(out.values(), key=lambda c: -c["share"])
    return [dict(c, share=round(c["share"], 3)) for c in colors if c["share"] >= 0.05]


STREET_THINGS = {"car", "truck", "bus", "motorcycle", "bicycle", "traffic light", "stop sign"}


def scenery_fractions(rgb: np.ndarray) -> dict[str, float]:
    """Share of the picture that looks like vegetation (saturated greens) and of its top third
    that looks like sky (bright, and blue or colourless): cheap scene cues where no scene
    classifier can be had offline."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)  # H 0..180, S and V 0..255
    h, s, v = hsv[..., 0], hsv[..., 1] / 255.0, hsv[..., 2] / 255.0
    green = (h >= 25) & (h <= 85) & (s > 0.18) & (v > 0.12)
    top = slice(0, max(1, rgb.shape[0] // 3))
    sky = (v[top] > 0.55) & (((h[top] >= 90) & (h[top] <= 130) & (s[top] > 0.15)) | (s[top] < 0.12))
    return {"greenery": float(green.mean()), "sky": float(sky.mean())}


def scenery_words(fractions: dict[str, float], tags: list[str], light: dict[str, Any]) -> list[str]:
    """Words for where a shot seems to be: outdoors or interior, street, greenery, sky."""
    words = []
    street = bool(STREET_THINGS.intersection(tags))
    greenery = fractions.get("greenery", 0.0) > 0.25
    sky = fractions.get("sky", 0.0) > 0.4
    if street or greenery or sky:
        words.append("outdoors")
    elif light.get("key") == "low-key":
        words.append("dark interior or night")
    if street:
        words.append("street with vehicles")
    if greenery:
        words.append("trees, grass and greenery")
    if sky:
        words.append("sky")
    return words
