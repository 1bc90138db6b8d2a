"""A DCGAN generator in PyTorch, written for moviola, and its conversion to ONNX.

Used only to turn the published checkpoint of ``dcgan-faces64`` (``weights.tar``, a dict whose
``netG_state_dict`` entry holds the generator) into the ONNX file that ``moviola latentwalk``
runs with ONNX Runtime; nothing at run time imports torch. ``import moviola.models.dcgan``
itself needs no torch: the network class is built on first use.

The network (Radford et al., "Unsupervised Representation Learning with Deep Convolutional
Generative Adversarial Networks", 2016) turns a latent vector ``z`` (normally distributed, here
100 numbers) into an image by five transposed convolutions (kernel 4): the first makes a 4x4
map from the 1x1 latent, each of the others doubles the size (stride 2, padding 1), 4 -> 8 ->
16 -> 32 -> 64. Between them: batch normalisation (running statistics, as in eval mode) and
ReLU; at the end tanh, so pixels lie in -1..1. The layer widths are read off the checkpoint
(``ngf`` feature maps in the last hidden layer, 8, 4, 2, 1 times ``ngf`` from first to last).

The exported graph takes ``latent`` (N x Z, float32) and returns ``image`` (N x 3 x 64 x 64,
RGB in -1..1); the batch size is free.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from moviola.errors import MoviolaError

INPUT_NAME = "latent"
OUTPUT_NAME = "image"
OPSET = 17
#: The checkpoint's layers: positions of the transposed convolutions inside ``main``.
CONV_INDICES = (0, 3, 6, 9, 12)
#: The torch release whose exporter writes the byte-identical ONNX file the catalog records.
#: Largest difference allowed between ONNX Runtime and torch (pixels in -1..1).
TOLERANCE = 1e-4


def _torch():
    from moviola.models.convert import require

    return require("torch")


@functools.cache
def _generator_class() -> type:
    torch = _torch()
    nn = torch.nn

    class Generator(nn.Module):
        """Latent (N x Z) -> image (N x channels x 64 x 64, -1..1)."""

        def __init__(self, latent: int = 100, ngf: int = 64, channels: int = 3) -> None:
            super().__init__()
            self.latent = latent
            widths = (latent, ngf * 8, ngf * 4, ngf * 2, ngf)
            layers: list[Any] = []
            for i, (cin, cout) in enumerate(zip(widths, widths[1:], strict=False)):
                stride, pad = (1, 0) if i == 0 else (2, 1)
                layers += [
                    nn.ConvTranspose2d(cin, cout, 4, stride, pad, bias=False),
                    nn.BatchNorm2d(cout),
                    nn.ReLU(True),
                ]
            layers += [nn.ConvTranspose2d(ngf, channels, 4, 2, 1, bias=False), nn.Tanh()]
            # one Sequential named "main": the checkpoint's keys are main.<index>.<tensor>
            self.main = nn.Sequential(*layers)

        def forward(self, latent: Any) -> Any:
            return self.main(latent.reshape(latent.shape[0], self.latent, 1, 1))

    return Generator


def _shapes(state: Mapping[str, Any]) -> tuple[int, int, int]:
    """(latent size, ngf, channels) from the checkpoint's first and last convolutions."""
    try:
        first = tuple(state[f"main.{CONV_INDICES[0]}.weight"].shape)
        last = tuple(state[f"main.{CONV_INDICES[-1]}.weight"].shape)
    except (KeyError, AttributeError) as e:
        raise MoviolaError(f"not a DCGAN generator checkpoint: no entry {e}") from None
    if len(first) != 4 or len(last) != 4 or first[1] % 8:
        raise MoviolaError(f"not a DCGAN generator checkpoint: first layer {first}")
    return int(first[0]), int(last[0]), int(last[1])


def build_generator(state: Mapping[str, Any] | None = None, latent: int = 100) -> Any:
    """The generator in eval mode, with the checkpoint's weights when ``state`` is given.

    Every weight must come from ``state`` and every entry of ``state`` must be used, with the
    same shapes, else MoviolaError.
    """
    Generator = _generator_class()
    if state is None:
        return Generator(latent).eval()
    z, ngf, channels = _shapes(state)
    net = Generator(z, ngf, channels)
    try:
        net.load_state_dict(dict(state), strict=True)
    except RuntimeError as e:
        lines = [s.strip() for s in str(e).splitlines() if s.strip()]
        raise MoviolaError(f"not a DCGAN generator checkpoint: {lines[-1]}") from None
    return net.eval()


def export_onnx(net: Any, path: str | Path) -> None:
    """Write ``net`` as an ONNX graph (opset 17) with a free batch size."""
    torch = _torch()

    example = torch.randn(2, net.latent, generator=torch.Generator().manual_seed(0))
    axes = {0: "batch"}
    from moviola.models.convert import trace_to_onnx

    trace_to_onnx(
        net,
        (example,),
        path,
        opset=OPSET,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes},
    )


def check_onnx(net: Any, path: str | Path, batch: int = 5) -> float:
    """Largest difference between ONNX Runtime and ``net`` on random latents (a batch size
    other than the traced one, so that a graph frozen to the trace's batch fails here)."""
    torch = _torch()
    import numpy as np
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    z = torch.randn(batch, net.latent, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = net(z).numpy()
    got = np.asarray(sess.run([OUTPUT_NAME], {INPUT_NAME: z.numpy()})[0])
    if got.shape != expected.shape:
        raise MoviolaError(f"ONNX export of DCGAN is wrong: shape {got.shape} for {expected.shape}")
    return float(abs(got - expected).max())


def convert_checkpoint(inputs: Mapping[str, Path], out_dir: Path, name: str) -> Path:
    """The ``dcgan-faces64`` conversion: ``weights.tar`` -> verified ONNX file ``out_dir/name``."""
    from moviola.models.convert import checkpoint_to_onnx

    return checkpoint_to_onnx(
        inputs["weights.tar"],
        Path(out_dir) / name,
        what="DCGAN",
        build=build_generator,
        export=export_onnx,
        check=check_onnx,
        tolerance=TOLERANCE,
        state_key="netG_state_dict",
    )
