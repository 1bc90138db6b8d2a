"""The first effects: resize, trim, fps, speed, and the effect interface."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import moviola
from moviola.errors import MoviolaError
from moviola.media import VideoReader, probe
from moviola.pipeline import Effect, Param, create, parse_rate, parse_spec
from moviola.pipeline.params import parse_color


def frames_of(path):
    with VideoReader(path) as reader:
        return list(reader)


def test_parse_rate_exact():
    assert parse_rate("29.97") == Fraction(30000, 1001)
    assert parse_rate("23.976") == Fraction(24000, 1001)
    assert parse_rate("59.94") == Fraction(60000, 1001)
    assert parse_rate("ntsc") == Fraction(30000, 1001)
    assert parse_rate("25") == 25
    assert parse_rate("12.5") == Fraction(25, 2)
    with pytest.raises(MoviolaError):
        parse_rate("fast")
    with pytest.raises(MoviolaError):
        parse_rate("-5")


def test_parse_spec_and_parameter_checks():
    effect = parse_spec("resize:width=640,height=360:fit=cover")
    assert (effect.width, effect.height, effect.fit) == (640, 360, "cover")
    with pytest.raises(MoviolaError, match="unknown parameter"):
        create("resize", widht=3)
    with pytest.raises(MoviolaError, match="not one of"):
        create("resize", width=3, fit="squash")
    with pytest.raises(MoviolaError, match="below the minimum"):
        create("resize", width=0)
    with pytest.raises(MoviolaError, match="unknown effect"):
        create("sharpen")
    assert parse_color("#ff8000") == (255, 128, 0)


def test_resize_keeps_aspect_and_pads(clips, tmp_path):
    out = tmp_path / "r.mkv"
    moviola.open(clips["ntsc"], end=0.2).apply("resize", width=160).save(out, codec="ffv1")
    v = probe(out).video[0]
    assert (v.width, v.height) == (160, 120)
    out = tmp_path / "pad.mkv"
    moviola.open(clips["ntsc"], end=0.2).apply(
        "resize", width=200, height=100, fit="contain", pad_color="#ff0000"
    ).save(out, codec="ffv1")
    image = frames_of(out)[0].image
    assert image.shape == (100, 200, 3)
    # 4:3 into 2:1: red bars left and right, picture in the middle (133 px wide)
    assert tuple(image[50, 5]) == (255, 0, 0) and tuple(image[50, 194]) == (255, 0, 0)
    assert tuple(image[50, 100]) != (255, 0, 0)
    out = tmp_path / "crop.mkv"
    moviola.open(clips["ntsc"], end=0.2).apply("resize", width=200, height=100, fit="cover").save(
        out, codec="ffv1"
    )
    image = frames_of(out)[0].image
    assert image.shape == (100, 200, 3) and image[:, :5].std() > 5  # no bars: picture fills it


def test_resize_scale_matches_reference_resampling(clips, tmp_path):
    import cv2

    out = tmp_path / "half.mkv"
    moviola.open(clips["ntsc"], end=0.1).apply("resize", scale=0.5).save(out, codec="ffv1")
    src = frames_of(clips["ntsc"])[0].image
    got = frames_of(out)[0].image
    expected = cv2.resize(src, (160, 120), interpolation=cv2.INTER_AREA)
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize(
    "source,rate,expected",
    [
        ("ntsc", "24000/1001", 72),  # 90 frames of 30000/1001 = 3.003 s -> 72 at 23.976
        ("ntsc", "60000/1001", 180),
        ("film", "30000/1001", 90),  # 72 frames at 23.976 -> 90 at 29.97 (3:2 pulldown count)
        ("ntsc", "25", 75),
    ],
)
def test_fps_exact_counts_and_times(clips, tmp_path, source, rate, expected):
    out = tmp_path / "fps.mp4"
    moviola.open(clips[source]).apply("fps", rate=rate).save(out)
    frames = frames_of(out)
    r = parse_rate(rate)
    assert len(frames) == expected
    assert [f.time for f in frames] == [i / r for i in range(expected)]
    assert probe(out).video[0].rate == r


def test_fps_picks_nearest_frames():
    fps = create("fps", rate=10)
    from moviola.media.frame import Frame, StreamInfo

    fps.configure(StreamInfo(8, 8, Fraction(30), Fraction(1, 30), duration=Fraction(1)))
    out = []
    for i in range(30):
        img = np.full((8, 8, 3), i, np.uint8)
        out += fps.process(Frame(img, Fraction(i, 30), Fraction(1, 30), i))
    out += fps.flush()
    assert [int(f.image[0, 0, 0]) for f in out] == list(range(0, 30, 3))


def test_trim_effect_frame_exact(clips, tmp_path):
    out = tmp_path / "t.mp4"
    moviola.open(clips["ntsc"]).apply("trim", start="0.5", duration="1").save(out)
    frames = frames_of(out)
    # source frames with time in [0.5, 1.5): 15 (0.5005) .. 44 (1.4681)
    assert len(frames) == 30
    assert frames[0].image.mean() > 230  # source frame 15 is the flash at 0.5005 s
    assert frames[1].image.mean() < 200


def test_speed_retimes_frames(clips, tmp_path):
    out = tmp_path / "fast.mp4"
    moviola.open(clips["ntsc"]).apply("speed", factor=2).save(out)
    frames = frames_of(out)
    assert len(frames) == 90
    assert frames[1].time == Fraction(1001, 60000)
    assert abs(float(probe(out).duration) - 1.5) < 0.05
    slow = tmp_path / "slow.mp4"
    moviola.open(clips["ntsc"], end=1).apply("speed", factor="1/2").save(slow)
    assert abs(float(probe(slow).duration) - 2.0) < 0.05


class Invert(Effect):
    """A test effect written against the public interface, with batches."""

    name = "invert-test"
    params = (Param("amount", float, 1.0, "how much", min=0, max=1),)
    batch_size = 4

    def process_batch(self, frames):
        self.batches = getattr(self, "batches", []) + [len(frames)]
        return [f.with_image(255 - f.image) for f in frames]


def test_batches_and_flush_through_chain():
    from moviola.media.frame import Frame
    from moviola.pipeline.runner import Chain

    effect = Invert()
    chain = Chain([effect])
    frames = [Frame(np.zeros((2, 2, 3), np.uint8), Fraction(i), Fraction(1), i) for i in range(10)]
    out = list(chain.run(frames))
    assert len(out) == 10 and effect.batches == [4, 4, 2]
    assert out[0].image.max() == 255
