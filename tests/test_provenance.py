"""C2PA Content Credentials on synthetic outputs (media/provenance/, `moviola provenance`).

Small clips are made here with PyAV; signing uses a local CA made in a temporary MOVIOLA_HOME
(or a certificate made here, as a user's own). The puppet test runs the real effect on a few
frames of the astronaut photo (docs/faces/astronaut.jpg) when the face models are cached.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from helpers import sha256

pytest.importorskip("c2pa")

from moviola import __version__  # noqa: E402
from moviola.errors import MoviolaError  # noqa: E402
from moviola.media import provenance  # noqa: E402
from moviola.media.provenance import _common  # noqa: E402
from moviola.models import store  # noqa: E402
from moviola.pipeline import run  # noqa: E402
from moviola.pipeline.effect import Effect  # noqa: E402
from moviola.vision.faces.synthetic import synthetic_tags  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = store.cache_dir()  # the user's model store, read before a test moves MOVIOLA_HOME
PHOTO = ROOT / "docs" / "faces" / "astronaut.jpg"
AGENT = f"moviola {__version__}"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    """A fresh moviola home (so a fresh local CA), no signer from the environment."""
    folder = tmp_path / "home"
    monkeypatch.setenv("MOVIOLA_HOME", str(folder))
    monkeypatch.setenv(provenance.CERT_ENV, "")  # empty: unset (and restored afterwards, as
    monkeypatch.setenv(provenance.KEY_ENV, "")  # use_credentials() sets them in os.environ)
    return folder


def _video(path: Path, frames: int = 5, tags: dict[str, str] | None = None) -> Path:
    codec = "libvpx-vp9" if path.suffix == ".webm" else "libx264"
    options = {"movflags": "+use_metadata_tags"} if path.suffix == ".mp4" else {}
    with av.open(str(path), "w", options=options) as c:
        c.metadata.update(tags or {})
        s = c.add_stream(codec, rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            img = np.full((48, 64, 3), (20 + 40 * i) % 200, np.uint8)
            img[:, : 8 * (i % 8 + 1)] = 250
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


def _wav(path: Path) -> Path:
    with av.open(str(path), "w") as c:
        s = c.add_stream("pcm_s16le", rate=16000, layout="mono")
        t = np.arange(8000) / 16000
        tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        frame.sample_rate = 16000
        for p in s.encode(frame):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


def _pictures(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def _samples(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])


def _action(manifest: dict, name: str) -> dict:
    return next(a for a in manifest["actions"] if a["action"] == name)


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".part" in p.name or p.name.startswith(".")]


# -- signing and reading ------------------------------------------------------------------------
def test_mp4_gets_an_embedded_manifest_saying_edited_by_a_model(tmp_path):
    src = _video(tmp_path / "src.mp4")
    out = _video(tmp_path / "out.mp4", tags=synthetic_tags("faceswap"))
    before = _pictures(out)
    signed = provenance.sign(out, kind="faces", ingredient=src)
    assert signed is not None and signed.store == "embedded" and signed.sidecar is None
    assert not (tmp_path / "out.mp4.c2pa").exists() and not _leftovers(tmp_path)
    found = provenance.read(out)
    assert found["synthetic"] and found["kind"] == "faces" and found["tool"] == "faceswap"
    assert "faceswap" in found["tags"]["moviola_synthetic"]  # the container tags survive
    m = found["manifest"]
    assert (
        m["store"] == "embedded" and m["valid"] and m["trust"] == "local CA" and not m["problems"]
    )
    assert [a["action"] for a in m["actions"]] == ["c2pa.opened", "c2pa.edited"]
    edited = _action(m, "c2pa.edited")
    assert edited["digitalSourceType"] == provenance.COMPOSITE and edited["softwareAgent"] == AGENT
    assert "faceswap" in edited["description"] and m["ai_generated"]
    assert m["ingredients"] == [{"title": "src.mp4", "relationship": "parentOf"}]
    assert m["moviola"] == {"kind": "faces", "tool": "faceswap", "version": __version__}
    assert "untrusted" in m["note"]
    after = _pictures(out)  # the pictures are untouched
    assert len(after) == len(before) and all(
        np.array_equal(a, b) for a, b in zip(after, before, strict=True)
    )


def test_wav_gets_an_embedded_manifest_saying_created_by_a_model(tmp_path):
    wav = _wav(tmp_path / "speech.wav")
    before = _samples(wav)
    signed = provenance.sign(wav, kind="speech", tool="speak")
    assert signed is not None and signed.store == "embedded"
    m = provenance.read(wav)["manifest"]
    assert m["valid"] and [a["action"] for a in m["actions"]] == ["c2pa.created"]
    created = _action(m, "c2pa.created")
    assert created["digitalSourceType"] == provenance.TRAINED
    assert created["softwareAgent"] == AGENT and "speak" in created["description"]
    assert np.array_equal(_samples(wav), before)


def test_made_from_a_portrait_the_portrait_is_a_placed_component(tmp_path):
    out = _video(tmp_path / "presenter.mp4")
    provenance.sign(out, kind="faces", tool="presenter", ingredient=PHOTO, action="created")
    m = provenance.read(out)["manifest"]
    assert m["valid"] and [a["action"] for a in m["actions"]] == ["c2pa.created", "c2pa.placed"]
    assert _action(m, "c2pa.created")["digitalSourceType"] == provenance.TRAINED
    assert m["ingredients"] == [{"title": "astronaut.jpg", "relationship": "componentOf"}]


def test_mkv_and_webm_get_a_sidecar_bound_to_their_bytes(tmp_path):
    for name in ("out.mkv", "out.webm"):
        clip = _video(tmp_path / name, frames=3)
        digest = sha256(clip)
        signed = provenance.sign(clip, kind="faces", tool="puppet")
        assert signed is not None and signed.store == "sidecar"
        assert signed.sidecar == tmp_path / f"{name}.c2pa" and signed.sidecar.stat().st_size > 0
        assert sha256(clip) == digest  # the file itself is not touched
        m = provenance.read(clip)["manifest"]
        assert m["store"] == "sidecar" and m["sidecar"] == str(signed.sidecar)
        assert m["valid"] and _action(m, "c2pa.created")["digitalSourceType"] == provenance.TRAINED
    assert not _leftovers(tmp_path)


def test_tampering_makes_validation_fail(tmp_path):
    mp4 = _video(tmp_path / "out.mp4", frames=8)
    provenance.sign(mp4, kind="faces")
    data = bytearray(mp4.read_bytes())
    at = data.index(b"mdat") + 40  # a byte of the coded pictures
    data[at] ^= 0xFF
    mp4.write_bytes(bytes(data))
    m = provenance.read(mp4)["manifest"]
    assert m is not None and not m["valid"] and m["validation_state"] == "Invalid"
    assert m["problems"]

    mkv = _video(tmp_path / "out.mkv", frames=3)
    provenance.sign(mkv, kind="faces")
    with open(mkv, "ab") as f:
        f.write(b"\0")
    m = provenance.read(mkv)["manifest"]
    assert m is not None and not m["valid"] and m["problems"]


def test_a_folder_of_pictures_has_each_file_signed(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(2):
        with av.open(str(folder / f"{i:04d}.png"), "w") as c:
            s = c.add_stream("png", rate=1)
            s.width, s.height, s.pix_fmt = 16, 16, "rgb24"
            img = np.full((16, 16, 3), 60 * i, np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
            for p in s.encode(None):
                c.mux(p)
    signed = provenance.sign(folder, kind="faces", tool="faceswap")
    assert signed is not None and signed.files == 2
    for png in folder.iterdir():
        assert provenance.read(png)["manifest"]["valid"]


# -- credentials --------------------------------------------------------------------------------
def test_local_ca_is_made_once_with_private_keys(home, tmp_path):
    first = provenance.credentials()
    folder = home / "c2pa"
    assert sorted(p.name for p in folder.iterdir()) == [
        "ca.key",
        "ca.pem",
        "signer.key",
        "signer.pem",
    ]
    assert folder.stat().st_mode & 0o777 == 0o700
    for name in ("ca.key", "signer.key"):
        assert (folder / name).stat().st_mode & 0o777 == 0o600
    again = provenance.credentials()
    assert again.chain == first.chain and again.local and first.alg == "es256"
    assert first.chain.count(b"BEGIN CERTIFICATE") == 2  # the signer, then its CA


def _own_certificate(folder: Path, *, key_id: bool = True) -> tuple[Path, Path]:
    """A user's own CA and a signer it certifies (without its authority key identifier when
    not ``key_id``: a certificate C2PA refuses)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ku = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Test Studio CA"))
        .issuer_name(name("Test Studio CA"))
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(ku, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("Test Studio signer"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
    )
    if key_id:
        leaf = leaf.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
    leaf = leaf.sign(ca_key, hashes.SHA256())
    pem = serialization.Encoding.PEM
    cert, key_file = folder / "studio.pem", folder / "studio.key"
    cert.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert, key_file


def test_a_users_own_certificate_signs(tmp_path, home, monkeypatch):
    cert, key = _own_certificate(tmp_path)
    mp4 = _video(tmp_path / "out.mp4")
    signed = provenance.sign(mp4, kind="faces", cert=cert, key=key)
    assert signed is not None and "Test Studio signer" in signed.signer
    assert not (home / "c2pa").exists()  # no local CA was needed
    m = provenance.read(mp4)["manifest"]
    assert m["valid"] and m["signer"]["common_name"] == "Test Studio signer"
    assert m["trust"] == "unknown signer" and m["note"] is None  # not this machine's CA
    # the CLI's --sign-cert/--sign-key: checked, then every signing in the process uses them
    provenance.use_credentials(str(cert), str(key))
    assert os.environ[provenance.CERT_ENV] == str(cert.resolve())
    wav = _wav(tmp_path / "a.wav")
    assert "Test Studio" in provenance.sign(wav, kind="speech").signer


def test_unusable_certificates_are_one_line_and_leave_the_file_alone(tmp_path):
    mp4 = _video(tmp_path / "out.mp4")
    digest = sha256(mp4)
    cert, key = _own_certificate(tmp_path)
    (tmp_path / "other").mkdir()
    other_cert, _ = _own_certificate(tmp_path / "other")
    with pytest.raises(MoviolaError, match="not the key of"):
        provenance.sign(mp4, kind="faces", cert=other_cert, key=key)
    with pytest.raises(MoviolaError, match="both"):
        provenance.use_credentials(str(cert), None)
    with pytest.raises(MoviolaError, match="cannot read certificate"):
        provenance.sign(mp4, kind="faces", cert=tmp_path / "none.pem", key=key)
    (tmp_path / "bad").mkdir()
    bad_cert, bad_key = _own_certificate(tmp_path / "bad", key_id=False)
    with pytest.raises(MoviolaError) as caught:  # c2pa refuses it (when signing)
        provenance.sign(mp4, kind="faces", cert=bad_cert, key=bad_key)
    assert "\n" not in str(caught.value) and "cannot sign out.mp4" in str(caught.value)
    with pytest.raises(MoviolaError, match="C2PA refuses the signer"):  # --sign-cert: at once
        provenance.use_credentials(str(bad_cert), str(bad_key))
    assert sha256(mp4) == digest and not _leftovers(tmp_path)
    assert provenance.read(mp4)["manifest"] is None


def test_without_c2pa_it_warns_once_and_writes_nothing(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(_common, "available", lambda: False)
    monkeypatch.setattr(_common, "_warned", False)
    mp4 = _video(tmp_path / "out.mp4")
    digest = sha256(mp4)
    with caplog.at_level(logging.WARNING, logger="moviola"):
        assert provenance.sign(mp4, kind="faces") is None
        assert provenance.sign_tagged(mp4, synthetic_tags("puppet")) is None
    warnings = [r for r in caplog.records if "c2pa-python is not installed" in r.getMessage()]
    assert len(warnings) == 1
    assert sha256(mp4) == digest and not (tmp_path / "out.mp4.c2pa").exists()


# -- the pipeline's step ------------------------------------------------------------------------
class _Tagged(Effect):
    """Stands for faceswap and puppet: declares their synthetic tags, changes nothing."""

    name = "tagged"

    def tags(self) -> dict[str, str]:
        return synthetic_tags("faceswap")

    def process(self, frame):
        return frame


class _Plain(Effect):
    name = "plain"

    def process(self, frame):
        return frame


def test_the_pipeline_signs_outputs_tagged_synthetic_and_only_those(tmp_path):
    src = _video(tmp_path / "src.mp4", frames=4)
    out = tmp_path / "out.mp4"
    run(src, out, [_Tagged()])
    found = provenance.read(out)
    m = found["manifest"]
    assert m is not None and m["valid"] and found["tool"] == "faceswap"
    assert _action(m, "c2pa.edited")["softwareAgent"] == AGENT
    assert m["ingredients"] == [{"title": "src.mp4", "relationship": "parentOf"}]
    run(src, tmp_path / "out.mkv", [_Tagged()])
    assert provenance.read(tmp_path / "out.mkv")["manifest"]["store"] == "sidecar"
    run(src, tmp_path / "plain.mp4", [_Plain()])
    plain = provenance.read(tmp_path / "plain.mp4")
    assert plain["manifest"] is None and not plain["synthetic"]
    assert not _leftovers(tmp_path)


def test_the_chunked_engine_signs_its_joined_output(tmp_path):
    from moviola.engines.job import local_executor, run_chunked

    src = _video(tmp_path / "src.mp4", frames=6)
    out = tmp_path / "joined.mp4"
    run_chunked(src, out, [_Tagged()], local_executor, chunk_seconds=0.2)
    m = provenance.read(out)["manifest"]
    assert m is not None and m["valid"] and m["moviola"]["tool"] == "faceswap"


# -- the command line ---------------------------------------------------------------------------
def _cli(*args, env: dict[str, str]) -> subprocess.CompletedProcess:
    exe = shutil.which("moviola", path=str(Path(sys.executable).parent)) or "moviola"
    return subprocess.run(
        [exe, *map(str, args)], capture_output=True, text=True, timeout=300, env=env
    )


def test_provenance_command(tmp_path, home):
    env = {**os.environ, "MOVIOLA_HOME": str(home)}
    mp4 = _video(tmp_path / "out.mp4", tags=synthetic_tags("puppet"))
    provenance.sign(mp4, kind="faces", ingredient=_video(tmp_path / "driver.mp4"))
    r = _cli("provenance", mp4, env=env)
    assert r.returncode == 0, r.stderr
    assert "synthetic faces, made with moviola puppet" in r.stdout
    assert "C2PA manifest: embedded" in r.stdout and "validation: valid" in r.stdout
    assert "local moviola CA" in r.stdout and "from driver.mp4 (parentOf)" in r.stdout
    r = _cli("provenance", mp4, "--json", env=env)
    found = json.loads(r.stdout)
    assert found["manifest"]["valid"] and found["tags"]["moviola_synthetic"].startswith("faces;")
    plain = _video(tmp_path / "plain.mp4")
    r = _cli("provenance", plain, env=env)
    assert r.returncode == 0 and "no mark of synthetic content" in r.stdout
    for bad, says in ((tmp_path / "missing.mp4", "no such file"), (PHOTO.parent, "not a file")):
        r = _cli("provenance", bad, env=env)
        assert r.returncode == 2 and says in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    text = tmp_path / "notes.txt"
    text.write_text("not a video\n")
    r = _cli("provenance", text, env=env)
    assert r.returncode == 2 and "not a media file" in r.stderr
    r = _cli("--sign-cert", tmp_path / "x.pem", "provenance", mp4, env=env)
    assert r.returncode == 2 and "--sign-key" in r.stderr


def test_puppet_output_is_signed(tmp_path, home):
    """The real effect, end to end: a few frames of the photo drive the photo."""
    pytest.importorskip("ai_edge_litert")
    models = MODELS
    wanted = ("mediapipe-face-detection-short", "mediapipe-face-landmark")
    if not all((models / m).is_dir() for m in wanted):
        pytest.skip("face models not in the store (moviola models fetch)")
    home.mkdir(parents=True, exist_ok=True)
    (home / "models").symlink_to(models)  # the models, with this test's own signer
    env = {**os.environ, "MOVIOLA_HOME": str(home)}
    photo = av.open(str(PHOTO))
    img = next(photo.decode(video=0)).to_ndarray(format="rgb24")
    photo.close()
    driver = tmp_path / "driver.mp4"
    with av.open(str(driver), "w") as c:
        s = c.add_stream("libx264", rate=12)
        s.width, s.height, s.pix_fmt = img.shape[1], img.shape[0], "yuv420p"
        for _ in range(3):
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    out = tmp_path / "puppet.mkv"
    r = _cli("puppet", PHOTO, "--driver", driver, "-o", out, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "puppet.mkv.c2pa").is_file()
    r = _cli("provenance", out, "--json", env=env)
    found = json.loads(r.stdout)
    m = found["manifest"]
    assert found["tool"] == "puppet" and m["valid"] and m["store"] == "sidecar"
    assert m["moviola"]["tool"] == "puppet" and m["ai_generated"]
    assert m["ingredients"] == [{"title": "driver.mp4", "relationship": "parentOf"}]
