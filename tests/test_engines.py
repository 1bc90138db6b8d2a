"""Chunked engines: a job cut at keyframes and joined again equals one long run; it resumes
after a crash; Ray runs it on a local instance with 2 CPUs; batch runs a folder."""

from __future__ import annotations

import os
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from test_sync import assert_in_sync

import moviola
from moviola.engines import chunks as chunking
from moviola.engines.batch import batch
from moviola.engines.job import job_folder, local_executor, run_chunked
from moviola.errors import MoviolaError
from moviola.media import VideoReader, probe
from moviola.media.synth import make_clip
from moviola.pipeline import Effect, registry

FLASHES = [0.5005, 1.5015, 2.5025, 3.5035, 4.5045]


@pytest.fixture(scope="module")
def keyed(tmp_path_factory) -> Path:
    """6 s at 29.97 with a keyframe every second, flashes and clicks, AAC audio."""
    path = tmp_path_factory.mktemp("engines") / "keyed.mp4"
    make_clip(path, duration=6.0, flashes=(0.5, 1.5, 2.5, 3.5, 4.5), options={"g": "30"})
    return path


def frames_of(path):
    with VideoReader(path) as reader:
        return [(f.time, f.image) for f in reader]


def assert_same_frames(a, b, tolerance=0):
    fa, fb = frames_of(a), frames_of(b)
    assert [t for t, _ in fa] == [t for t, _ in fb]
    worst = max(
        np.abs(x.astype(int) - y.astype(int)).max() for (_, x), (_, y) in zip(fa, fb, strict=True)
    )
    assert worst <= tolerance, worst


def chain(*specs):
    return [registry.parse_spec(s) for s in specs]


def test_plan_cuts_at_keyframes(keyed):
    keys, duration = chunking.keyframe_times(keyed)
    assert keys[:3] == [0, Fraction(30030, 30000), Fraction(60060, 30000)]
    plan = chunking.plan(keyed, seconds=2)
    assert [c.start for c in plan] == [0, Fraction(60060, 30000), Fraction(120120, 30000)]
    assert plan[-1].end is None
    assert all(a.end == b.start for a, b in zip(plan, plan[1:], strict=False))


@pytest.mark.parametrize(
    "specs", [("resize:width=160",), ("resize:width=160", "fps:rate=24000/1001")]
)
def test_chunked_equals_single_run(keyed, tmp_path, specs):
    single = moviola.engines.run(keyed, tmp_path / "single.mkv", chain(*specs), codec="ffv1")
    result, job = run_chunked(
        keyed,
        tmp_path / "chunked.mkv",
        chain(*specs),
        local_executor,
        codec="ffv1",
        chunk_seconds=2,
    )
    assert job.chunks == 3 and job.exact
    assert result.frames_out == single.frames_out
    assert_same_frames(tmp_path / "single.mkv", tmp_path / "chunked.mkv")
    assert_in_sync(tmp_path / "chunked.mkv", FLASHES)
    assert not job_folder(tmp_path / "chunked.mkv").exists()


def test_chunked_h264_keeps_exact_times_and_audio(keyed, tmp_path):
    out = tmp_path / "chunked.mp4"
    result, _ = run_chunked(keyed, out, chain("resize:width=160"), local_executor, chunk_seconds=2)
    assert result.audio == "copied"
    times = [t for t, _ in frames_of(out)]
    assert times == [Fraction(i * 1001, 30000) for i in range(len(times))]
    assert_in_sync(out, FLASHES)
    # H.264 is lossy and each chunk starts a new GOP: close to, not equal to, one run.
    moviola.engines.run(keyed, tmp_path / "single.mp4", chain("resize:width=160"))
    fa, fb = frames_of(tmp_path / "single.mp4"), frames_of(out)
    psnr = min(
        10 * np.log10(255**2 / max(1e-9, np.mean((x.astype(float) - y) ** 2)))
        for (_, x), (_, y) in zip(fa, fb, strict=True)
    )
    assert psnr > 35, psnr


