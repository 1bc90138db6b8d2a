"""Music for a clip in the studio: the music panel's choices, a listen job (the music alone, as
long as the clip), a render job (the clip with its music, and its MIDI file), the settings each
job records, and bad settings answered at once with one plain line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed")
pytest.importorskip("uvicorn", reason="the studio extra is not installed")
pytest.importorskip("fluidsynth", reason="pyfluidsynth is not installed")
pytest.importorskip("moviola.generate.score", reason="moviola score is not in this tree")

from studio_server import Studio  # noqa: E402
from test_montage import _shot_clip, _tint  # noqa: E402

from moviola.media import probe, synth  # noqa: E402

pytestmark = pytest.mark.skipif(
    not Path("/usr/share/sounds/sf2/FluidR3_GM.sf2").exists(),
    reason="needs Debian's fluid-soundfont-gm (scripts/setup.sh installs it)",
)
SHOT = 1.6  # seconds a shot


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A studio over a folder with an edit of three hard-cut shots (no sound) and a clip with
    a sound track."""
    media = tmp_path_factory.mktemp("media")
    _shot_clip(media / "edit.mp4", [_tint(40, 0), _tint(120, 1), _tint(200, 2)], SHOT, 3)
    synth.make_clip(media / "talk.mp4", width=160, height=96, duration=3.0, flashes=(1.0, 2.0))
    synth.make_clip(media / "tiny.mp4", width=64, height=48, duration=0.6, flashes=())
    _shot_clip(media / "long.mp4", [_tint(60 + 20 * (i % 6), i % 3) for i in range(12)], 2.5, 4)
    data = tmp_path_factory.mktemp("studio") / "data"
    with Studio(data, [media]) as server:
        yield server


def _root(server) -> str:
    return next(r["id"] for r in server.json("GET", "/api/media")["roots"] if r["id"] != "uploads")


def _seconds(path: Path) -> float:
    duration = probe(path).duration
    assert duration is not None
    return float(duration)


def _score(server, clip: str, **settings) -> dict:
    job = server.json(
        "POST",
        "/api/jobs",
        {"kind": "score", "input": f"{_root(server)}/{clip}", **settings},
        expect=201,
    )
    assert job["kind"] == "score" and job["status"] == "queued"
    return server.wait_job(job["id"], timeout=90)


def _download(server, job: dict, tmp_path: Path, route: str = "result") -> Path:
    status, headers, body = server.request("GET", f"/api/jobs/{job['id']}/{route}")
    assert status == 200 and "attachment" in headers["content-disposition"]
    out = tmp_path / headers["content-disposition"].rpartition("''")[2]
    out.write_bytes(body)
    return out


def test_the_panel_offers_moods_and_instruments_with_descriptions(studio):
    options = studio.json("GET", "/api/music")
    assert options["available"] is True
    moods = {m["name"]: m for m in options["moods"]}
    assert {"calm", "tense", "happy", "sad", "epic"} <= set(moods)
    assert all(m["description"] and m["style"] for m in moods.values())
    styles = {s["name"] for s in options["styles"]}
    assert moods["calm"]["style"] in styles and all(s["description"] for s in options["styles"])
    assert options["tempo_range"] == [40, 220] and "m4a" in options["listen_formats"]
    # The panel's script is served, and loads nothing from elsewhere.
    status, _, script = studio.request("GET", "/static/music.js")
    assert status == 200 and b"/api/music" in script
    assert b"http://" not in script and b"https://" not in script
    assert b'src="/static/music.js"' in studio.request("GET", "/")[2]


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"mood": "grumpy"}, "unknown mood 'grumpy': choose one of calm"),
        ({"style": "bagpipes"}, "unknown instrument set 'bagpipes'"),
        ({"tempo": 500}, "beats a minute from 40 to 220"),
        ({"tempo": "fast"}, "beats a minute from 40 to 220"),
        ({"seed": -1}, "variation must be a whole number"),
        ({"seed": 1.5}, "variation must be a whole number"),
        ({"sound": "both"}, "choice for the clip's sound"),
        ({"listen": True, "listen_format": "exe"}, "unknown audio format"),
    ],
)
def test_bad_settings_are_one_plain_line_and_no_job(studio, settings, words):
    before = len(studio.json("GET", "/api/jobs")["jobs"])
    status, _, body = studio.request(
        "POST", "/api/jobs", {"kind": "score", "input": f"{_root(studio)}/edit.mp4", **settings}
    )
    assert status == 400, body
    message = json.loads(body)["error"]
    assert words in message and "\n" not in message and "--" not in message
    assert len(studio.json("GET", "/api/jobs")["jobs"]) == before


