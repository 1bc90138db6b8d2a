"""Exports of a shot list: EDL, OTIO, FCPXML, FCP 7 XML, CSV, JSON, contact sheet, HTML.

The shots are those of a small real-footage edit (segments of vtest.avi and Megamind.avi cut
together at 30000/1001), so that the timelines point at a real file and the pictures show it.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import moviola_cli
from shot_edit import make_edit

from moviola.analysis import export as E
from moviola.analysis.model import Shot, ShotList
from moviola.errors import MoviolaError
from moviola.media import VideoReader

otio = pytest.importorskip("opentimelineio")
NTSC = Fraction(30000, 1001)


@pytest.fixture(scope="module")
def edit(tmp_path_factory, real_footage, megamind) -> ShotList:
    path = tmp_path_factory.mktemp("export") / "edit.mp4"
    shots = make_edit(path, [(real_footage, 0, 20), (megamind, 100, 25), (megamind, 200, 15)])
    shots.shots[1].extra.update(
        {
            "scale": "close-up",
            "people": 1,
            "tags": ["face", "night"],
            "summary": "close-up of a face <at night>",
        }
    )
    shots.shots[2].transition = "dissolve"
    shots.shots[2].transition_frames = 4
    return shots


def _long_ntsc(source="/nonexistent/long.mov") -> ShotList:
    """Cuts at frames 1800 (00:01:00;02, the first dropped numbers) and 17982 (00:10:00;00)."""
    cuts = [(0, 1799), (1800, 17981), (17982, 18099)]
    shots = [Shot(i + 1, a, b, a / NTSC, (b + 1) / NTSC, "cut") for i, (a, b) in enumerate(cuts)]
    return ShotList(source, NTSC, 1920, 1080, 18100, shots, "hand", audio=False)


def _frames(t) -> int:
    return round(t.value)


def test_format_from_extension():
    assert E.infer_format("a.EDL") == "edl"
    assert E.infer_format("a.jpg") == "contact"
    assert E.infer_format("a.txt", "otio") == "otio"
    with pytest.raises(MoviolaError, match="extension"):
        E.infer_format("a.txt")
    with pytest.raises(MoviolaError, match="unknown export format"):
        E.infer_format("a.edl", "aaf")


def test_edl_text_drop_frame_timecodes(tmp_path):
    out = E.export(_long_ntsc(), tmp_path / "long.edl")
    text = out.read_text()
    assert "FCM: DROP FRAME" in text
    events = [line.split() for line in text.splitlines() if re.match(r"^\d{3}\s", line)]
    assert [e[0] for e in events] == ["001", "002", "003"]
    assert all(e[2] == "V" and e[3] == "C" for e in events)  # no audio in this source
    assert events[0][4:] == ["00:00:00;00", "00:01:00;02"] * 2
    assert events[1][4:] == ["00:01:00;02", "00:10:00;00"] * 2
    assert events[2][4:] == ["00:10:00;00", "00:10:03;28"] * 2
    assert not list(tmp_path.glob(".*part*"))  # the temporary file was renamed


def test_edl_non_drop_at_25(tmp_path):
    shots = _long_ntsc()
    shots.rate = Fraction(25)
    text = E.export(shots, tmp_path / "pal.edl").read_text()
    assert "FCM: NON-DROP FRAME" in text and ";" not in text
    first = [line for line in text.splitlines() if line.startswith("002")][0].split()
    assert first[4:6] == ["00:01:12:00", "00:11:59:07"]  # frames 1800 and 17982 at 25 fps


def test_edl_of_real_edit(edit, tmp_path):
    out = E.export(edit, tmp_path / "edit.edl")
    text = out.read_text()
    lines = text.splitlines()
    events = [line.split() for line in lines if re.match(r"^\d{3}\s", line)]
    assert len(events) == 3
    assert all(e[2] == "B" for e in events)  # video and audio
    assert events[1][4:] == ["00:00:00;20", "00:00:01;15", "00:00:00;20", "00:00:01;15"]
    assert "* FROM CLIP NAME:  edit.mp4" in text
    assert "CLOSE-UP OF A FACE <AT NIGHT>" in text  # the description as a LOC marker
    back = otio.adapters.read_from_file(str(out), rate=float(NTSC))
    video = back.video_tracks()[0]
    clips = list(video.find_clips())
    assert [_frames(c.source_range.start_time) for c in clips] == [0, 20, 45]
    assert [_frames(c.source_range.duration) for c in clips] == [20, 25, 15]
    assert back.audio_tracks(), "'B' events come back with an audio track"


def test_otio_timeline(edit, tmp_path):
    out = E.export(edit, tmp_path / "edit.otio")
    tl = otio.adapters.read_from_file(str(out))
    assert [t.kind for t in tl.tracks] == ["Video", "Audio"]
    for track in tl.tracks:
        clips = list(track.find_clips())
        assert [c.name for c in clips] == ["edit shot 001", "edit shot 002", "edit shot 003"]
        assert [_frames(c.source_range.duration) for c in clips] == [20, 25, 15]
        assert [_frames(c.source_range.start_time) for c in clips] == [0, 20, 45]
        for clip in clips:
            rate = clip.source_range.duration.rate
            assert Fraction(rate).limit_denominator(10_000) == NTSC
            ref = clip.media_reference
            assert ref.target_url == Path(edit.source).resolve().as_uri()
            assert _frames(ref.available_range.duration) == 60
    assert _frames(tl.duration()) == 60
    assert tl.metadata["moviola"]["rate"] == "30000/1001"
    clip2 = list(tl.video_tracks()[0].find_clips())[1]
    assert clip2.metadata["moviola"]["scale"] == "close-up"
    assert clip2.markers[0].name.startswith("close-up of a face")
    clip3 = list(tl.video_tracks()[0].find_clips())[2]
    assert clip3.metadata["moviola"]["transition"] == "dissolve"


def test_source_start_timecode_is_kept(tmp_path):
    import av

    path = tmp_path / "tc.mov"
    out = av.open(str(path), "w")
    out.metadata["timecode"] = "01:00:00;00"
    s = out.add_stream("mpeg4", rate=NTSC)
    s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
    for i in range(3):
        f = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
        f.pts = i
        for p in s.encode(f.reformat(format="yuv420p")):
            out.mux(p)
    for p in s.encode(None):
        out.mux(p)
    out.close()
    assert E.source_timecode(path, NTSC) in (0, 107892)  # 01:00:00;00 is frame 107892
    if E.source_timecode(path, NTSC) == 0:
        pytest.skip("this FFmpeg did not write the timecode tag")
    shots = ShotList(str(path), NTSC, 64, 48, 3, [Shot(1, 0, 2, Fraction(0), 3 / NTSC)])
    text = E.export(shots, tmp_path / "tc.edl").read_text()
    assert "01:00:00;00 01:00:00;03 00:00:00;00 00:00:00;03" in text


def test_fcpxml(edit, tmp_path):
    out = E.export(edit, tmp_path / "edit.fcpxml")
    root = ET.parse(out).getroot()
    assert root.tag == "fcpxml"
    fmt = root.find("resources/format")
    assert fmt.get("frameDuration") == "1001/30000s"
    assert (fmt.get("width"), fmt.get("height")) == ("320", "240")
    asset = root.find("resources/asset")
    assert asset.get("src") == Path(edit.source).resolve().as_uri()
    assert asset.get("hasAudio") == "1" and asset.get("duration") == "1001/500s"  # 60 frames
    clips = root.findall(".//spine/asset-clip")
    frame = Fraction(1001, 30000)

    def t(value):
        return Fraction(value.rstrip("s"))

    assert [t(c.get("duration")) / frame for c in clips] == [20, 25, 15]
    assert [t(c.get("offset")) / frame for c in clips] == [0, 20, 45]
    assert [t(c.get("start")) / frame for c in clips] == [0, 20, 45]
    assert clips[1].find("note").text == "close-up of a face <at night>"


def test_fcpxml_reads_back_through_the_adapter(tmp_path):
    # The adapter reads rates as whole numbers (29.97 becomes 29), so read back at 25 fps.
    shots = _long_ntsc()
    shots.rate = Fraction(25)
    out = E.export(shots, tmp_path / "pal.fcpxml")
    tl = otio.adapters.read_from_file(str(out))
    clips = list(tl.find_clips())
    assert [_frames(c.source_range.duration) for c in clips] == [1800, 16182, 118]
    assert [_frames(c.source_range.start_time) for c in clips] == [0, 1800, 17982]


def test_fcp7_xml(edit, tmp_path):
    out = E.export(edit, tmp_path / "edit.xml")
    root = ET.parse(out).getroot()
    assert root.tag == "xmeml"
    assert root.find(".//sequence/rate/timebase").text == "30"
    assert root.find(".//sequence/rate/ntsc").text == "TRUE"
    tl = otio.adapters.read_from_file(str(out))
    for track in tl.tracks:
        assert [_frames(c.source_range.duration) for c in track.find_clips()] == [20, 25, 15]


def test_csv_and_json(edit, tmp_path):
    rows = list(csv.DictReader(E.export(edit, tmp_path / "s.csv").open()))
    assert len(rows) == 3
    assert list(rows[0])[:11] == list(E.BASE_COLUMNS)
    assert {"scale", "people", "tags", "summary"} <= set(rows[0])
    assert [r["start_timecode"] for r in rows] == ["00:00:00;00", "00:00:00;20", "00:00:01;15"]
    assert [int(r["frames"]) for r in rows] == [20, 25, 15]
    assert rows[1]["tags"] == "face; night" and rows[0]["scale"] == ""
    assert rows[2]["transition"] == "dissolve" and rows[2]["transition_frames"] == "4"
    data = json.loads(E.export(edit, tmp_path / "s.json").read_text())
    assert data["rate"] == "30000/1001" and len(data["shots"]) == 3
    back = ShotList.load(tmp_path / "s.json")
    assert [(s.start_frame, s.end_frame) for s in back.shots] == [(0, 19), (20, 44), (45, 59)]
    assert back.shots[1].extra["tags"] == ["face", "night"]


def _decoded(path, index):
    with VideoReader(path) as reader:
        for n, frame in enumerate(reader):
            if n == index:
                return frame.image
    raise AssertionError(index)


def test_contact_sheet_one_cell_per_shot(edit, tmp_path):
    out = E.export(edit, tmp_path / "sheet.png", columns=2, width=160)
    sheet = cv2.imread(str(out))[..., ::-1]
    tw, th = 160, 120
    label, pad = 18, 6
    cell_w, cell_h = tw + pad, th + label + pad
    assert sheet.shape[1] == 2 * cell_w + pad
    assert sheet.shape[0] == label + pad + 2 * cell_h + pad
    for i, frame in enumerate(E.thumbnail_frames(edit)):
        r, c = divmod(i, 2)
        x, y = pad + c * cell_w, label + pad + r * cell_h
        cell = sheet[y : y + th, x : x + tw].astype(np.float32)
        expected = cv2.resize(
            _decoded(edit.source, frame), (tw, th), interpolation=cv2.INTER_AREA
        ).astype(np.float32)
        # the dissolve badge covers a corner of shot 3: compare the left half
        assert np.abs(cell[:, : tw // 2] - expected[:, : tw // 2]).mean() < 2, i
        others = [E.thumbnail_frames(edit)[j] for j in range(3) if j != i]
        for other in others:  # and it is not another shot's picture
            wrong = cv2.resize(
                _decoded(edit.source, other), (tw, th), interpolation=cv2.INTER_AREA
            ).astype(np.float32)
            assert np.abs(cell - wrong).mean() > 10
    empty = sheet[label + pad + cell_h :, pad + cell_w :]  # the fourth cell: nothing there
    assert empty.max() == 24


def test_html_report(edit, tmp_path):
    out = E.export(edit, tmp_path / "report.html")
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>")
    for shot in edit.shots:
        assert f'id="shot{shot.index}"' in text
    assert text.count('<img src="data:image/jpeg;base64,') == 3
    for tc in ("00:00:00;20", "00:00:01;14", "00:00:01;15"):
        assert tc in text
    assert "close-up of a face &lt;at night&gt;" in text and "<at night>" not in text
    assert "dissolve (4 frames)" in text
    out2 = E.export(edit, tmp_path / "files.html", embed=False)
    assert len(list((tmp_path / "files_files").glob("*.jpg"))) == 3
    assert 'src="files_files/shot001.jpg"' in out2.read_text()


def test_bad_shot_lists_and_targets(edit, tmp_path):
    bad = ShotList(
        edit.source,
        NTSC,
        320,
        240,
        60,
        [Shot(1, 0, 30, Fraction(0), Fraction(1)), Shot(2, 20, 59, Fraction(0), Fraction(2))],
    )
    with pytest.raises(MoviolaError, match="not in order"):
        E.export(bad, tmp_path / "x.edl")
    with pytest.raises(MoviolaError, match="does not exist"):
        E.export(edit, tmp_path / "missing" / "x.edl")
    assert not list(tmp_path.iterdir())


def test_cli(edit, tmp_path):
    shots_json = tmp_path / "shots.json"
    shots_json.write_text(edit.to_json())
    r = moviola_cli("export", edit.source, "--shots", shots_json, "-o", tmp_path / "cut.edl")
    assert r.returncode == 0, r.stderr
    assert "3 shots (edl)" in r.stdout
    assert (tmp_path / "cut.edl").read_text().count("* FROM CLIP NAME:") == 3
    r = moviola_cli(
        "export",
        edit.source,
        "--shots",
        shots_json,
        "-o",
        tmp_path / "t.txt",
        "--format",
        "otio",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["format"] == "otio"
    assert otio.adapters.read_from_file(str(tmp_path / "t.txt"), adapter_name="otio_json")
    r = moviola_cli("export", edit.source, "--shots", shots_json, "-o", tmp_path / "x.doc")
    assert r.returncode == 2 and "cannot tell the export format" in r.stderr
    r = moviola_cli(
        "export", edit.source, "--shots", tmp_path / "nope.json", "-o", tmp_path / "x.csv"
    )
    assert r.returncode == 2 and "shot list not found" in r.stderr
