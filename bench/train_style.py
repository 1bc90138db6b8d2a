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
  consistent) of every built-in style on the first 20 frames of the three clips of the vintage
  table (bench/stylize.py's VINTAGE_CLIPS: vtest 384x288, tree 320x240, Megamind 360x264 from
  frame 12), per frame and with the stylize smoother (`--smooth 0.5`); night-cafe trained without
  the temporal term (bench/out/train_style/night-cafe-t0.onnx, same seed and steps); patch
  synthesis from starry_night.jpg (what `--style IMAGE` runs) and the input's own, same frames.
- Gatys: the slow reference. For each built-in style and 3 frames (one per clip, short side 160),
  the picture itself optimised against the same loss the networks were trained on (softmax style
  loss x4 + content + total variation x0.5, EfficientNet-Lite0; Adam on the pixels' logits, 0.05,
  200 steps, starting from the frame), beside the network's output: both losses and the time.
- Reproduction: night-cafe retrained by the same command (bench/out/train_style/
  night-cafe-again.onnx) against the shipped file: mean absolute difference of their outputs on
  the sheet's frames, 8-bit levels.
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
from stylize import STYLE_PHOTO, VINTAGE_CLIPS, decode, drive, smoothed  # noqa: E402

from moviola.effects import stylize as st  # noqa: E402
from moviola.effects.stylize.builtin import BUILTIN_STYLES, builtin_path  # noqa: E402
from moviola.media.still import read_rgb  # noqa: E402
from moviola.models.image_model import ImageModel  # noqa: E402
from moviola.vision.flicker import warping_error  # noqa: E402

CMD = "bench/train_style.py --write docs/stylize.md"
SAMPLES = ROOT / "samples"
OUT = ROOT / "bench" / "out" / "train_style"
DOCS = ROOT / "docs" / "stylize"
CLIPS = (("vtest.avi", 40), ("Megamind.avi", 100), ("tree.avi", 30))
PAINTINGS = ROOT / "build" / "paintings"  # scripts/style-paintings
STYLE_IMAGES = {
    "starry-night": STYLE_PHOTO,
    "night-cafe": PAINTINGS / "night_cafe.png",
    "cafe-terrace": PAINTINGS / "cafe_terrace.png",
    "church-auvers": PAINTINGS / "church_auvers.png",
    "pere-tanguy": PAINTINGS / "pere_tanguy.png",
}


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


def _styles() -> dict[str, Path]:
    """Every built-in style's file, and night-cafe trained without the temporal term."""
    found = {n: p for n in BUILTIN_STYLES if (p := builtin_path(n)) is not None}
    if (OUT / "night-cafe-t0.onnx").is_file():
        found["night-cafe, no temporal term"] = OUT / "night-cafe-t0.onnx"
    return found


def bench_flicker(rows: list[str]) -> None:
    clips = []
    for _name, file, start, size in VINTAGE_CLIPS:
        images = decode(SAMPLES / file, 20, start)
        clips.append([cv2.resize(i, size, interpolation=cv2.INTER_AREA) for i in images])
    cells = {"the input itself": [warping_error(c, c) for c in clips]}
    for name, path in _styles().items():
        model = ImageModel.open(path, "auto", 0, what=name)
        per = [[model(i) for i in c] for c in clips]
        cells[f"{name}, per frame"] = [warping_error(c, o) for c, o in zip(clips, per, strict=True)]
        cells[f"{name}, `--smooth 0.5`"] = [
            warping_error(c, smoothed(c, o, 0.5)) for c, o in zip(clips, per, strict=True)
        ]
    patch = [drive(st.Stylize(style=str(STYLE_PHOTO)), c)[0] for c in clips]
    cells["patch synthesis (`--style starry_night.jpg`)"] = [
        warping_error(c, o) for c, o in zip(clips, patch, strict=True)
    ]
    for label, values in cells.items():
        rows.append(f"| {label} | " + " | ".join(f"{v:.2f}" for v in values) + " |")


