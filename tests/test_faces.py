"""Faces: BlazeFace detection, 468-point mesh, tracking ids, One Euro smoothing, `moviola faces`.

The real face is the astronaut photo (Eileen Collins, NASA, public domain; from scikit-image's
sample data) kept at docs/faces/astronaut.jpg; the video is samples/Megamind.avi.
"""

from __future__ import annotations

import json
import math
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


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB)  # 384 x 384


@pytest.fixture(scope="module")
def detector():
    return F.FaceDetector()


@pytest.fixture(scope="module")
def mesh():
    return F.FaceMesh()


def _on_canvas(photo, x, y, w=480, h=360):
    canvas = np.full((h, w, 3), 30, np.uint8)
    ph, pw = photo.shape[:2]
    # paste with clipping
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(w, x + pw), min(h, y + ph)
    canvas[y0:y1, x0:x1] = photo[y0 - y : y1 - y, x0 - x : x1 - x]
    return canvas


def test_anchors_layout():
    a = F.blazeface_anchors()
    assert a.shape == (896, 2)
    assert np.allclose(a[0], [0.5 / 16, 0.5 / 16]) and np.allclose(a[1], a[0])
    assert np.allclose(a[512], [0.5 / 8, 0.5 / 8]) and np.allclose(a[517], a[512])
    assert np.allclose(a[-1], [7.5 / 8, 7.5 / 8])


def test_detects_the_face_in_a_real_photo(photo, detector):
    dets = detector(photo)
    assert len(dets) == 1
    d = dets[0]
    assert d.score > 0.8
    cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
    # the face of the astronaut photo (384 px): centred near (169, 96), about 70 px wide
    assert abs(cx - 169) < 12 and abs(cy - 96) < 12, (cx, cy)
    assert 50 < d.box[2] - d.box[0] < 100
    r_eye, l_eye, nose, mouth = d.keypoints[:4]
    assert r_eye[0] < l_eye[0]  # subject's right eye is on the image's left
    assert max(r_eye[1], l_eye[1]) < nose[1] < mouth[1]
    # the same face, letterboxed in a wide frame, is found at the same place (+ offset)
    wide = _on_canvas(photo, 200, 0, w=800, h=384)
    d2 = detector(wide)
    assert len(d2) == 1
    assert np.allclose(d2[0].box, d.box + [200, 0, 200, 0], atol=4)
    # no face in a photo without one
    assert detector(np.full((240, 320, 3), 128, np.uint8)) == []


def _check_mesh_on_keypoints(points, kps, eye_dist):
    r_eye = points[[F.RIGHT_EYE_OUTER, F.RIGHT_EYE_INNER], :2].mean(0)
    l_eye = points[[F.LEFT_EYE_OUTER, F.LEFT_EYE_INNER], :2].mean(0)
    mouth = points[[F.UPPER_LIP, F.LOWER_LIP], :2].mean(0)
    tol = 0.25 * eye_dist
    assert np.linalg.norm(r_eye - kps[0]) < tol
    assert np.linalg.norm(l_eye - kps[1]) < tol
    assert np.linalg.norm(points[F.NOSE_TIP, :2] - kps[2]) < tol
    assert np.linalg.norm(mouth - kps[3]) < tol


def test_mesh_lands_on_eyes_nose_and_mouth(photo, detector, mesh):
    d = detector(photo)[0]
    points, score = mesh(photo, F.roi_from_detection(d))
    assert points.shape == (468, 3) and score > 0.9
    eye_dist = float(np.linalg.norm(d.keypoints[0] - d.keypoints[1]))
    _check_mesh_on_keypoints(points, d.keypoints, eye_dist)
    # mouth corners either side of the lips, below the eyes
    assert points[F.MOUTH_RIGHT, 0] < points[F.UPPER_LIP, 0] < points[F.MOUTH_LEFT, 0]
    assert points[F.UPPER_LIP, 1] > points[F.RIGHT_EYE_OUTER, 1] + 0.5 * eye_dist
    # a crop with no face: low presence
    _, empty = mesh(np.full((300, 300, 3), 90, np.uint8), F.Roi(150, 150, 120, 0.0))
    assert empty < 0.5


