"""vision/faces/mouth.py: phonemes to visemes, smooth mouth tracks, the mesh's mouth moved."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from moviola.vision.faces.mouth import (
    MAX_STEP,
    OPEN,
    PRESS,
    SPREAD,
    TUCK,
    MouthRig,
    MouthTrack,
    mouth_opening,
    stresses,
    viseme,
)

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "docs" / "faces" / "astronaut.jpg"


@dataclass(frozen=True)
class P:
    phoneme: str
    start: float
    end: float


def timed(symbols: str, step: float = 0.08, start: float = 0.2) -> list[P]:
    return [P(s, start + i * step, start + (i + 1) * step) for i, s in enumerate(symbols)]


def test_visemes_close_open_and_round() -> None:
    for closed in "pbm":
        v = viseme(closed)
        assert v.open == 0 and v.press >= 0.9
    for wide in "aɑ":
        assert viseme(wide).open >= 0.9
    for rounded in "uow":
        assert viseme(rounded).spread <= -0.7
    for tucked in "fv":
        assert viseme(tucked).tuck == 1 and viseme(tucked).open < 0.2
    assert viseme("i").spread > 0.5 and viseme("i").open < viseme("ɛ").open
    # bilabials hold their shape against any neighbour
    assert viseme("m").dominance > 2 * viseme("a").dominance
    # pauses close the mouth; unknown symbols are mild
    assert viseme(".").open == 0 and viseme("?").open == 0
    assert 0 < viseme("§").open < 0.5


def test_bilabial_closes_between_open_vowels() -> None:
    # "ama": the m closes the mouth although both neighbours open it wide
    ph = timed("ɑmɑ", step=0.1)
    track = MouthTrack(ph).frames(25, 25.0)
    t = np.arange(25) / 25.0
    mid = int(np.argmin(np.abs(t + 0.02 - 0.35)))
    assert track[mid, OPEN] < 0.2
    assert track[mid, PRESS] > 0.5
    assert track[:, OPEN].max() > 0.6


def test_track_is_smooth_and_rests_in_silence() -> None:
    rng = np.random.default_rng(1)
    symbols = "".join(rng.choice(list("pbmaɑiuofvstkə "), 60))
    ph = timed(symbols, step=0.05, start=0.5)
    for fps in (25.0, 30.0):
        track = MouthTrack(ph).frames(int(4.5 * fps), fps)
        steps = np.abs(np.diff(track, axis=0))
        assert steps.max() <= MAX_STEP * 25.0 / fps + 1e-9  # never a one-frame pop
        assert track[0, OPEN] < 0.05  # silence before the speech
        assert track[-1, OPEN] < 0.05  # and after it


def test_at_matches_frames() -> None:
    ph = timed("hɛloʊ wɜːld", step=0.07)
    fps = 25.0
    whole = MouthTrack(ph).frames(30, fps)
    one = MouthTrack(ph)
    step = np.array([one.at(i / fps, 1 / fps) for i in range(30)])
    assert np.allclose(whole, step, atol=1e-9)


def test_stresses() -> None:
    ph = [
        P("h", 0, 0.1),
        P("ˈ", 0.1, 0.15),
        P("ɛ", 0.15, 0.3),
        P("ˌ", 0.3, 0.32),
        P("o", 0.32, 0.4),
    ]
    assert stresses(ph) == [(0.1, 1.0), (0.3, 0.5)]
    # a stress mark takes no shape: its time goes to the next phoneme
    track = MouthTrack(ph)
    assert len(track.centres) == 3


@pytest.fixture(scope="module")
def rig() -> tuple[np.ndarray, MouthRig]:
    from moviola.media.still import read_rgb
    from moviola.vision.faces import mesh_of_photo

    image = read_rgb(PHOTO, "photo")
    mesh = mesh_of_photo(image)
    assert mesh is not None
    return image, MouthRig(mesh)


@pytest.mark.models
def test_rig_opens_closes_and_rounds(rig) -> None:
    image, r = rig
    shut, _ = r.render(image, np.array([0.0, 0, 1, 0]))
    wide, mesh_wide = r.render(image, np.array([1.0, 0, 0, 0]))
    _, mesh_shut = r.render(image, np.array([0.0, 0, 1, 0]))
    _, mesh_round = r.render(image, np.array([0.5, -1.0, 0, 0]))
    _, mesh_spread = r.render(image, np.array([0.5, 1.0, 0, 0]))
    assert mouth_opening(mesh_shut) < 0.01  # the photo's open smile is closed
    assert mouth_opening(mesh_wide) > 0.2
    width = lambda m: np.linalg.norm(m[61] - m[291])  # noqa: E731
    assert width(mesh_round) < 0.92 * width(mesh_spread)
    # the inside is painted dark where the mouth opened; the eyes and forehead do not move
    lips = mesh_wide[[13, 14]].mean(0).round().astype(int)
    assert wide[lips[1], lips[0]].mean() < image[lips[1], lips[0]].mean() - 30
    assert np.array_equal(
        wide[:, :][: int(mesh_wide[10, 1]) - 5], image[: int(mesh_wide[10, 1]) - 5]
    )
    # f/v: the lower lip comes up
    _, mesh_f = r.render(image, np.array([0.1, 0.1, 0, 1.0]))
    _, mesh_n = r.render(image, np.array([0.1, 0.1, 0, 0.0]))
    assert mesh_f[17, 1] < mesh_n[17, 1]
    assert np.isfinite(shut).all() and TUCK == 3 and SPREAD == 1


@pytest.mark.models
def test_measured_opening_follows_the_parameter(rig) -> None:
    """The repo's own face mesh, run on the rendered pictures, sees the mouth we asked for."""
    from moviola.vision.faces import mesh_of_photo

    image, r = rig
    measured = []
    for k in (0.0, 0.3, 0.6, 1.0):
        out, _ = r.render(image, np.array([k, 0, 0, 0]))
        mesh = mesh_of_photo(out)
        assert mesh is not None
        measured.append(mouth_opening(mesh))
    assert all(b > a for a, b in zip(measured, measured[1:], strict=False)), measured
