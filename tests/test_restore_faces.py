"""restore-faces (vision/faces/restore.py) on a stand-in with GFPGAN's interface (one
1 x 3 x 512 x 512 input and output, RGB in -1..1): it turns the aligned face's colours negative,
so the test sees exactly where the network's output lands. The face is the astronaut photo
(docs/faces/astronaut.jpg, public domain)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import save_onnx, stand_in_model

from moviola import api
from moviola.errors import MoviolaError
from moviola.vision.faces.mesh import mesh_of_photo
from moviola.vision.faces.restore import FFHQ_512, GFPGAN_MODEL, FaceRestorer, five_points

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "docs" / "faces" / "astronaut.jpg"

pytestmark = pytest.mark.models


def gfpgan_like(path: Path) -> Path:
    """out = -in: the aligned face, colours negated (in -1..1)."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 512, 512])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 512, 512])
    graph = helper.make_graph([helper.make_node("Neg", ["input"], ["output"])], "g", [x], [y])
    return save_onnx(graph, path)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB)


def test_faces_are_aligned_to_the_ffhq_layout_and_only_they_change(tmp_path, photo):
    mesh = mesh_of_photo(photo)
    assert mesh is not None
    m, _ = cv2.estimateAffinePartial2D(five_points(mesh), FFHQ_512, method=cv2.LMEDS)
    placed = five_points(mesh) @ m[:, :2].T + m[:, 2]
    assert np.abs(placed - FFHQ_512).max() < 25  # eyes, nose, mouth where the network wants
    restorer = FaceRestorer(gfpgan_like(tmp_path / "g.onnx"), strength=1.0)
    image = photo.astype(np.float32) / 255
    out = restorer(image, [mesh])
    changed = np.abs(out - image).max(axis=2) > 0.1
    x0, y0 = mesh[:, :2].min(axis=0)
    x1, y1 = mesh[:, :2].max(axis=0)
    nose = mesh[1, :2].astype(int)
    assert changed[nose[1], nose[0]]  # the face itself took the network's output
    inside = changed[int(y0) : int(y1), int(x0) : int(x1)].mean()
    assert inside > 0.8, inside
    far = np.ones_like(changed)
    pad = int(0.9 * (x1 - x0))
    far[max(0, int(y0) - pad) : int(y1) + pad, max(0, int(x0) - pad) : int(x1) + pad] = False
    assert not changed[far].any()  # the rest of the frame is untouched
    # strength mixes: half strength moves the face half way
    half = FaceRestorer(restorer.path, strength=0.5)(image, [mesh])
    ny, nx = nose[1], nose[0]
    assert np.allclose(half[ny, nx], (image[ny, nx] + out[ny, nx]) / 2, atol=0.02)


@pytest.fixture
def fetched_gfpgan(tmp_path, monkeypatch):
    stand_in = gfpgan_like(tmp_path / "stand-in.onnx")
    with stand_in_model(
        GFPGAN_MODEL, {"GFPGANv1.4.onnx": stand_in}, tmp_path / "home", monkeypatch
    ) as real:
        yield real


def _clip(tmp_path: Path, photo: np.ndarray) -> Path:
    """The photo panned sideways over 8 frames, on a wider grey canvas."""
    import av

    path = tmp_path / "face.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 640, 384, "yuv444p"
        for i in range(8):
            canvas = np.full((384, 640, 3), 128, np.uint8)
            x = 40 + 10 * i
            canvas[:, x : x + 384] = photo[:384, :384]
            for packet in stream.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_the_effect_restores_the_tracked_face_with_the_fetched_model(
    tmp_path, photo, fetched_gfpgan
):
    src = _clip(tmp_path, photo)
    before = [f.image for f in api.open(src).frames()]
    after = [f.image for f in api.open(src).apply("restore-faces", strength=1.0).frames()]
    assert len(after) == len(before) == 8
    for i, (a, b) in enumerate(zip(before, after, strict=True)):
        diff = np.abs(a.astype(int) - b.astype(int)).max(axis=2)
        face_x = 40 + 10 * i + 169  # the face's centre in the photo is near (169, 96)
        assert diff[96, face_x] > 60, i  # the face took the network's output
        assert diff[:, 630:].max() <= 2 and diff[370:, :].max() <= 2  # far away: untouched


def test_without_the_model_it_is_one_line_naming_the_fetch(tmp_path, photo, monkeypatch):
    monkeypatch.setenv("MOVIOLA_HOME", str(tmp_path / "empty"))
    src = _clip(tmp_path, photo)
    with pytest.raises(MoviolaError) as err:
        next(api.open(src).apply("restore-faces").frames())
    assert "moviola models fetch gfpgan-1.4" in str(err.value) and "\n" not in str(err.value)


def test_upscale_faces_restores_the_faces_of_the_enlarged_picture(tmp_path, photo, fetched_gfpgan):
    src = _clip(tmp_path, photo)
    plain = [f.image for f in api.open(src).apply("upscale", model="lanczos", scale=2).frames()]
    faced = api.open(src).apply("upscale", model="lanczos", scale=2, faces=True)
    assert faced.effects()[0].kind == "model"
    for i, (a, b) in enumerate(zip(plain, [f.image for f in faced.frames()], strict=True)):
        assert a.shape == b.shape == (768, 1280, 3)
        diff = np.abs(a.astype(int) - b.astype(int)).max(axis=2)
        face_x = 2 * (40 + 10 * i + 169)
        assert diff[2 * 96, face_x] > 60, i  # the face, at twice the size, took the network's
        assert diff[:, 1260:].max() == 0 and diff[740:, :].max() == 0  # elsewhere: lanczos alone
