"""`moviola latentwalk`: a video of a generator's images along a path through its latent space
(see moviola.generate.latentwalk)."""

from __future__ import annotations

import argparse
import json
import sys

from moviola.commands._shared import bounded, video_summary
from moviola.errors import MoviolaError


def add_parser(sub) -> None:
    from moviola.generate.latentwalk import (
        BUILTIN,
        DEFAULT_EVERY,
        DEFAULT_FPS,
        DEFAULT_SECONDS,
        DEFAULT_UPSCALE,
        EASES,
        INTERPS,
        PATHS,
    )

    p = sub.add_parser(
        "latentwalk",
        help="animate a generator: a walk through its latent space (faces built in), "
        "loops, seeds, on the beat of a song",
        description=(
            f"Render a latent walk: the built-in {BUILTIN} face generator (64x64) or your own "
            "generator ONNX file, along a random drift, a seamless loop or between chosen seeds, "
            "optionally with keyframes on the beats of an audio file (muxed in). "
            "Example: moviola latentwalk -o loop.gif --path loop --seconds 4 --size 256"
        ),
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file (.mp4 .mov .mkv .webm .gif .webp) or a folder/ for PNGs; "
        "a GIF loops forever",
    )
    p.add_argument(
        "--model",
        metavar="PATH",
        help=f"a generator .onnx file instead of {BUILTIN}: one input, a latent "
        "[N, Z] or [N, Z, 1, 1]; output an NCHW RGB image",
    )
    p.add_argument(
        "--model-range",
        metavar="RANGE",
        help="output range of --model: -1..1 (tanh) or 0..1; default: found by a "
        "probe (write --model-range=-1..1)",
    )
    p.add_argument(
        "--path",
        choices=PATHS,
        help="random (smooth drift), loop (closed: ends where it starts) or seeds "
        "(between --seeds); default seeds when --seeds is given, else random",
    )
    p.add_argument(
        "--seeds", metavar="S1,S2,...", help="seeds whose images are the keyframes, e.g. 1,7,42"
    )
    p.add_argument(
        "--loop",
        action="store_true",
        help="close the path: come back to the first keyframe (the video loops)",
    )
    p.add_argument(
        "--interp",
        choices=INTERPS,
        help="between keyframes: linear, slerp (spherical) or spline (Catmull-Rom); "
        "default slerp for seeds, spline otherwise",
    )
    p.add_argument(
        "--ease",
        choices=EASES,
        help="timing of each segment: none (even), smooth (slow at keyframes), "
        "pulse (a burst on each keyframe); default pulse with --audio, else none",
    )
    p.add_argument(
        "--seconds", type=float, help=f"length (default: the audio's, else {DEFAULT_SECONDS:g})"
    )
    p.add_argument(
        "--fps",
        default=str(DEFAULT_FPS),
        help=f"frame rate, exact: 24, 30000/1001, 29.97 (default {DEFAULT_FPS})",
    )
    p.add_argument(
        "--size",
        metavar="WxH",
        help="output size (e.g. 512x512 or 512): Lanczos from the generator's size, "
        "or --upscale; other aspect ratios are cropped from the centre",
    )
    p.add_argument(
        "--upscale",
        nargs="?",
        const=DEFAULT_UPSCALE,
        metavar="MODEL",
        help=f"enlarge through the upscale effect (default model {DEFAULT_UPSCALE}; "
        "realesrgan-x4plus, lanczos, ...); to --size when given, else the "
        "model's factor",
    )
    p.add_argument(
        "--audio",
        metavar="FILE",
        help="music to follow: keyframes on its beats, the audio muxed into the output",
    )
    p.add_argument(
        "--bpm", type=bounded(float, 15, 480), help="the music's tempo when known (with --audio)"
    )
    p.add_argument(
        "--beats-per-key",
        type=bounded(int, 1, 1024),
        default=1,
        metavar="N",
        help="with --audio: a new keyframe every N beats (default 1)",
    )
    p.add_argument(
        "--every",
        type=float,
        default=DEFAULT_EVERY,
        metavar="SECONDS",
        help=f"random and loop paths: seconds between keyframes (default {DEFAULT_EVERY:g})",
    )
    p.add_argument(
        "--seed",
        type=bounded(int, 0, 2**32 - 1),
        default=0,
        help="seed of the random keyframes (default 0)",
    )
    p.add_argument(
        "--batch",
        type=bounded(int, 1, 1024),
        default=16,
        help="frames generated at a time (default 16)",
    )
    p.add_argument("--codec", help="video codec (default from the extension)")
    p.add_argument("--crf", type=int, help="quality for h264/h265/vp9/av1 (lower = better)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from moviola.commands._shared import ProgressBar
    from moviola.generate.latentwalk import Walk, WalkSettings

    if args.seed < 0:
        raise MoviolaError(f"--seed must not be negative: {args.seed}")
    settings = WalkSettings(
        model=args.model,
        model_range=args.model_range,
        path=args.path,
        seeds=args.seeds,
        loop=args.loop,
        interp=args.interp,
        ease=args.ease,
        seconds=args.seconds,
        fps=args.fps,
        size=args.size,
        upscale=args.upscale,
        audio=args.audio,
        bpm=args.bpm,
        beats_per_key=args.beats_per_key,
        every=args.every,
        seed=args.seed,
        batch=args.batch,
    )
    walk = Walk(settings)
    bar = None if args.quiet or args.json or not sys.stderr.isatty() else ProgressBar()
    result = walk.render(args.output, codec=args.codec, crf=args.crf, progress=bar)
    if bar:
        bar.finish()
    if args.json:
        print(
            json.dumps(
                {
                    **video_summary(result),
                    "seconds": round(result.seconds, 3),
                    "fps": round(result.speed, 2),
                    "keyframes": result.keyframes,
                    "bpm": None if result.bpm is None else round(result.bpm, 2),
                    "beats": result.beats,
                    "audio": result.audio,
                },
                indent=2,
            )
        )
    else:
        beats = f", {result.beats} beats at {result.bpm:.1f} BPM" if result.bpm else ""
        print(
            f"wrote {result.output}: {result.frames} frames {result.width}x{result.height} "
            f"in {result.seconds:.1f} s ({result.speed:.1f} fps), "
            f"{len(result.keyframes)} keyframes{beats}, audio {result.audio}"
        )
    return 0
