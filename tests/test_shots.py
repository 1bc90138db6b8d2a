"""Shot detection: both detectors on a small edit of real footage with known transitions, the
JSON schema, the CLI, and the TransNetV2 -> ONNX conversion."""

from __future__ import annotations

import importlib.util
import json
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import moviola_cli

from moviola.analysis.model import ShotList
from moviola.analysis.shots import detect_shots
from moviola.errors import MoviolaError

W, H, RATE = 192, 108, 25
SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _frames(path: Path, first: int, count: int, box=(0.5, 0.5, 1.0)) -> list[np.ndarray]:
    from moviola.media.reader import VideoReader

    out = []
    with VideoReader(path) as r:
        for f in r:
            if f.index >= first + count:
                break
            if f.index >= first:
                out.append(_fit(f.image, box))
    return out


def _fit(img: np.ndarray, box) -> np.ndarray:
    h, w = img.shape[:2]
    cx, cy, zoom = box
    cw = min(w, h * W / H) / zoom
    ch = cw * H / W
    x0 = int(np.clip(cx * w - cw / 2, 0, w - cw))
    y0 = int(np.clip(cy * h - ch / 2, 0, h - ch))
    crop = img[y0 : y0 + int(ch), x0 : x0 + int(cw)]
    return cv2.resize(crop, (W, H), interpolation=cv2.INTER_AREA)