def test_timing_changes_are_refused(keyed, tmp_path):
    with pytest.raises(MoviolaError, match="timing"):
        run_chunked(keyed, tmp_path / "x.mp4", chain("speed:factor=2"), local_executor)
    with pytest.raises(MoviolaError, match="video files"):
        run_chunked(keyed, tmp_path / "x.gif", chain("resize:width=64"), local_executor)
    assert list(tmp_path.iterdir()) == []


class Crash(Exception):
    pass


def failing_executor(fail_at: int):
    def executor(source, effects, todo, settings):
        for chunk, payload, result in local_executor(source, effects, todo, settings):
            if chunk.index == fail_at:
                raise Crash(f"machine lost while rendering chunk {fail_at}")
            yield chunk, payload, result

    return executor


def test_resume_renders_only_missing_chunks(keyed, tmp_path):
    out = tmp_path / "resumed.mkv"
    with pytest.raises(Crash):
        run_chunked(
            keyed,
            out,
            chain("resize:width=160"),
            failing_executor(2),
            codec="ffv1",
            chunk_seconds=1,
        )
    assert not out.exists()
    folder = job_folder(out)
    assert sorted(p.name for p in folder.glob("chunk_*")) == ["chunk_00000.mkv", "chunk_00001.mkv"]
    seen = []

    def counting(source, effects, todo, settings):
        seen.extend(c.index for c in todo)
        yield from local_executor(source, effects, todo, settings)

    _, job = run_chunked(
        keyed, out, chain("resize:width=160"), counting, codec="ffv1", chunk_seconds=1
    )
    assert job.reused == 2 and seen == [2, 3, 4, 5]
    moviola.engines.run(keyed, tmp_path / "single.mkv", chain("resize:width=160"), codec="ffv1")
    assert_same_frames(tmp_path / "single.mkv", out)
    # A damaged checkpoint is not trusted; a changed job does not reuse old chunks.
    with pytest.raises(Crash):
        run_chunked(
            keyed,
            out.with_name("again.mkv"),
            chain("resize:width=160"),
            failing_executor(3),
            codec="ffv1",
            chunk_seconds=1,
        )
    chunk0 = job_folder(out.with_name("again.mkv")) / "chunk_00000.mkv"
    chunk0.write_bytes(chunk0.read_bytes()[:-100])
    seen.clear()
    run_chunked(
        keyed,
        out.with_name("again.mkv"),
        chain("resize:width=160"),
        counting,
        codec="ffv1",
        chunk_seconds=1,
    )
    assert seen == [0, 3, 4, 5]


def test_stateful_effect_gets_warmup(keyed, tmp_path):
    """An effect with settling state (unknown context) is warmed up before each chunk."""

    class Smooth(Effect):
        name = "smooth-test"
        context_frames = None

        def configure(self, info):
            self._avg = None
            return info

        def process(self, frame):
            x = frame.image.astype(np.float32)
            self._avg = x if self._avg is None else self._avg * 0.8 + x * 0.2
            return frame.with_image(self._avg.round().astype(np.uint8))

    single = tmp_path / "single.mkv"
    moviola.engines.run(keyed, single, [Smooth()], codec="ffv1")
    _, job = run_chunked(
        keyed, tmp_path / "chunked.mkv", [Smooth()], local_executor, codec="ffv1", chunk_seconds=2
    )
    assert not job.exact
    assert_same_frames(single, tmp_path / "chunked.mkv", tolerance=1)


# -- Ray ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"MOVIOLA_THREADS": "1"}},
    )
    yield ray
    ray.shutdown()


class DieOnce(Effect):
    """Kills its worker process the first time it sees a chunk that starts at 2 s or later."""

    name = "die-once-test"
    context_frames = 0

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def process(self, frame):
        if frame.time >= 2 and not os.path.exists(self.marker):
            Path(self.marker).write_text("died")
            os._exit(1)
        return frame.with_image(255 - frame.image)


