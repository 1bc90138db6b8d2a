"""Burned-in captions: layout inside the safe area, shown exactly during their cues, styles,
sample formats, and the commands (`moviola captions`, `moviola subtitle --burn`)."""

from __future__ import annotations

from fractions import Fraction as F
from typing import Any

import numpy as np
import pytest

from moviola.media.frame import StreamInfo
from moviola.media.probe import probe
from moviola.media.reader import VideoReader
from moviola.media.splice import frame_times
from moviola.pipeline import registry
from moviola.vision.captions import CaptionStyle, caption_band, draw_caption, layout
from tests.helpers import moviola_cli

SRT = "1\n00:00:01,000 --> 00:00:02,000\nHello there\n\n2\n00:00:02,500 --> 00:00:03,000\nBye\n"
LONG = "Of course. You don't judge a book by its cover or a person from the outside, do you?"


def _ink(image: np.ndarray, rows: slice) -> float:
    """Share of bright pixels in a band of rows (captions are white; the test clip is not)."""
    band = image[rows, :, :3].astype(np.float32)
    return float((band.min(axis=2) > 235).mean())


@pytest.mark.parametrize("size", [(160, 90), (1920, 1080), (90, 160)])
@pytest.mark.parametrize("style", ["outline", "box"])
def test_layout_stays_inside_the_safe_area(size, style):
    w, h = size
    s = CaptionStyle(style=style, position="bottom", margin=0.05)
    band, top = caption_band(LONG, w, h, s)
    assert band.shape[1] == w and top >= 0
    assert top + band.shape[0] <= round(h * 0.95) + 1  # above the bottom margin
    cols = np.nonzero(band[..., 3].max(axis=0) > 0)[0]
    if style == "outline":  # the text itself stays inside the side margins
        assert cols.min() >= int(w * 0.05) - 2 and cols.max() <= w - int(w * 0.05) + 2
    top_band, top_row = caption_band(LONG, w, h, CaptionStyle(style=style, position="top"))
    assert top_row == round(h * 0.05)


@pytest.mark.parametrize("dtype,scale", [(np.uint8, 255), (np.uint16, 65535), (np.float32, 1.0)])
def test_draw_caption_any_sample_format(dtype, scale):
    image = (np.full((120, 200, 4), 0.2, np.float32) * scale).astype(dtype)
    image[..., 3] = 0 if dtype != np.float32 else 0.0
    out = draw_caption(image, "Hello", CaptionStyle())
    assert out.dtype == image.dtype and out.shape == image.shape
    assert out[..., :3].max() > 0.9 * scale  # white text drawn
    assert out[..., 3].max() > 0.9 * scale  # opaque where drawn
    assert (out[:50] == image[:50]).all()  # nothing above the caption band


def test_two_lines_of_42_and_the_text_fills_the_width_it_may():
    lines, _, pixels, _ = layout(LONG[:55], 1920, 1080, CaptionStyle())
    assert len(lines) == 2 and all(len(line) <= 42 for line in lines)
    assert pixels == 54  # 0.05 of 1080: nothing to shrink
    lines, _, small, boxes = layout(LONG[:55], 160, 90, CaptionStyle())
    assert small == 8 and max(b[2] - b[0] for b in boxes) <= 160 * 0.9
    assert layout("one\ntwo", 640, 360, CaptionStyle())[0] == ["one", "two"]  # breaks kept


def test_outline_leaves_the_background_box_darkens_it():
    image = np.full((360, 640, 3), 200, np.uint8)
    outline = draw_caption(image, "Hello there", CaptionStyle(style="outline"))
    box = draw_caption(image, "Hello there", CaptionStyle(style="box"))
    rows = np.nonzero((outline != image).any(axis=(1, 2)))[0]
    assert rows.min() > 360 * 0.75 and rows.max() < 360 * 0.95  # in the bottom of the safe area
    changed = (box != image).any(axis=2)
    assert changed.sum() > 2 * (outline != image).any(axis=2).sum()  # the box is filled
    backing = box[changed][:, 0]
    assert (backing < 100).mean() > 0.5  # most of the box is the dark backing (200 -> ~75)
    assert (outline[outline[..., 0] > 250]).size and (box[box[..., 0] > 250]).size  # white text


def _effect(tmp_path, srt: str, **values) -> Any:  # a Captions (register() keeps no subclass)
    (tmp_path / "c.srt").write_text(srt)
    effect = registry.create("captions", subtitles=str(tmp_path / "c.srt"), **values)
    assert effect.name == "captions"
    effect.validate()
    effect.configure(StreamInfo(width=320, height=180, rate=F(25), time_base=F(1, 25)))
    return effect


def _cue(i: int, a: str, b: str, text: str) -> str:
    return f"{i}\n00:00:{a} --> 00:00:{b}\n{text}\n"