def test_rotated_face_mesh_follows_the_rotation(photo, detector, mesh):
    h, w = photo.shape[:2]
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), -25, 1.0)  # turn the picture 25 deg clockwise
    turned = cv2.warpAffine(photo, rot, (w, h), borderMode=cv2.BORDER_REFLECT)
    d = detector(turned)[0]
    roi = F.roi_from_detection(d)
    assert 10 < math.degrees(roi.angle) < 45  # upright photo: ~10 deg; turned 25 more
    points, score = mesh(turned, roi)
    assert score > 0.9
    # the mesh's eyes, mapped back through the rotation, sit on the upright photo's eyes
    upright, _ = mesh(photo, F.roi_from_detection(detector(photo)[0]))
    back = cv2.invertAffineTransform(rot)
    mapped = points[:, :2] @ back[:, :2].T + back[:, 2]
    eye_dist = np.linalg.norm(upright[33, :2] - upright[263, :2])
    for i in (F.RIGHT_EYE_OUTER, F.LEFT_EYE_OUTER, F.NOSE_TIP, F.UPPER_LIP):
        assert np.linalg.norm(mapped[i] - upright[i, :2]) < 0.15 * eye_dist


def test_track_id_stable_while_panning(photo):
    tracker = F.FaceTracker(max_faces=2, detect_every=1000)
    ids, centres = [], []
    for i in range(16):
        frame = _on_canvas(photo, -60 + 6 * i, -20)
        faces = tracker.update(frame, i / 25)
        assert len(faces) == 1, i
        ids.append(faces[0].id)
        centres.append(faces[0].raw_landmarks[:, :2].mean(0))
    assert set(ids) == {0}
    assert tracker.detections_run == 1  # the mesh ROI followed the face, no re-detection
    steps = np.diff(np.array(centres), axis=0)
    assert np.allclose(steps[:, 0], 6, atol=1.5) and np.allclose(steps[:, 1], 0, atol=1.5)


def test_lost_face_gets_its_id_back_and_a_new_face_a_new_id(photo):
    tracker = F.FaceTracker(max_faces=2, detect_every=1000)
    shown = _on_canvas(photo, 0, -20)
    hidden = shown.copy()
    hidden[50:115, 135:205] = (120, 110, 100)  # something in front of the face (not a cut)
    seq = [shown] * 3 + [hidden] * 2 + [_on_canvas(photo, 4, -20)] * 2
    ids = [[f.id for f in tracker.update(img, i / 25)] for i, img in enumerate(seq)]
    assert ids == [[0], [0], [0], [], [], [0], [0]]
    # elsewhere, after the lost track has expired: a new id
    tracker.keep_lost = 0
    tracker.update(hidden, 1.0)
    tracker.update(hidden, 1.1)
    moved = hidden.copy()
    moved[:, 200:] = _on_canvas(photo, 90, -20)[:, 200:]
    assert [f.id for f in tracker.update(moved, 1.2)] == [1]


def test_a_cut_restarts_tracking(photo):
    tracker = F.FaceTracker(max_faces=1, detect_every=1000)
    a = _on_canvas(photo, 0, -20)
    b = _on_canvas(photo, 150, -20)[:, ::-1].copy()  # another shot: mirrored, elsewhere
    b[:, :, 2] //= 2  # and other colours
    for i in range(3):
        (face,) = tracker.update(a, i / 25)
    assert tracker.detections_run == 1
    (face,) = tracker.update(b, 3 / 25)
    assert tracker.detections_run == 2  # found anew, not followed from the last shot's mesh
    expected = 480 - (150 + 169)  # the face centre in the mirrored frame
    assert abs((face.box[0] + face.box[2]) / 2 - expected) < 15


def test_one_euro_smooths_noise_but_follows_motion():
    rng = np.random.default_rng(1)
    f = F.OneEuroFilter(min_cutoff=0.05, beta=80.0)
    # still value with noise (value_scale 100: a 100 px face)
    outs = [f(100 + rng.normal(0, 0.5, 10), i / 30, 100.0) for i in range(60)]
    raw_motion = 0.5 * math.sqrt(2)
    still = np.abs(np.diff(np.array(outs[10:]), axis=0)).mean()
    assert still < raw_motion / 4
    # a fast move (one face size per second): the output keeps up
    f.reset()
    outs = [f(np.array([100 * i / 30]), i / 30, 100.0) for i in range(30)]
    assert abs(outs[-1][0] - 100 * 29 / 30) < 8


