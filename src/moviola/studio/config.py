"""The studio's settings (``moviola studio`` options) and the check that keeps it local unless a
token protects it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from moviola.errors import MoviolaError

STRONG_TOKEN = 16  # characters; a shorter token is taken with a warning


@dataclass
class StudioConfig:
    media: list[str] = field(default_factory=list)
    data: str = "studio-data"
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    max_upload_mb: float = 2048.0
    workers: int = 1

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_config(config: StudioConfig) -> None:
    """Refuse to serve beyond this machine without a token."""
    if not is_loopback(config.host) and not config.token:
        raise MoviolaError(
            f"--host {config.host} makes the studio reachable from other machines: give a "
            "--token (or set MOVIOLA_STUDIO_TOKEN); every request must then carry it"
        )
    token = config.token
    if token is not None:
        if not token.strip():
            raise MoviolaError("the token is blank: give one of 16 characters or more")
        if any(c.isspace() or not c.isprintable() for c in token):
            raise MoviolaError("the token must not hold spaces or control characters")
        if len(token) < 8:
            raise MoviolaError("the token must have at least 8 characters")


def token_warning(config: StudioConfig) -> str | None:
    """A line to print at start when the token is weak (short), else None."""
    if config.token is not None and len(config.token) < STRONG_TOKEN:
        return (
            f"warning: the token has only {len(config.token)} characters; "
            f"use {STRONG_TOKEN} or more"
        )
    return None
