"""puppet (a portrait animated by a driving video) and faceswap --target reference.

The real face is the astronaut photo (Eileen Collins, NASA, public domain) at
docs/faces/astronaut.jpg. The driver clip is made from it: still, then moved 24 px right, then
with the jaw dropped and the mouth open (a smooth warp of the chin plus a dark mouth), so what
the portrait must do in each part is known. Megamind.avi gives real (animated) faces.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from helpers import moviola_cli

pytest.importorskip("ai_edge_litert")

from moviola.vision import faces as F  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "docs" / "faces" / "astronaut.jpg"
RATE = 12
STILL, MOVED, OPEN = range(0, 6), range(6, 12), range(12, 18)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def photo_mesh(photo) -> np.ndarray:
    return F.mesh_of_photo(photo)


def _jaw_open(img: np.ndarray, mesh: np.ndarray, d: float) -> np.ndarray:
    """The face with the chin pulled down ``d`` px below the lips and a dark open mouth."""
    h, w = img.shape[:2]
    ym = (mesh[13, 1] + mesh[14, 1]) / 2
    xm = (mesh[61, 0] + mesh[291, 0]) / 2
    mw = mesh[291, 0] - mesh[61, 0]
    chin = mesh[152, 1]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    f = np.clip((yy - ym) / 3.0, 0, 1) * np.clip(1 - (yy - chin) / 40.0, 0, 1)
    g = np.exp(-(((xx - xm) / (mw * 1.3)) ** 2))
    out = cv2.remap(img, xx, yy - d * f * g, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    centre, axes = (int(xm), int(ym + d / 2)), (int(mw * 0.38), int(d / 2))
    cv2.ellipse(out, centre, axes, 0, 0, 360, (40, 12, 15), -1, cv2.LINE_AA)
    return out


def _driver_frame(photo, mesh, i: int) -> np.ndarray:
    canvas = np.full((360, 480, 3), 30, np.uint8)
    img = _jaw_open(photo, mesh, 14) if i in OPEN else photo
    x, y = 40 + (24 if i in MOVED else 0), -10
    ph, pw = img.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(480, x + pw), min(360, y + ph)
    canvas[y0:y1, x0:x1] = img[y0 - y : y1 - y, x0 - x : x1 - x]
    return canvas


@pytest.fixture(scope="module")
def driver(tmp_path_factory, photo, photo_mesh) -> Path:
    path = tmp_path_factory.mktemp("puppet") / "driver.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=RATE)
        s.width, s.height, s.pix_fmt = 480, 360, "yuv420p"
        for i in range(18):
            frame = av.VideoFrame.from_ndarray(_driver_frame(photo, photo_mesh, i), format="rgb24")
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _decode(path: Path) -> tuple[list[np.ndarray], list[float]]:
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
    return [f.to_ndarray(format="rgb24") for f in frames], [float(f.time) for f in frames]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, driver):
    """The puppet's output with and without the label."""
    d = tmp_path_factory.mktemp("puppet_out")
    labelled, plain = d / "puppet.mp4", d / "puppet_nolabel.mp4"
    r = moviola_cli("puppet", driver, "-o", labelled, "--portrait", PHOTO)
    assert r.returncode == 0, r.stderr
    # the spelling, portrait first: `moviola puppet PORTRAIT --driver VIDEO`
    r = moviola_cli("puppet", PHOTO, "--driver", driver, "-o", plain, "--no-label")
    assert r.returncode == 0, r.stderr
    return labelled, plain


def test_drive_mesh_is_identity_at_rest_and_follows_a_3d_turn(photo_mesh):
    from moviola.effects.puppet import drive_mesh

    p = photo_mesh.astype(np.float64)
    assert np.allclose(drive_mesh(p, p, p), p, atol=1e-6)
    # the driver (here the same mesh) turns 20 degrees about the vertical axis and moves
    a = np.radians(20)
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    c = p.mean(0)
    turned = (p - c) @ rot.T + c + [15, -5, 0]
    assert np.allclose(drive_mesh(p, p, turned), turned, atol=1e-6)
    # an expression alone (the jaw drops) moves only the portrait's lower lip
    opened = p.copy()
    opened[F.LOWER_LIP, 1] += 10
    out = drive_mesh(p, p, opened)
    assert out[F.LOWER_LIP, 1] - p[F.LOWER_LIP, 1] > 9
    assert np.abs(out[F.NOSE_TIP] - p[F.NOSE_TIP]).max() < 0.5