def test_smoothing_reduces_landmark_jitter_on_a_still_face(photo):
    rng = np.random.default_rng(0)
    tracker = F.FaceTracker(max_faces=1)
    base = _on_canvas(photo, 40, -10)
    raw, smooth, prev = [], [], None
    for i in range(24):
        noisy = np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)
        face = tracker.update(noisy, i / 30)[0]
        if prev is not None and i > 4:
            raw.append(np.linalg.norm(face.raw_landmarks[:, :2] - prev[0], axis=1).mean())
            smooth.append(np.linalg.norm(face.landmarks[:, :2] - prev[1], axis=1).mean())
        prev = face.raw_landmarks[:, :2].copy(), face.landmarks[:, :2].copy()
    assert np.mean(raw) > 0.02  # the noise does move the raw landmarks
    assert np.mean(smooth) < np.mean(raw) / 3
    # smoothing does not drag the face away from where it is
    assert np.abs(face.landmarks[:, :2] - face.raw_landmarks[:, :2]).mean() < 1.0


def _write_clip(path: Path, frames: list[np.ndarray], rate: int = 25) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        for img in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_cli_json_and_preview(tmp_path, photo):
    clip = tmp_path / "pan.mp4"
    _write_clip(clip, [_on_canvas(photo, -40 + 5 * i, -20, 320, 240) for i in range(10)])
    tracks, preview = tmp_path / "tracks.json", tmp_path / "preview.mp4"
    r = moviola_cli("faces", clip, "--json", tracks, "-o", preview, "--max-faces", "1", "-q")
    assert r.returncode == 0, r.stderr
    data = json.loads(tracks.read_text())
    assert data["version"] == 1 and data["landmarks"] == 468
    assert (data["width"], data["height"]) == (320, 240)
    assert len(data["frames"]) == 10
    assert [f["index"] for f in data["frames"]] == list(range(10))
    for frame in data["frames"]:
        assert isinstance(frame["time"], float)
        assert len(frame["faces"]) == 1
        face = frame["faces"][0]
        assert set(face) == {"id", "box", "score", "landmarks"}
        assert face["id"] == 0 and 0.5 < face["score"] <= 1
        assert len(face["box"]) == 4 and face["box"][0] < face["box"][2]
        assert len(face["landmarks"]) == 468 and all(len(p) == 3 for p in face["landmarks"])
    assert data["tracks"] == [{"id": 0, "first": 0, "last": 9, "frames": 10}]
    # the preview: same frames, with the mesh drawn where the face is
    with av.open(str(preview)) as c:
        shots = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(clip)) as c:
        src = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(shots) == 10
    x0, y0, x1, y1 = (int(v) for v in data["frames"][5]["faces"][0]["box"])
    diff = np.abs(shots[5].astype(int) - src[5].astype(int)).mean(-1)
    assert diff[y0:y1, x0:x1].mean() > 3 * (diff[:, 300:].mean() + 1)


def test_cli_on_real_footage_keeps_audio(tmp_path, megamind):
    tracks, preview = tmp_path / "mm.json", tmp_path / "mm.mp4"
    r = moviola_cli(
        "faces", megamind, "--json", tracks, "-o", preview, "--start", "1", "--end", "2", "-q"
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(tracks.read_text())
    assert len(data["frames"]) >= 20
    with_faces = sum(bool(f["faces"]) for f in data["frames"])
    assert with_faces >= 0.8 * len(data["frames"])
    with av.open(str(preview)) as c:
        assert c.streams.audio, "the preview keeps the input's audio"


def test_cli_bad_input_is_one_line(tmp_path):
    r = moviola_cli("faces", tmp_path / "missing.mp4", "--json", tmp_path / "t.json")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "missing.mp4" in r.stderr
    assert not (tmp_path / "t.json").exists()
    not_video = tmp_path / "notes.txt"
    not_video.write_text("hello")
    r = moviola_cli("faces", not_video, "--json", tmp_path / "t.json")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "t.json").exists()
    r = moviola_cli("faces", not_video, "--json", tmp_path / "t.json", "--max-faces", "0")
    assert r.returncode == 2 and "--max-faces" in r.stderr


