"""Colorization benchmark: real colour footage turned gray, coloured again from one reference frame.

For each clip, one frame (in colour) is the reference; the next ``--frames`` frames are
turned gray (their CIELAB lightness, a, b = 0) and coloured by:

  ours               colorize --reference (example-based, carried along motion)
  ours, per frame    the same with temporal=0 (each frame on its own)
  histogram transfer the plain baseline: the gray picture as RGB, each channel's histogram matched
                     to the reference's (per-channel CDF matching), frame by frame

and compared with the true colours: chroma error ΔE2000 (mean over pixels, lightness included,
which every method keeps except the baseline) and ΔE76 of the chroma alone (= a,b RMSE
root-mean-square over pixels); flicker: mean absolute change of (a, b) between consecutive
frames over pixels whose true colour does not change (ΔE76 < 1 between the two true frames,
eroded 2 px). fps: the effect's own compute on 576p frames (vtest), decode excluded.

Then recolor's modes are timed on vtest and shown in a second contact sheet.

    .venv/bin/python bench/colorize.py [--frames 40] [--write docs/recolor.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import scipy
from _common import write_section  # bench/ is on sys.path when run as a script

import moviola
from moviola.effects.colorize import Colorize
from moviola.effects.recolor import Recolor
from moviola.media import VideoReader
from moviola.media.frame import to_float, to_uint8
from moviola.vision.color import delta_e2000, lab_to_rgb, match_histograms, rgb_to_lab

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CLIPS = {"vtest": "vtest.avi", "megamind": "Megamind.avi", "tree": "tree.avi"}
#: reference frame per clip: Megamind opens on black frames
SKIP = {"vtest": 0, "megamind": 20, "tree": 0}
HINT_GRID = (8, 6)  # hints: the true colours at 48 points of the reference frame


def gray_of(rgb: np.ndarray) -> np.ndarray:
    """The picture without its chroma: CIELAB lightness kept, a = b = 0 (float RGB)."""
    lab = rgb_to_lab(rgb)
    lab[..., 1:] = 0
    return lab_to_rgb(lab)


def frames_of(path: Path, skip: int, count: int):
    """(info, reference frame, then the next ``count`` frames) streamed."""
    reader = VideoReader(path)
    it = iter(reader)
    for _ in range(skip):
        next(it)
    return reader, it


class Scores:
    """Streaming error and flicker against the true colours."""

    def __init__(self) -> None:
        self.de2000: list[float] = []
        self.ab_rmse: list[float] = []
        self.flicker: list[float] = []
        self._prev_ab = None

    def add(self, out_rgb: np.ndarray, truth_lab: np.ndarray, static: np.ndarray | None):
        lab = rgb_to_lab(out_rgb)
        sub = (slice(None, None, 2), slice(None, None, 2))
        self.de2000.append(float(delta_e2000(lab[sub], truth_lab[sub]).mean()))
        self.ab_rmse.append(
            float(np.sqrt(((lab[..., 1:] - truth_lab[..., 1:]) ** 2).sum(-1).mean()))
        )
        ab = lab[..., 1:]
        if static is not None and self._prev_ab is not None and static.any():
            self.flicker.append(float(np.abs(ab - self._prev_ab).sum(-1)[static].mean()))
        self._prev_ab = ab

    def row(self) -> tuple[float, float, float]:
        return (
            float(np.mean(self.de2000)),
            float(np.mean(self.ab_rmse)),
            float(np.mean(self.flicker)) if self.flicker else float("nan"),
        )


def hint_file(name: str, reference: np.ndarray) -> Path:
    """Hints for the bench: the reference frame's true colours at a grid of points."""
    h, w = reference.shape[:2]
    gx, gy = HINT_GRID
    points = []
    for j in range(gy):
        for i in range(gx):
            x, y = round((i + 0.5) * w / gx), round((j + 0.5) * h / gy)
            r, g, b = to_uint8(reference[y, x]) if reference.dtype != np.uint8 else reference[y, x]
            points.append([x, y, f"#{int(r):02x}{int(g):02x}{int(b):02x}"])
    path = OUT / f"colorize_hints_{name}.json"
    path.write_text(json.dumps({"frame": 0, "points": points}))
    return path