def test_puppet_follows_the_driver(outputs, driver, photo, photo_mesh):
    from moviola.vision.faces.mouth import mouth_opening

    labelled, plain = outputs
    frames, times = _decode(plain)
    _, driver_times = _decode(driver)
    # one frame per driver frame, at the driver's times; the portrait's size
    assert len(frames) == len(driver_times) == 18
    assert np.allclose(times, driver_times, atol=1e-3)
    assert frames[0].shape == photo.shape
    # relative motion: at the driver's first frame the portrait is itself
    assert np.abs(frames[0].astype(int) - photo.astype(int)).mean() < 3
    # the driver moved 24 px right: the portrait's face moves right (same face size), not down
    moved = F.mesh_of_photo(frames[MOVED[-1]])
    dx, dy = moved[F.NOSE_TIP, :2] - photo_mesh[F.NOSE_TIP, :2]
    assert 12 < dx < 36 and abs(dy) < 6, (dx, dy)
    # ...while the picture's far corners move much less (the rings fade to fixed edges)
    change = np.abs(frames[MOVED[-1]].astype(int) - photo.astype(int)).mean(-1)
    face = change[60:140, 120:220].mean()
    for corner in (change[:24, :24], change[:24, -24:]):
        assert corner.mean() < 0.25 * face, (corner.mean(), face)
    # the driver opened its mouth: the portrait's mouth opens
    opened = F.mesh_of_photo(frames[OPEN[-1]])
    before, after = mouth_opening(photo_mesh), mouth_opening(opened)
    assert after > before + 0.1, (before, after)
    assert abs(opened[F.NOSE_TIP, 0] - photo_mesh[F.NOSE_TIP, 0]) < 6  # back in place


def test_puppet_is_tagged_and_labelled(outputs):
    labelled, plain = outputs
    for path in (labelled, plain):  # tagged, with the label or not
        with av.open(str(path)) as c:
            tags = dict(c.metadata)
        assert "puppet" in tags["moviola_synthetic"] and "synthetic" in tags["comment"]
    a, _ = _decode(labelled)
    b, _ = _decode(plain)
    h = a[0].shape[0]
    band = (slice(h - 24, h), slice(0, 200))
    assert np.abs(a[3][band].astype(int) - b[3][band].astype(int)).mean() > 10
    assert np.abs(a[3][:-40].astype(int) - b[3][:-40].astype(int)).mean() < 2


def test_puppet_on_real_footage_keeps_the_driver_audio(tmp_path, megamind):
    out = tmp_path / "p.mp4"
    r = moviola_cli(
        "puppet", megamind, "-o", out, "--portrait", PHOTO, "--start", "1", "--end", "1.5"
    )
    assert r.returncode == 0, r.stderr
    with av.open(str(out)) as c:
        assert c.streams.audio, "the driver's audio is carried"
        v = c.streams.video[0]
        assert (v.width, v.height) == (384, 384)
        n = sum(1 for _ in c.decode(video=0))
    assert n == 12  # 0.5 s of the 23.976 fps driver


def test_puppet_bad_portrait_is_one_line(tmp_path, driver):
    no_face = ROOT / "samples" / "photos" / "fruits.jpg"
    if not no_face.exists():
        pytest.skip("samples/photos missing")
    out = tmp_path / "o.mp4"
    r = moviola_cli("puppet", driver, "-o", out, "--portrait", no_face)
    assert r.returncode == 2 and "no face" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()
    r = moviola_cli("puppet", driver, "-o", out)
    assert r.returncode == 2 and "--portrait" in r.stderr


