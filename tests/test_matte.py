"""matte: video matting (RVM recurrent, u2netp per frame), backgrounds, alpha outputs."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import cv2
import numpy as np
import pytest
from helpers import moviola_cli

import moviola
from moviola.effects import matte as matte_mod
from moviola.errors import MoviolaError
from moviola.media import Frame, StreamInfo, VideoReader, VideoWriter, probe, synth
from moviola.media.background import BackgroundVideo
from moviola.pipeline import create

GREEN = np.array(matte_mod.COLORS["green"])


def read_frames(path, **kw):
    with VideoReader(path, **kw) as reader:
        return list(reader)


def drive(effect, images, rate=Fraction(10)):
    """Run an effect over a list of RGB arrays in order, as the pipeline would."""
    h, w = images[0].shape[:2]
    effect.configure(StreamInfo(w, h, rate, 1 / rate))
    try:
        return [
            effect.process(Frame(img, Fraction(i) / rate, 1 / rate, i)).image
            for i, img in enumerate(images)
        ]
    finally:
        effect.close()


@pytest.fixture(scope="module")
def vtest_frames(real_footage):
    """The first 25 frames of vtest.avi (pedestrians, 768x576, 10 fps)."""
    with VideoReader(real_footage, end=2.5) as reader:
        return [f.image for f in reader]


@pytest.fixture(scope="module")
def small_vtest(vtest_frames):
    return [cv2.resize(f, (320, 240), interpolation=cv2.INTER_AREA) for f in vtest_frames[:12]]


# -- parameters and errors ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw, message",
    [
        ({"background": "#12345"}, "not a colour"),
        ({"background": "purple-ish"}, "is not auto, transparent"),
        ({"background": "missing.png"}, "background file not found"),
        ({"downsample": "fast"}, "downsample must be auto"),
        ({"downsample": "1.5"}, "outside 0.05..1"),
        ({"matte_only": True, "background": "green"}, "not both"),
        ({"model": "sam"}, "not one of"),
        ({"model_path": "/nonexistent/m.onnx"}, "model file not found"),
        ({"smooth": 2}, "above the maximum"),
        ({"cut_threshold": -1}, "below the minimum"),
    ],
)
def test_bad_parameters_raise_one_line(kw, message):
    with pytest.raises(MoviolaError, match=message):
        create("matte", **kw)


def test_model_path_with_a_foreign_interface_is_refused(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["a"], ["b"])], "g", [x], [y])
    path = tmp_path / "relu.onnx"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.save(model, path)
    with pytest.raises(MoviolaError, match="expected RVM's"):
        drive(create("matte", model_path=str(path)), [np.zeros((32, 32, 3), np.uint8)])


def test_missing_model_names_the_fetch_command(tmp_path, monkeypatch):
    from moviola.models import store

    monkeypatch.setenv("MOVIOLA_HOME", str(tmp_path / "empty-home"))

    def offline(model_id, *a, **k):
        raise MoviolaError("no network")

    monkeypatch.setattr(store, "fetch", offline)
    effect = create("matte")
    with pytest.raises(MoviolaError, match="moviola models fetch rvm-mobilenetv3"):
        effect.configure(StreamInfo(64, 48, Fraction(10), Fraction(1, 10)))


def test_auto_downsample_follows_resolution():
    assert matte_mod.auto_downsample(1920, 1080) == 0.25
    assert matte_mod.auto_downsample(3840, 2160) == 0.125
    assert matte_mod.auto_downsample(1280, 720) == 0.375
    assert 0.4 <= matte_mod.auto_downsample(768, 576) <= 0.5
    assert matte_mod.auto_downsample(320, 240) == 1.0


def test_cli_lists_the_options_and_rejects_bad_ones(tmp_path):
    out = moviola_cli("matte", "--help")
    assert out.returncode == 0
    for option in ("--background", "--matte-only", "--downsample", "--smooth", "--model-path"):
        assert option in out.stdout
    bad = moviola_cli("matte", "in.mp4", "-o", tmp_path / "o.mp4", "--background", "#zz")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1


# -- real footage ---------------------------------------------------------------------------------
def test_people_get_alpha_and_the_still_background_does_not(vtest_frames):
    frames = vtest_frames
    alphas = [img[..., 3] for img in drive(create("matte"), frames)]
    grey = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]).astype(np.int16)
    static = (grey.max(0) - grey.min(0)) < 10
    background = np.median(grey, axis=0)
    moving_last = np.abs(grey[-1] - background) > 40
    moving_last = cv2.erode(moving_last.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert static.mean() > 0.5 and moving_last.sum() > 500
    last = alphas[-1].astype(np.float32) / 255
    assert last[moving_last].mean() > 0.6, "people should be in the matte"
    assert last[static].mean() < 0.02, "the still background should be out of it"


def test_green_composite_and_transparent_output_agree(vtest_frames):
    frames = vtest_frames[:6]
    rgba = drive(create("matte"), frames)[-1]
    green = drive(create("matte", background="green"), frames)[-1]
    alpha = rgba[..., 3]
    clear, solid = alpha == 0, alpha == 255
    assert clear.mean() > 0.5 and solid.sum() > 100
    assert np.abs(green[clear].astype(int) - GREEN).max() == 0
    # opaque subject: the source's own colours, in both outputs
    assert np.abs(green[solid].astype(int) - frames[-1][solid]).max() <= 1
    assert np.abs(rgba[..., :3][solid].astype(int) - frames[-1][solid]).max() <= 1
    # everywhere: composite == fg * a + green * (1 - a), with the RGBA output's fg
    a = alpha[..., None] / 255.0
    expected = rgba[..., :3] * a + GREEN * (1 - a)
    edge = (alpha > 0) & (alpha < 255)
    assert np.abs(green[edge] - expected[edge]).mean() < 1.0


def test_recurrent_state_is_carried(small_vtest):
    carried = drive(create("matte", matte_only=True), small_vtest)
    stateless = drive(create("matte", matte_only=True, cut_threshold=0), small_vtest)
    assert np.array_equal(carried[0], stateless[0])
    diffs = [
        np.abs(a.astype(int) - b).mean() for a, b in zip(carried[1:], stateless[1:], strict=True)
    ]
    assert min(diffs[3:]) > 0.05, diffs


def test_state_is_reset_at_a_cut(small_vtest):
    other = [synth.picture(320, 240, i, i / 10) for i in range(6)]
    effect = create("matte", matte_only=True)
    joined = drive(effect, small_vtest[:6] + other)
    assert effect.cuts == [6]
    fresh = drive(create("matte", matte_only=True), other)
    for a, b in zip(joined[6:], fresh, strict=True):
        assert np.abs(a.astype(int) - b).max() <= 1


def test_a_cut_between_shots_of_the_same_colours_is_found(small_vtest):
    mirrored = [np.ascontiguousarray(f[:, ::-1]) for f in small_vtest[4:8]]
    effect = create("matte", matte_only=True)
    drive(effect, small_vtest[:4] + mirrored)
    assert effect.cuts == [4]


def test_outputs_carry_alpha(real_footage, tmp_path):
    clip = moviola.open(real_footage, end=0.4).apply("matte")
    reference = [f.image for f in clip.frames()]
    for name in ("a.mov", "a.webm", "seq/"):
        result = clip.save(tmp_path / name)
        assert result.info.alpha
        if result.output.is_dir():
            files = sorted(result.output.glob("*.png"))
            last = cv2.imread(str(files[-1]), cv2.IMREAD_UNCHANGED)
            count, alpha = len(files), last[..., 3]
        else:
            back = read_frames(result.output)
            assert back[-1].has_alpha, name
            count, alpha = len(back), back[-1].image[..., 3]
        assert count == len(reference)
        diff = np.abs(alpha.astype(int) - reference[-1][..., 3]).mean()
        assert diff < 3, (name, diff)
        assert alpha.min() == 0 and alpha.max() >= 250
    assert probe(tmp_path / "a.mov").video[0].codec == "prores"
    plain = clip.save(tmp_path / "flat.mp4")
    assert not read_frames(plain.output)[0].has_alpha


def test_matte_only_is_white_on_black(vtest_frames):
    frames = vtest_frames[:4]
    rgba = drive(create("matte"), frames)[-1]
    matte = drive(create("matte", matte_only=True), frames)[-1]
    assert matte.shape[2] == 3
    assert np.array_equal(matte[..., 0], matte[..., 1])
    assert np.array_equal(matte[..., 0], matte[..., 2])
    assert np.abs(matte[..., 0].astype(int) - rgba[..., 3]).max() <= 1


# -- synthetic ------------------------------------------------------------------------------------
def test_user_model_path_with_an_image_interface():
    from moviola.models import ensure

    image, _ = _disc_scene()
    by_name = drive(create("matte", model="u2netp"), [image])[0]
    by_path = drive(create("matte", model_path=str(ensure("u2netp"))), [image])[0]
    assert np.array_equal(by_name, by_path)


def _disc_scene(w=320, h=240):
    y, x = np.mgrid[0:h, 0:w]
    image = np.dstack([90 + 60 * x / w, 110 + 40 * y / h, 120 + 0 * x]).astype(np.uint8)
    disc = (x - w / 2) ** 2 + (y - h / 2) ** 2 < (h / 4) ** 2
    image[disc] = (220, 30, 30)
    return image, disc


def test_u2netp_finds_a_salient_object():
    image, disc = _disc_scene()
    out = drive(create("matte", model="u2netp"), [image] * 3)
    alpha = out[-1][..., 3].astype(np.float32) / 255
    inner = cv2.erode(disc.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    outer = cv2.dilate(disc.astype(np.uint8), np.ones((31, 31), np.uint8)) == 0
    assert alpha[inner].mean() > 0.8
    assert alpha[outer].mean() < 0.1


def test_background_image_and_sixteen_bit_frames(tmp_path):
    image, disc = _disc_scene()
    back = np.zeros((100, 400, 3), np.uint8)
    back[:] = (10, 200, 250)  # RGB; a different aspect: resized to cover
    path = tmp_path / "back.png"
    cv2.imwrite(str(path), cv2.cvtColor(back, cv2.COLOR_RGB2BGR))
    rgba = drive(create("matte", model="u2netp"), [image])[0]
    over = drive(create("matte", model="u2netp", background=str(path)), [image])[0]
    clear = rgba[..., 3] == 0
    assert clear.mean() > 0.3
    assert np.abs(over[clear].astype(int) - back[0, 0]).max() <= 1
    deep = drive(
        create("matte", model="u2netp", background=str(path)), [image.astype(np.uint16) * 257]
    )[0]
    assert deep.dtype == np.uint16
    assert np.abs(deep[clear].astype(int) // 257 - back[0, 0]).max() <= 1


def _solid_clip(path, colors, rate=10, size=(64, 48)):
    w, h = size
    info = StreamInfo(w, h, Fraction(rate), Fraction(1, rate))
    writer = VideoWriter(path, info, codec="ffv1")
    for i, c in enumerate(colors):
        image = np.empty((h, w, 3), np.uint8)
        image[:] = c
        writer.write(Frame(image, Fraction(i, rate), Fraction(1, rate), i))
    writer.close()


def test_background_video_is_time_aligned_looped_and_resized(tmp_path):
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    path = tmp_path / "bg.mkv"
    _solid_clip(path, colors)
    bg = BackgroundVideo(path, (100, 30))
    try:
        seen = [bg.at(Fraction(t, 20)) for t in range(13)]  # 20 fps over a 10 fps loop of 0.3 s
    finally:
        bg.close()
    assert seen[0].shape == (30, 100, 3)
    index = [int(np.argmax(s[15, 50])) for s in seen]
    assert index == [0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 0]


def test_background_blur_keeps_the_subject_and_softens_the_rest(vtest_frames):
    frames = vtest_frames[:4]
    alpha = drive(create("matte"), frames)[-1][..., 3]
    out = drive(create("matte", background="blur", blur=20), frames)[-1]
    solid, clear = alpha == 255, alpha == 0
    assert np.abs(out[solid].astype(int) - frames[-1][solid]).max() <= 1

    def sharpness(img):
        lap = cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_32F)
        return float(np.abs(lap[clear]).mean())

    assert sharpness(out) < 0.5 * sharpness(frames[-1])


def test_decontamination_removes_the_old_background_colour():
    h, w = 240, 320
    x = np.arange(w, dtype=np.float32)
    alpha = np.tile(np.clip((x - 150) / 16, 0, 1), (h, 1))  # a soft edge, 16 px wide
    fg = np.zeros((h, w, 3), np.float32)
    fg[:] = (0.8, 0.6, 0.2)
    bg = np.zeros((h, w, 3), np.float32)
    bg[:] = (0.0, 0.9, 0.1)
    image = fg * alpha[..., None] + bg * (1 - alpha[..., None])
    est = matte_mod.estimate_foreground(image, alpha)
    edge = (alpha > 0.2) & (alpha < 0.8)
    assert np.abs(est[edge] - fg[edge]).mean() < 0.25 * np.abs(image[edge] - fg[edge]).mean()


def test_guided_upsampling_follows_the_frame_edges():
    h, w = 240, 320
    image = np.zeros((h, w, 3), np.float32)
    image[:, 160:] = 1.0  # an edge at x = 160
    small = np.zeros((20, 20), np.float32)
    small[:, 10:] = 1.0  # the same edge, blurry once upsampled 16x
    plain = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    refined = matte_mod.guided_upsample(small, image)
    row = h // 2
    assert plain[row, 156] > 0.2 and plain[row, 163] < 0.8  # a ramp 16 px wide
    assert refined[row, 159] < 0.25 and refined[row, 160] > 0.75  # the frame's step


def test_odd_sizes_work():
    image = synth.picture(161, 91, 0, 0.0)
    out = drive(create("matte"), [image, image])
    assert out[-1].shape == (91, 161, 4)


def test_audio_passes_through(tmp_path):
    src = tmp_path / "talk.mp4"
    synth.make_clip(src, width=160, height=120, duration=1.0, flashes=(0.5,))
    result = moviola.open(src).apply("matte", background="green").save(tmp_path / "out.mp4")
    assert result.audio in ("copied", "re-encoded")
    info = probe(result.output)
    assert info.audio, "audio was dropped"
    assert abs(float(info.audio[0].duration) - 1.0) < 0.05
    assert result.frames_out == result.frames_in


_PEAK_SCRIPT = """
import resource, sys
import moviola
moviola.open(sys.argv[1]).apply("matte", background="blur").save(sys.argv[2], preset="ultrafast")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def test_memory_does_not_grow_with_duration(tmp_path):
    peaks = []
    for seconds in (1, 8):
        src = tmp_path / f"clip{seconds}.mp4"
        synth.make_clip(src, width=160, height=120, duration=seconds, flashes=())
        out = subprocess.run(
            [sys.executable, "-c", _PEAK_SCRIPT, str(src), str(tmp_path / f"o{seconds}.mp4")],
            capture_output=True,
            text=True,
            check=True,
        )
        peaks.append(int(out.stdout.strip().splitlines()[-1]))
    assert peaks[1] - peaks[0] < 25, peaks


def test_auto_background_without_alpha_is_green(real_footage, tmp_path):
    clip = moviola.open(real_footage, end=0.4).apply("matte")
    alpha = [f.image[..., 3] for f in clip.frames()][-1]
    out = read_frames(clip.save(tmp_path / "flat.mp4").output)[-1].image
    clear = cv2.erode((alpha == 0).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert np.abs(out[clear].astype(int) - GREEN).mean() < 4  # lossy H.264
