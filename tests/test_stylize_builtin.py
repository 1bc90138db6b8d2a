"""The built-in styles trained here (effects/stylize/builtin.py): shipped small, offered by
stylize --style-model, each changes a picture, deterministically."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from moviola.effects import stylize as st
from moviola.effects.stylize.builtin import BUILTIN_STYLES, builtin_path
from moviola.media import Frame, StreamInfo
from moviola.media.still import read_rgb
from moviola.models.image_model import ImageModel, metadata_range
from tests.conftest import SAMPLES


def _run(name: str, images: list[np.ndarray]) -> list[np.ndarray]:
    h, w = images[0].shape[:2]
    effect = st.Stylize(style_model=name)
    effect.validate()
    effect.configure(StreamInfo(w, h, Fraction(10), Fraction(1, 10)))
    out = []
    for i, img in enumerate(images):
        f = effect.process(Frame(img, Fraction(i, 10), Fraction(1, 10), i))
        assert isinstance(f, Frame)
        out.append(f.image)
    return out


def _photo() -> np.ndarray:
    photo = SAMPLES / "photos" / "fruits.jpg"
    if photo.is_file():
        rgb = read_rgb(photo)
    else:  # gradients and a disc
        y, x = np.mgrid[0:120, 0:160].astype(np.float32)
        rgb = np.stack([x / 160 * 255, y / 120 * 255, np.full_like(x, 120)], axis=2)
        cv2.circle(rgb, (80, 60), 30, (240, 200, 40), -1)
        rgb = rgb.astype(np.uint8)
    return cv2.resize(rgb, (160, 120), interpolation=cv2.INTER_AREA)


def test_every_built_in_style_ships_small_and_is_offered_by_stylize():
    for name, style in BUILTIN_STYLES.items():
        path = builtin_path(name)
        assert path is not None, f"{style.file} missing"
        assert path.stat().st_size < 2_000_000
        assert metadata_range(path) == "0,1"
        assert name in st.STYLE_MODELS


@pytest.mark.parametrize("name", sorted(BUILTIN_STYLES))
def test_a_built_in_style_changes_the_picture_and_is_deterministic(name):
    rgb = _photo()
    images = [rgb, rgb]
    first = _run(name, images)
    again = _run(name, images)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[0], first[1])
    change = np.abs(first[0].astype(np.int16) - rgb).mean()
    assert change > 8, change  # a look, not the identity
    model = ImageModel.open(builtin_path(name) or Path(), "auto", 0, what=name)
    assert np.array_equal(model(rgb), first[0])


def test_the_built_in_styles_are_different_looks():
    rgb = _photo()
    outputs = {
        name: ImageModel.open(builtin_path(name) or Path(), "auto", 0, what=name)(rgb).astype(int)
        for name in BUILTIN_STYLES
    }
    names = sorted(outputs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(outputs[a] - outputs[b]).mean() > 8, (a, b)
