"""Styles trained here (`moviola train-style`, `stylize --style-model NAME`): training time, speed,
plain vs softmax-smoothed style loss, flicker, and a contact sheet.

    .venv/bin/python bench/train_style.py [--write docs/stylize.md] [--parts train,speed,compare,flicker,sheet]

- Training: each built-in style's steps and seconds from its ONNX metadata (written by
  `scripts/train-styles`), with the machine's load before and after from
  bench/out/train_style/NAME.log.
- Speed: seconds per frame of ONNX Runtime (CPU, the default threads) on a 1024x576 and a
  1920x1080 frame (vtest.avi's first frame, resized), the median of 3 after one warm-up, through
  ImageModel (what `stylize --style-model` runs).
- Plain vs softmax: bench/out/train_style/compare-{softmax,plain}.onnx (`scripts/train-styles
  compare`: Starry Night, seed 0, 200 steps of 2 crops at 160 px, the same crops for both) scored
  on 6 frames of the three sample clips (short side 256) with both style losses and the content
  loss (all relative, see moviola.generate.train_style.loss); and a look:
  docs/stylize/train_style_compare.png (a frame, the softmax model's output, the plain one's).
- Flicker: warping error (vision/flicker.py, 8-bit levels, along the input's flow where it is
  consistent) of starry-night on 24 frames of Megamind.avi (one shot, the camera moving, 480x352)
  per frame, and with the stylize smoother (`--smooth 0.5`, `0.8`); the input's own for scale.
- Sheet: docs/stylize/train_style_sheet.png, each style on a frame of each sample clip.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, write_section  # noqa: E402

from moviola.effects.stylize.builtin import BUILTIN_STYLES, builtin_path  # noqa: E402
from moviola.effects.stylize.filters import Smoother  # noqa: E402
from moviola.media.still import read_rgb  # noqa: E402
from moviola.models.image_model import ImageModel  # noqa: E402
from moviola.vision.flicker import warping_error  # noqa: E402

CMD = "bench/train_style.py --write docs/stylize.md"
SAMPLES = ROOT / "samples"
OUT = ROOT / "bench" / "out" / "train_style"
DOCS = ROOT / "docs" / "stylize"
CLIPS = (("vtest.avi", 40), ("Megamind.avi", 100), ("tree.avi", 30))


def frames(name: str, count: int, start: int = 0, step: int = 1) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(SAMPLES / name))
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    out = []
    i = 0
    while len(out) < count:
        ok, bgr = cap.read()
        if not ok:
            break
        if i % step == 0:
            out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        i += 1
    cap.release()
    return out


def resize_short(rgb: np.ndarray, short: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = short / min(h, w)
    size = (round(w * s / 4) * 4, round(h * s / 4) * 4)
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def metadata(path: Path) -> dict[str, str]:
    import onnx

    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def bench_train(rows: list[str]) -> None:
    for name, style in BUILTIN_STYLES.items():
        path = builtin_path(name)
        if path is None:
            continue
        meta = metadata(path)
        log = OUT / f"{name}.log"
        loads = re.findall(r"load (?:after: )?([\d.]+)", log.read_text()) if log.exists() else []
        load = " / ".join(loads[:2]) if loads else "?"
        rows.append(
            f"| {name} | {style.image} | {meta.get('steps')} | {int(meta.get('seconds', 0)) / 60:.1f}"
            f" | {meta.get('size')} px x {meta.get('batch')} | {meta.get('seed')} | {load} |"
        )


def bench_speed(rows: list[str]) -> None:
    path = builtin_path(next(iter(BUILTIN_STYLES)))
    assert path is not None
    model = ImageModel.open(path, "auto", 0, what="bench")
    frame = frames("vtest.avi", 1)[0]
    for w, h in ((1024, 576), (1920, 1080)):
        rgb = cv2.resize(frame, (w, h), interpolation=cv2.INTER_CUBIC)
        model(rgb)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            model(rgb)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        rows.append(f"| {w}x{h} | {med:.2f} | {1 / med:.1f} | {os.getloadavg()[0]:.1f} |")


def bench_compare(rows: list[str]) -> None:
    import torch

    from moviola.generate.train_style import style_tensor
    from moviola.generate.train_style.loss import StyleLoss
    from moviola.models.efficientnet_lite import efficientnet_lite0

    torch.set_num_threads(2)
    style = read_rgb(SAMPLES / "photos" / "starry_night.jpg")
    net = efficientnet_lite0()
    loss = StyleLoss(net, torch.from_numpy(style_tensor(style, 160)))
    tests = [resize_short(f, 256) for n, s in CLIPS for f in frames(n, 2, s, 15)]
    shown = []
    for treat in ("softmax", "plain"):
        path = OUT / f"compare-{treat}.onnx"
        if not path.exists():
            rows.append(f"| {treat} | (missing: scripts/train-styles compare) | | | |")
            continue
        model = ImageModel.open(path, "auto", 0, what=treat)
        sums = np.zeros(3)
        for i, rgb in enumerate(tests):
            out = model(rgb)
            if i == 2:
                shown.append(out)
            x = torch.from_numpy(rgb.transpose(2, 0, 1)[None] / np.float32(255))
            y = torch.from_numpy(out.transpose(2, 0, 1)[None] / np.float32(255))
            with torch.no_grad():
                t = loss(y, x)
            sums += [float(t["style_plain"]), float(t["style_softmax"]), float(t["content"])]
        m = sums / len(tests)
        steps = metadata(path).get("steps")
        rows.append(f"| {treat} | {steps} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} |")
    if len(shown) == 2:
        sheet = np.hstack([tests[2], *shown])
        DOCS.mkdir(parents=True, exist_ok=True)
        _save(DOCS / "train_style_compare.png", sheet, 960)


def bench_flicker(rows: list[str]) -> None:
    path = builtin_path("starry-night")
    assert path is not None
    model = ImageModel.open(path, "auto", 0, what="bench")
    images = [
        cv2.resize(f, (480, 352), interpolation=cv2.INTER_AREA)
        for f in frames("Megamind.avi", 24, 12)
    ]
    per = [model(i) for i in images]
    rows.append(f"| the input itself | {warping_error(images, images):.2f} |")
    rows.append(f"| per frame | {warping_error(images, per):.2f} |")
    for amount in (0.5, 0.8):
        smoother = Smoother(amount)
        smoothed = [smoother(i, o) for i, o in zip(images, per, strict=True)]
        rows.append(f"| smoothed (`--smooth {amount}`) | {warping_error(images, smoothed):.2f} |")


def _save(path: Path, rgb: np.ndarray, width: int) -> None:
    """A PNG of ``width`` px with a 256-colour palette (docs/ pictures stay under 400 KB)."""
    from PIL import Image

    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)
    Image.fromarray(small).quantize(256).save(path, optimize=True)


def bench_sheet() -> Path:
    shots = [
        cv2.resize(frames(n, 1, s)[0], (240, 180), interpolation=cv2.INTER_AREA) for n, s in CLIPS
    ]
    rows = [np.hstack(shots)]
    for name in BUILTIN_STYLES:
        path = builtin_path(name)
        if path is not None:
            model = ImageModel.open(path, "auto", 0, what=name)
            rows.append(np.hstack([model(s) for s in shots]))
    DOCS.mkdir(parents=True, exist_ok=True)
    out = DOCS / "train_style_sheet.png"
    _save(out, np.vstack(rows), 720)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", type=Path)
    ap.add_argument("--parts", default="train,speed,compare,flicker,sheet")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    load = os.getloadavg()[0]
    train_rows: list[str] = []
    speed_rows: list[str] = []
    compare_rows: list[str] = []
    flicker_rows: list[str] = []
    if "train" in parts:
        bench_train(train_rows)
    if "speed" in parts:
        bench_speed(speed_rows)
    if "compare" in parts:
        bench_compare(compare_rows)
    if "flicker" in parts:
        bench_flicker(flicker_rows)
    if "sheet" in parts:
        bench_sheet()
    lines = [
        "## Trained styles, measured: training, speed, plain vs softmax loss, flicker",
        "",
        f"`.venv/bin/python {CMD}` on this 2-core machine (load average {load:.1f} at the "
        f"start), {time.strftime('%Y-%m-%d')}. See the script's docstring for the method.",
        "",
        "Training (`scripts/train-styles`; load average before / after each run, other "
        "workers' jobs sharing the 2 cores):",
        "",
        "| style | style image | steps | minutes | crops | seed | load |",
        "|---|---|---|---|---|---|---|",
        *train_rows,
        "",
        "Speed of a style network (0.42 M parameters) with ONNX Runtime on the CPU:",
        "",
        "| frame | s / frame | frames / s | load |",
        "|---|---|---|---|",
        *speed_rows,
        "",
        "Plain Gram loss vs softmax-smoothed features (Starry Night, same seed and crops), "
        "scored on 6 sample frames (lower is closer; all relative errors):",
        "",
        "| trained with | steps | style loss, plain Gram | style loss, softmax | content loss |",
        "|---|---|---|---|---|",
        *compare_rows,
        "",
        "Flicker (warping error, 8-bit levels) of starry-night on 24 frames of Megamind.avi:",
        "",
        "| output | warping error |",
        "|---|---|",
        *flicker_rows,
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        write_section(args.write, section)


if __name__ == "__main__":
    main()
