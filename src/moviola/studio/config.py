"""The studio's settings (``moviola studio`` options) and the check that keeps it local unless a
token protects it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from moviola.errors import MoviolaError


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
    if config.token is not None and len(config.token) < 8:
        raise MoviolaError("the token must have at least 8 characters")
