"""The signer of C2PA manifests: the user's certificate chain and key, or a local CA and a signer
it certifies, made on first use under ``$MOVIOLA_HOME/c2pa`` (ca.pem, ca.key, signer.pem,
signer.key; keys 0600, the folder 0700). The local pair is ECDSA P-256 (ES256): C2PA refuses a
self-signed signer, so the CA (CA:true, keyCertSign) certifies a signer (digitalSignature,
the emailProtection EKU that C2PA accepts). Both are written into a new folder renamed into place,
so two processes never mix the halves of two pairs."""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from moviola.errors import MoviolaError

log = logging.getLogger("moviola")

CERT_ENV, KEY_ENV = "MOVIOLA_SIGN_CERT", "MOVIOLA_SIGN_KEY"
_LOCAL_FILES = ("ca.pem", "ca.key", "signer.pem", "signer.key")


def home() -> Path:
    """moviola's data directory, by the rule of models.store.home_dir (media/ cannot import it):
    $MOVIOLA_HOME, else $XDG_CACHE_HOME/moviola or ~/.cache/moviola."""
    env = os.environ.get("MOVIOLA_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "moviola"


def local_dir() -> Path:
    """Where the local CA and signer live: ``home() / "c2pa"``."""
    return home() / "c2pa"


@dataclass(frozen=True)
class Credentials:
    """A certificate chain (PEM, the signer's first) and its private key (PEM)."""

    chain: bytes
    key: bytes
    alg: str  # es256, es384, es512, ps256, ed25519
    local: bool  # the local CA's signer
    signer: str  # the signer certificate's subject, for messages


def credentials(cert: str | os.PathLike | None = None, key: str | os.PathLike | None = None):
    """The signing credentials: ``cert`` and ``key`` (PEM files: the chain, signer first, and
    its unencrypted private key), else $MOVIOLA_SIGN_CERT and $MOVIOLA_SIGN_KEY, else the local
    CA's signer (made on first use)."""
    cert = cert or os.environ.get(CERT_ENV) or None
    key = key or os.environ.get(KEY_ENV) or None
    if bool(cert) != bool(key):
        raise MoviolaError("give both a signing certificate and its key (--sign-cert, --sign-key)")
    if cert and key:
        return _load(Path(cert), Path(key), local=False)
    return _local()


def _alg(private_key) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if private_key.curve.name in curves:
            return curves[private_key.curve.name]
        raise MoviolaError(f"C2PA cannot sign with an EC key on {private_key.curve.name}")
    if isinstance(private_key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise MoviolaError(f"C2PA cannot sign with a {type(private_key).__name__}")


def _load(cert: Path, key: Path, *, local: bool) -> Credentials:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        certs = x509.load_pem_x509_certificates(cert.read_bytes())
    except OSError as e:
        raise MoviolaError(f"cannot read certificate {cert}: {e.strerror or e}") from None
    except ValueError:
        raise MoviolaError(f"{cert} holds no PEM certificate") from None
    try:
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except OSError as e:
        raise MoviolaError(f"cannot read key {key}: {e.strerror or e}") from None
    except TypeError:
        raise MoviolaError(f"{key} is encrypted: give an unencrypted PEM key") from None
    except ValueError:
        raise MoviolaError(f"{key} holds no PEM private key") from None
    pem = serialization.Encoding.PEM
    raw = serialization.PublicFormat.SubjectPublicKeyInfo
    if private.public_key().public_bytes(pem, raw) != certs[0].public_key().public_bytes(pem, raw):
        raise MoviolaError(f"{key} is not the key of {cert} (its first certificate)")
    expires = certs[0].not_valid_after_utc
    if not local and expires < dt.datetime.now(dt.UTC):
        raise MoviolaError(f"certificate {cert} expired on {expires:%Y-%m-%d}")
    return Credentials(
        chain=b"".join(c.public_bytes(pem) for c in certs),
        key=private.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        alg=_alg(private),
        local=local,
        signer=certs[0].subject.rfc4514_string(),
    )


def _local() -> Credentials:
    folder = local_dir()
    if not all((folder / name).is_file() for name in _LOCAL_FILES):
        _make_local(folder)
    found = _load(folder / "signer.pem", folder / "signer.key", local=True)
    from cryptography import x509

    leaf = x509.load_pem_x509_certificate(found.chain)
    if leaf.not_valid_after_utc < dt.datetime.now(dt.UTC) + dt.timedelta(days=1):
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
        folder.rename(folder.with_name(f"c2pa.expired-{stamp}"))
        _make_local(folder)
        found = _load(folder / "signer.pem", folder / "signer.key", local=True)
    return found


def _make_local(folder: Path) -> None:
    """A CA and a signer it certifies, written into a new folder renamed into place (so two
    processes never mix the halves of two pairs)."""
    from cryptography.hazmat.primitives import serialization

    from moviola.media.atomic import discard, make_temp

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp(folder, suffix="", directory=True)
    try:
        os.chmod(tmp, 0o700)
        ca_key, ca, key, leaf = _new_pair()
        pem = serialization.Encoding.PEM
        for name, data in (
            ("ca.pem", ca.public_bytes(pem)),
            ("signer.pem", leaf.public_bytes(pem) + ca.public_bytes(pem)),
            ("ca.key", _key_pem(ca_key)),
            ("signer.key", _key_pem(key)),
        ):
            fd = os.open(tmp / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        if folder.exists() and not any(folder.iterdir()):
            folder.rmdir()
        os.rename(tmp, folder)
    except OSError:
        discard(tmp)
        if not all((folder / name).is_file() for name in _LOCAL_FILES):
            raise  # not a lost race with another process: a real failure
    log.info("made a local C2PA signing CA in %s", folder)


def _key_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _new_pair():
    """A CA (CA:true, keyCertSign) and a signer it certifies (digitalSignature, the
    emailProtection EKU C2PA accepts), ECDSA P-256 both, valid ten and five years."""
    import socket

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        org = f"moviola (local, {socket.gethostname() or 'this machine'})"
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, org[:64]),
            ]
        )

    def usage(sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(sign, False, False, False, False, ca, ca, False, False)

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("moviola local CA"))
        .issuer_name(name("moviola local CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(False, True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("moviola signer"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(True, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_key, ca, key, leaf
