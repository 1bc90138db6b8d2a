"""Audio stays in sync: the clicks stay on the flash frames through every timing change."""

from __future__ import annotations

import pytest

import moviola
from moviola.media import probe
from moviola.media.synth import click_times, flash_times

TOLERANCE = 0.021  # seconds: under one frame at 48 fps, and AAC frames are 21 ms


def assert_in_sync(path, expected_flashes, tolerance=TOLERANCE):
    flashes = flash_times(path)
    clicks = click_times(path)
    assert len(flashes) == len(expected_flashes), (flashes, expected_flashes)
    for got, want in zip(flashes, expected_flashes, strict=True):
        assert abs(got - want) <= 1 / 24, (flashes, expected_flashes)
    assert len(clicks) == len(flashes), (flashes, clicks)
    for f, c in zip(flashes, clicks, strict=True):
        assert abs(f - c) <= tolerance, (flashes, clicks)


FLASHES = [0.5005, 1.5015, 2.5025]


def test_source_is_in_sync(clips):
    assert_in_sync(clips["ntsc"], FLASHES)


@pytest.mark.parametrize(
    "steps,expected,out",
    [
        ([("resize", {"width": 160})], FLASHES, "a.mp4"),
        ([("fps", {"rate": "24000/1001"})], FLASHES, "b.mp4"),
        ([("fps", {"rate": "60000/1001"})], FLASHES, "c.mov"),
        ([("trim", {"start": "1", "end": "3"})], [0.5015, 1.5025], "d.mp4"),
        ([("speed", {"factor": 2})], [f / 2 for f in FLASHES], "e.mp4"),
        ([("speed", {"factor": "1/2"})], [f * 2 for f in FLASHES], "f.mkv"),
        (
            [("trim", {"start": "0.25"}), ("speed", {"factor": "3/2"}), ("fps", {"rate": 50})],
            [(f - 0.25) / 1.5 for f in FLASHES],
            "g.mp4",
        ),
        ([("resize", {"width": 128})], FLASHES, "h.webm"),
    ],
)
def test_effects_keep_audio_in_sync(clips, tmp_path, steps, expected, out):
    clip = moviola.open(clips["ntsc"])
    for name, params in steps:
        clip = clip.apply(name, **params)
    result = clip.save(tmp_path / out)
    assert result.audio in ("copied", "re-encoded")
    # Time-stretching (atempo) smears a click over its overlap window: onsets move by up to
    # ~25 ms, under one frame of the output.
    stretched = any(name == "speed" for name, _ in steps)
    assert_in_sync(tmp_path / out, expected, tolerance=0.030 if stretched else TOLERANCE)


def test_input_range_keeps_sync_and_length(clips, tmp_path):
    out = tmp_path / "range.mp4"
    moviola.open(clips["ntsc"], start="1.2", end="2.9").save(out)
    assert_in_sync(out, [1.5015 - 1.2, 2.5025 - 1.2])
    info = probe(out)
    assert abs(float(info.audio[0].duration) - 1.7) < 0.03
    assert abs(float(info.video[0].duration) - 1.7) < 0.04


def test_variable_rate_keeps_sync(clips, tmp_path):
    out = tmp_path / "vfr.mp4"
    moviola.open(clips["vfr"]).apply("resize", width=160).save(out)
    assert_in_sync(out, flash_times(clips["vfr"]))


def test_audio_copied_when_untouched_and_dropped_on_request(clips, tmp_path):
    result = moviola.open(clips["ntsc"]).apply("resize", width=64).save(tmp_path / "x.mp4")
    assert result.audio == "copied"
    result = (
        moviola.open(clips["ntsc"]).apply("resize", width=64).save(tmp_path / "y.mp4", audio=False)
    )
    assert result.audio == "dropped" and not probe(tmp_path / "y.mp4").audio
    result = moviola.open(clips["silent"]).apply("resize", width=64).save(tmp_path / "z.mp4")
    assert result.audio == "none"
