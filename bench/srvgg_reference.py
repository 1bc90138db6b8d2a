"""Real-ESRGAN general-x4v3 with --denoise: moviola's blended ONNX (models/srvgg.py) against
Real-ESRGAN's own code on random weights: basicsr 1.4.2's SRVGGNetCompact and realesrgan 0.3.0's
dni (weights mixed S * x4v3 + (1 - S) * wdn), at strengths 0, 0.25, 0.5 and 1. The reference
code is run from the downloaded package, never installed:

    mkdir -p /tmp/ref && cd /tmp/ref
    python -m pip download --no-deps basicsr==1.4.2 -d .
    tar xzf basicsr-1.4.2.tar.gz basicsr-1.4.2/basicsr/archs/srvgg_arch.py
    /work/main/.venv/bin/python /work/main/bench/srvgg_reference.py [--ref /tmp/ref]

Last run: max abs difference 5.5e-07 over the four strengths (outputs span -0.28..1.23).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from moviola.models import srvgg  # noqa: E402


def reference_class(folder: Path):
    """basicsr's SRVGGNetCompact, its registry stubbed (the rest of basicsr is not needed)."""

    class _Registry:
        def register(self, **_kw):
            return lambda cls: cls

    registry = types.ModuleType("basicsr.utils.registry")
    registry.ARCH_REGISTRY = _Registry()  # type: ignore[attr-defined]
    for name in ("basicsr", "basicsr.utils"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["basicsr.utils.registry"] = registry
    source = folder / "basicsr-1.4.2/basicsr/archs/srvgg_arch.py"
    scope: dict = {}
    exec(compile(source.read_text(), str(source), "exec"), scope)  # noqa: S102 - the reference
    return scope["SRVGGNetCompact"]


def dni(a: dict, b: dict, w: tuple[float, float]) -> dict:
    """realesrgan 0.3.0's RealESRGANer.dni: net_a[k] = w[0] * a[k] + w[1] * b[k]."""
    return {k: w[0] * v + w[1] * b[k] for k, v in a.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ref", type=Path, default=Path("/tmp/ref"))
    args = ap.parse_args()
    net_class = reference_class(args.ref)

    def make():
        return net_class(
            num_in_ch=3, num_out_ch=3, num_feat=64, num_conv=32, upscale=4, act_type="prelu"
        )

    torch.manual_seed(0)

    def random_params() -> dict:
        net = make()
        for p in net.parameters():
            p.data = torch.randn_like(p) * 0.05
        return {k: v.clone() for k, v in net.state_dict().items()}

    strong, weak = random_params(), random_params()
    tmp = Path(tempfile.mkdtemp())
    torch.save({"params": strong}, tmp / "x4v3.pth")
    torch.save({"params": weak}, tmp / "wdn.pth")
    inputs = {"x4v3.pth": tmp / "x4v3.pth", "wdn.pth": tmp / "wdn.pth"}
    srvgg.convert(inputs, tmp, "x4v3.pth", "wdn.pth")
    sess = ort.InferenceSession(str(tmp / srvgg.ONNX_NAME), providers=["CPUExecutionProvider"])
    x = torch.rand(1, 3, 37, 53)
    worst = 0.0
    for s in (0.0, 0.25, 0.5, 1.0):
        ref = make()
        ref.load_state_dict(dni(strong, weak, (s, 1 - s)))
        with torch.no_grad():
            want = ref.eval()(x).numpy()
        got = sess.run(None, {"input": x.numpy(), "strength": np.array([s], np.float32)})[0]
        diff = float(np.abs(want - got).max())
        worst = max(worst, diff)
        print(f"strength {s}: max abs diff {diff:.2e} (outputs {want.min():.2f}..{want.max():.2f})")
    print(f"worst: {worst:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
