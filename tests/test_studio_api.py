"""The studio's HTTP API, against a real server process: health, effects, uploads and their
limits, path traversal, the token, jobs (run, preview, cancel, retry) and their persistence
across a restart."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed")
pytest.importorskip("uvicorn", reason="the studio extra is not installed")

from studio_server import START, Studio, free_port  # noqa: E402

from moviola.errors import MoviolaError  # noqa: E402
from moviola.media import probe, synth  # noqa: E402
from moviola.pipeline import registry  # noqa: E402
from moviola.studio.app import StudioConfig, check_config  # noqa: E402
from moviola.studio.paths import MediaRoots, PathRefused, sanitize_filename  # noqa: E402
from moviola.studio.store import JobStore  # noqa: E402


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    """A media folder with a short clip, a longer one (for cancel), a file that only pretends
    to be a video, and a symlink that leads out of the folder."""
    media = tmp_path_factory.mktemp("media")
    synth.make_clip(media / "short.mp4", width=160, height=120, duration=1.0, flashes=(0.5,))
    synth.make_clip(
        media / "long.mp4", width=160, height=120, duration=12.0, audio=False, flashes=()
    )
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.mp4").write_bytes((media / "short.mp4").read_bytes())
    (media / "escape.mp4").symlink_to(outside / "secret.mp4")
    (media / "escape-dir").symlink_to(outside, target_is_directory=True)
    return media


@pytest.fixture(scope="module")
def studio(tmp_path_factory, footage):
    data = tmp_path_factory.mktemp("studio") / "data"
    with Studio(data, [footage], extra=["--max-upload-mb", "2"]) as server:
        yield server


def upload(server, name: str, payload: bytes):
    return server.request(
        "POST",
        "/api/upload?name=" + quote(name),
        payload,
        headers={"Content-Type": "application/octet-stream"},
    )


# -- basics -------------------------------------------------------------------------------------
def test_health_and_effects(studio):
    health = studio.json("GET", "/api/health")
    assert health["status"] == "ok" and health["token_required"] is False
    effects = studio.json("GET", "/api/effects")["effects"]
    # Every registered effect, with exactly its own declaration: forms need no studio change
    # (the studio only adds notes on model choices that are not installed).
    for effect in effects:
        for param in effect["params"]:
            param.pop("choice_notes", None)
    assert {e["name"]: e for e in effects} == {
        name: json.loads(json.dumps(cls.describe())) for name, cls in registry.effects().items()
    }
    resize = next(e for e in effects if e["name"] == "resize")
    width = next(p for p in resize["params"] if p["name"] == "width")
    assert width["type"] == "int" and width["min"] == 1


def test_page_and_static_files(studio):
    status, headers, body = studio.request("GET", "/")
    assert status == 200 and b"moviola studio" in body
    for name in ("app.js", "style.css"):
        status, _, body = studio.request("GET", f"/static/{name}")
        assert status == 200 and len(body) > 1000
    # The page loads nothing from elsewhere.
    page = (
        studio.request("GET", "/")[2].decode() + studio.request("GET", "/static/app.js")[2].decode()
    )
    assert "http://" not in page.replace("http://127.0.0.1", "") and "https://" not in page


def test_media_listing_and_probe(studio):
    listing = studio.json("GET", "/api/media")
    ids = {f["id"] for f in listing["files"]}
    root = next(r["id"] for r in listing["roots"] if r["id"] != "uploads")
    assert f"{root}/short.mp4" in ids and f"{root}/long.mp4" in ids
    assert f"{root}/escape.mp4" not in ids  # a symlink out of the folder is not offered
    assert not any(i.startswith(f"{root}/escape-dir") for i in ids)
    info = studio.json("GET", f"/api/media/probe?id={root}/short.mp4")
    assert info["video"][0]["width"] == 160
    status, headers, body = studio.request("GET", f"/api/media/frame?id={root}/short.mp4&t=0.5")
    assert status == 200 and headers["content-type"] == "image/jpeg" and body[:2] == b"\xff\xd8"


# -- uploads ------------------------------------------------------------------------------------
def test_upload_accepts_video_and_sanitizes_the_name(studio, footage):
    payload = (footage / "short.mp4").read_bytes()
    status, _, body = upload(studio, "../../évil name?.MP4", payload)
    assert status == 201, body
    result = json.loads(body)
    assert result["id"] == "uploads/evil_name.mp4"
    assert result["probe"]["video"][0]["height"] == 120
    stored = studio.data / "uploads" / "evil_name.mp4"
    assert stored.read_bytes() == payload
    # The same name again gets a new name; nothing is overwritten.
    status, _, body = upload(studio, "evil name.mp4", payload)
    assert status == 201 and json.loads(body)["id"] == "uploads/evil_name-2.mp4"
    assert "uploads/evil_name.mp4" in {f["id"] for f in studio.json("GET", "/api/media")["files"]}


def test_upload_rejects_types_and_sizes(studio):
    uploads = studio.data / "uploads"
    before = sorted(p.name for p in uploads.iterdir())
    status, _, body = upload(studio, "tool.exe", b"MZ" + b"\0" * 100)
    assert status == 415 and b"not accepted" in body
    status, _, body = upload(studio, "notes.txt", b"hello")
    assert status == 415
    # An allowed extension is not enough: the content is probed.
    status, _, body = upload(studio, "fake.mp4", b"this is not a video at all" * 100)
    assert status == 415 and b"not a video" in body
    status, _, body = upload(studio, "empty.mp4", b"")
    assert status == 400
    # Over the limit (2 MB here), refused from Content-Length before reading...
    status, _, body = upload(studio, "big.mp4", b"\0" * (2 * 1024 * 1024 + 10))
    assert status == 413
    # ...and while streaming when the client sends no length (chunked).
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", studio.port, timeout=30)
    conn.putrequest("POST", "/api/upload?name=chunked.mp4")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    chunk = b"\0" * 65536
    try:
        for _ in range(40):  # 2.5 MB
            conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        conn.send(b"0\r\n\r\n")
        status = conn.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        status = 413
    finally:
        conn.close()
    assert status == 413
    assert sorted(p.name for p in uploads.iterdir()) == before  # nothing left behind


# -- paths --------------------------------------------------------------------------------------
TRAVERSALS = [
    "../../../../etc/passwd",
    "/etc/passwd",
    "uploads/../../../../etc/passwd",
    "uploads/..%2f..%2f..%2fetc%2fpasswd",
    "uploads/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "uploads/%252e%252e/%252e%252e/etc/passwd",
    "uploads\\..\\..\\etc\\passwd",
    "~/.ssh/id_rsa",
    "uploads/%00../studio.db",
    "uploads/../studio.db",
]


@pytest.mark.parametrize("route", ["probe", "file", "frame"])
def test_traversal_is_refused(studio, footage, route):
    root = _root(studio)
    attempts = TRAVERSALS + [
        f"{root}/escape.mp4",
        f"{root}/escape-dir/secret.mp4",
        f"{root}/../outside/secret.mp4",
        "nosuchroot/short.mp4",
    ]
    for attempt in attempts:
        # Sent raw: the encoded forms reach the server as they are written here.
        status, _, body = studio.request("GET", f"/api/media/{route}?id={attempt}")
        assert status in (403, 404), (attempt, status, body[:200])
        assert b"root:" not in body and b"SQLite" not in body


def test_traversal_in_urls_and_jobs(studio, footage):
    for path in (
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e/%2e%2e/studio.db",
        "/api/jobs/..%2f..%2fstudio.db/result",
    ):
        status, _, body = studio.request("GET", path)
        assert status in (400, 403, 404), (path, status)
        assert b"import" not in body and b"SQLite" not in body
    for attempt in ("/etc/passwd", "uploads/../../etc/passwd"):
        status, _, _ = studio.request(
            "POST",
            "/api/jobs",
            {"input": attempt, "effects": [{"name": "resize", "params": {"width": 64}}]},
        )
        assert status in (403, 404)
    # A parameter that names a file must name one inside the media folders too.
    root = next(r["id"] for r in studio.json("GET", "/api/media")["roots"] if r["id"] != "uploads")
    for effect, params in [
        ("matte", {"background": "/etc/hostname"}),
        ("matte", {"background": "uploads/../../../etc/hostname"}),
        ("upscale", {"model_path": "~/.cache/x.onnx"}),
    ]:
        if effect not in registry.effects():
            continue
        status, _, body = studio.request(
            "POST",
            "/api/jobs",
            {"input": f"{root}/short.mp4", "effects": [{"name": effect, "params": params}]},
        )
        assert status == 403 and b"media folders" in body, body


def test_path_rules_directly(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.mp4").write_bytes(b"x")
    (tmp_path / "secret.mp4").write_bytes(b"y")
    (media / "link.mp4").symlink_to(tmp_path / "secret.mp4")
    roots = MediaRoots([media], tmp_path / "data" / "uploads")
    assert roots.resolve("media/a.mp4") == (media / "a.mp4").resolve()
    for bad in (
        "media/link.mp4",
        "media/../secret.mp4",
        "media//../secret.mp4",
        "/media/a.mp4",
        "media",
        "media/",
        "uploads/..",
        "media\\a.mp4",
        "media/a.mp4\x00",
    ):
        with pytest.raises(PathRefused):
            roots.resolve(bad)
    assert sanitize_filename("../../x/y/ä b$c.Tar.GZ") == "a_b_c.Tar.gz"
    assert sanitize_filename("....mp4") == "upload.mp4"
    assert sanitize_filename(".bashrc") == "upload.bashrc"  # never a hidden file
    assert sanitize_filename("con.mp4") == "con_.mp4"
    assert len(sanitize_filename("a" * 500 + ".mp4")) <= 96


# -- token and origin ---------------------------------------------------------------------------
def test_token_required_beyond_localhost(tmp_path):
    with pytest.raises(MoviolaError, match="token"):
        check_config(StudioConfig(host="0.0.0.0"))
    with pytest.raises(MoviolaError, match="token"):
        check_config(StudioConfig(host="192.168.1.20", token=None))
    check_config(StudioConfig(host="127.0.0.1"))
    check_config(StudioConfig(host="::1"))
    check_config(StudioConfig(host="0.0.0.0", token="long-enough-secret"))
    # The command refuses to start, with one line and exit code 2, before binding anything.
    done = subprocess.run(
        [sys.executable, "-c", START, "studio", "--host", "0.0.0.0", "--data", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "MOVIOLA_STUDIO_TOKEN"},
    )
    assert done.returncode == 2
    assert "--token" in done.stderr and "Traceback" not in done.stderr


def test_token_is_enforced(tmp_path, footage):
    token = "s3cret-token-for-tests"
    with Studio(tmp_path / "data", [footage], token=token) as server:
        for path in ("/api/health", "/api/effects", "/api/media", "/api/jobs"):
            status, _, _ = server.request("GET", path, auth=False)
            assert status == 401, path
            status, _, _ = server.request(
                "GET", path, auth=False, headers={"Authorization": "Bearer wrong-token-x"}
            )
            assert status == 401
        assert server.request("GET", "/api/health")[0] == 200  # Bearer token
        # The printed link sets a cookie that the page's requests then carry.
        status, headers, _ = server.request("GET", f"/?token={token}", auth=False)
        assert status == 200 and "moviola_token=" in headers.get("set-cookie", "")
        assert (
            server.request(
                "GET", "/api/health", auth=False, headers={"Cookie": f"moviola_token={token}"}
            )[0]
            == 200
        )
        assert server.request("POST", "/api/upload?name=a.mp4", b"x", auth=False)[0] == 401


def test_foreign_hosts_and_origins_are_refused(studio):
    # DNS rebinding: a page on another name that resolves to 127.0.0.1.
    status, _, _ = studio.request("GET", "/api/health", headers={"Host": "evil.example:80"})
    assert status == 403
    # Another site's page posting to the studio.
    status, _, _ = studio.request(
        "POST", "/api/jobs", {"input": "x"}, headers={"Origin": "http://evil.example"}
    )
    assert status == 403
    status, _, _ = studio.request("POST", "/api/jobs", {"input": "x"}, headers={"Origin": "null"})
    assert status == 403
    status, _, _ = studio.request(
        "GET", "/api/health", headers={"Host": f"localhost:{studio.port}"}
    )
    assert status == 200


# -- jobs ---------------------------------------------------------------------------------------
def _root(server) -> str:
    return next(r["id"] for r in server.json("GET", "/api/media")["roots"] if r["id"] != "uploads")


def test_job_runs_and_result_downloads(studio, tmp_path):
    root = _root(studio)
    job = studio.json(
        "POST",
        "/api/jobs",
        {
            "input": f"{root}/short.mp4",
            "format": "mkv",
            "effects": [{"name": "resize", "params": {"width": 96}}],
        },
        expect=201,
    )
    assert job["status"] == "queued" and job["kind"] == "effects"
    job = studio.wait_job(job["id"])
    assert job["status"] == "done", job["error"]
    assert job["progress"]["fraction"] == 1.0 and job["progress"]["frames"] == 30
    assert job["result"]["width"] == 96 and job["result"]["height"] == 72
    status, headers, body = studio.request("GET", f"/api/jobs/{job['id']}/result")
    assert status == 200 and "attachment" in headers["content-disposition"]
    out = tmp_path / "result.mkv"
    out.write_bytes(body)
    info = probe(out)
    assert (info.video[0].width, info.video[0].height) == (96, 72)
    assert info.audio, "audio is carried over"
    for side in ("before", "after"):
        status, headers, body = studio.request(
            "GET", f"/api/jobs/{job['id']}/frame?side={side}&t=0.5&w=160"
        )
        assert status == 200 and body[:2] == b"\xff\xd8"
    assert job["id"] in {j["id"] for j in studio.json("GET", "/api/jobs")["jobs"]}


def test_preview_range_and_chain(studio):
    root = _root(studio)
    job = studio.json(
        "POST",
        "/api/jobs",
        {
            "input": f"{root}/long.mp4",
            "effects": [
                {"name": "resize", "params": {"scale": 0.5}},
                {"name": "fps", "params": {"rate": "15"}},
            ],
            "preview": {"start": 2, "end": 3},
        },
        expect=201,
    )
    assert "preview" in job["title"]
    job = studio.wait_job(job["id"])
    assert job["status"] == "done", job["error"]
    assert job["result"]["frames_out"] == 15 and job["result"]["width"] == 80
    assert job["result"]["timeline"]["start"] == pytest.approx(2.0)
    # A timecode start and a length work too.
    job = studio.json(
        "POST",
        "/api/jobs",
        {
            "input": f"{root}/long.mp4",
            "effects": [{"name": "resize", "params": {"width": 32}}],
            "preview": {"start": "00:00:05.5", "length": 0.5},
        },
        expect=201,
    )
    assert job["spec"]["preview"] == {"start": 5.5, "end": 6.0}


def test_bad_parameters_are_answered_at_once(studio):
    root = _root(studio)
    for effects, needle in [
        ([{"name": "resize", "params": {"width": -5}}], b"below the minimum"),
        ([{"name": "resize", "params": {"fit": "squash"}}], b"not one of"),
        ([{"name": "nosuch", "params": {}}], b"unknown effect"),
        ([{"name": "resize", "params": {"colour": 3}}], b"unknown parameter"),
        ([], b"at least one effect"),
    ]:
        status, _, body = studio.request(
            "POST", "/api/jobs", {"input": f"{root}/short.mp4", "effects": effects}
        )
        assert status == 400 and needle in body, body
    status, _, body = studio.request(
        "POST",
        "/api/jobs",
        {
            "input": f"{root}/short.mp4",
            "effects": [{"name": "resize", "params": {"width": 8}}],
            "preview": {"start": 0, "end": 100},
        },
    )
    assert status == 400
    status, _, body = studio.request(
        "POST", "/api/jobs", b"{not json", headers={"Content-Type": "application/json"}
    )
    assert status == 400


def _running(server, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = server.json("GET", f"/api/jobs/{job_id}")
        if job["status"] == "running" and (job["progress"] or {}).get("frames", 0) > 0:
            return job
        assert job["status"] in ("queued", "running"), job
        time.sleep(0.1)
    raise AssertionError("the job never started")


SLOW = [{"name": "resize", "params": {"width": 1600, "interpolation": "lanczos"}}]


def test_cancel_and_retry(studio):
    root = _root(studio)
    job = studio.json(
        "POST", "/api/jobs", {"input": f"{root}/long.mp4", "effects": SLOW}, expect=201
    )
    running = _running(studio, job["id"])
    assert running["progress"]["total"] == 360 and running["progress"]["fps"] > 0
    studio.json("POST", f"/api/jobs/{job['id']}/cancel")
    job = studio.wait_job(job["id"], timeout=30)
    assert job["status"] == "cancelled", job
    assert not any((studio.data / "jobs" / job["id"]).glob("*.mp4"))  # no partial output
    assert studio.request("GET", f"/api/jobs/{job['id']}/result")[0] == 409
    # A queued job is cancelled at once; a finished one can run again.
    job2 = studio.json(
        "POST",
        "/api/jobs",
        {"input": f"{root}/short.mp4", "effects": [{"name": "resize", "params": {"width": 32}}]},
        expect=201,
    )
    job2 = studio.wait_job(job2["id"])
    assert job2["status"] == "done"
    again = studio.json("POST", f"/api/jobs/{job2['id']}/retry")
    assert again["status"] == "queued"
    again = studio.wait_job(job2["id"])
    assert again["status"] == "done" and again["attempts"] == 2, again["error"]
    assert studio.request("POST", f"/api/jobs/{job2['id']}/retry")[0] == 200
    studio.wait_job(job2["id"])
    assert studio.json("DELETE", f"/api/jobs/{job2['id']}")["deleted"] == job2["id"]
    assert studio.request("GET", f"/api/jobs/{job2['id']}")[0] == 404


def test_jobs_survive_a_restart(tmp_path, footage):
    data = tmp_path / "data"
    server = Studio(data, [footage]).start()
    root = _root(server)
    done = server.json(
        "POST",
        "/api/jobs",
        {"input": f"{root}/short.mp4", "effects": [{"name": "resize", "params": {"width": 64}}]},
        expect=201,
    )
    assert server.wait_job(done["id"])["status"] == "done"
    slow = server.json(
        "POST", "/api/jobs", {"input": f"{root}/long.mp4", "effects": SLOW}, expect=201
    )
    _running(server, slow["id"])
    # The server dies without a word: its worker notices and stops, leaving no output.
    server.stop(signal.SIGKILL)
    store = JobStore(data / "studio.db")
    deadline = time.monotonic() + 20
    while store.get(slow["id"])["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert store.get(slow["id"])["status"] == "interrupted"
    # A job left "running" by a server that died with its worker: found at the next start.
    ghost = store.create("effects", store.get(done["id"])["spec"], title="ghost")
    assert store.claim(ghost["id"], pid=999999)
    server = Studio(data, [footage], port=server.port).start()
    try:
        health = server.json("GET", "/api/health")
        assert health["interrupted_at_start"] == [ghost["id"]]
        jobs = {j["id"]: j for j in server.json("GET", "/api/jobs")["jobs"]}
        assert jobs[done["id"]]["status"] == "done"  # finished jobs and results are kept
        assert server.request("GET", f"/api/jobs/{done['id']}/result")[0] == 200
        assert jobs[slow["id"]]["status"] == "interrupted"
        assert jobs[ghost["id"]]["status"] == "interrupted"
        assert "stopped" in jobs[ghost["id"]]["error"]
        # ...and it runs again on request.
        server.json("POST", f"/api/jobs/{ghost['id']}/retry")
        assert server.wait_job(ghost["id"])["status"] == "done"
    finally:
        server.stop()


def test_workers_are_separate_processes(studio):
    root = _root(studio)
    job = studio.json(
        "POST", "/api/jobs", {"input": f"{root}/long.mp4", "effects": SLOW}, expect=201
    )
    _running(studio, job["id"])
    pid = JobStore(studio.data / "studio.db").get(job["id"])["pid"]
    assert pid and pid != studio.proc.pid
    # SIGTERM to the worker (as at server shutdown) records the job as interrupted.
    os.kill(pid, signal.SIGTERM)
    job = studio.wait_job(job["id"], timeout=30)
    assert job["status"] == "interrupted"


def test_file_parameters_become_paths_inside_the_media_folders(tmp_path):
    """Parameters of type path (and repeatable ones) take media ids; the worker gets real
    paths. Checked on a stand-in effect so that it holds for every effect with such params."""
    from moviola.pipeline.effect import Effect
    from moviola.pipeline.params import Param
    from moviola.studio.specs import effect_values as _effect_values

    class Stand(Effect):
        name = "stand-in"
        params = (
            Param("style", "path"),
            Param("refs", "path", multiple=True),
            Param("look", "str", kind="keyframes"),
            Param("size", "int", min=1),
        )

    media = tmp_path / "media"
    media.mkdir()
    for name in ("a.png", "b.png"):
        (media / name).write_bytes(b"x")
    roots = MediaRoots([media], tmp_path / "uploads")
    values, shown = _effect_values(
        roots,
        Stand,
        {"style": "media/a.png", "refs": ["media/a.png", "media/b.png"], "look": "warm", "size": 3},
    )
    assert values == {
        "style": str((media / "a.png").resolve()),
        "refs": [str((media / "a.png").resolve()), str((media / "b.png").resolve())],
        "look": "warm",
        "size": 3,
    }
    assert shown["style"] == "media/a.png"
    Stand(**values)  # the effect accepts what the worker will pass
    values, _ = _effect_values(roots, Stand, {"look": "12=media/b.png"})
    assert values == {"look": f"12={(media / 'b.png').resolve()}"}
    for bad in (
        {"look": "12=/etc/hostname"},
        {"style": str(media / "a.png")},
        {"refs": ["media/a.png", "../x.png"]},
        {"look": "/etc/hostname"},
        {"nope": 1},
        {"size": [1, 2]},
    ):
        with pytest.raises(MoviolaError):
            _effect_values(roots, Stand, bad)
    assert _effect_values(roots, Stand, {"size": "", "look": None}) == ({}, {})


def test_one_studio_per_data_folder_and_port(studio, tmp_path):
    def start(*args):
        return subprocess.run(
            [sys.executable, "-c", START, "studio", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = start("--port", str(studio.port), "--data", str(tmp_path / "other"))
    assert done.returncode == 2 and "cannot listen" in done.stderr
    done = start("--port", str(free_port()), "--data", str(studio.data))
    assert done.returncode == 2 and "another studio" in done.stderr
    assert studio.json("GET", "/api/health")["status"] == "ok"  # the first is unharmed


# -- the editing view -----------------------------------------------------------------------------
def test_editing_view_hides_itself_without_analysis(monkeypatch):
    import sys

    import moviola.analysis
    from moviola.studio import editing

    monkeypatch.setitem(sys.modules, "moviola.analysis.shots", None)  # import fails
    monkeypatch.delattr(moviola.analysis, "shots", raising=False)
    status = editing.available()
    assert status["shots"] is False and status["search"] is False
    assert "moviola[analysis]" in status["message"]
    assert status["export_formats"] == []


def test_shots_search_and_exports(tmp_path, real_footage, megamind):
    shots_mod = pytest.importorskip("moviola.analysis.shots")
    from shot_edit import make_edit

    media = tmp_path / "media"
    media.mkdir()
    make_edit(media / "edit.mp4", [(real_footage, 0, 30), (megamind, 100, 30)])
    with Studio(tmp_path / "data", [media]) as server:
        status = server.json("GET", "/api/editing")
        assert status["shots"] is True and "fast" in status["methods"]
        assert list(status["methods"]) == list(shots_mod.METHODS)
        job = server.json(
            "POST",
            "/api/jobs",
            {"kind": "shots", "input": "media/edit.mp4", "method": "fast"},
            expect=201,
        )
        job = server.wait_job(job["id"])
        assert job["status"] == "done", job["error"]
        shots = server.json("GET", f"/api/jobs/{job['id']}/shots")
        assert shots["source"] == "media/edit.mp4"  # a media id, never a server path
        assert [s["start_frame"] for s in shots["shots"]] == [0, 30]
        for fmt in ("csv", "edl"):
            if fmt not in status["export_formats"]:
                continue
            code, headers, body = server.request(
                "GET", f"/api/jobs/{job['id']}/export?format={fmt}"
            )
            assert code == 200 and "attachment" in headers["content-disposition"]
            assert b"00:00:01" in body  # the cut at frame 30, 29.97 fps
        assert server.request("GET", f"/api/jobs/{job['id']}/export?format=exe")[0] == 400
        # Nothing described yet: the library is empty, search answers with no hits.
        if status["search"]:
            found = server.json("POST", "/api/editing/search", {"query": "a street"})
            assert found["results"] == []


def test_transcript_job_and_exports(tmp_path, megamind):
    """A clip's transcript as a job: JSON with word times, SRT/WebVTT/text downloads."""
    pytest.importorskip("faster_whisper")
    media = tmp_path / "media"
    media.mkdir()
    shutil.copyfile(megamind, media / "mm.avi")  # a link out of the media folder is refused
    with Studio(tmp_path / "data", [media]) as server:
        bad = server.request(
            "POST", "/api/jobs", {"kind": "transcript", "input": "media/mm.avi", "speakers": 99}
        )
        assert bad[0] == 400 and b"speakers" in bad[2]
        job = server.json(
            "POST", "/api/jobs", {"kind": "transcript", "input": "media/mm.avi"}, expect=201
        )
        job = server.wait_job(job["id"])
        assert job["status"] == "done", job["error"]
        assert job["result"]["words"] > 20 and job["result"]["language"] == "en"
        data = server.json("GET", f"/api/jobs/{job['id']}/transcript")
        assert data["input"] == "media/mm.avi"
        text = " ".join(s["text"] for s in data["segments"]).lower()
        assert "judge a book by its cover" in text
        code, headers, body = server.request("GET", f"/api/jobs/{job['id']}/transcript?format=srt")
        assert code == 200 and "attachment" in headers["content-disposition"]
        assert body.startswith(b"1\n") and b" --> " in body
        assert server.request("GET", f"/api/jobs/{job['id']}/transcript?format=doc")[0] == 400
        assert server.request("GET", f"/api/jobs/{job['id']}/shots")[0] == 409
