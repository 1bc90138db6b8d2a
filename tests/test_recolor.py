"""recolor: look transfer from a reference image or shot, hue shift of a range, subject only."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import moviola_cli

from moviola.effects.recolor import Recolor, hue_weight
from moviola.errors import MoviolaError
from moviola.media import Frame, StreamInfo, VideoReader, probe
from moviola.media.frame import to_float
from moviola.vision.color import (
    ColorStats,
    delta_e2000,
    hue_distance,
    hue_of,
    mkl_transform,
    rgb_to_lab,
    rgb_to_oklab,
)

RATE = Fraction(10)
SIZE = (320, 240)
ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ROOT / "samples" / "photos"


def drive(effect, images):
    """Run over RGB arrays as the pipeline does (frames may be held, then flushed)."""
    h, w = images[0].shape[:2]
    effect.configure(StreamInfo(w, h, RATE, 1 / RATE))
    out = []
    try:
        for i, img in enumerate(images):
            result = effect.process(Frame(img, Fraction(i) / RATE, 1 / RATE, i))
            out += [f.image for f in (result if isinstance(result, list) else [result])]
        out += [f.image for f in effect.flush()]
    finally:
        effect.close()
    assert len(out) == len(images)
    return out


@pytest.fixture(scope="module")
def vtest_small(real_footage):
    with VideoReader(real_footage, end=0.8) as reader:
        return [cv2.resize(f.image, SIZE, interpolation=cv2.INTER_AREA) for f in reader]


def photo(name: str) -> Path:
    path = PHOTOS / name
    if not path.exists():
        pytest.skip(f"{path} missing; run `make samples`")
    return path


def lab_stats(images):
    lab = np.concatenate([rgb_to_lab(to_float(i)).reshape(-1, 3) for i in images])
    return lab.mean(0), lab.std(0)


# -- look transfer ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method, tol_mean, tol_std",
    [("mkl", 2.5, 5.0), ("reinhard", 2.5, 5.0), ("histogram", 4.0, 5.0)],
)
def test_statistics_match_the_reference(vtest_small, method, tol_mean, tol_std):
    ref = photo("starry_night.jpg")
    ref_img = cv2.cvtColor(cv2.imread(str(ref)), cv2.COLOR_BGR2RGB)
    out = drive(Recolor(reference=[str(ref)], method=method, measure=8), vtest_small)
    m_out, s_out = lab_stats(out)
    m_ref, s_ref = lab_stats([ref_img])
    m_in, _ = lab_stats(vtest_small)
    assert np.abs(m_out - m_ref).max() < tol_mean, (m_out, m_ref)
    assert np.abs(s_out - s_ref).max() < tol_std, (s_out, s_ref)
    assert np.abs(m_in - m_ref).max() > 10  # the footage did start far from it


def test_the_same_transfer_for_every_frame(vtest_small):
    """Statistics are measured once: a frame repeated later comes out exactly the same."""
    ref = photo("orange.jpg")
    frames = vtest_small[:6] + [vtest_small[0]]
    out = drive(Recolor(reference=[str(ref)], measure=3), frames)
    assert np.array_equal(out[0], out[-1])
    assert np.abs(out[0].astype(int) - vtest_small[0]).mean() > 5


def test_strength_and_lightness(vtest_small):
    ref = str(photo("starry_night.jpg"))
    full = drive(Recolor(reference=[ref]), vtest_small[:3])[0]
    half = drive(Recolor(reference=[ref], strength=0.5), vtest_small[:3])[0]
    src = vtest_small[0].astype(np.float32)
    d_full = np.abs(full - src).mean()
    d_half = np.abs(half - src).mean()
    assert 0.35 * d_full < d_half < 0.65 * d_full
    chroma_only = drive(Recolor(reference=[ref], lightness=False), vtest_small[:3])[0]
    lum_in = rgb_to_lab(to_float(vtest_small[0]))[..., 0]
    lum_out = rgb_to_lab(to_float(chroma_only))[..., 0]
    assert np.abs(lum_in - lum_out).mean() < 2.0


def test_match_shot_b_to_shot_a_with_a_video_reference(vtest_small, megamind, tmp_path):
    """Shot A: 2 s of Megamind (frames sampled); shot B (vtest) takes its look. Shot A is
    dark and skewed: the histogram method matches it where a linear map would clip."""
    out = drive(
        Recolor(
            reference=[str(megamind)],
            reference_start=2,
            reference_end=4,
            samples=6,
            method="histogram",
        ),
        vtest_small,
    )
    with VideoReader(megamind, start=2, end=4) as reader:
        shot_a = [cv2.resize(f.image, SIZE) for i, f in enumerate(reader) if i % 8 == 0]
    m_out, s_out = lab_stats(out)
    m_a, s_a = lab_stats(shot_a)
    m_b, _ = lab_stats(vtest_small)
    assert np.abs(m_out - m_a).max() < 4 < np.abs(m_b - m_a).max()
    assert np.abs(s_out - s_a).max() < 4


def test_mkl_maps_a_gaussian_onto_another():
    rng = np.random.default_rng(1)
    a = rng.multivariate_normal([50, 0, 0], [[100, 30, 0], [30, 50, 0], [0, 0, 20]], 20000)
    b = rng.multivariate_normal([40, 10, -5], [[60, -20, 5], [-20, 80, 0], [5, 0, 30]], 20000)
    sa, sb = ColorStats(), ColorStats()
    sa.add(a, limit=10**6)
    sb.add(b, limit=10**6)
    t, off = mkl_transform(sa.freeze(), sb.freeze())
    moved = a @ t.T + off
    assert np.allclose(moved.mean(0), b.mean(0), atol=0.2)
    assert np.allclose(np.cov(moved, rowvar=False), np.cov(b, rowvar=False), rtol=0.02, atol=0.5)


# -- hue shift ------------------------------------------------------------------------------------
def test_hue_shift_moves_only_the_chosen_range():
    img = cv2.cvtColor(cv2.imread(str(photo("fruits.jpg"))), cv2.COLOR_BGR2RGB)
    img = cv2.resize(img, (240, 180), interpolation=cv2.INTER_AREA)
    red = "#e67814"  # orange
    (out,) = drive(Recolor(hue_from=red, shift_hue=120, hue_width=30), [img])
    src_lab, out_lab = rgb_to_oklab(to_float(img)), rgb_to_oklab(to_float(out))
    h_red = hue_of((230, 120, 20))[0]
    hue = np.degrees(np.arctan2(src_lab[..., 2], src_lab[..., 1]))
    chroma = np.hypot(src_lab[..., 1], src_lab[..., 2])
    far = (hue_distance(hue, h_red) > 35) | (chroma < 0.015)
    near = (hue_distance(hue, h_red) < 10) & (chroma > 0.08)
    assert far.sum() > 5000 and near.sum() > 500
    # outside the range: unchanged (8-bit rounding aside)
    assert np.abs(out.astype(int) - img)[far].max() <= 2
    # inside: turned by about 120 degrees, chroma and lightness kept
    new_hue = np.degrees(np.arctan2(out_lab[..., 2], out_lab[..., 1]))
    turned = hue_distance(new_hue[near], hue[near] + 120)
    assert np.median(turned) < 8
    assert np.abs(out_lab[..., 0] - src_lab[..., 0])[near].mean() < 0.02


def test_hue_to_a_colour_and_the_weight_falloff():
    lab = rgb_to_oklab(np.array([[[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.5, 0.5, 0.5]]], np.float32))
    w = hue_weight(lab, hue_of((204, 25, 25))[0], 30)
    assert w[0, 0] > 0.99 and w[0, 1] == 0 and w[0, 2] == 0
    patch = np.full((8, 8, 3), (204, 25, 25), np.uint8)
    (out,) = drive(Recolor(hue_from="#cc1919", hue_to="#1e3cdc"), [patch])
    assert hue_distance(hue_of(tuple(int(v) for v in out[0, 0]))[0], hue_of((30, 60, 220))[0]) < 5


# -- subject (matte model) ------------------------------------------------------------------------
def test_subject_only_changes_the_person(vtest_small):
    frames = vtest_small[:4]
    effect = Recolor(hue_from="#3f7a2a", shift_hue=150, hue_width=60, background=True)
    assert effect.kind == "model"
    out = drive(effect, frames)
    # the matte effect run alone on the same frames: its alpha says where the people are
    from moviola.effects.matte import Matte

    matte = Matte(matte_only=True)
    matte.configure(StreamInfo(*SIZE, RATE, 1 / RATE))
    for i, img in enumerate(frames):
        matte.process(Frame(img, Fraction(i) / RATE, 1 / RATE, i))
    alpha = matte.last_alpha
    person, back = alpha > 0.95, alpha < 0.05
    assert person.sum() > 100
    diff = np.abs(out[-1].astype(int) - frames[-1]).max(axis=2)
    assert diff[person].mean() < 1.0  # the people untouched ...
    assert diff[back].mean() > 5  # ... the grass turned


# -- parameters and the command line ----------------------------------------------------------------
@pytest.mark.parametrize(
    "kw, message",
    [
        ({}, "give --reference"),
        ({"hue_from": "#ff0000"}, "give --hue-to COLOR or --shift-hue"),
        ({"hue_from": "#ff0000", "hue_to": "#00ff00", "shift_hue": 20}, "give --hue-to COLOR or"),
        ({"shift_hue": 20}, "need --hue-from"),
        ({"hue_from": "#808080", "shift_hue": 20}, "is gray"),
        ({"hue_from": "#ff0000", "shift_hue": 20, "subject": True, "background": True}, "not both"),
        ({"method": "lut", "hue_from": "#ff0000", "shift_hue": 20}, "not one of"),
    ],
)
def test_bad_parameters(kw, message):
    with pytest.raises(MoviolaError, match=message) as e:
        Recolor(**kw)
    assert "\n" not in str(e.value)


def test_cli_records_what_was_done(real_footage, tmp_path):
    ref = photo("orange.jpg")
    out = tmp_path / "r.mp4"
    run = moviola_cli(
        "recolor",
        real_footage,
        "-o",
        out,
        "--end",
        "0.5",
        "--reference",
        ref,
        "--hue-from",
        "#3f7a2a",
        "--shift-hue",
        "40",
        "--json",
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["frames_out"] == 5
    tag = probe(out).tags.get("moviola_recolor", "")
    assert "look transfer (mkl" in tag and "hue shift +40" in tag and "classical" in tag
    bad = moviola_cli("recolor", real_footage, "-o", tmp_path / "x.mp4", "--hue-from", "#3f7a2a")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_delta_e2000_reference_values():
    """Sharma et al.'s published test pairs."""
    pairs = [
        ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
        ((50, -1.3802, -84.2814), (50, 0, -82.7485), 1.0),
        ((50, 2.5, 0), (73, 25, -18), 27.1492),
        ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
    ]
    for a, b, expected in pairs:
        assert abs(float(delta_e2000(np.array(a), np.array(b))) - expected) < 1e-3


def test_sixteen_bit_frames_with_alpha():
    frame = np.zeros((30, 41, 4), np.uint16)
    frame[..., 0], frame[..., 1], frame[..., 3] = 50000, 9000, 12345
    (out,) = drive(Recolor(hue_from="#ff1010", shift_hue=180), [frame])
    assert out.dtype == np.uint16 and out.shape == frame.shape
    assert np.array_equal(out[..., 3], frame[..., 3])
    assert out[0, 0, 2] > out[0, 0, 0]  # red turned toward cyan-blue