def test_ray_equals_single_and_survives_a_killed_worker(ray_cluster, keyed, tmp_path):
    from moviola.engines.ray_engine import RayExecutor

    marker = tmp_path / "died"
    executor = RayExecutor(workers=2)
    result, job = run_chunked(
        keyed,
        tmp_path / "ray.mkv",
        [DieOnce(str(marker)), *chain("resize:width=160")],
        executor,
        codec="ffv1",
        chunk_seconds=2,
    )
    assert marker.exists(), "the worker was not killed"
    assert job.rendered == 3
    marker.write_text("")  # the single run must not die
    moviola.engines.run(
        keyed,
        tmp_path / "single.mkv",
        [DieOnce(str(marker)), *chain("resize:width=160")],
        codec="ffv1",
    )
    assert_same_frames(tmp_path / "single.mkv", tmp_path / "ray.mkv")
    assert result.audio == "copied"


def test_engine_option_and_batch_on_ray(ray_cluster, keyed, tmp_path):
    out = tmp_path / "cli.mp4"
    result = moviola.open(keyed).apply("resize", width=96).save(out, engine="ray", chunk_seconds=2)
    assert result.frames_out == probe(keyed).video[0].frames
    assert_in_sync(out, FLASHES)

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.mp4", "b.mov"):
        make_clip(folder / name, duration=2.0, flashes=(0.5, 1.5), options={"g": "15"})
    (folder / "notes.txt").write_text("not a video")
    (folder / "broken.mp4").write_bytes(b"\0" * 100)

    from moviola.engines.ray_engine import RayExecutor

    executor = RayExecutor()

    def run(source, output, effects, **kw):
        return run_chunked(source, output, effects, executor, chunk_seconds=1, **kw)[0]

    items = list(batch(folder, tmp_path / "out", lambda: chain("resize:width=64"), run))
    assert [i.source.name for i in items] == ["a.mp4", "b.mov", "broken.mp4"]
    assert items[2].error and "broken.mp4" not in os.listdir(tmp_path / "out")
    for item in items[:2]:
        assert probe(item.output).video[0].width == 64
        assert_in_sync(item.output, [0.5005, 1.5015])
    again = list(batch(folder, tmp_path / "out", lambda: chain("resize:width=64"), run))
    assert [i.skipped for i in again[:2]] == [True, True]


def test_effects_that_need_the_whole_clip_are_refused(keyed, tmp_path):
    photo = tmp_path / "look.png"
    import cv2

    cv2.imwrite(str(photo), np.full((32, 32, 3), 90, np.uint8))
    for spec in (f"recolor:reference={photo}", f"stylize:keyframe=0={photo}"):
        with pytest.raises(MoviolaError, match="cannot run in chunks"):
            run_chunked(keyed, tmp_path / "x.mp4", chain(spec), local_executor)
    # the same effects in modes that are frame by frame do run in chunks
    run_chunked(
        keyed,
        tmp_path / "y.mp4",
        chain("stylize:filter=posterize"),
        local_executor,
        chunk_seconds=3,
    )
    assert list(tmp_path.glob("*.mp4")) == [tmp_path / "y.mp4"]


def test_interpolate_chunked_equals_single_run(tmp_path):
    src = tmp_path / "small.mp4"
    make_clip(src, width=160, height=120, duration=2.0, flashes=(0.5, 1.5), options={"g": "15"})
    spec = "interpolate:multi=2"
    moviola.engines.run(src, tmp_path / "single.mkv", chain(spec), codec="ffv1")
    _, job = run_chunked(
        src, tmp_path / "chunked.mkv", chain(spec), local_executor, codec="ffv1", chunk_seconds=0.5
    )
    assert job.chunks >= 3 and job.exact
    assert_same_frames(tmp_path / "single.mkv", tmp_path / "chunked.mkv")
