"""Shared fixtures: synthetic clips made once per session, and real footage when available."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import pytest

from moviola.media import synth

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(os.environ.get("MOVIOLA_SAMPLES", ROOT / "samples"))


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, Path]:
    """Synthetic clips with flash frames at 0.5, 1.5 and 2.5 s and clicks at the same times."""
    d = tmp_path_factory.mktemp("clips")
    made = {}

    def make(name, **kw):
        path = d / name
        made[name.split(".")[0]] = path
        made[name.split(".")[0] + "_times"] = synth.make_clip(path, **kw)

    make("ntsc.mp4")  # 30000/1001, AAC audio
    make("film.mp4", rate=Fraction(24000, 1001))
    make("vfr.mkv", variable_rate=True)
    make("rotated.mp4", width=160, height=96, rotation=90)
    make("odd.mkv", width=161, height=91, pix_fmt="yuv444p")
    make(
        "tenbit.mkv",
        codec="libx265",
        pix_fmt="yuv420p10le",
        options={"x265-params": "log-level=error"},
    )
    make("alpha.mov", codec="prores_ks", pix_fmt="yuva444p10le", alpha=True, audio=False)
    make("silent.mp4", audio=False)
    return made


def _sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"real footage not found at {path}; run `make samples`")
    return path


@pytest.fixture(scope="session")
def real_footage() -> Path:
    """vtest.avi (pedestrians, 768x576) from Debian's opencv-doc, fetched by `make samples`."""
    return _sample("vtest.avi")


@pytest.fixture(scope="session")
def megamind() -> Path:
    """Megamind.avi (animation, 720x528, MPEG-4 with packed B-frames, AC-3 audio)."""
    return _sample("Megamind.avi")


@pytest.fixture(scope="session")
def speech_dir() -> Path:
    """Real speech (LibriVox sentences, a two-person call) from `make samples`."""
    path = SAMPLES / "speech"
    if not (path / "two-speakers.rttm").exists():
        pytest.skip(f"speech samples not found at {path}; run `make samples`")
    return path


# -- markers (registered in pyproject.toml) ---------------------------------------------------
# Files whose tests need model files from the store, and the browser tests. `slow` marks the
# tests that took about 9 s or more on a 2-core laptop (pytest --durations=25), so that
# `pytest -m "not slow"` is a quick run.
MODEL_FILES = {
    "test_describe.py",
    "test_embed.py",
    "test_export.py",
    "test_faces.py",
    "test_interpolate.py",
    "test_latentwalk.py",
    "test_matte.py",
    "test_puppet.py",
    "test_search.py",
    "test_shots.py",
    "test_upscale.py",
    "test_speech.py",
    "test_cut.py",
    "test_speakers.py",
    "test_dialogue.py",
    "test_voices.py",
}
BROWSER_FILES = {"test_studio_browser.py"}
SLOW_FILES = {"test_studio_browser.py", "test_memory.py", "test_engines.py"}
SLOW_TESTS = {
    "test_ctrl_c_and_termination_leave_no_output",
    "test_resize_fps_chain_real",
    "test_memory_does_not_grow_with_duration",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        name = item.path.name
        if name in MODEL_FILES:
            item.add_marker(pytest.mark.models)
        if name in BROWSER_FILES:
            item.add_marker(pytest.mark.browser)
        if name in SLOW_FILES or item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
