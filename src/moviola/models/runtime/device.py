"""Which processor runs the models: ``--device auto|cpu|cuda|rocm|coreml|dml`` on every command.

The choice is checked once, up front, and then put in ``MOVIOLA_DEVICE`` so that every session
of this process (ONNX Runtime, ncnn, faster-whisper) and every worker it starts (the chunked and
Ray engines) follow it. A device that is not usable here is one line (exit 2), not a silent
fall-back to the CPU: ONNX Runtime lists CUDA among its providers whenever the onnxruntime-gpu
wheel is installed, even on a machine with no NVIDIA driver, so the check opens a tiny session on
the device and looks at which provider it really got.

The GPU runtimes are not installed by default: ``onnxruntime-gpu`` (CUDA), ``onnxruntime-rocm``
and ``onnxruntime-directml`` provide the same ``onnxruntime`` module as the CPU wheel, so they
replace it (``MOVIOLA_GPU=cuda make setup``; docs/gpu.md). CoreML is in the macOS CPU wheel.
"""

from __future__ import annotations

import base64
import importlib.util
import os

from moviola.errors import MoviolaError

from .onnx import _DEVICE_NAMES, _import_ort, choose_providers

DEVICES = ("auto", "cpu", "cuda", "rocm", "coreml", "dml")

# y = relu(x) for a float[1]: the smallest graph every execution provider can take
_PROBE_MODEL = base64.b64decode(
    "CAg6NwoMCgF4EgF5IgRSZWx1EgVwcm9iZVoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEA0="
)

#: the onnxruntime wheel that brings each GPU provider
RUNTIME_PACKAGES = {
    "cuda": "onnxruntime-gpu",
    "rocm": "onnxruntime-rocm",
    "dml": "onnxruntime-directml",
    "directml": "onnxruntime-directml",
    "coreml": "onnxruntime (the macOS wheel)",
}


def requested() -> str:
    """The device asked for: $MOVIOLA_DEVICE, else "auto"."""
    return (os.environ.get("MOVIOLA_DEVICE") or "auto").strip().lower()


def probe(device: str) -> str:
    """Open a tiny session on ``device``; return the ONNX Runtime provider it really runs on.

    MoviolaError (one line) when the device is unknown, missing from this onnxruntime build,
    or present in the build but unable to start (no GPU, no driver).
    """
    device = device.lower()
    ort = _import_ort()
    providers = choose_providers(ort.get_available_providers(), device)  # raises if absent
    wanted = providers[0]
    opts = ort.SessionOptions()
    opts.log_severity_level = 4  # the fall-back warning is turned into our own message
    try:
        sess = ort.InferenceSession(_PROBE_MODEL, sess_options=opts, providers=providers)
    except Exception as e:  # noqa: BLE001 - any start-up failure of the provider
        raise MoviolaError(f"device '{device}' failed to start: {str(e).splitlines()[0]}") from e
    got = sess.get_providers()[0]
    if device not in ("auto", "cpu") and got != wanted:
        raise MoviolaError(
            f"device '{device}': onnxruntime has {wanted} but it could not start here "
            "(no GPU or no driver); run with --device cpu"
        )
    return got


def use(device: str | None) -> str | None:
    """Check ``device`` and make it this process's (and its workers') choice; return the ONNX
    Runtime provider it maps to (None for auto/cpu when onnxruntime is not installed)."""
    if not device:
        return None
    device = device.strip().lower()
    if device not in DEVICES and device not in _DEVICE_NAMES:
        raise MoviolaError(f"unknown device '{device}'; choose one of {', '.join(DEVICES)}")
    if device in ("auto", "cpu") and importlib.util.find_spec("onnxruntime") is None:
        os.environ["MOVIOLA_DEVICE"] = device
        return None
    try:
        provider = probe(device)
    except MoviolaError as e:
        if device in ("auto", "cpu") or "not available in this onnxruntime build" not in str(e):
            raise
        raise MoviolaError(
            f"device '{device}' needs {RUNTIME_PACKAGES.get(device, 'a GPU build of onnxruntime')} "
            "in place of onnxruntime (MOVIOLA_GPU="
            f"{'directml' if device == 'dml' else device} bash scripts/setup.sh; see docs/gpu.md)"
        ) from e
    os.environ["MOVIOLA_DEVICE"] = device
    return provider


def gpu_wanted() -> bool:
    """True when the user asked for a GPU or left the choice to us (auto)."""
    return requested() not in ("cpu",)


def whisper_device() -> tuple[str, str]:
    """(device, compute_type) for faster-whisper: CUDA in float16 when asked for (or auto) and
    present, else the CPU in int8."""
    want = requested()
    if want in ("auto", "cuda"):
        try:
            import ctranslate2

            if ctranslate2.get_cuda_device_count() > 0:
                return "cuda", "float16"
        except (ImportError, RuntimeError, OSError):
            pass
    if want == "cuda":
        raise MoviolaError("device 'cuda': ctranslate2 finds no CUDA GPU; run with --device cpu")
    return "cpu", "int8"
