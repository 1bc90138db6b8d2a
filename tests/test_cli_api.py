"""The command line and the Python API, as a user calls them."""

from __future__ import annotations

import json
import re
import threading
from fractions import Fraction
from pathlib import Path

import pytest
from helpers import moviola_cli

import moviola
from moviola.cli import effects_markdown
from moviola.errors import MoviolaError
from moviola.pipeline import registry


def test_version_and_help():
    result = moviola_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("moviola ")
    for args in (["--help"], ["resize", "--help"], ["chain", "--help"], ["probe", "--help"]):
        result = moviola_cli(*args)
        assert result.returncode == 0 and "usage:" in result.stdout
    result = moviola_cli("resize", "--help")
    for option in ("--width", "--height", "--scale", "--fit", "--start", "--end", "--codec"):
        assert option in result.stdout


def test_probe_json(clips):
    result = moviola_cli("probe", clips["ntsc"], "--json")
    data = json.loads(result.stdout)
    assert data["video"][0]["rate"] == "30000/1001"
    assert data["audio"][0]["sample_rate"] == 48000
    text = moviola_cli("probe", clips["ntsc"]).stdout
    assert "30000/1001 fps" in text and "aac 48000 Hz" in text


def test_effects_listing_matches_declarations():
    data = json.loads(moviola_cli("effects", "--json").stdout)
    names = [e["name"] for e in data]
    assert {"resize", "trim", "fps", "speed"} <= set(names)
    resize = next(e for e in data if e["name"] == "resize")
    assert [p["name"] for p in resize["params"]] == [p.name for p in registry.get("resize").params]


def test_readme_effects_table_is_current():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    table = re.search(r"<!-- effects-table -->\n(.*?)\n<!-- /effects-table -->", readme, re.S)
    described = [e.describe() for e in registry.effects().values()]
    assert table and table.group(1).strip() == effects_markdown(described), (
        "README effects table is stale: paste `moviola effects --markdown`"
    )


def test_chain_command(clips, tmp_path):
    out = tmp_path / "c.mp4"
    result = moviola_cli(
        "chain", clips["ntsc"], "-o", out, "resize:width=160", "fps:rate=24000/1001", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["frames_out"] == 72 and data["width"] == 160 and data["rate"] == "24000/1001"
    assert data["audio"] == "copied"
    info = moviola.probe(out)
    assert info.video[0].rate == Fraction(24000, 1001) and info.audio


def test_effect_command_with_range(clips, tmp_path):
    out = tmp_path / "r.mp4"
    result = moviola_cli(
        "resize", clips["ntsc"], "-o", out, "--width", "100", "--start", "1", "--end", "2"
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"wrote .*r\.mp4: 30 frames 100x76", result.stdout)


def test_api_clip_is_immutable_and_validates_early(clips):
    clip = moviola.open(clips["ntsc"])
    resized = clip.apply("resize", width=64)
    assert clip.steps == () and len(resized.steps) == 1
    with pytest.raises(MoviolaError):
        clip.apply("resize", width="wide")
    frames = list(resized.trim(0, 0.5).frames())
    assert len(frames) == 15 and frames[0].image.shape == (48, 64, 3)
    assert clip.info.video[0].frames == 90


def test_progress_events_and_cancel(clips, tmp_path):
    events = []
    moviola.open(clips["ntsc"]).apply("resize", width=64).save(
        tmp_path / "p.mp4", progress=events.append
    )
    assert events[-1].done and events[-1].frames == 90
    cancel = threading.Event()

    def stop(progress):
        cancel.set()

    slow = moviola.open(clips["ntsc"]).apply("resize", width=1920)
    with pytest.raises(MoviolaError, match="cancelled"):
        slow.save(tmp_path / "cancelled.mp4", progress=stop, cancel=cancel, preset="slow")
    assert not (tmp_path / "cancelled.mp4").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["p.mp4"]