# -- faceswap ---------------------------------------------------------------------------------


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_faceswap_on_real_footage_is_tagged_and_labelled(tmp_path, megamind):
    face = tmp_path / "face.png"
    cv2.imwrite(str(face), cv2.imread(str(PHOTO)))
    labelled, plain = tmp_path / "swap.mp4", tmp_path / "swap_nolabel.mp4"
    window = ("--start", "1.5", "--end", "2")
    r = moviola_cli("faceswap", megamind, "-o", labelled, "--face", face, *window)
    assert r.returncode == 0, r.stderr
    r = moviola_cli("faceswap", megamind, "-o", plain, "--face", face, "--no-label", *window)
    assert r.returncode == 0, r.stderr
    with av.open(str(labelled)) as c:
        tags = dict(c.metadata)
    assert "synthetic" in tags.get("comment", "") and "faceswap" in tags["moviola_synthetic"]
    with av.open(str(plain)) as c:
        assert "faceswap" in dict(c.metadata)["moviola_synthetic"]  # tagged even unlabelled
    src = tmp_path / "src.json"
    assert moviola_cli("faces", megamind, "--json", src, *window, "-q").returncode == 0
    boxes = [f["faces"][0]["box"] for f in json.loads(src.read_text())["frames"] if f["faces"]]
    a, b = _frames(labelled), _frames(plain)
    assert len(a) == len(b) == len(boxes) >= 10
    h, w = a[0].shape[:2]
    # the label: a dark band with white text at the bottom left, only with the label on
    band = (slice(h - 30, h), slice(0, 200))
    label_diff = np.abs(a[5][band].astype(int) - b[5][band].astype(int)).mean()
    assert label_diff > 10
    # the face changed, the rest of the picture did not (beyond coding noise)
    x0, y0, x1, y1 = (int(v) for v in boxes[5])
    with av.open(str(megamind)) as c:
        c.seek(int(1.5 / c.streams.video[0].time_base), stream=c.streams.video[0])
        orig = next(
            f.to_ndarray(format="rgb24") for f in c.decode(video=0) if f.time >= 1.5 + 5 / 24 - 0.02
        )
    d = np.abs(b[5].astype(int) - orig.astype(int)).mean(-1)
    inner = d[y0 + (y1 - y0) // 4 : y1 - (y1 - y0) // 4, x0 + (x1 - x0) // 4 : x1 - (x1 - x0) // 4]
    outside = np.concatenate([d[:, : max(1, x0 - 40)].ravel(), d[:, x1 + 40 :].ravel()])
    assert inner.mean() > 4 * (outside.mean() + 1)


def test_faceswap_bad_face_photo_is_one_line(tmp_path, megamind):
    no_face = ROOT / "samples" / "photos" / "fruits.jpg"
    if not no_face.exists():
        pytest.skip("samples/photos missing")
    r = moviola_cli(
        "faceswap", megamind, "-o", tmp_path / "o.mp4", "--face", no_face, "--end", "0.2"
    )
    assert r.returncode == 2 and "no face" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.mp4").exists()
    r = moviola_cli("faceswap", megamind, "-o", tmp_path / "o.mp4", "--end", "0.2")
    assert r.returncode == 2 and "--face" in r.stderr


def test_faceswap_face_at_the_frame_edge(tmp_path, photo):
    from fractions import Fraction

    from moviola.effects.faceswap import FaceSwap
    from moviola.media.frame import Frame

    face = tmp_path / "flipped.png"
    source = cv2.flip(photo, 1)
    source[100:128:4, 150:235] = 0  # dark stripes over the lower face: easy to see moved in
    cv2.imwrite(str(face), cv2.cvtColor(source, cv2.COLOR_RGB2BGR))
    effect = FaceSwap(face=str(face), label=False)
    effect.configure(None)
    for i, x in enumerate(range(-150, 61, 15)):  # half out of the frame, then inside
        frame = _on_canvas(photo, x, -40, 400, 300)
        out = effect.process(Frame(frame, Fraction(i, 25), Fraction(1, 25), i)).image
        assert out.shape == frame.shape and out.dtype == np.uint8
        diff = np.abs(out.astype(int) - frame.astype(int)).mean(-1)
        cx = x + 169
        face_diff = diff[60:110, max(0, cx - 25) : cx + 25].mean()
        assert face_diff > 6, (x, face_diff)  # the face was replaced, even at the edge
        assert diff[250:, :].mean() < 0.5  # below the face: untouched


def test_tflite_session_is_shared_and_thread_safe(photo):
    import threading

    from moviola.models.runtime import (
        open_session,
        tflite,  # noqa: F401
    )

    sess = open_session(F.LANDMARKER)
    assert type(sess).__name__ == "TfliteSession"
    assert open_session(F.LANDMARKER) is sess  # loaded once, shared
    rng = np.random.default_rng(3)
    inputs = [rng.random((1, 192, 192, 3), dtype=np.float32) for _ in range(4)]
    name = sess.input_names[0]
    alone = [sess.run({name: x}) for x in inputs]
    results: dict[int, list] = {}

    def work(k):
        results[k] = [sess.run({name: x}) for x in inputs for _ in range(3)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(3):
        for i, out in enumerate(results[k]):
            for key, value in alone[i // 3].items():
                np.testing.assert_array_equal(out[key], value)
    from moviola.errors import MoviolaError

    with pytest.raises(MoviolaError, match="takes inputs"):
        sess.run({"nope": inputs[0]})


# -- faceswap: occlusions ---------------------------------------------------------------------


def _occluded_clip(photo, occluder):
    """12 frames: the astronaut panning slowly; from frame 5 on, a textured patch (cut from
    another photo) moves across her lower face, in front of it."""
    patch = cv2.resize(occluder, (44, 60))
    frames, boxes = [], []
    for i in range(12):
        frame = _on_canvas(photo, -40 + 2 * i, -10, 320, 240)
        box = None
        if i >= 5:
            x, y = 96 + 9 * (i - 5), 78
            frame[y : y + 60, x : x + 44] = patch
            box = (x, y, 44, 60)
        frames.append(frame)
        boxes.append(box)
    return frames, boxes


def _swap_clip(face, frames, occlusion):
    from fractions import Fraction

    from moviola.effects.faceswap import FaceSwap
    from moviola.media.frame import Frame

    effect = FaceSwap(face=str(face), label=False, occlusion=occlusion)
    effect.configure(None)
    return [
        effect.process(Frame(f, Fraction(i, 25), Fraction(1, 25), i)).image
        for i, f in enumerate(frames)
    ]


@pytest.mark.parametrize("occluder_photo", ["baboon.jpg", "orange.jpg"])
def test_faceswap_keeps_an_occluder_in_front(tmp_path, photo, occluder_photo):
    path = ROOT / "samples" / "photos" / occluder_photo
    if not path.exists():
        pytest.skip("samples/photos missing")
    occluder = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    face = tmp_path / "flipped.png"  # another face: the photo mirrored, so the swap shows
    cv2.imwrite(str(face), cv2.flip(cv2.imread(str(PHOTO)), 1))
    frames, boxes = _occluded_clip(photo, occluder)
    auto = _swap_clip(face, frames, "auto")
    off = _swap_clip(face, frames, "off")
    painted = []
    for i, (frame, box) in enumerate(zip(frames, boxes, strict=True)):
        d_auto = np.abs(auto[i].astype(int) - frame.astype(int)).mean(-1)
        d_off = np.abs(off[i].astype(int) - frame.astype(int)).mean(-1)
        # the face still changes where nothing covers it (the eyes, above the patch)
        eyes = d_auto[62:78, 112:172]
        assert eyes.mean() > 6, (i, eyes.mean())
        if box is None:
            # nothing in front: occlusion handling takes (almost) nothing out of the swap
            assert abs(d_auto[50:130, 100:190].mean() - d_off[50:130, 100:190].mean()) < 1.5
            continue
        x, y, w, h = box
        inner = (slice(y + 3, y + h - 3), slice(x + 3, x + w - 3))
        # the occluder stays as it was: the swapped face is not painted over it
        assert d_auto[inner].mean() < 3, (i, d_auto[inner].mean())
        assert np.percentile(d_auto[inner], 95) < 12, (i, np.percentile(d_auto[inner], 95))
        painted.append(d_off[inner].mean())
    # without occlusion handling the face is painted over the occluder (the test can fail)
    assert min(painted) > 8, painted
