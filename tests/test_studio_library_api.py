"""The studio's player timeline, asset library, presets and before/after videos through the API
(one server for the module): exact in/out ranges, shots found and cached per clip, a transcript
on the timeline, results as footage with their lineage, deleting only what the studio wrote,
presets saved, exported and imported (bad files refused in one line), and the comparison
exported as a split or side-by-side video with the source's sound."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed")

from studio_server import Studio  # noqa: E402

from moviola.media import VideoReader, probe, synth  # noqa: E402
from moviola.studio.store import JobStore  # noqa: E402


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    base = tmp_path_factory.mktemp("library")
    media = base / "media"
    media.mkdir()
    synth.make_clip(media / "clip.mp4", width=160, height=120, duration=1.5, flashes=())
    make_cut_clip(media / "cut.mp4")
    import cv2

    cv2.imwrite(str(media / "face.png"), synth.picture(64, 64, 0, 0.0)[..., ::-1])
    with Studio(base / "data", [media]) as server:
        server.root = next(
            r["id"] for r in server.json("GET", "/api/media")["roots"] if r["id"] != "uploads"
        )
        server.media_dir = media
        yield server


def make_cut_clip(path) -> None:
    """40 frames at 25 fps, one cut at frame 20 (two different synthetic pictures)."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(25))
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(40):
            image = synth.picture(120, 160, i, 0.0)[..., :3]
            if i >= 20:
                image = 255 - synth.picture(120, 160, 0, 0.9)[..., :3]
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(image, np.uint8), format="rgb24"
            )
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def _done(studio, body) -> dict:
    job = studio.json("POST", "/api/jobs", body, expect=201)
    job = studio.wait_job(job["id"])
    assert job["status"] == "done", job
    return job


def test_timeline_rate_shots_cached_and_transcript(studio):
    clip = f"{studio.root}/cut.mp4"
    line = studio.json("GET", f"/api/timeline?id={clip}")
    assert (line["rate"], line["frames"], line["shots"], line["transcript"]) == (
        "25/1",
        40,
        None,
        None,
    )
    job = studio.json("POST", "/api/timeline/shots", {"id": clip}, expect=201)
    again = studio.json("POST", "/api/timeline/shots", {"id": clip}, expect=201)
    assert again["id"] == job["id"]  # one detection per clip at a time
    assert studio.wait_job(job["id"])["status"] == "done"
    shots = studio.json("GET", f"/api/timeline?id={clip}")["shots"]
    assert [s["frame"] for s in shots] == [0, 20]
    # cached per clip: the timeline keeps its shots when the job is deleted
    studio.json("DELETE", f"/api/jobs/{job['id']}")
    assert studio.json("GET", f"/api/timeline?id={clip}")["shots"] == shots

    # a transcription of the clip (as a transcript job leaves it) shows on its timeline
    store = JobStore(studio.data / "studio.db")
    spec = {"input": clip, "input_path": str(studio.media_dir / "cut.mp4"), "model": "x"}
    made = store.create("transcript", spec, title="transcript of cut.mp4")
    folder = studio.data / "jobs" / made["id"]
    folder.mkdir(parents=True)
    said = {"language": "en", "segments": [{"start": 0.2, "end": 1.1, "text": " Hello there."}]}
    (folder / "transcript.json").write_text(json.dumps(said))
    store.finish(made["id"], "done", result={"output": "transcript.json"})
    segments = studio.json("GET", f"/api/timeline?id={clip}")["transcript"]["segments"]
    assert segments == [{"start": 0.2, "end": 1.1, "text": "Hello there.", "speaker": None}]
    # refusals: outside the folders, a sound without picture
    status, _, body = studio.request("GET", "/api/timeline?id=uploads/../../etc/passwd")
    assert status == 403 and b"Traceback" not in body


def test_in_and_out_points_are_exact_frames(studio):
    clip = f"{studio.root}/clip.mp4"  # 30000/1001 fps: frame n starts at n * 1001/30000 s
    body = {
        "input": clip,
        "effects": [{"name": "resize", "params": {"width": 80}}],
        "range": {"start": "9009/30000", "end": "21021/30000"},  # frames 9 to 20
    }
    job = _done(studio, body)
    assert job["result"]["frames_out"] == 12
    assert "0.30 s to 0.70 s" in job["title"]
    preview = _done(
        studio, {**body, "range": None, "preview": {"start": "1001/30000", "end": "3003/30000"}}
    )
    assert preview["result"]["frames_out"] == 2
    status, _, data = studio.request(
        "POST", "/api/jobs", {**body, "range": {"start": 1, "end": 0.5}}
    )
    assert status == 400 and "out point" in json.loads(data)["error"]


