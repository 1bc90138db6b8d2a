#!/usr/bin/env bash
# Create .venv/ and install moviola with everything its tests and demo need.
# Runtime needs no Debian packages (PyAV and OpenCV wheels carry FFmpeg); the benchmark needs
# the ffmpeg command line, installed here when running as root.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "moviola needs Python >= 3.11 (found $("$PYTHON" --version))" >&2
    exit 1
fi

if ! command -v ffmpeg >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Debian's ffmpeg (for the benchmark's reference runs)"
        apt-get update -qq || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null || \
            echo "setup: could not install ffmpeg; bench/ needs it, nothing else does" >&2
    else
        echo "setup: no ffmpeg command line; only bench/ needs it (apt-get install ffmpeg)" >&2
    fi
fi

# The studio's browser tests drive Debian's chromium (Playwright's own browser download is
# never used); without it they skip.
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Debian's chromium (for the studio's browser tests)"
        apt-get update -qq || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null || \
            echo "setup: no chromium; the studio's browser tests will skip" >&2
    else
        echo "setup: no chromium; the studio's browser tests will skip (apt-get install chromium)" >&2
    fi
fi

# moviola score plays its music with FluidSynth and the FluidR3_GM soundfont (both Debian).
if [ ! -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || ! ldconfig -p 2>/dev/null | grep -q libfluidsynth; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Debian's FluidSynth and FluidR3_GM soundfont (for moviola score)"
        apt-get update -qq || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libfluidsynth3 fluid-soundfont-gm >/dev/null || \
            echo "setup: no FluidSynth; moviola score will say what to install" >&2
    else
        echo "setup: moviola score needs: apt-get install libfluidsynth3 fluid-soundfont-gm" >&2
    fi
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[models,upscale,convert,analysis,studio,ray,faces,speech,voices,score,provenance,train,dev]"
# MOVIOLA_GPU=cuda|rocm|directml replaces the CPU onnxruntime with that build (docs/gpu.md); the
# choice is kept in .venv/moviola-gpu, and MOVIOLA_GPU=cpu switches back.
GPU=${MOVIOLA_GPU:-$(cat .venv/moviola-gpu 2>/dev/null || true)}
if [ -n "$GPU" ]; then
    bash scripts/gpu-runtime.sh .venv/bin/python "$GPU"
fi
echo "setup: .venv ready ($(.venv/bin/moviola --version))"