def run_clip(name: str, path: Path, skip: int, count: int, sheet_at: list[int]):
    reader, it = frames_of(path, skip, count)
    first = next(it)
    reference = to_float(first.image[..., :3])
    OUT.mkdir(parents=True, exist_ok=True)
    ref_path = OUT / f"colorize_ref_{name}.png"
    cv2.imwrite(str(ref_path), cv2.cvtColor(to_uint8(reference), cv2.COLOR_RGB2BGR))
    info = reader.stream_info
    effects = {
        "ours": Colorize(reference=[str(ref_path)]),
        "ours, per frame": Colorize(reference=[str(ref_path)], temporal=0.0),
        "ours, hints (48 points)": Colorize(hints=str(hint_file(name, reference))),
    }
    for effect in effects.values():
        effect.configure(info)
    scores = {key: Scores() for key in (*effects, "histogram transfer")}
    seconds = dict.fromkeys(effects, 0.0)
    prev_truth = None
    kept = []
    n = 0
    # the hints belong to frame 0 of what the effect sees: give it the reference frame first
    gray0 = first.with_image(to_uint8(gray_of(reference)))
    effects["ours, hints (48 points)"].process(gray0)
    for frame in it:
        if n >= count:
            break
        truth = to_float(frame.image[..., :3])
        truth_lab = rgb_to_lab(truth)
        gray = gray_of(truth)
        gframe = frame.with_image(to_uint8(gray))
        static = None
        if prev_truth is not None:
            change = np.linalg.norm(truth_lab - prev_truth, axis=-1)
            static = cv2.erode((change < 1).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        prev_truth = truth_lab
        outs = {}
        for key, effect in effects.items():
            t0 = time.perf_counter()
            outs[key] = to_float(effect.process(gframe).image)
            seconds[key] += time.perf_counter() - t0
        outs["histogram transfer"] = np.clip(match_histograms(gray, reference), 0, 1)
        for key, img in outs.items():
            scores[key].add(img, truth_lab, static)
        if n in sheet_at:
            kept.append(
                (
                    gray,
                    outs["ours"],
                    outs["ours, hints (48 points)"],
                    outs["histogram transfer"],
                    truth,
                )
            )
        n += 1
    reader.close()
    return {
        "size": f"{info.width}x{info.height}",
        "frames": n,
        "fps": {k: n / v for k, v in seconds.items() if v},
        "scores": {k: v.row() for k, v in scores.items()},
        "sheet": kept,
        "reference": reference,
    }


def contact_sheet(results: dict, path: Path, width: int = 160) -> None:
    """Rows: one frame per clip; columns: gray input, ours (reference), ours (hints), histogram
    transfer, true colours."""
    rows = []
    for res in results.values():
        for tiles in res["sheet"]:
            cells = []
            for img in tiles:
                h, w = img.shape[:2]
                cells.append(
                    cv2.resize(
                        to_uint8(img), (width, round(h * width / w)), interpolation=cv2.INTER_AREA
                    )
                )
            row = np.concatenate(
                [np.pad(c, ((2, 2), (2, 2), (0, 0)), constant_values=255) for c in cells], axis=1
            )
            rows.append(row)
    wmax = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, wmax - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    sheet = np.concatenate(rows, axis=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])