def test_listen_makes_the_music_alone_as_long_as_the_clip(studio, tmp_path):
    job = _score(studio, "edit.mp4", mood="tense", seed=3, listen=True, listen_format="m4a")
    assert job["status"] == "done", job["error"]
    # The settings are recorded (and no server path is shown).
    spec = job["spec"]
    assert spec["mood"] == "tense" and spec["seed"] == 3 and spec["tempo"] == "auto"
    assert spec["listen"] is True and spec["style"] is None and "input_path" not in spec
    r = job["result"]
    assert r["listen"] is True and r["sound"] == "music" and r["output"].endswith(".m4a")
    assert r["key"] and r["sections"] and r["cuts"] >= 1 and r["on_beat"] >= 0.5
    assert job["progress"]["phase"] in ("composing", "rendering", "mixing")
    out = _download(studio, job, tmp_path)
    info = probe(out)
    assert not info.video and info.audio
    assert _seconds(out) == pytest.approx(3 * SHOT, abs=0.1)
    # Played inline in the page.
    status, headers, _ = studio.request("GET", f"/api/jobs/{job['id']}/result?inline=1")
    assert status == 200 and "attachment" not in headers.get("content-disposition", "")
    assert studio.request("GET", f"/api/jobs/{job['id']}/midi")[0] == 404  # none asked for


def test_render_makes_the_clip_with_its_music_and_the_midi_file(studio, tmp_path):
    job = _score(
        studio, "talk.mp4", mood="happy", style="piano", tempo=110, seed=1, sound="mix", midi=True
    )
    assert job["status"] == "done", job["error"]
    spec = job["spec"]
    assert (spec["style"], spec["tempo"], spec["sound"], spec["midi"]) == (
        "piano",
        110,
        "mix",
        True,
    )
    r = job["result"]
    assert r["listen"] is False and r["sound"] == "mixed" and r["style"] == "piano"
    out = _download(studio, job, tmp_path)
    assert out.suffix == ".mp4"
    info = probe(out)
    assert info.video and info.audio
    assert _seconds(out) == pytest.approx(_seconds(studio.media[0] / "talk.mp4"), abs=0.1)
    midi = _download(studio, job, tmp_path, "midi")
    assert midi.suffix == ".mid" and midi.read_bytes()[:4] == b"MThd"


def test_a_score_job_is_cancelled_and_leaves_nothing(studio):
    job = studio.json(
        "POST",
        "/api/jobs",
        {"kind": "score", "input": f"{_root(studio)}/long.mp4", "mood": "epic"},
        expect=201,
    )
    studio.wait_job(job["id"], statuses=("running", "done"), timeout=60)
    studio.json("POST", f"/api/jobs/{job['id']}/cancel")
    job = studio.wait_job(job["id"], timeout=60)
    assert job["status"] == "cancelled", job
    status, _, _ = studio.request("GET", f"/api/jobs/{job['id']}/result")
    assert status == 409
    left = [p.name for p in (studio.data / "jobs" / job["id"]).iterdir()]
    assert left == ["worker.log"], left


def test_a_clip_shorter_than_a_bar_fails_with_one_plain_line(studio):
    job = _score(studio, "tiny.mp4", listen=True)
    assert job["status"] == "failed"
    assert "shorter than a bar" in job["error"] and "\n" not in job["error"]
    assert str(studio.media[0]) not in job["error"]  # no server path
