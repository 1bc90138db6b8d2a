"""`moviola split`: one file per shot, stream copied where the shot starts on a keyframe and its
packets stand alone, else re-encoded; exact frame counts, audio in sync."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import pytest
from helpers import moviola_cli
from shot_edit import make_edit

from moviola.analysis.model import Shot, ShotList
from moviola.analysis.split import keyframes, split
from moviola.errors import MoviolaError
from moviola.media import VideoReader


@pytest.fixture(scope="module")
def sources(real_footage, megamind):
    return [(real_footage, 0, 20), (megamind, 100, 25), (megamind, 200, 15)]


@pytest.fixture(scope="module")
def keyed(tmp_path_factory, sources) -> ShotList:
    """An edit with an IDR frame at every cut (and B-frames within the shots)."""
    return make_edit(tmp_path_factory.mktemp("keyed") / "keyed.mp4", sources)


@pytest.fixture(scope="module")
def unkeyed(tmp_path_factory, sources) -> ShotList:
    """The same edit with one keyframe only, at frame 0."""
    return make_edit(
        tmp_path_factory.mktemp("unkeyed") / "unkeyed.mp4", sources, keyframes_at_cuts=False
    )


def _frames(path) -> list[np.ndarray]:
    with VideoReader(path) as reader:
        return [f.image for f in reader]


def _click_time(path) -> float:
    """Time of the first loud sample of the audio (the click laid on each cut)."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        rate = stream.codec_context.sample_rate
        n = 0
        for frame in c.decode(stream):
            data = frame.to_ndarray().reshape(-1, frame.samples)[0].astype(np.float32)
            if data.dtype != np.float32 or np.abs(data).max() > 2:
                data = data / 32768.0
            loud = np.nonzero(np.abs(data) > 0.5)[0]
            if len(loud):
                return (n + loud[0]) / rate
            n += frame.samples
    return float("inf")


def _audio_seconds(path) -> float:
    with av.open(str(path)) as c:
        return sum(f.samples for f in c.decode(audio=0)) / c.streams.audio[0].sample_rate


def _check_parts(parts, shots: ShotList):
    source = _frames(shots.source)
    assert [p.shot for p in parts] == [s.index for s in shots.shots]
    for part, shot in zip(parts, shots.shots, strict=True):
        assert part.path.name == f"{shots.source.rsplit('/', 1)[-1][:-4]}-shot{shot.index:03d}.mp4"
        frames = _frames(part.path)
        assert len(frames) == shot.frames == part.frames
        # the first and last frames are the shot's (lossless copy, or a close re-encode)
        tol = 0 if part.mode == "copy" else 6
        for got, want in (
            (frames[0], source[shot.start_frame]),
            (frames[-1], source[shot.end_frame]),
        ):
            assert np.abs(got.astype(int) - want.astype(int)).mean() <= tol
        assert part.audio
        seconds = float(shot.frames / shots.rate)
        assert abs(_audio_seconds(part.path) - seconds) < 0.05
        if shot.index > 1:  # a click on every cut: at the start of the part, in sync
            assert _click_time(part.path) < 0.03, part
        else:
            assert _click_time(part.path) > seconds - 0.03


def test_keyframes_are_read_from_packets(keyed, unkeyed):
    assert keyframes(keyed.source) == [0, 20, 45]
    assert keyframes(unkeyed.source) == [0]


def test_stream_copy_where_cuts_fall_on_keyframes(keyed, tmp_path):
    parts = split(keyed.source, keyed, tmp_path)
    assert [p.mode for p in parts] == ["copy"] * 3
    _check_parts(parts, keyed)
    with av.open(str(parts[1].path)) as c:
        assert c.streams.video[0].codec_context.name == "h264"


def test_reencode_where_they_do_not(unkeyed, tmp_path):
    parts = split(unkeyed.source, unkeyed, tmp_path)
    # shot 1 starts on the keyframe, but B-frames of its last frames need the next shot's
    # packets: it cannot stand alone either
    assert [p.mode for p in parts] == ["re-encode"] * 3
    _check_parts(parts, unkeyed)


def test_copy_and_reencode_in_one_split(tmp_path, sources):
    shots = make_edit(tmp_path / "mixed.mp4", sources, keyframes_at_cuts={0, 2})
    assert keyframes(shots.source) == [0, 45]
    parts = split(shots.source, shots, tmp_path / "parts")
    assert [p.mode for p in parts][1:] == ["re-encode", "copy"]
    _check_parts(parts, shots)


def test_forced_reencode(keyed, tmp_path):
    parts = split(keyed.source, keyed, tmp_path, reencode=True)
    assert [p.mode for p in parts] == ["re-encode"] * 3
    assert [len(_frames(p.path)) for p in parts] == [20, 25, 15]


def test_packed_b_frame_avi(megamind, tmp_path):
    """Megamind.avi: MPEG-4 with packed B-frames and AC-3 audio; its packets do not give frame
    numbers, so every part is re-encoded, frame-exact."""
    with VideoReader(megamind) as reader:
        rate = reader.stream_info.rate
        total = sum(1 for _ in reader)
    shots = ShotList(
        str(megamind),
        rate,
        720,
        528,
        total,
        [Shot(1, 0, 9, Fraction(0), 10 / rate), Shot(2, 10, 31, 10 / rate, 32 / rate)],
    )
    parts = split(megamind, shots, tmp_path, ext="mkv")
    assert [p.mode for p in parts] == ["re-encode"] * 2
    assert [len(_frames(p.path)) for p in parts] == [10, 22]
    source = _frames(megamind)[:32]
    got = _frames(parts[1].path)[0]
    assert np.abs(got.astype(int) - source[10].astype(int)).mean() < 6
    assert all(p.audio for p in parts)
    assert abs(_audio_seconds(parts[1].path) - float(22 / rate)) < 0.05


def test_bad_shot_lists(keyed, tmp_path):
    shots = ShotList(
        keyed.source,
        keyed.rate,
        320,
        240,
        60,
        [Shot(1, 0, 30, Fraction(0), Fraction(1)), Shot(2, 20, 59, Fraction(1), Fraction(2))],
    )
    with pytest.raises(MoviolaError, match="not in order"):
        split(keyed.source, shots, tmp_path / "out")
    with pytest.raises(MoviolaError, match="empty"):
        split(keyed.source, ShotList(keyed.source, keyed.rate, 320, 240, 60, []), tmp_path)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_cli(keyed, tmp_path):
    shots_json = tmp_path / "shots.json"
    shots_json.write_text(keyed.to_json())
    r = moviola_cli(
        "split", keyed.source, "--shots", shots_json, "-o", tmp_path / "parts", "--json"
    )
    assert r.returncode == 0, r.stderr
    parts = json.loads(r.stdout)
    assert [p["mode"] for p in parts] == ["copy"] * 3
    assert [p["frames"] for p in parts] == [20, 25, 15]
    r = moviola_cli(
        "split",
        keyed.source,
        "--shots",
        shots_json,
        "-o",
        tmp_path / "re",
        "--reencode",
        "--ext",
        "mkv",
    )
    assert r.returncode == 0, r.stderr
    assert "0 stream copied, 3 re-encoded" in r.stdout
    assert len(list((tmp_path / "re").glob("keyed-shot00?.mkv"))) == 3
    r = moviola_cli("split", tmp_path / "missing.mp4", "-o", tmp_path / "x", "--shots", shots_json)
    assert r.returncode == 2 and "input not found" in r.stderr
