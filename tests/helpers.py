"""Helpers shared by the tests."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def moviola_cli(*args, timeout=300) -> subprocess.CompletedProcess:
    """Run the installed CLI as a user would."""
    exe = shutil.which("moviola", path=str(Path(sys.executable).parent)) or "moviola"
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=timeout)
