"""parallax: camera moves from a still or a clip with depth; revealed areas filled from the
background (not stretched), exact frame times, stereo layouts, depth of field and fog."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from conftest import SAMPLES
from helpers import moviola_cli

from moviola.effects.parallax import MOVES, Parallax
from moviola.media.frame import Frame, StreamInfo
from moviola.vision.depth import push_pull
from moviola.vision.scene import Scene, noise_texture
from moviola.vision.viewsynth import Layers, View

W, H = 160, 96
SQUARE = (slice(28, 68), slice(60, 100))  # the near object: rows, columns


@pytest.fixture(scope="module")
def card() -> tuple[np.ndarray, np.ndarray]:
    """A red card (depth 1) in front of a green, textured wall (depth 0)."""
    wall = noise_texture(192, seed=3)[:H, :W].astype(np.float32) / 255
    wall[..., 0] *= 0.3
    wall[..., 2] *= 0.5
    image = wall.copy()
    image[SQUARE] = (0.9, 0.1, 0.1)
    depth = np.zeros((H, W), np.float32)
    depth[SQUARE] = 1.0
    return image, depth


@pytest.fixture(scope="module")
def card_files(tmp_path_factory, card) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("parallax")
    image, depth = card
    cv2.imwrite(
        str(d / "card.png"), cv2.cvtColor((image * 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    )
    cv2.imwrite(str(d / "card_depth.png"), (depth * 65535).astype(np.uint16))
    return d / "card.png", d / "card_depth.png"


def revealed_region(shift: int) -> np.ndarray:
    """Wall pixels the card covered and uncovers when it moves ``shift`` px left (focus on the
    wall), less a 3-px margin for the edge treatment."""
    covered = np.zeros((H, W), bool)
    covered[SQUARE] = True
    moved = np.roll(covered, -shift, axis=1)
    region = covered & ~moved
    return cv2.erode(region.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0


def anisotropy(image: np.ndarray, region: np.ndarray) -> float:
    """Vertical over horizontal gradient energy: about 1 for texture, large for horizontal
    streaks (a row stretched sideways)."""
    g = image.mean(axis=2)
    gx = np.abs(np.diff(g, axis=1))[:-1]
    gy = np.abs(np.diff(g, axis=0))[:, :-1]
    r = region[:-1, :-1]
    return float(gy[r].mean() / max(gx[r].mean(), 1e-6))


# --- rendering -----------------------------------------------------------------------------------
def test_revealed_background_is_filled_from_the_wall_not_stretched(card):
    image, depth = card
    shift = 16
    layers = Layers(image, depth, reach=shift)
    out, _, hole = layers.render(View(tx=shift / W, focus=0.0))
    region = revealed_region(shift)
    assert region.sum() > 200 and hole[region].mean() > 0.9  # detected as disoccluded
    assert out.min() > 0.0 and np.isfinite(out).all()  # nothing left empty
    # the card itself moved 16 px left, intact
    assert np.abs(out[40:56, 50:76] - (0.9, 0.1, 0.1)).max() < 0.02
    # no red smeared into the revealed wall: its colours are the wall's
    card_red = (out[..., 0] > 0.5) & (out[..., 1] < 0.3)
    assert not card_red[region].any()
    ring = (cv2.dilate((depth > 0).astype(np.uint8), np.ones((15, 15), np.uint8)) > 0) & (
        depth == 0
    )
    red = out[..., 0] - out[..., 1]
    assert red[region].mean() < (image[..., 0] - image[..., 1])[ring].mean() + 0.05
    # and no streaks: gradient statistics like the wall's, unlike a stretched fill
    ours = anisotropy(out, region)
    stretched = out.copy()
    for y in range(H):  # rows copied sideways from the region's left border
        xs = np.nonzero(region[y])[0]
        if xs.size:
            stretched[y, xs] = out[y, xs[0] - 1]
    assert anisotropy(stretched, region) > 3.0  # the measure sees streaks
    assert ours < 2.0, ours


def test_forward_move_grows_near_more_than_far(card):
    image, depth = card
    layers = Layers(image, depth, reach=30)
    out, d, _ = layers.render(View(tz=0.3, focus=0.0))
    red = (out[..., 0] > 0.6) & (out[..., 1] < 0.3)
    # the card (distance 1) grows by 1 / (1 - 0.3) = 1.43 in width; the wall by 1 / (1 - 0.075)
    cols = np.nonzero(red.any(axis=0))[0]
    assert 40 * 1.35 < cols.size < 40 * 1.5
    assert d.max() == pytest.approx(1.0)


def test_back_layer_holds_no_foreground(card):
    image, depth = card
    layers = Layers(image, depth, reach=20)
    assert layers.has_back
    inner = layers.back_image[36:60, 68:92]
    assert (inner[..., 0] - inner[..., 1]).mean() < 0.1  # wall colours, not the red card
    assert layers.back_depth[SQUARE].max() < 0.05


def test_push_pull_fills_from_known_values_only():
    values = np.zeros((40, 40), np.float32)
    values[:, :20] = 0.2
    values[:, 20:] = 0.8
    known = np.ones_like(values)
    known[10:30, 15:25] = 0
    values[known == 0] = 99  # never read
    filled = push_pull(values, known)
    assert filled.max() <= 0.8 + 1e-4 and filled.min() >= 0.2 - 1e-4


# --- the effect ----------------------------------------------------------------------------------
def still_info(width=W, height=H) -> StreamInfo:
    return StreamInfo(
        width, height, Fraction(25), Fraction(1, 25), frames=1, duration=Fraction(1, 25)
    )


@pytest.mark.parametrize("move", MOVES)
def test_each_move_makes_the_right_frames_at_exact_times(move, card, card_files):
    image, _ = card
    effect = Parallax(move=move, seconds=0.5, fps="24000/1001", depth=str(card_files[1]))
    info = effect.configure(still_info())
    n = round(0.5 * 24000 / 1001)
    assert info.frames == n and info.rate == Fraction(24000, 1001)
    frame = Frame((image * 255).astype(np.uint8), Fraction(0), Fraction(1, 25))
    out = [*effect.process(frame), *effect.flush()]
    tick = Fraction(1001, 24000)
    assert [f.time for f in out] == [k * tick for k in range(n)]
    assert all(f.duration == tick for f in out)
    assert all(f.image.shape == (H, W, 3) and f.image.dtype == np.uint8 for f in out)
    assert all(f.image.min(axis=2).max() > 0 for f in out)
    moved = np.abs(out[-1].image.astype(int) - out[len(out) // 2].image.astype(int)).mean()
    if move == "none":
        assert moved == 0
    else:
        assert moved > 1.0
    effect.close()


def test_stereo_side_by_side_and_anaglyph(card, card_files):
    image, _ = card
    frame = Frame((image * 255).astype(np.uint8), Fraction(0), Fraction(1, 25))
    sbs = Parallax(
        move="none",
        stereo="sbs",
        eye=0.1,
        focus=0.0,
        seconds=0.04,
        fps=25,
        depth=str(card_files[1]),
    )
    info = sbs.configure(still_info())
    assert info.width == 2 * W
    (out,) = list(sbs.process(frame))
    left, right = out.image[:, :W].astype(int), out.image[:, W:].astype(int)
    assert out.image.shape == (H, 2 * W, 3)
    # the card sits further right in the left eye's view than in the right eye's
    cols = lambda im: np.nonzero(((im[..., 0] > 150) & (im[..., 1] < 80)).any(0))[0]  # noqa: E731
    assert cols(left).mean() - cols(right).mean() == pytest.approx(0.1 * W, abs=2)
    ana = Parallax(
        move="none",
        stereo="anaglyph",
        eye=0.1,
        focus=0.0,
        seconds=0.04,
        fps=25,
        depth=str(card_files[1]),
    )
    assert ana.configure(still_info()).width == W
    (a,) = list(ana.process(frame))
    assert a.image.shape == (H, W, 3)
    # red carries the left view, green and blue the right (Dubois)
    red_corr = np.corrcoef(a.image[..., 0].ravel(), left.mean(2).ravel())[0, 1]
    red_corr_r = np.corrcoef(a.image[..., 0].ravel(), right.mean(2).ravel())[0, 1]
    assert red_corr > red_corr_r


def test_fog_and_depth_of_field(card, card_files):
    image, _ = card
    frame = Frame((image * 255).astype(np.uint8), Fraction(0), Fraction(1, 25))

    def one(**kw):
        effect = Parallax(
            move="none", seconds=0.04, fps=25, focus=1.0, depth=str(card_files[1]), **kw
        )
        effect.configure(still_info())
        return next(iter(effect.process(frame))).image.astype(np.float32)

    plain = one()
    foggy = one(fog=1.0, fog_color="#ffffff")
    assert foggy[5:20, 5:40].mean() > 240  # the wall (far) disappears in white fog
    assert np.abs(foggy[40:56, 70:90] - plain[40:56, 70:90]).max() < 2  # the card does not
    blurred = one(dof=3.0)
    texture = lambda im: np.abs(np.diff(im[5:20, 5:40], axis=1)).mean()  # noqa: E731
    assert texture(blurred) < 0.5 * texture(plain)  # the wall is out of focus
    assert np.abs(blurred[40:56, 70:90] - plain[40:56, 70:90]).max() < 2


def test_cli_still_to_clip_with_ntsc_rate(tmp_path, card_files):
    out = tmp_path / "card.mp4"
    r = moviola_cli(
        "parallax",
        card_files[0],
        "-o",
        out,
        "--depth",
        card_files[1],
        "--move",
        "dollyzoom",
        "--seconds",
        "0.5",
        "--fps",
        "30000/1001",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["frames_out"] == 15 and result["rate"] == "30000/1001"
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        times = [f.time for f in c.decode(s)]
        assert c.metadata.get("moviola_depth_source", "").startswith("file")
    assert len(times) == 15
    assert np.allclose(np.diff(times), 1001 / 30000, atol=1e-4)


def test_cli_video_with_depth_from_motion_keeps_frames_and_times(tmp_path):
    scene = Scene.default(width=240, height=144)
    src = tmp_path / "cam.mkv"
    with av.open(str(src), "w") as c:
        s = c.add_stream("ffv1", rate=Fraction(30000, 1001))
        s.width, s.height, s.pix_fmt = 240, 144, "bgr0"
        for i in range(8):
            img = scene.render((0.03 * i, 0.0, 0.0))[0]
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    out = tmp_path / "out.mkv"
    r = moviola_cli("parallax", src, "-o", out, "--move", "swing", "--stereo", "sbs", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["frames_out"] == 8
    with av.open(str(src)) as a, av.open(str(out)) as b:
        ta = [f.time for f in a.decode(video=0)]
        frames = list(b.decode(video=0))
        assert [f.time for f in frames] == pytest.approx(ta, abs=1e-6)
        assert frames[0].width == 480
        tags = {k.lower(): v for k, v in b.metadata.items()}
        assert tags["moviola_depth_source"].startswith("motion")


def test_real_photo_with_supplied_depth_map(tmp_path):
    """The Middlebury aloe photo (opencv-doc) with its ground-truth disparity as the depth."""
    photo, gt = SAMPLES / "photos" / "aloeL.jpg", SAMPLES / "photos" / "aloeGT.png"
    if not photo.exists() or not gt.exists():
        pytest.skip("samples/photos missing; run `make samples`")
    image = cv2.resize(cv2.imread(str(photo)), (320, 277), interpolation=cv2.INTER_AREA)
    disp = cv2.resize(cv2.imread(str(gt), 0), (320, 277), interpolation=cv2.INTER_NEAREST)
    disp = disp.astype(np.float32)
    depth = push_pull(disp, (disp > 0).astype(np.float32))  # the unknown pixels filled
    depth = (depth - depth.min()) / (depth.max() - depth.min())
    cv2.imwrite(str(tmp_path / "aloe.png"), image)
    cv2.imwrite(str(tmp_path / "aloe_depth.png"), (depth * 65535).astype(np.uint16))
    effect = Parallax(
        move="circle", amount=1.5, seconds=0.2, fps=10, depth=str(tmp_path / "aloe_depth.png")
    )
    effect.configure(still_info(320, 277))
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    out = list(effect.process(Frame(rgb, Fraction(0), Fraction(1, 25))))
    assert len(out) == 2
    for f in out:
        assert f.image.min(axis=2).max() > 0 and (f.image.sum(axis=2) > 30).mean() > 0.995
    # the plant (near) moves against the backdrop (far): views differ most where it is
    diff = np.abs(out[0].image.astype(int) - out[1].image.astype(int)).mean(axis=2)
    assert diff[depth > 0.6].mean() > diff[depth < 0.2].mean()


def test_help_and_deep_output(tmp_path, card_files):
    for name in ("parallax", "depth"):
        r = moviola_cli(name, "--help")
        assert r.returncode == 0 and "--depth-near" in r.stdout, r.stderr
    out = tmp_path / "deep"
    r = moviola_cli(
        "parallax",
        card_files[0],
        "-o",
        f"{out}/",
        "--depth",
        card_files[1],
        "--seconds",
        "0.1",
        "--fps",
        "10",
        "--deep",
        "-q",
    )
    assert r.returncode == 0, r.stderr
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == 1
    assert cv2.imread(str(pngs[0]), cv2.IMREAD_UNCHANGED).dtype == np.uint16