def _mix(a, b, t):
    return np.clip(a * (1.0 - t) + b * t + 0.5, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def edit(tmp_path_factory) -> tuple[Path, dict]:
    """~5 s: vtest | cut | Megamind | 10-frame dissolve | a photo panned | 8+8-frame fade
    through black | vtest zoomed in elsewhere | cut | Megamind's last shot."""
    import av

    for name in ("vtest.avi", "Megamind.avi", "photos/building.jpg"):
        if not (SAMPLES / name).exists():
            pytest.skip("real footage not found; run `make samples`")
    vtest = _frames(SAMPLES / "vtest.avi", 100, 30)
    mega = _frames(SAMPLES / "Megamind.avi", 110, 36)
    photo = cv2.cvtColor(cv2.imread(str(SAMPLES / "photos" / "building.jpg")), cv2.COLOR_BGR2RGB)
    pan = [_fit(photo, (0.4 + 0.004 * i, 0.5, 1.3)) for i in range(36)]
    vzoom = _frames(SAMPLES / "vtest.avi", 300, 34, (0.3, 0.6, 2.0))
    mega2 = _frames(SAMPLES / "Megamind.avi", 210, 24)
    seq: list[np.ndarray] = []
    truth = {}
    seq += vtest
    truth["cut"] = len(seq)
    seq += mega[:-10]
    truth["dissolve"] = (len(seq), len(seq) + 9)
    seq += [_mix(mega[-10 + k], pan[k], (k + 1) / 11) for k in range(10)]
    seq += pan[10:-8]
    black = np.zeros_like(pan[0])
    truth["fade"] = (len(seq), len(seq) + 15)
    seq += [_mix(pan[-8 + k], black, (k + 1) / 8) for k in range(8)]
    seq += [_mix(black, vzoom[k], (k + 1) / 9) for k in range(8)]
    seq += vzoom[8:]
    truth["cut2"] = len(seq)
    seq += mega2
    truth["frames"] = len(seq)
    path = tmp_path_factory.mktemp("shots") / "edit.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=RATE)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"crf": "18", "preset": "veryfast"}
        for img in seq:
            c.mux(s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        c.mux(s.encode())
    return path, truth


def _check(shots: ShotList, truth: dict, exact_gradual: bool) -> None:
    starts = {s.start_frame: s for s in shots.shots}
    kinds = [(s.start_frame, s.transition, s.transition_frames) for s in shots.shots]
    # hard cuts: the very frame
    assert truth["cut"] in starts and starts[truth["cut"]].transition == "cut", kinds
    assert truth["cut2"] in starts and starts[truth["cut2"]].transition == "cut", kinds
    for kind in ("dissolve", "fade"):
        a, b = truth[kind]
        found = [
            s
            for s in shots.shots[1:]
            if s.start_frame <= b + 2 and s.start_frame + max(s.transition_frames, 1) - 1 >= a - 2
        ]
        assert len(found) == 1, (kind, kinds)
        s = found[0]
        assert s.transition == kind, (kind, kinds)
        assert s.transition_frames >= 3
        if exact_gradual:
            assert (s.start_frame, s.start_frame + s.transition_frames - 1) == (a, b), kinds
        else:
            assert (
                abs(s.start_frame - a) <= 2
                and abs(s.start_frame + s.transition_frames - 1 - b) <= 2
            )
    assert len(shots.shots) == 5, kinds


def _structure(shots: ShotList, frames: int) -> None:
    assert shots.shots[0].start_frame == 0 and shots.shots[0].transition == "start"
    assert shots.shots[-1].end_frame == frames - 1 == shots.frames - 1
    for a, b in zip(shots.shots, shots.shots[1:], strict=False):
        assert b.start_frame == a.end_frame + 1
        assert b.index == a.index + 1
        assert b.start == a.end == Fraction(b.start_frame, 1) / shots.rate


def test_fast_detector_on_real_edit(edit):
    path, truth = edit
    shots = detect_shots(path, method="fast")
    assert shots.detector == "fast" and shots.rate == RATE
    _structure(shots, truth["frames"])
    _check(shots, truth, exact_gradual=True)


def _have_transnet() -> bool:
    from moviola.models import is_cached

    if is_cached("transnetv2"):
        return True
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("onnx") is None:
        return False
    from moviola.models import fetch

    try:
        fetch("transnetv2")
    except MoviolaError:
        return False
    return True


def test_transnetv2_detector_on_real_edit(edit):
    if not _have_transnet():
        pytest.skip("model transnetv2 not in the store and cannot be fetched here")
    path, truth = edit
    progress = []
    shots = detect_shots(path, progress=progress.append)
    assert shots.detector == "transnetv2"
    assert progress and progress[-1].done and progress[-1].frames == truth["frames"]
    _structure(shots, truth["frames"])
    _check(shots, truth, exact_gradual=False)


def test_range_keeps_file_frame_numbers(edit):
    path, truth = edit
    rate = Fraction(RATE)
    start = Fraction(truth["cut"] - 10) / rate
    shots = detect_shots(path, method="fast", start=start, end=start + 2)
    assert shots.shots[0].start_frame == truth["cut"] - 10
    assert shots.shots[1].start_frame == truth["cut"] and shots.shots[1].transition == "cut"
    assert shots.shots[-1].end_frame == truth["cut"] - 10 + 49


def test_json_schema_and_roundtrip(edit):
    path, truth = edit
    shots = detect_shots(path, method="fast")
    data = json.loads(shots.to_json())
    assert data["rate"] == "25/1" and data["frames"] == truth["frames"]
    assert (data["width"], data["height"]) == (W, H)
    for item in data["shots"]:
        assert set(item) >= {
            "index",
            "start_frame",
            "end_frame",
            "start_timecode",
            "end_timecode",
            "start_seconds",
            "end_seconds",
            "frames",
            "transition",
            "transition_frames",
        }
        assert item["transition"] in ("start", "cut", "dissolve", "fade")
        assert item["frames"] == item["end_frame"] - item["start_frame"] + 1
        f = item["start_frame"]
        assert item["start_timecode"] == f"00:00:{f // 25:02d}:{f % 25:02d}"
    again = ShotList.from_dict(data)
    assert [(s.start_frame, s.end_frame, s.transition) for s in again.shots] == [
        (s.start_frame, s.end_frame, s.transition) for s in shots.shots
    ]


def test_cli_table_json_and_output(edit, tmp_path):
    path, truth = edit
    out = tmp_path / "shots.json"
    r = moviola_cli("shots", path, "--fast", "--json", "-o", out)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads(out.read_text())
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file was renamed
    r = moviola_cli("shots", path, "--fast")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "5 shots" in lines[0] and "transition" in lines[1]
    assert any("dissolve (10 fr)" in line for line in lines)
    assert any(f"  {truth['cut']}  " in line and line.rstrip().endswith("cut") for line in lines)


@pytest.mark.parametrize(
    "args, message",
    [
        (("missing.mp4", "--fast"), "not found"),
        (("{edit}", "--fast", "--threshold", "1.5"), "between 0 and 1"),
        (("{edit}", "--fast", "-o", "{tmp}/no/such/dir/s.json"), "does not exist"),
        (("{edit}", "--fast", "-o", "{tmp}"), "is a folder"),
        (("{edit}", "--fast", "--start", "99"), "past the end"),
        (("{readme}", "--fast"), "not a readable media file"),
    ],
)
def test_cli_errors(edit, tmp_path, args, message):
    readme = Path(__file__).resolve().parent.parent / "README.md"
    args = [a.format(edit=edit[0], tmp=tmp_path, readme=readme) for a in args]
    r = moviola_cli("shots", *args)
    assert r.returncode == 2
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_unknown_method(edit):
    with pytest.raises(MoviolaError, match="unknown shot detector"):
        detect_shots(edit[0], method="magic")


# --- the model conversion ------------------------------------------------------------------------

needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("onnx") is None,
    reason="torch and onnx (moviola[convert]) are needed to convert models",
)


def _upstream_names(state: dict) -> dict:
    """Our network's weights under the upstream checkpoint's names and shapes (the inverse of
    rename_checkpoint), to check that the renaming puts every tensor where it belongs."""
    from moviola.models.transnetv2 import DILATIONS

    out = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "stages" and parts[4] in ("spatial", "temporal"):
            stage, block = parts[1], parts[3]
            if parts[4] == "spatial":
                for i, chunk in enumerate(value.chunk(len(DILATIONS), 0)):
                    name = f"SDDCNN.{stage}.DDCNN.{block}.Conv3D_{DILATIONS[i]}.layers.0.weight"
                    out[name] = chunk[:, :, None]
            else:
                d = DILATIONS[int(parts[5])]
                out[f"SDDCNN.{stage}.DDCNN.{block}.Conv3D_{d}.layers.1.weight"] = value[..., None]
        elif parts[0] == "stages":
            out[f"SDDCNN.{parts[1]}.DDCNN.{parts[3]}.bn.{parts[5]}"] = value
        else:
            head = {
                "similarity": "frame_sim_layer",
                "histograms": "color_hist_layer",
                "hidden": "fc1",
                "single": "cls_layer1",
                "many": "cls_layer2",
            }[parts[0]]
            sub = {"project": "projection"}.get(parts[1], parts[1])
            out[
                ".".join([head, sub, *parts[2:]])
                if head.endswith("layer")
                else ".".join([head, *parts[1:]])
            ] = value
    return out


@needs_torch
def test_transnetv2_checkpoint_renaming_and_onnx_export(tmp_path):
    import torch

    from moviola.models import transnetv2 as T

    torch.manual_seed(0)
    net = T.build_transnetv2()
    with torch.no_grad():  # non-trivial batch-norm statistics
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    upstream = _upstream_names(net.state_dict())
    assert len(upstream) == 90  # the published checkpoint's entry count
    again = T.build_transnetv2(upstream)
    x = T.test_frames(1, 40, seed=3)
    with torch.no_grad():
        for a, b in zip(net(x), again(x), strict=True):
            assert torch.equal(a, b)
    path = tmp_path / "t.onnx"
    T.export_onnx(net, path)
    assert T.check_onnx(net, path) < T.TOLERANCE
    with pytest.raises(MoviolaError, match="not a TransNetV2 checkpoint"):
        T.build_transnetv2({**upstream, "extra.weight": torch.zeros(1)})
    bad = dict(upstream)
    del bad["fc1.bias"]
    with pytest.raises(MoviolaError, match="1 weights missing"):
        T.build_transnetv2(bad)