def test_assets_results_lineage_and_delete(studio):
    clip = f"{studio.root}/clip.mp4"
    status, _, _ = studio.request(
        "POST", "/api/upload?name=tone.wav", _wav(), headers={"Content-Type": "audio/wav"}
    )
    assert status == 201
    first = _done(studio, {"input": clip, "effects": [{"name": "resize", "params": {"width": 96}}]})
    made = f"results/{first['id']}/{first['result']['output']}"
    # the result is footage for the next job, in one step
    second = _done(
        studio, {"input": made, "effects": [{"name": "resize", "params": {"width": 64}}]}
    )
    second_id = f"results/{second['id']}/{second['result']['output']}"
    assets = studio.json("GET", "/api/assets?sort=name")["assets"]
    by_id = {a["id"]: a for a in assets}
    assert by_id[clip]["kind"] == "clip" and by_id[clip]["origin"] == "media"
    assert by_id[f"{studio.root}/face.png"]["kind"] == "photo"
    assert by_id["uploads/tone.wav"]["kind"] == "audio"
    assert by_id[made]["made_by"]["from"] == [clip] and by_id[made]["origin"] == "result"
    assert [a["name"] for a in assets] == sorted((a["name"] for a in assets), key=str.casefold)
    kinds = [a["kind"] for a in studio.json("GET", "/api/assets?sort=kind")["assets"]]
    assert kinds == sorted(kinds, key=["clip", "photo", "audio"].index)
    photos = studio.json("GET", "/api/assets?kind=photo")["assets"]
    assert [a["id"] for a in photos] == [f"{studio.root}/face.png"]
    found = studio.json("GET", "/api/assets?q=WIDTH%2064")["assets"]  # the job's title counts
    assert [a["id"] for a in found] == [second_id]
    assert "sort by" in studio.json("GET", "/api/assets?sort=size", expect=400)["error"]
    lineage = studio.json("GET", f"/api/assets/item?id={second_id}")["lineage"]
    assert [step["job"] for step in lineage] == [second["id"], first["id"]]
    assert lineage[1]["from"] == [clip]

    # deleting: never a media folder's file, whatever the id; uploads and results
    outside = studio.data / "uploads" / "link.mp4"
    outside.symlink_to(studio.media_dir / "clip.mp4")  # leads out of the studio's folders
    log = f"results/{first['id']}/worker.log"
    for refused in (clip, "uploads/../media/clip.mp4", "uploads/link.mp4", log, "results/x"):
        status, _, body = studio.request("DELETE", f"/api/assets/item?id={refused}")
        assert status in (403, 404) and b"Traceback" not in body, (refused, body)
    assert (studio.media_dir / "clip.mp4").is_file()
    studio.json("DELETE", "/api/assets/item?id=uploads/tone.wav")
    studio.json("DELETE", f"/api/assets/item?id={second_id}")
    assert studio.json("GET", f"/api/jobs/{second['id']}", expect=404)
    ids = {a["id"] for a in studio.json("GET", "/api/assets")["assets"]}
    assert "uploads/tone.wav" not in ids and second_id not in ids and made in ids


def test_presets_save_export_import_delete(studio):
    chain = [
        {"name": "resize", "params": {"width": 640}},
        {"name": "fps", "params": {"rate": "25"}},
    ]
    saved = studio.json("POST", "/api/presets", {"name": "Web 640", "effects": chain}, expect=201)
    assert saved["effects"] == chain
    assert [p["name"] for p in studio.json("GET", "/api/presets")["presets"]] == ["Web 640"]
    status, headers, text = studio.request("GET", "/api/presets/Web%20640/export")
    assert status == 200 and "attachment" in headers["content-disposition"]
    exported = json.loads(text)
    assert exported["format"] == "moviola-preset" and exported["effects"] == chain
    exported["name"] = "Shared"
    studio.json("POST", "/api/presets/import", json.dumps(exported).encode(), expect=201)
    names = [p["name"] for p in studio.json("GET", "/api/presets")["presets"]]
    assert names == ["Shared", "Web 640"]
    bad = {
        b"{not json": "not JSON",
        b'{"name": "x", "effects": [{"name": "nope"}]}': "unknown effect 'nope'",
        b'{"name": "x", "effects": [{"name": "resize", "params": {"width": "wide"}}]}': "width",
        b'{"name": "x"}': 'no "effects"',
        b'{"name": "", "effects": [{"name": "resize", "params": {"width": 9}}]}': "needs a name",
    }
    for body, words in bad.items():
        status, _, data = studio.request("POST", "/api/presets/import", body)
        error = json.loads(data)["error"]
        assert status == 400 and words in error and "\n" not in error, (body, error)
    studio.json("DELETE", "/api/presets/Shared")
    assert [p["name"] for p in studio.json("GET", "/api/presets")["presets"]] == ["Web 640"]
    assert "no preset" in studio.json("DELETE", "/api/presets/Shared", expect=400)["error"]