def test_a_cue_too_long_for_two_lines_shows_in_consecutive_parts(tmp_path):
    effect = _effect(tmp_path, _cue(1, "01,000", "05,000", LONG + " " + LONG))
    parts = [effect.showing(F(t, 10)) for t in range(10, 50)]
    assert all(len(p) == 1 for p in parts) and not effect.showing(F(5))
    texts = list(dict.fromkeys(p[0].text for p in parts))
    assert len(texts) >= 3  # 170 characters: three parts or more, in order
    assert " ".join(texts).split() == (LONG + " " + LONG).split()
    for text in texts:
        lines = text.split("\n")
        assert len(lines) <= 2 and all(len(line) <= 42 for line in lines)


def test_overlapping_cues_are_found_exactly(tmp_path):
    """A long cue under many short ones (more than any fixed look-back) is still shown, and
    every cue holds from its start up to, not including, its end."""
    words = [_cue(i + 2, f"{i:02d},000", f"{i:02d},500", f"word {i}") for i in range(1, 25)]
    srt = "\n".join([_cue(1, "00,000", "30,000", "Sign on the wall"), *words])
    effect = _effect(tmp_path, srt)
    assert [c.text for c in effect.showing(F(20, 1))] == ["Sign on the wall", "word 20"]
    assert [c.text for c in effect.showing(F(41, 2))] == ["Sign on the wall"]  # 20.5: ended
    assert effect.showing(F(30)) == [] and len(effect.showing(F(0))) == 1


def test_captions_effect_shows_each_cue_during_its_time(clips, tmp_path):
    srt = tmp_path / "s.srt"
    srt.write_text(SRT)
    out = tmp_path / "cap.mkv"
    r = moviola_cli("captions", clips["ntsc"], "-o", out, "--subtitles", srt, "--style", "box")
    assert r.returncode == 0, r.stderr
    src, got = probe(clips["ntsc"]), probe(out)
    assert len(got.audio) == 1 and len(frame_times(out)[0]) == len(frame_times(clips["ntsc"])[0])
    assert src.video[0].width == got.video[0].width
    band = slice(int(got.video[0].height * 0.6), int(got.video[0].height * 0.95))
    with VideoReader(out) as reader:
        inked = [(float(f.time), _ink(f.image, band)) for f in reader]
    on = [t for t, ink in inked if 0.0008 < ink < 0.5]  # the clip's own white flashes are ~1
    assert on, "no caption drawn"
    # shown from 1.0 to 2.0 s and from 2.5 to 3.0 s, never outside (one frame of slack)
    assert all(0.96 <= t < 2.04 or 2.46 <= t < 3.04 for t in on)
    assert any(1.0 <= t < 1.1 for t in on) and any(2.9 <= t < 3.0 for t in on)
    assert sum(1.0 <= t < 2.0 for t in on) >= 28  # every frame of the first cue but the flash


def test_captions_follow_the_source_after_a_start(clips, tmp_path):
    """With --start 1, the cue at 1..2 s of the source shows in the first second of the output."""
    srt = tmp_path / "s.srt"
    srt.write_text(SRT)
    out = tmp_path / "late.mp4"
    r = moviola_cli("captions", clips["ntsc"], "-o", out, "--subtitles", srt, "--start", "1")
    assert r.returncode == 0, r.stderr
    with VideoReader(out) as reader:
        h = reader.stream_info.height
        inked = [(float(f.time), _ink(f.image, slice(int(h * 0.6), int(h * 0.95)))) for f in reader]
    on = [t for t, ink in inked if 0.0008 < ink < 0.5]
    assert on and min(on) < 0.1 and all(t < 1.04 or 1.46 <= t < 2.04 for t in on)


def test_bad_subtitles_and_burn_command(clips, tmp_path):
    bad = tmp_path / "bad.srt"
    bad.write_text(SRT.replace("00:00:02,500", "00:00:0x,500"))
    r = moviola_cli("captions", clips["ntsc"], "-o", tmp_path / "x.mp4", "--subtitles", bad)
    assert r.returncode == 2 and "bad.srt line 6" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.mp4").exists()
    srt = tmp_path / "s.srt"
    srt.write_text(SRT)
    out = tmp_path / "burned.mp4"
    r = moviola_cli("subtitle", clips["ntsc"], "-o", out, "--from", srt, "--burn", "--size", "0.08")
    assert r.returncode == 0, r.stderr
    info = probe(out)
    assert info.subtitles == [] and len(info.audio) == 1  # drawn, not a track
    assert F(info.video[0].rate) == F(30000, 1001)


def test_captions_follow_the_source_through_the_python_api(clips, tmp_path):
    """moviola.open(start=1).frames(): the cue at 1..2 s of the source is on the first frames."""
    import moviola

    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nHello there\n")
    clip = moviola.open(clips["ntsc"], start=1).apply("captions", subtitles=str(srt))
    on = []
    for f in clip.frames():
        h = f.image.shape[0]
        ink = float((f.image[int(h * 0.6) : int(h * 0.95), :, :3].min(axis=2) > 235).mean())
        if 0.0008 < ink < 0.5:
            on.append(float(f.time))
    assert on and min(on) < 0.05 and max(on) < 1.0