def bench_gatys(rows: list[str], steps: int = 200) -> None:
    import torch

    from moviola.generate.train_style import style_tensor
    from moviola.generate.train_style.loss import StyleLoss
    from moviola.models.efficientnet_lite import efficientnet_lite0

    torch.set_num_threads(2)
    net = efficientnet_lite0()
    tests = [resize_short(frames(n, 1, s)[0], 160) for n, s in CLIPS]
    for name in BUILTIN_STYLES:
        path, image = builtin_path(name), STYLE_IMAGES.get(name)
        if path is None or image is None or not image.is_file():
            rows.append(f"| {name} | (style image missing: scripts/style-paintings) | | | | | |")
            continue
        loss = StyleLoss(net, torch.from_numpy(style_tensor(read_rgb(image), 160)))
        model = ImageModel.open(path, "auto", 0, what=name)
        sums, t_net, t_opt = np.zeros(4), 0.0, 0.0
        for rgb in tests:
            x = torch.from_numpy(rgb.transpose(2, 0, 1)[None] / np.float32(255))
            t = time.perf_counter()
            out = model(rgb)
            t_net += time.perf_counter() - t
            y = torch.from_numpy(out.transpose(2, 0, 1)[None] / np.float32(255))
            with torch.no_grad():
                ours = loss(y, x)
            t = time.perf_counter()
            logit = torch.logit(x.clamp(1e-3, 1 - 1e-3)).clone().requires_grad_(True)
            opt = torch.optim.Adam([logit], lr=0.05)
            for _ in range(steps):
                terms = loss(torch.sigmoid(logit), x)
                opt.zero_grad()
                terms["total"].backward()
                opt.step()
            with torch.no_grad():
                ref = loss(torch.sigmoid(logit), x)
            t_opt += time.perf_counter() - t
            sums += [float(ours["style"]), float(ours["content"]), float(ref["style"]), 0.0]
            sums[3] += float(ref["content"])
        m, n = sums / len(tests), len(tests)
        rows.append(
            f"| {name} | {m[0]:.3f} | {m[1]:.3f} | {t_net / n:.2f} | {m[2]:.3f} | {m[3]:.3f} "
            f"| {t_opt / n:.0f} |"
        )


def bench_repro(rows: list[str]) -> None:
    shipped, again = builtin_path("night-cafe"), OUT / "night-cafe-again.onnx"
    if shipped is None or not again.is_file():
        rows.append("| night-cafe | (not measured: no second run) | |")
        return
    shots = [
        cv2.resize(frames(n, 1, s)[0], (240, 180), interpolation=cv2.INTER_AREA) for n, s in CLIPS
    ]
    a = ImageModel.open(shipped, "auto", 0, what="shipped")
    b = ImageModel.open(again, "auto", 0, what="again")
    diff = np.mean([np.abs(a(s).astype(float) - b(s).astype(float)).mean() for s in shots])
    change = np.mean([np.abs(a(s).astype(float) - s.astype(float)).mean() for s in shots])
    rows.append(f"| night-cafe | {diff:.2f} | {change:.1f} |")


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
    ap.add_argument("--parts", default="train,speed,compare,flicker,gatys,repro,sheet")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    load = os.getloadavg()[0]
    train_rows: list[str] = []
    speed_rows: list[str] = []
    compare_rows: list[str] = []
    flicker_rows: list[str] = []
    gatys_rows: list[str] = []
    repro_rows: list[str] = []
    if "train" in parts:
        bench_train(train_rows)
    if "speed" in parts:
        bench_speed(speed_rows)
    if "compare" in parts:
        bench_compare(compare_rows)
    if "flicker" in parts:
        bench_flicker(flicker_rows)
    if "gatys" in parts:
        bench_gatys(gatys_rows)
    if "repro" in parts:
        bench_repro(repro_rows)
    if "sheet" in parts:
        bench_sheet()
    lines = [
        "## Trained styles, measured: training, speed, plain vs softmax loss, flicker, "
        "the Gatys reference, reproduction",
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
        "Flicker (warping error along the input's flow, 8-bit levels; lower is steadier) on "
        "the first 20 frames of each clip (Megamind from frame 12):",
        "",
        "| output | vtest 384x288 | tree 320x240 | Megamind 360x264 |",
        "|---|---|---|---|",
        *flicker_rows,
        "",
        "Against Gatys-style optimisation (the slow reference: the picture itself optimised for "
        "200 Adam steps against the training loss), mean over a frame of each clip at short "
        "side 160 (relative losses; lower is closer):",
        "",
        "| style | network: style loss | network: content loss | network: s / frame "
        "| optimisation: style loss | optimisation: content loss | optimisation: s / frame |",
        "|---|---|---|---|---|---|---|",
        *gatys_rows,
        "",
        "Reproduction: the style retrained by the same command against the shipped file, mean "
        "absolute difference of their outputs on the sheet's 3 frames (8-bit levels), beside how "
        "far the style moves a frame from the input:",
        "",
        "| style | retrained vs shipped | shipped vs input |",
        "|---|---|---|",
        *repro_rows,
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        write_section(args.write, section)


if __name__ == "__main__":
    main()
