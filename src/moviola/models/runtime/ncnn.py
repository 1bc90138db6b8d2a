"""ncnn inference sessions, for models that exist only as ncnn ``.param`` + ``.bin`` (Real-ESRGAN).

Runtime: the official ``ncnn`` Python binding from PyPI (``pip install 'moviola[upscale]'``). Its
wheel carries its own OpenMP library and loads Vulkan only when asked, so on the CPU it needs no
system package. The ``.bin`` weights file sits beside the ``.param`` file with the same stem.

Arrays follow the ONNX convention: ``N x C x H x W`` (or ``C x H x W``) float32 in, the same rank
out. Devices: "cpu" runs on the CPU; "auto" uses the first Vulkan device that is a real GPU and
the CPU when there is none; "vulkan" (or any GPU device: cuda, rocm, dml, coreml) needs that GPU.
Software Vulkan, such as Mesa's lavapipe, is never used: it gave wrong colours with these models.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from moviola.errors import MoviolaError
from moviola.models.runtime.base import Session, TensorInfo

INSTALL_HINT = "pip install 'moviola[upscale]' (or: pip install ncnn)"
_GPU_TYPE_CPU = 3  # ncnn GpuInfo.type(): 0 discrete, 1 integrated, 2 virtual, 3 cpu (software)


def import_ncnn() -> Any:
    """The ``ncnn`` module, or one MoviolaError line saying what to install."""
    try:
        import ncnn
    except ImportError as e:
        raise MoviolaError(
            f"the ncnn runtime is needed for this model but cannot be imported ({e}): "
            f"{INSTALL_HINT}"
        ) from e
    return ncnn


def read_param_blobs(path: Path) -> tuple[list[str], list[str]]:
    """Input blob names (of Input layers) and output blob names (produced, never consumed)
    of a text ncnn ``.param`` file."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise MoviolaError(f"cannot read ncnn model {path}: {e}") from e
    if not lines or lines[0].strip() != "7767517":
        raise MoviolaError(f"not a text ncnn .param file (bad magic number): {path}")
    inputs: list[str] = []
    produced: list[str] = []
    consumed: set[str] = set()
    for line in lines[2:]:
        parts = line.split()
        if len(parts) < 4:
            continue
        try:
            n_in, n_out = int(parts[2]), int(parts[3])
        except ValueError:
            raise MoviolaError(f"malformed ncnn .param file {path}: {line.strip()!r}") from None
        bottoms = parts[4 : 4 + n_in]
        tops = parts[4 + n_in : 4 + n_in + n_out]
        consumed.update(bottoms)
        produced.extend(tops)
        if parts[0] == "Input":
            inputs.extend(tops)
    outputs = [b for b in produced if b not in consumed]
    if not inputs or not outputs:
        raise MoviolaError(f"ncnn model {path.name} has no input or no output blob")
    return inputs, outputs


# any GPU device asked for runs ncnn models on the Vulkan GPU (the same card)
_NCNN_DEVICES = ("auto", "cpu", "vulkan", "gpu", "cuda", "rocm", "dml", "directml", "coreml")


class NcnnSession(Session):
    """An ncnn Net. ``run`` is thread-safe: each call makes its own extractor."""

    def __init__(self, path: Path, *, threads: int | None = None, device: str | None = None):
        self.path = Path(path)
        bin_path = self.path.with_suffix(".bin")
        if not bin_path.is_file():
            raise MoviolaError(
                f"ncnn model {self.path.name} needs its weights beside it: {bin_path}"
            )
        in_names, out_names = read_param_blobs(self.path)
        ncnn = import_ncnn()
        device = (device or "auto").lower()
        net = ncnn.Net()
        opt = net.opt
        opt.use_vulkan_compute = False
        opt.lightmode = True  # free intermediate blobs as soon as they are consumed
        if threads:
            opt.num_threads = int(threads)
        if device not in _NCNN_DEVICES:
            raise MoviolaError(
                f"device '{device}' is not available for ncnn models "
                f"(choose {', '.join(_NCNN_DEVICES)})"
            )
        gpu = None if device == "cpu" else self._vulkan_device(ncnn, required=device != "auto")
        if gpu is None:
            self.provider = "ncnn-cpu"
        else:
            net.set_vulkan_device(gpu)
            opt.use_vulkan_compute = True
            self.provider = "ncnn-vulkan"
        if net.load_param(str(self.path)) != 0:
            raise MoviolaError(f"ncnn could not load {self.path}")
        if net.load_model(str(bin_path)) != 0:
            raise MoviolaError(f"ncnn could not load the weights {bin_path}")
        self._ncnn = ncnn
        self._net = net
        self._lock = threading.Lock()  # guards only extractor creation
        self.inputs = tuple(TensorInfo(n, ("N", 3, "H", "W"), "tensor(float)") for n in in_names)
        self.outputs = tuple(TensorInfo(n, ("N", 3, "H", "W"), "tensor(float)") for n in out_names)

    @staticmethod
    def _vulkan_device(ncnn: Any, *, required: bool) -> int | None:
        """The first Vulkan device that is a real GPU (auto: None when there is none)."""
        try:
            count = ncnn.get_gpu_count()
        except Exception:  # noqa: BLE001 - a build without Vulkan, or a broken loader
            count = 0
        for index in range(count):
            if ncnn.get_gpu_info(index).type() != _GPU_TYPE_CPU:
                return index
        if not required:
            return None
        raise MoviolaError(
            "no Vulkan GPU for ncnn (software Vulkan is not used: it gives wrong colours); "
            "use device cpu"
        )

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        names = self.input_names
        if set(feeds) != set(names):
            raise MoviolaError(
                f"model {self.path.name} takes inputs {', '.join(names)}; "
                f"got {', '.join(sorted(feeds)) or 'none'}"
            )
        arrays = {k: np.asarray(v, dtype=np.float32) for k, v in feeds.items()}
        ranks = {a.ndim for a in arrays.values()}
        if ranks - {3, 4} or len(ranks) != 1:
            raise MoviolaError(f"model {self.path.name} takes C x H x W or N x C x H x W arrays")
        batched = ranks == {4}
        count = next(iter(arrays.values())).shape[0] if batched else 1
        results: dict[str, list[np.ndarray]] = {n: [] for n in self.output_names}
        for i in range(count):
            with self._lock:
                ex = self._net.create_extractor()
            for name, arr in arrays.items():
                item = arr[i] if batched else arr
                ex.input(name, self._ncnn.Mat(np.ascontiguousarray(item)))
            for name in self.output_names:
                ret, mat = ex.extract(name)
                if ret != 0:
                    raise MoviolaError(f"model {self.path.name} failed on its input (ncnn {ret})")
                results[name].append(np.array(mat, dtype=np.float32, copy=True))
        if batched:
            return {n: np.stack(v) for n, v in results.items()}
        return {n: v[0] for n, v in results.items()}
