"""The studio's API behind the forms for people: refusals before a job is queued (a start past
the end of the clip, a trim that would only copy it), titles that name the changed parameters,
sounds and photos as uploads, the id the page keys what it remembers by, and models that are
not installed described in the effects' declarations."""

from __future__ import annotations

import json
import wave
from urllib.parse import quote

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed")

from studio_server import Studio  # noqa: E402

from moviola.media import synth  # noqa: E402

ROOT: list[str] = []  # the media folder's id


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    synth.make_clip(media / "clip.mp4", width=160, height=120, duration=1.0, flashes=())
    data = tmp_path_factory.mktemp("studio") / "data"
    with Studio(data, [media]) as server:
        ROOT.append(
            next(r["id"] for r in server.json("GET", "/api/media")["roots"] if r["id"] != "uploads")
        )
        yield server


def _job(server, effects, expect=201, **extra):
    body = {"input": f"{ROOT[-1]}/clip.mp4", "effects": effects, **extra}
    return server.json("POST", "/api/jobs", body, expect=expect)


def test_a_start_past_the_end_is_refused_before_queueing(studio):
    before = len(studio.json("GET", "/api/jobs")["jobs"])
    resize = [{"name": "resize", "params": {"width": 80}}]
    error = _job(studio, resize, expect=400, preview={"start": "5", "length": 1})["error"]
    assert error.startswith("preview: starts at 5 s, past the end of the clip (1.00 s)")
    trim = [{"name": "trim", "params": {"start": "00:00:03"}}]
    error = _job(studio, trim, expect=400)["error"]
    assert error.startswith("trim: start: 3 s is past the end of the clip")
    assert len(studio.json("GET", "/api/jobs")["jobs"]) == before


def test_a_trim_that_would_copy_the_clip_is_refused(studio):
    error = _job(studio, [{"name": "trim", "params": {}}], expect=400)["error"]
    assert (
        error
        == "trim: as filled in, it keeps the whole clip unchanged: fill in start, end, duration"
    )
    error = _job(studio, [{"name": "trim", "params": {"start": "0"}}], expect=400)["error"]
    assert "unchanged" in error
    _job(studio, [{"name": "trim", "params": {"end": "0.5"}}])


def test_titles_name_the_parameters_that_differ_from_the_defaults(studio):
    job = _job(studio, [{"name": "resize", "params": {"width": 64, "fit": "contain"}}])
    assert job["title"] == "resize · width 64 on clip.mp4"
    job = _job(
        studio,
        [{"name": "fps", "params": {"rate": "25"}}, {"name": "trim", "params": {"end": "0.5"}}],
        preview={"start": "0.2", "length": 0.5},
    )
    assert job["title"] == "fps · rate 25 + trim · end 0.5 on clip.mp4 (preview)"


def test_sounds_and_photos_upload_and_are_listed(studio, tmp_path):
    path = tmp_path / "voice.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        tone = (3000 * np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000)).astype(np.int16)
        out.writeframes(tone.tobytes())
    status, _, body = studio.request(
        "POST", "/api/upload?name=" + quote("voice.wav"), path.read_bytes()
    )
    assert status == 201, body
    files = {f["id"]: f for f in studio.json("GET", "/api/media")["files"]}
    assert files[json.loads(body)["id"]]["audio"] is True
    assert all(f["audio"] is False for k, f in files.items() if k.endswith(".mp4"))


def test_health_names_the_studio_and_effects_describe_missing_models(studio):
    health = studio.json("GET", "/api/health")
    assert len(health["studio_id"]) == 16 and str(studio.data) not in json.dumps(health)
    effects = {e["name"]: e for e in studio.json("GET", "/api/effects")["effects"]}
    notes = [
        note
        for e in effects.values()
        for p in e["params"]
        for note in (p.get("choice_notes") or {}).values()
    ]
    assert all(n.startswith("not installed (") and n.endswith(")") for n in notes), notes
