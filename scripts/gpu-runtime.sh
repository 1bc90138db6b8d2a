#!/usr/bin/env bash
# Switch the ONNX Runtime build of a virtual environment: cpu (onnxruntime), cuda
# (onnxruntime-gpu), rocm (onnxruntime-rocm) or directml (onnxruntime-directml).
#
#   bash scripts/gpu-runtime.sh PYTHON KIND
#
# The four wheels install the same `onnxruntime` module, so one cannot be added beside another
# as an extra: every other build is uninstalled first (uninstalling one after installing another
# would delete files the kept one needs), then the wanted build is (re)installed over whatever
# is left. The choice is remembered in .venv/moviola-gpu so that a later `make setup` keeps it.
set -euo pipefail

PY=${1:?usage: gpu-runtime.sh PYTHON cpu|cuda|rocm|directml}
KIND=${2:-cpu}
case "$KIND" in
    cpu) PKG=onnxruntime ;;
    cuda) PKG=onnxruntime-gpu ;;
    rocm) PKG=onnxruntime-rocm ;;
    directml | dml) PKG=onnxruntime-directml; KIND=directml ;;
    *)
        echo "gpu-runtime: MOVIOLA_GPU must be cpu, cuda, rocm or directml, not '$KIND'" >&2
        exit 2
        ;;
esac

for other in onnxruntime onnxruntime-gpu onnxruntime-rocm onnxruntime-directml; do
    [ "$other" = "$PKG" ] && continue
    if "$PY" -m pip show -q "$other" >/dev/null 2>&1; then
        echo "gpu-runtime: removing $other (it provides the same module as $PKG)"
        "$PY" -m pip uninstall -y -q "$other"
    fi
done
echo "gpu-runtime: installing $PKG"
# --force-reinstall: put back any file of the shared module that an uninstall removed
"$PY" -m pip install -q --force-reinstall --no-deps "$PKG>=1.17"
"$PY" -c 'import onnxruntime as ort; print("gpu-runtime: onnxruntime", ort.__version__, "providers:", ", ".join(ort.get_available_providers()))'
echo "$KIND" > "$(dirname "$PY")/../moviola-gpu"