def recolor_part(frames: int) -> tuple[list[str], Path]:
    """Recolor: fps of each mode on vtest 576p, and a contact sheet."""
    vtest = ROOT / "samples" / "vtest.avi"
    starry = ROOT / "samples" / "photos" / "starry_night.jpg"
    megamind = ROOT / "samples" / "Megamind.avi"
    modes = {
        "look of a painting (mkl)": dict(reference=[str(starry)]),
        "look of a painting (histogram)": dict(reference=[str(starry)], method="histogram"),
        "shot B to shot A (Megamind 2-4 s, histogram)": dict(
            reference=[str(megamind)], reference_start=2, reference_end=4, method="histogram"
        ),
        "hue shift: grass +150 deg": dict(hue_from="#3f7a2a", shift_hue=150, hue_width=40),
        "hue shift, background only (matte)": dict(
            hue_from="#3f7a2a", shift_hue=150, hue_width=40, background=True
        ),
    }
    rows, tiles = [], []
    for label, kw in modes.items():
        effect = Recolor(**kw)
        reader = VideoReader(vtest)
        effect.configure(reader.stream_info)
        seconds, n, last = 0.0, 0, None
        for frame in reader:
            if n >= frames:
                break
            t0 = time.perf_counter()
            done = effect.process(frame)
            seconds += time.perf_counter() - t0
            if done:
                last = done[-1].image
            n += 1
        t0 = time.perf_counter()
        tail = effect.flush()
        seconds += time.perf_counter() - t0
        if tail:
            last = tail[-1].image
        effect.close()
        reader.close()
        rows.append(f"| {label} | {n} | {n / seconds:.2f} |")
        tiles.append(to_float(last))
        print(f"recolor {label}: {n / seconds:.2f} fps")
    with VideoReader(vtest) as reader:
        for i, frame in enumerate(reader):
            if i == frames - 1:
                tiles.insert(0, to_float(frame.image))
                break
    sheet = ROOT / "docs" / "recolor" / "recolor_sheet.png"
    small = [cv2.resize(to_uint8(t), (200, 150), interpolation=cv2.INTER_AREA) for t in tiles]
    small += [np.full_like(small[0], 255)] * (-len(small) % 3)
    grid = np.concatenate(
        [np.concatenate(small[i : i + 3], axis=1) for i in range(0, len(small), 3)], axis=0
    )
    cv2.imwrite(str(sheet), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return rows, sheet


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--clips", default="vtest,megamind,tree")
    ap.add_argument("--recolor-frames", type=int, default=20)
    ap.add_argument("--write", type=Path, help="write the section into this markdown file")
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    results = {}
    for name in args.clips.split(","):
        path = ROOT / "samples" / CLIPS[name]
        if not path.exists():
            sys.exit(f"bench: {path} missing; run `make samples`")
        results[name] = run_clip(name, path, SKIP[name], args.frames, [args.frames - 1])
        r = results[name]
        print(f"{name} {r['size']} {r['frames']} frames, fps {r['fps']}")
        for key, (de, ab, fl) in r["scores"].items():
            print(f"  {key:24} dE2000 {de:6.2f}  ab RMSE {ab:6.2f}  flicker {fl:6.3f}")
    sheet = ROOT / "docs" / "recolor" / "colorize_sheet.png"
    contact_sheet(results, sheet)
    print(f"contact sheet: {sheet}")
    recolor_rows, recolor_sheet = recolor_part(args.recolor_frames)
    load1 = os.getloadavg()[0]
    if not args.write:
        return
    cmd = "bench/colorize.py " + " ".join(sys.argv[1:])
    lines = [
        "## Colorization (`colorize`): error and flicker on real footage",
        "",
        f"Command: `.venv/bin/python {cmd}`.",
        "",
        f"Machine: moviola {moviola.__version__}, OpenCV {cv2.__version__}, numpy "
        f"{np.__version__}, scipy {scipy.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores; load average {load0:.1f} at the start, "
        f"{load1:.1f} at the end (above 2, other jobs shared the cores: the fps are then low "
        "and only indicative).",
        "",
        "Each clip: one frame in colour is the reference (vtest and tree: frame 0; Megamind: "
        f"frame {SKIP['megamind']}, after its black opening); the next {args.frames} frames, "
        "turned gray (CIELAB lightness kept, a = b = 0), are coloured and compared with their "
        "true colours. ΔE2000: mean over pixels (lower is better). ab RMSE: root-mean-square "
        "error of the chroma (a, b). Flicker: mean |Δa| + |Δb| between consecutive output frames "
        "over pixels whose true colour did not change (ΔE76 < 1, eroded 2 px). Baseline "
        "(histogram transfer): each RGB channel of the gray picture histogram-matched to the "
        "reference's, frame by frame. Hints: the reference frame's true colours at 48 points "
        "(an 8 x 6 grid) given as a hints file for frame 0, no reference image. fps: the effect's "
        "compute alone (decode and encode excluded), at the clip's own size.",
        "",
        "| clip | size | frames | method | ΔE2000 | ab RMSE | flicker (static pixels) | fps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        for key, (de, ab, fl) in r["scores"].items():
            fps = f"{r['fps'][key]:.2f}" if key in r["fps"] else ""
            lines.append(
                f"| {name} | {r['size']} | {r['frames']} | {key} | {de:.2f} | "
                f"{ab:.2f} | {fl:.3f} | {fps} |"
            )
    lines.append("")
    for name, r in results.items():
        o, b = r["scores"]["ours"], r["scores"]["histogram transfer"]
        p = r["scores"]["ours, per frame"]
        lines.append(
            f"- {name}: ΔE2000 ours / histogram transfer = {o[0] / b[0]:.2f}; ab RMSE "
            f"{o[1] / b[1]:.2f}; flicker ours / per frame = {o[2] / p[2]:.2f}."
        )
    lines += [
        "",
        "Contact sheet (last frame of each clip; columns: gray input, ours (reference), ours "
        "(48 hint points), histogram transfer, true colours): [recolor/colorize_sheet.png](recolor/colorize_sheet.png).",
        "",
        "## Recolor (`recolor`): speed on real footage",
        "",
        f"Same command and machine. vtest.avi (768x576), its first {args.recolor_frames} frames; "
        "fps: the effect's compute alone, including the one-time measurement of the "
        "reference and of the footage's first frames.",
        "",
        "| mode | frames | fps |",
        "|---|---|---|",
        *recolor_rows,
        "",
        "Contact sheet (row 1: input, look of Starry Night (mkl), the same (histogram); row 2: "
        "Megamind's look, grass hue +150 deg, the same on the background only): "
        f"[recolor/{recolor_sheet.name}](recolor/{recolor_sheet.name}).",
        "",
    ]
    write_section(
        args.write,
        "\n".join(lines[: lines.index("## Recolor (`recolor`): speed on real footage")]),
        title="# Recolor and colorize",
    )
    recolor_at = lines.index("## Recolor (`recolor`): speed on real footage")
    write_section(args.write, "\n".join(lines[recolor_at:]), title="# Recolor and colorize")
    print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
