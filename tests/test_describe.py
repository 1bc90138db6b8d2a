"""Shot descriptions: camera motion on synthetic moves over a photo, framing / people / light on
real footage (vtest.avi: wide, static, pedestrians; Megamind.avi: faces in close shots)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from helpers import moviola_cli

from moviola.analysis import describe as d
from moviola.analysis.model import Shot, ShotList
from moviola.media.probe import probe

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "samples" / "photos" / "building.jpg"
W, H, N = 320, 240, 36  # synthetic clip size; frames per synthetic shot
MOVES = ("static", "pan", "tilt", "zoom", "handheld")


def shot_list(path: Path, cuts: list[int], frames: int | None = None) -> ShotList:
    """A ShotList from known cut frames (the first frame of every shot but the first)."""
    v = probe(path).video[0]
    n = frames or v.frames or v.frames_estimated
    b = [0, *cuts, n]
    shots = [
        Shot(
            i,
            b[i],
            b[i + 1] - 1,
            Fraction(b[i]) / v.rate,
            Fraction(b[i + 1]) / v.rate,
            "start" if i == 0 else "cut",
        )
        for i in range(len(b) - 1)
    ]
    return ShotList(str(path), v.rate, v.width, v.height, n, shots)


def _photo() -> np.ndarray:
    if not PHOTO.exists():
        pytest.skip(f"sample photo not found at {PHOTO}; run `make samples`")
    return cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB)


def _view(photo: np.ndarray, cx: float, cy: float, zoom: float) -> np.ndarray:
    """A W x H view of the photo centred on (cx, cy), magnified ``zoom`` times (1 = a 480 px
    wide window)."""
    s = zoom * W / 480
    m = np.array([[s, 0, W / 2 - s * cx], [0, s, H / 2 - s * cy]], np.float32)
    return cv2.warpAffine(photo, m, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


@pytest.fixture(scope="module")
def moves(tmp_path_factory) -> Path:
    """Five shots of N frames at 25 fps over one photo: static, pan right, tilt down, zoom in,
    handheld (random shake, no drift)."""
    photo = _photo()
    ph, pw = photo.shape[:2]
    rng = np.random.default_rng(7)
    path = tmp_path_factory.mktemp("moves") / "moves.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"crf": "18", "preset": "ultrafast"}
        for move in MOVES:
            for i in range(N):
                t = i / (N - 1)
                cx, cy, zoom = pw / 2, ph / 2, 1.0
                if move == "pan":
                    cx = pw / 2 - 120 + 240 * t  # window moves right: camera pans right
                elif move == "tilt":
                    cy = ph / 2 - 80 + 160 * t  # window moves down: camera tilts down
                elif move == "zoom":
                    zoom = 1.0 + 0.6 * t
                elif move == "handheld":
                    cx += rng.normal(0, 5)
                    cy += rng.normal(0, 5)
                frame = av.VideoFrame.from_ndarray(_view(photo, cx, cy, zoom), format="rgb24")
                out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def test_camera_motion_on_synthetic_moves(moves):
    shots = shot_list(moves, [N * i for i in range(1, len(MOVES))])
    d.describe_shots(moves, shots, detect=False)
    got = {m: s.extra["camera_motion"] for m, s in zip(MOVES, shots.shots, strict=True)}
    assert got == {m: m for m in MOVES}
    cams = [s.extra["camera"] for s in shots.shots]
    assert cams[1]["direction"] == "right"
    assert cams[2]["direction"] == "down"
    assert cams[3]["direction"] == "in"
    # pan: 240 px of a 480 px window in 35 frames at 25 fps = 0.36 widths per second
    assert cams[1]["pan_speed"] == pytest.approx(-0.357, rel=0.15)
    assert abs(cams[0]["pan_speed"]) < 0.005 and abs(cams[0]["zoom_speed"]) < 0.005
    # a static photo has no motion inside the frame; the moves have none either
    assert all(s.extra["motion_level"] in ("still", "low") for s in shots.shots)
    assert "scale" not in shots.shots[0].extra  # detectors were off


def test_describe_vtest_wide_static_people(real_footage, tmp_path):
    shots = shot_list(real_footage, [], frames=100)  # the first 10 s as one shot
    d.describe_shots(real_footage, shots, thumbnails=tmp_path / "thumbs", samples=3)
    e = shots.shots[0].extra
    assert e["scale"] == "wide", e
    assert e["camera_motion"] == "static", e["camera"]
    assert e["people"] >= 3
    assert e["faces"] == 0
    assert "person" in e["tags"]
    assert e["lighting"]["key"] == "mid-key"
    assert e["sharpness_level"] in ("medium", "sharp")
    names = [c["name"] for c in e["colors"]]
    assert any("green" in n or n == "olive" for n in names), names  # the lawn
    thumb = Path(e["thumbnail"])
    assert thumb.read_bytes()[:3] == b"\xff\xd8\xff"
    assert cv2.imread(str(thumb)).shape[1] == 320
    assert e["summary"].startswith("wide shot, static camera, ")
    assert "people" in e["summary"] and "tags: " in e["summary"]
    assert e["scenery"][:2] == ["outdoors", "street with vehicles"], e["scenery"]
    assert "trees, grass and greenery" in e["scenery"]  # the lawn
    json.dumps(shots.to_dict())  # everything JSON-ready


def test_describe_megamind_faces(megamind):
    # cuts found by frame differences and checked by eye: four shots of two characters
    shots = shot_list(megamind, [98, 154, 200])
    d.describe_shots(megamind, shots, samples=3)
    ex = [s.extra for s in shots.shots]
    assert all(e["faces"] >= 1 for e in ex), [e["faces"] for e in ex]
    assert all(e["scale"] in ("medium", "close-up", "extreme close-up") for e in ex)
    assert ex[3]["scale"] in ("close-up", "extreme close-up")  # a face filling the frame
    assert ex[0]["people"] >= 2  # the woman and a diner behind her
    assert ex[3]["people"] <= 1
    for e in ex:
        assert e["lighting"]["key"] == "low-key"  # a candle-lit restaurant
        assert e["lighting"]["color_temperature"] == "warm"
        assert e["lighting"]["color_temperature_k"] < 4000
        assert e["camera_motion"] in ("static", "handheld", "zoom")
        assert e["scenery"] == ["dark interior or night"], e["scenery"]


def test_scenery_cues_on_photos():
    from moviola.media.still import read_rgb

    tree = d.scenery_fractions(
        read_rgb(Path(__file__).parent.parent / "samples" / "photos" / "aloeL.jpg")
    )
    assert tree["greenery"] > 0.1
    sky = np.zeros((90, 120, 3), np.uint8)
    sky[:30] = (120, 170, 235)  # blue top third
    sky[30:] = (60, 140, 50)  # green field
    f = d.scenery_fractions(sky)
    assert f["sky"] > 0.9 and f["greenery"] > 0.6
    words = d.scenery_words(f, ["car"], {"key": "mid-key"})
    assert words == ["outdoors", "street with vehicles", "trees, grass and greenery", "sky"]
    assert d.scenery_words({"greenery": 0, "sky": 0}, [], {"key": "low-key"}) == [
        "dark interior or night"
    ]


def test_classical_measures():
    warm = np.full((40, 40, 3), (230, 160, 90), np.uint8)
    cool = np.full((40, 40, 3), (150, 180, 235), np.uint8)
    gray = np.full((40, 40, 3), 128, np.uint8)
    assert d.color_temperature(warm) < 3500
    assert d.color_temperature(cool) > 8000
    assert 6000 < d.color_temperature(gray) < 7000  # sRGB white is D65
    assert d.temperature_label(d.color_temperature(warm)) == "warm"
    two = np.concatenate([np.full((500, 3), (200, 30, 30)), np.full((300, 3), (40, 80, 200))])
    colors = d.dominant_colors(two.astype(np.uint8), k=3)
    assert [c["name"] for c in colors] == ["red", "blue"]
    assert colors[0]["share"] == pytest.approx(0.625, abs=0.01)
    assert colors[0]["hex"] == "#c81e1e"
    photo = cv2.cvtColor(_photo(), cv2.COLOR_RGB2GRAY)
    assert d.sharpness(photo) > 3 * d.sharpness(cv2.GaussianBlur(photo, (0, 0), 3))
    dark = d.lighting(np.full((10, 10, 3), 20, np.uint8))
    assert d.key_label(dark["mean"], dark["dark"], dark["bright"]) == "low-key"
    bright = d.lighting(np.full((10, 10, 3), 220, np.uint8))
    assert d.key_label(bright["mean"], bright["dark"], bright["bright"]) == "high-key"


def test_scale_rules():
    from moviola.analysis.detect import Detection

    face = Detection("face", 0.9, 100, 50, 200, 50 + 0.35 * 480)
    assert d.scale_from_boxes([face], [], [], 480, 640) == ("close-up", "face")
    tiny = Detection("person", 0.9, 10, 10, 20, 10 + 0.03 * 480)
    assert d.scale_from_boxes([], [tiny], [], 480, 640) == ("extreme wide", "person")
    body = Detection("person", 0.9, 10, 10, 80, 10 + 0.4 * 480)
    assert d.scale_from_boxes([], [body], [], 480, 640) == ("wide", "person")
    assert d.scale_from_boxes([], [], [], 480, 640) == ("wide", "none")


def test_describe_cli(moves, tmp_path):
    shots = shot_list(moves, [N * i for i in range(1, len(MOVES))])
    src = tmp_path / "shots.json"
    src.write_text(shots.to_json())
    out = tmp_path / "described.json"
    r = moviola_cli(
        "describe",
        moves,
        "--shots",
        src,
        "-o",
        out,
        "--thumbnails",
        tmp_path / "th",
        "--json",
        "-q",
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert json.loads(out.read_text()) == data
    assert [s["camera_motion"] for s in data["shots"]] == list(MOVES)
    assert all(Path(s["thumbnail"]).exists() for s in data["shots"])
    assert all(s["summary"] and s["scale"] in d.SCALES for s in data["shots"])
    bad = moviola_cli("describe", tmp_path / "missing.mp4", "--shots", src)
    assert bad.returncode == 2 and "no such file" in bad.stderr
