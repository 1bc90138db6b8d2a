"""Probe, reader and writer on generated clips."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import pytest

import moviola
from moviola.errors import MoviolaError
from moviola.media import VideoReader, probe
from moviola.media.writer import resolve_target


def test_probe_exact_rate_and_streams(clips):
    info = probe(clips["ntsc"])
    v = info.video[0]
    assert v.rate == Fraction(30000, 1001)
    assert v.frames == 90
    assert (v.width, v.height) == (320, 240)
    assert not v.variable_rate
    assert v.bit_depth == 8 and v.pix_fmt == "yuv420p"
    a = info.audio[0]
    assert a.codec == "aac" and a.sample_rate == 48000 and a.channels == 1
    assert abs(float(a.duration) - 3.0) < 0.05
    d = json.loads(json.dumps(info.to_dict()))
    assert d["video"][0]["rate"] == "30000/1001"


def test_probe_flags_variable_rate_rotation_depth_alpha(clips):
    assert probe(clips["vfr"]).video[0].variable_rate
    assert probe(clips["rotated"]).video[0].rotation == 90
    ten = probe(clips["tenbit"]).video[0]
    assert ten.bit_depth == 10 and ten.pix_fmt == "yuv420p10le"
    assert probe(clips["alpha"]).video[0].has_alpha


def test_reader_timestamps_are_exact(clips):
    with VideoReader(clips["ntsc"]) as reader:
        frames = list(reader)
    assert len(frames) == 90
    assert [f.time for f in frames] == [i * Fraction(1001, 30000) for i in range(90)]
    assert all(f.duration == Fraction(1001, 30000) for f in frames)
    assert frames[0].image.shape == (240, 320, 3) and frames[0].image.dtype == np.uint8


def test_reader_trim_is_frame_exact(clips):
    tick = Fraction(1001, 30000)
    with VideoReader(clips["ntsc"], start="1.0", end="2.0") as reader:
        frames = list(reader)
    # frames with source time in [1.0, 2.0): indices 30..59 (30*1001/30000 = 1.001)
    assert len(frames) == 30
    assert frames[0].time == 30 * tick - 1
    with VideoReader(clips["ntsc"], start=30 * tick, end=40 * tick) as reader:
        frames = list(reader)
    assert len(frames) == 10 and frames[0].time == 0
    assert frames[-1].time + frames[-1].duration == 10 * tick


def test_reader_applies_rotation(clips):
    with VideoReader(clips["rotated"]) as reader:
        frame = next(iter(reader))
        assert reader.stream_info.width == 96 and reader.stream_info.height == 160
    assert frame.image.shape == (160, 96, 3)
    with VideoReader(clips["rotated"], autorotate=False) as reader:
        assert next(iter(reader)).image.shape == (96, 160, 3)


def test_reader_odd_size_and_ten_bit(clips):
    with VideoReader(clips["odd"]) as reader:
        assert next(iter(reader)).image.shape == (91, 161, 3)
    with VideoReader(clips["tenbit"], dtype="float32") as reader:
        image = next(iter(reader)).image
    assert image.dtype == np.float32 and image.min() >= 0 and image.max() <= 1
    # 10-bit precision survives: more distinct levels than 8 bits could give
    assert len(np.unique(np.round(image[..., 1] * 65535))) > 256


def test_reader_alpha(clips):
    with VideoReader(clips["alpha"]) as reader:
        image = next(iter(reader)).image
    assert image.shape[2] == 4
    assert image[:, :100, 3].max() < 10 and image[:, 200:, 3].min() > 245


@pytest.mark.parametrize(
    "name,codec_name,pix_fmt",
    [
        ("out.mp4", "h264", "yuv420p"),
        ("out.mkv", "h264", "yuv420p"),
        ("out.webm", "vp9", "yuv420p"),
        ("h265.mp4", "hevc", "yuv420p"),
        ("prores.mov", "prores", "yuv422p10le"),
        ("av1.mkv", "av1", None),
        ("lossless.mkv", "ffv1", "bgr0"),
        ("anim.gif", "gif", None),
    ],
)
def test_writer_formats(clips, tmp_path, name, codec_name, pix_fmt):
    codec = {
        "h265.mp4": "h265",
        "prores.mov": "prores",
        "av1.mkv": "av1",
        "lossless.mkv": "ffv1",
    }.get(name)
    out = tmp_path / name
    clip = moviola.open(clips["ntsc"], end=1).apply("resize", width=96)
    result = clip.save(out, codec=codec)
    assert result.frames_out == 30
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name in (codec_name, "lib" + codec_name, "libdav1d")
        if pix_fmt:
            assert stream.codec_context.pix_fmt == pix_fmt
        assert stream.codec_context.width == 96
    assert not list(tmp_path.glob(".*part*")), "temporary file left behind"


def test_writer_animated_webp(clips, tmp_path):
    out = tmp_path / "anim.webp"
    moviola.open(clips["ntsc"], end=1).apply("resize", width=96).save(out)
    data = out.read_bytes()
    # FFmpeg cannot decode animated WebP: check the RIFF structure instead
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert b"ANIM" in data and data.count(b"ANMF") == 30


def test_writer_lossless_ffv1_is_exact(clips, tmp_path):
    out = tmp_path / "exact.mkv"
    moviola.open(clips["ntsc"], end=0.5).save(out, codec="ffv1")
    with VideoReader(clips["ntsc"], end=0.5) as a, VideoReader(out) as b:
        for fa, fb in zip(a, b, strict=True):
            assert np.array_equal(fa.image, fb.image)


@pytest.mark.parametrize(
    "name,codec", [("alpha.mov", None), ("alpha.webm", None), ("alpha.mkv", None)]
)
def test_writer_keeps_alpha(clips, tmp_path, name, codec):
    out = tmp_path / name
    moviola.open(clips["alpha"], end=0.5).save(out, codec=codec)
    with VideoReader(out, alpha=True) as reader:
        image = next(iter(reader)).image
    assert image.shape[2] == 4
    assert image[:, :100, 3].max() < 20 and image[:, 200:, 3].min() > 235


def test_png_sequence_with_audio_beside(clips, tmp_path):
    out = tmp_path / "seq"
    result = moviola.open(clips["ntsc"], end=1).save(f"{out}/shot_%04d.png")
    assert result.audio == "re-encoded"
    assert len(list(out.glob("shot_*.png"))) == 30 and (out / "shot_0001.png").exists()
    info = probe(out / "audio.wav")
    assert info.audio[0].codec == "pcm_s16le"
    assert abs(float(info.audio[0].duration) - 1.0) < 0.01


def test_png_sequence(clips, tmp_path):
    out = tmp_path / "frames"
    moviola.open(clips["alpha"], end=0.2).save(str(out) + "/")
    files = sorted(out.glob("*.png"))
    assert len(files) == 6
    with av.open(str(files[0])) as c:
        frame = next(c.decode(video=0))
        assert frame.format.name in ("rgba", "rgba64be")


def test_variable_rate_is_preserved(clips, tmp_path):
    out = tmp_path / "vfr.mkv"
    moviola.open(clips["vfr"]).apply("resize", width=160).save(out)
    with VideoReader(clips["vfr"]) as a, VideoReader(out) as b:
        ta = [f.time for f in a]
        tb = [f.time for f in b]
    assert len(ta) == len(tb)
    assert max(abs(x - y) for x, y in zip(ta, tb, strict=True)) <= Fraction(1, 1000)
    assert probe(out).video[0].variable_rate


def test_color_tags_carry_over(tmp_path):
    src = tmp_path / "tagged.mp4"
    from moviola.media import synth

    synth.make_clip(src, duration=0.5, audio=False)
    # tag the source as full-range BT.709 by remuxing with x264 options
    tagged = tmp_path / "tagged709.mp4"
    synth.make_clip(tagged, duration=0.5, audio=False, pix_fmt="yuvj420p")
    out = tmp_path / "out.mp4"
    moviola.open(tagged).save(out)
    v_in, v_out = probe(tagged).video[0], probe(out).video[0]
    assert v_in.color_range == "pc" and v_out.color_range == "pc"
    # and colours survive the round trip through RGB
    with VideoReader(tagged) as a, VideoReader(out) as b:
        fa, fb = next(iter(a)).image.astype(int), next(iter(b)).image.astype(int)
    assert np.abs(fa - fb).mean() < 3


def test_odd_size_is_padded_for_yuv420(clips, tmp_path):
    out = tmp_path / "odd.mp4"
    moviola.open(clips["odd"], end=0.3).save(out)
    v = probe(out).video[0]
    assert (v.width, v.height) == (162, 92)
    out2 = tmp_path / "odd.mkv"
    moviola.open(clips["odd"], end=0.3).save(out2, codec="ffv1")
    v = probe(out2).video[0]
    assert (v.width, v.height) == (161, 91)


def test_resolve_target_errors(tmp_path):
    with pytest.raises(MoviolaError, match="unknown output format"):
        resolve_target(tmp_path / "x.xyz")
    with pytest.raises(MoviolaError, match="cannot hold"):
        resolve_target(tmp_path / "x.mp4", "prores")
    with pytest.raises(MoviolaError, match="unknown codec"):
        resolve_target(tmp_path / "x.mp4", "divx")


def test_container_tags_carry_over(clips, tmp_path):
    src = tmp_path / "tagged.mkv"
    with av.open(str(clips["ntsc"])) as i, av.open(str(src), "w") as o:
        o.metadata["title"] = "Night shoot, take 3"
        o.metadata["comment"] = "keep me"
        s = o.add_stream_from_template(i.streams.video[0])
        for p in i.demux(i.streams.video[0]):
            if p.size:
                p.stream = s
                o.mux(p)
    out = tmp_path / "out.mp4"
    moviola.open(src).apply("resize", width=64).save(out, metadata={"comment": "changed"})
    tags = {k.lower(): v for k, v in probe(out).tags.items()}
    assert tags["title"] == "Night shoot, take 3"
    assert tags["comment"] == "changed"
    assert tags["software"].startswith("moviola ")


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif"])
def test_still_image_in_and_out(tmp_path, ext):
    """A photo is a one-frame video; a .png/.jpg/.tif output holds that one frame."""
    src = tmp_path / "in.png"
    rng = np.random.default_rng(1)
    image = np.zeros((90, 120, 3), np.uint8)
    image[:, :60] = (200, 40, 30)
    image[:, 60:] = (20, 90, 220)
    image[40:50] += rng.integers(0, 20, (10, 120, 3), dtype=np.uint8)
    av_frame = av.VideoFrame.from_ndarray(image, format="rgb24")
    with av.open(str(src), "w", format="image2", options={"update": "1"}) as c:
        s = c.add_stream("png", rate=1)
        s.width, s.height, s.pix_fmt = 120, 90, "rgb24"
        for p in s.encode(av_frame):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    out = tmp_path / f"out{ext}"
    moviola.open(src).save(out)
    frames = list(VideoReader(out))
    assert len(frames) == 1
    error = np.abs(frames[0].image.astype(int) - image).mean()
    assert error < (0.01 if ext != ".jpg" else 3.0), error


def test_still_image_output_refuses_many_frames(clips, tmp_path):
    out = tmp_path / "one.png"
    with pytest.raises(MoviolaError, match="holds one image"):
        moviola.open(clips["silent"]).save(out)
    assert list(tmp_path.iterdir()) == []
