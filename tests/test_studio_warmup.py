"""Previews of effects with cross-frame state begin as a run of the whole clip would: RVM's
recurrent state is warmed up on the frames before the preview's range (studio/warmup.py), so
the first frames of a preview are not half-transparent ghosts."""

from __future__ import annotations

import numpy as np
import pytest

from moviola.media import VideoReader
from moviola.pipeline import create
from moviola.pipeline.runner import Chain
from moviola.studio.warmup import WarmedUp, warmed

START, END = 1.5, 1.8  # s: people walk through vtest.avi from its first frame


def _alphas(source, effects, start, end) -> list[np.ndarray]:
    with VideoReader(source, start=start, end=end) as reader:
        chain = Chain(effects)
        chain.configure(reader.stream_info)
        try:
            frames = list(chain.run(reader))
        finally:
            chain.close()
    return [f.image[..., 0].astype(np.float32) / 255 for f in frames]


def _chain():
    return [create("resize", width=320), create("matte", matte_only=True)]


def test_a_preview_starts_with_the_state_of_a_whole_run(real_footage):
    pytest.importorskip("onnxruntime")
    whole = _alphas(real_footage, _chain(), 0, END)
    first = whole[-3]  # the frame at START (10 fps)
    people = first > 0.5
    assert people.sum() > 200, "the whole run sees people at the preview's start"

    cold = _alphas(real_footage, _chain(), START, END)[0]
    chain = warmed(_chain(), real_footage, START)
    assert len(chain) == 1 and isinstance(chain[0], WarmedUp)
    warm = _alphas(real_footage, chain, START, END)
    assert len(warm) == 3  # the warm-up frames are not in the output
    assert chain[0].warmed == 15  # every frame before the start (48 wanted; 15 there)

    cold_error = float(np.abs(cold - first)[people].mean())
    warm_error = float(np.abs(warm[0] - first)[people].mean())
    # measured: warm 0.0000, cold 0.082 (the cold state's people are see-through)
    assert warm_error < 0.02 < cold_error, (warm_error, cold_error)


def test_chains_that_need_no_warm_up_are_left_alone(real_footage):
    resize = [create("resize", width=160)]
    assert warmed(resize, real_footage, 2.0) == resize  # each frame on its own
    trim = [create("trim", end=1), create("matte")]
    assert warmed(trim, real_footage, 2.0) == trim  # retimed: no frames "before"
    assert len(warmed(_chain(), real_footage, 0)) == 2  # from the first frame: nothing before