# -- faceswap --target reference ----------------------------------------------------------------


def _megamind_frames(path: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    out = {}
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i in wanted:
                out[i] = f.to_ndarray(format="rgb24")
            if i >= max(wanted):
                break
    return out


def test_faceswap_target_reference_picks_the_face_like_the_photo(tmp_path, photo, megamind):
    from moviola.effects.faceswap import FaceSwap
    from moviola.media.frame import Frame

    mm = _megamind_frames(megamind, {24, 60})
    m = F.mesh_of_photo(mm[24])
    box = F._landmark_box(m)
    w, h = box[2] - box[0], box[3] - box[1]
    x0, y0 = int(max(0, box[0] - 0.4 * w)), int(max(0, box[1] - 0.4 * h))
    other = mm[24][y0 : int(box[3] + 0.4 * h), x0 : int(box[2] + 0.4 * w)]
    other = cv2.resize(other, (200, round(200 * other.shape[0] / other.shape[1])))
    # two faces side by side: the astronaut (left) and Megamind's Roxanne (right)
    scene = np.full((320, 600, 3), 30, np.uint8)
    scene[10:310, 0:300] = cv2.resize(photo, (300, 300))
    scene[40 : 40 + other.shape[0], 360 : 360 + other.shape[1]] = other[: 320 - 40]
    # references: the astronaut larger and turned; Roxanne from another frame
    big = cv2.resize(photo, None, fx=1.3, fy=1.3)
    turn = cv2.getRotationMatrix2D((250, 125), 10, 1.0)
    astro_ref = tmp_path / "astro.png"
    cv2.imwrite(
        str(astro_ref), cv2.cvtColor(cv2.warpAffine(big, turn, big.shape[1::-1]), cv2.COLOR_RGB2BGR)
    )
    rox_ref = tmp_path / "rox.png"
    cv2.imwrite(str(rox_ref), cv2.cvtColor(mm[60], cv2.COLOR_RGB2BGR))
    for ref, left in ((astro_ref, True), (rox_ref, False)):
        fx = FaceSwap(face=str(PHOTO), target="reference", reference=str(ref), label=False)
        fx.configure(None)
        picked = []
        for i in range(3):
            fx.process(Frame(scene, Fraction(i, 12), Fraction(1, 12), i))
            box = fx.last_target.box
            picked.append((box[0] + box[2]) / 2 < 300)
        assert len(fx._tracker.tracks) == 2  # both faces were seen
        assert picked == [left] * 3, (ref.name, picked)


def test_faceswap_reference_errors_are_one_line(tmp_path, megamind):
    r = moviola_cli(
        "faceswap", megamind, "-o", tmp_path / "o.mp4", "--face", PHOTO, "--target", "reference"
    )
    assert r.returncode == 2 and "--reference" in r.stderr
    no_face = ROOT / "samples" / "photos" / "fruits.jpg"
    if no_face.exists():
        r = moviola_cli(
            "faceswap", megamind, "-o", tmp_path / "o.mp4", "--face", PHOTO,
            "--target", "reference", "--reference", no_face, "--end", "0.2",
        )  # fmt: skip
        assert r.returncode == 2 and "no face" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


def test_shape_descriptor_tells_faces_apart(photo, megamind):
    mm = _megamind_frames(megamind, {24, 60})
    astro = F.shape_descriptor(F.mesh_of_photo(photo))
    bigger = F.shape_descriptor(F.mesh_of_photo(cv2.resize(photo, None, fx=1.5, fy=1.5)))
    rox_a = F.shape_descriptor(F.mesh_of_photo(mm[24]))
    rox_b = F.shape_descriptor(F.mesh_of_photo(mm[60]))
    same = F.shape_distance(astro, bigger)
    same_rox = F.shape_distance(rox_a, rox_b)
    other = F.shape_distance(astro, rox_a)
    assert same < 0.5 * other and same_rox < 0.7 * other, (same, same_rox, other)
