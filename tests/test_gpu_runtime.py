"""scripts/gpu-runtime.sh: switching the ONNX Runtime build (CPU, CUDA, ROCm, DirectML).

The builds install the same module; the test's fake pip models that: each wheel writes the
shared module, and uninstalling any of them deletes it (as pip deletes the files in its RECORD).
The switch must end with exactly one build installed and its module in place.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gpu-runtime.sh"

FAKE_PYTHON = r"""#!/usr/bin/env bash
root=$(cd "$(dirname "$0")/.." && pwd)
echo "$*" >> "$root/log"
if [ "$1" = "-c" ]; then cat "$root/module"; exit $?; fi
name=${!#}; name=${name%%>=*}
case "$3" in
    show) grep -qx "$name" "$root/installed" ;;
    uninstall) grep -vx "$name" "$root/installed" > "$root/tmp" || true
               mv "$root/tmp" "$root/installed"; rm -f "$root/module" ;;
    install) grep -vx "$name" "$root/installed" > "$root/tmp" || true
             mv "$root/tmp" "$root/installed"; echo "$name" >> "$root/installed"
             echo "$name" > "$root/module" ;;
esac
"""


@pytest.fixture
def venv(tmp_path):
    (tmp_path / "bin").mkdir()
    py = tmp_path / "bin" / "python"
    py.write_text(FAKE_PYTHON)
    py.chmod(0o755)
    (tmp_path / "installed").write_text("numpy\nonnxruntime\n")
    (tmp_path / "module").write_text("onnxruntime\n")
    return tmp_path


def switch(venv: Path, kind: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), str(venv / "bin" / "python"), kind],
        capture_output=True,
        text=True,
        check=False,
    )


def runtimes(venv: Path) -> list[str]:
    return [n for n in (venv / "installed").read_text().split() if n.startswith("onnxruntime")]


@pytest.mark.parametrize(
    ("kind", "package"),
    [("cuda", "onnxruntime-gpu"), ("rocm", "onnxruntime-rocm"), ("dml", "onnxruntime-directml")],
)
def test_a_gpu_build_replaces_the_cpu_one(venv, kind, package):
    proc = switch(venv, kind)
    assert proc.returncode == 0, proc.stderr
    assert runtimes(venv) == [package]
    assert (venv / "module").read_text().strip() == package  # the module is there, and is its
    log = (venv / "log").read_text().splitlines()
    removed = next(i for i, ln in enumerate(log) if ln.startswith("-m pip uninstall"))
    added = next(i for i, ln in enumerate(log) if ln.startswith("-m pip install"))
    assert removed < added  # removing after installing would delete the new build's files
    assert (venv / "moviola-gpu").read_text().strip() in (kind, "directml")


def test_switching_back_to_cpu_and_again_to_cuda(venv):
    assert switch(venv, "cuda").returncode == 0
    assert switch(venv, "cpu").returncode == 0
    assert runtimes(venv) == ["onnxruntime"]
    assert (venv / "module").read_text().strip() == "onnxruntime"
    assert switch(venv, "cuda").returncode == 0
    assert runtimes(venv) == ["onnxruntime-gpu"]
    assert "numpy" in (venv / "installed").read_text()  # nothing else touched


def test_an_unknown_kind_is_refused_before_anything_changes(venv):
    proc = switch(venv, "opencl")
    assert proc.returncode == 2 and "MOVIOLA_GPU must be" in proc.stderr
    assert runtimes(venv) == ["onnxruntime"] and not (venv / "log").exists()