def test_comparison_video_split_and_side_by_side(studio):
    clip = f"{studio.root}/clip.mp4"
    effect = [{"name": "stylize", "params": {"filter": "sketch"}}]
    source = _done(
        studio, {"input": clip, "effects": effect, "preview": {"start": 0.5, "length": 0.5}}
    )
    split = _done(
        studio, {"kind": "compare", "job": source["id"], "mode": "split", "position": 0.5}
    )
    side = _done(studio, {"kind": "compare", "job": source["id"], "mode": "side"})
    assert "split at 50 %" in split["title"]
    paths = {}
    for job in (split, side):
        status, _, data = studio.request("GET", f"/api/jobs/{job['id']}/result")
        assert status == 200
        paths[job["spec"]["mode"]] = studio.data / "jobs" / job["id"] / job["result"]["output"]
        info = probe(paths[job["spec"]["mode"]])
        assert info.audio, "the source's sound goes along"
        assert info.video[0].frames == source["result"]["frames_out"]
    assert probe(paths["side"]).video[0].width == 2 * probe(paths["split"]).video[0].width
    result = studio.data / "jobs" / source["id"] / source["result"]["output"]
    source_clip = studio.media_dir / "clip.mp4"
    with (
        VideoReader(paths["split"]) as r,
        VideoReader(result) as a,
        VideoReader(source_clip, start=0.5) as b,
    ):
        mixed, after, before = next(iter(r)).image, next(iter(a)).image, next(iter(b)).image
    left, right = mixed[20:100, 10:70].astype(int), mixed[20:100, 90:150].astype(int)
    assert np.abs(left - before[20:100, 10:70]).mean() < np.abs(left - after[20:100, 10:70]).mean()
    assert (
        np.abs(right - after[20:100, 90:150]).mean() < np.abs(right - before[20:100, 90:150]).mean()
    )
    for bad, words in (({"mode": "wipe"}, "mode"), ({"position": 2}, "position")):
        body = {"kind": "compare", "job": source["id"], **bad}
        assert words in studio.json("POST", "/api/jobs", body, expect=400)["error"]
    assert studio.json("POST", "/api/jobs", {"kind": "compare", "job": "nope"}, expect=404)


def _wav() -> bytes:
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.sin(np.arange(8000) / 5) * 8000).astype("<i2").tobytes())
    return buffer.getvalue()


def test_batch_and_projects(studio):
    clip, other = f"{studio.root}/clip.mp4", f"{studio.root}/cut.mp4"
    studio.json("POST", "/api/projects", {"name": "Teaser"}, expect=201)
    assert (
        "already" in studio.json("POST", "/api/projects", {"name": "Teaser"}, expect=400)["error"]
    )
    chain = [{"name": "resize", "params": {"width": 64}}]
    body = {"inputs": [clip, other], "effects": chain, "project": "Teaser"}
    made = studio.json("POST", "/api/batch", body, expect=201)
    jobs = [studio.wait_job(j["id"]) for j in made["jobs"]]
    assert [j["status"] for j in jobs] == ["done", "done"]
    assert [j["spec"]["input"] for j in jobs] == [clip, other]
    assert {j["spec"]["batch"] for j in jobs} == {made["batch"]}
    # one bad input refuses the whole batch, naming it; nothing is queued
    before = len(studio.json("GET", "/api/jobs")["jobs"])
    bad = {**body, "inputs": [clip, f"{studio.root}/face.png", "uploads/none.mp4"]}
    status, _, data = studio.request("POST", "/api/batch", bad)
    assert status == 404 and "none.mp4" in json.loads(data)["error"]
    long = {**body, "inputs": [clip], "preview": {"start": 9, "length": 1}}
    assert "past the end" in studio.json("POST", "/api/batch", long, expect=400)["error"]
    assert len(studio.json("GET", "/api/jobs")["jobs"]) == before

    # a project groups assets, jobs and exports: the library shows only them
    studio.json("POST", "/api/projects/Teaser/add", {"assets": [f"{studio.root}/face.png"]})
    compare = {"kind": "compare", "job": jobs[0]["id"], "project": "Teaser"}
    export = studio.wait_job(studio.json("POST", "/api/jobs", compare, expect=201)["id"])
    project = studio.json("GET", "/api/projects")["projects"][0]
    assert project["jobs"] == [jobs[0]["id"], jobs[1]["id"], export["id"]]
    shown = {a["id"] for a in studio.json("GET", "/api/assets?project=Teaser")["assets"]}
    results = {f"results/{j['id']}/{j['result']['output']}" for j in (*jobs, export)}
    assert shown == {f"{studio.root}/face.png", *results}
    status, _, _ = studio.request(
        "POST",
        "/api/upload?name=t.wav&project=Teaser",
        _wav(),
        headers={"Content-Type": "audio/wav"},
    )
    assert status == 201
    assert "uploads/t.wav" in studio.json("GET", "/api/projects")["projects"][0]["assets"]
    studio.json("POST", "/api/projects/Teaser/remove", {"assets": [f"{studio.root}/face.png"]})
    outside = {"assets": ["uploads/../../etc/passwd"]}
    assert studio.request("POST", "/api/projects/Teaser/add", outside)[0] == 403
    assert (
        "no project"
        in studio.json("POST", "/api/jobs", {**compare, "project": "X"}, expect=400)["error"]
    )
    studio.json("DELETE", "/api/projects/Teaser")
    assert studio.json("GET", "/api/projects")["projects"] == []
    assert studio.json("GET", f"/api/jobs/{export['id']}")["status"] == "done"  # jobs stay
