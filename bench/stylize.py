"""Stylize benchmark: speed of every mode at 576p, and temporal flicker, ours vs per-frame.

Input: the first --frames frames of samples/vtest.avi (768x576, 10 fps, pedestrians, fixed
camera), decoded once; the effect is driven directly, so fps is the stylization alone (no decode
or encode), one process, the CPU as it is.

Keyframe: a "painted" version of frame 0 made by a fixed recipe (edge-preserving wash, a strong
colour shift, ink lines on the Canny edges of the frame): since the recipe can be applied to any
frame, it gives an oracle for every frame, and "oracle error" (mean absolute difference to the
recipe applied to the frame itself, in 8-bit levels, over the second half of the clip) says how
well the look follows the content. Modes compared on the same keyframe:
  guided      ours: guided PatchMatch with positional (accumulated flow) and temporal guides
  flow-warp   iterations=0: the keyframe warped by accumulated flow, no synthesis
  per-frame   temporal=False: each frame synthesised from the keyframe by its guides alone
Flicker: warping error (vision/flicker.py): the mean absolute difference between consecutive
outputs after warping the earlier onto the later with the input's DIS flow, over pixels where
forward and backward flow agree, in 8-bit levels. Filters are measured plain and with
smooth=0.6, beside per-frame cv2.stylization (OpenCV's own filter, as users run it on frames).

Frames for docs/stylize/ (--frames-dir): Megamind.avi's first shot, keyframe at frame 12
carried to frame 96 (3.5 s), ours beside per-frame synthesis; a style image applied to vtest;
the filters on one frame.

Vintage (--parts vintage[,tiles,shots]): the CycleGAN filter's flicker on three
real clips, per frame against statistics shared over the shot, with and without flow blending,
beside patch synthesis from a style image; a contact sheet (--sheet).

    .venv/bin/python bench/stylize.py [--frames 30] [--write docs/stylize.md]
        [--frames-dir docs/stylize] [--parts synthesis,vintage,tiles,shots]
        [--vintage-frames 20] [--sheet docs/stylize/vintage.png]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av
import cv2
import numpy as np
from _common import vtest_inputs, write_section  # bench/ is on sys.path when run as a script

from moviola.effects import stylize as st
from moviola.media import Frame, StreamInfo
from moviola.vision.flicker import warping_error

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
MEGAMIND = ROOT / "samples" / "Megamind.avi"
STYLE_PHOTO = ROOT / "samples" / "photos" / "starry_night.jpg"


def paint(rgb: np.ndarray) -> np.ndarray:
    """The keyframe recipe: edge-preserving wash, warm/green shift, ink lines."""
    s = cv2.stylization(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), sigma_s=60, sigma_r=0.5)
    s = cv2.cvtColor(s, cv2.COLOR_BGR2RGB).astype(np.float32)
    s = s * np.array([1.25, 0.95, 0.55]) + np.array([25, 10, 30])
    s = (np.clip(s, 0, 255) // 40) * 40 + 20
    edges = cv2.Canny(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 60, 120) > 0
    s[edges] *= 0.25
    return np.clip(s, 0, 255).astype(np.uint8)


def decode(path: Path, count: int, start: int = 0) -> list[np.ndarray]:
    out = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i >= start:
                out.append(f.to_ndarray(format="rgb24"))
            if len(out) == count:
                break
    return out


def drive(effect, images, rate=Fraction(10)) -> tuple[list[np.ndarray], float]:
    """Outputs and frames per second of an effect over decoded frames."""
    h, w = images[0].shape[:2]
    effect.configure(StreamInfo(w, h, rate, 1 / rate))
    out = []
    t0 = time.perf_counter()
    for i, img in enumerate(images):
        r = effect.process(Frame(img, Fraction(i) / rate, 1 / rate, i))
        out.extend([r] if isinstance(r, Frame) else r)
    out.extend(effect.flush())
    seconds = time.perf_counter() - t0
    effect.close()
    return [f.image for f in out], len(images) / seconds


def save(path: Path, rgb: np.ndarray, width: int | None = None) -> None:
    if width and rgb.shape[1] > width:
        h = round(rgb.shape[0] * width / rgb.shape[1])
        rgb = cv2.resize(rgb, (width, h), interpolation=cv2.INTER_AREA)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jpg":
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 82])
    else:
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def label(rgb: np.ndarray, text: str) -> np.ndarray:
    out = rgb.copy()
    cv2.putText(out, text, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 4, cv2.LINE_AA)
    cv2.putText(out, text, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def oracle_error(images, outputs) -> float:
    half = len(images) // 2
    errs = [
        np.abs(o.astype(np.float32) - paint(i).astype(np.float32)).mean()
        for i, o in zip(images[half:], outputs[half:], strict=True)
    ]
    return float(np.mean(errs))


def measure(frames: int, folder: Path | None = None) -> list[dict]:
    src = vtest_inputs(frames)["576p"]
    images = decode(src, frames)
    OUT.mkdir(parents=True, exist_ok=True)
    key_path = OUT / "stylize_key_vtest.png"
    save(key_path, paint(images[0]))
    key = (f"0={key_path}",)
    rows = []

    def run(mode, effect, note="", oracle=False):
        outputs, fps = drive(effect, images)
        row = {"mode": mode, "fps": fps, "flicker": warping_error(images, outputs), "note": note}
        if oracle:
            row["oracle"] = oracle_error(images, outputs)
        rows.append(row)
        print(
            f"{mode:28s} {fps:6.2f} fps  flicker {row['flicker']:.2f}"
            + (f"  oracle {row['oracle']:.1f}" if oracle else ""),
            flush=True,
        )
        return outputs

    ours = run("keyframe: guided (ours)", st.Stylize(keyframe=key), "work=192", oracle=True)
    warped = run(
        "keyframe: flow-warp only", st.Stylize(keyframe=key, iterations=0), "", oracle=True
    )
    per = run(
        "keyframe: per-frame patch",
        st.Stylize(keyframe=key, temporal=False),
        "no positional/temporal guide",
        oracle=True,
    )
    if folder is not None:
        last = len(images) - 1
        top = [
            label(images[0], "vtest frame 0"),
            label(paint(images[0]), "keyframe"),
            label(images[last], f"frame {last}"),
        ]
        bottom = [
            label(ours[last], "ours"),
            label(warped[last], "flow-warp only"),
            label(per[last], "per-frame"),
        ]
        save(folder / f"vtest_{last}.jpg", np.vstack([np.hstack(top), np.hstack(bottom)]), 900)
    run("keyframe: guided, work=288", st.Stylize(keyframe=key, work=288), "", oracle=True)
    if STYLE_PHOTO.exists():
        run("style image", st.Stylize(style=str(STYLE_PHOTO)), STYLE_PHOTO.name)
    for name in st.FILTERS:
        run(f"filter {name}", st.Stylize(filter=name))
        run(f"filter {name}, smooth=0.6", st.Stylize(filter=name, smooth=0.6))
    outputs, t = [], time.perf_counter()
    for img in images:
        bgr = cv2.stylization(cv2.cvtColor(img, cv2.COLOR_RGB2BGR), sigma_s=60, sigma_r=0.45)
        outputs.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    fps = len(images) / (time.perf_counter() - t)
    rows.append(
        {
            "mode": "reference: cv2.stylization per frame",
            "fps": fps,
            "flicker": warping_error(images, outputs),
            "note": "full resolution",
        }
    )
    print(f"{'cv2.stylization per frame':28s} {fps:6.2f} fps  flicker {rows[-1]['flicker']:.2f}")
    return rows


def make_frames(folder: Path) -> dict:
    """Megamind's first shot carried from one keyframe; style transfer; filters."""
    images = decode(MEGAMIND, 85, start=12)  # frames 12..96: one shot, 3.5 s
    key = paint(images[0])
    key_path = OUT / "stylize_key_megamind.png"
    save(key_path, key)
    ours, _ = drive(st.Stylize(keyframe=(f"0={key_path}",)), images, Fraction(24))
    per, _ = drive(st.Stylize(keyframe=(f"0={key_path}",), temporal=False), images, Fraction(24))
    w = 360
    save(
        folder / "keyframe.jpg",
        np.hstack([label(images[0], "frame 12"), label(key, "keyframe (painted)")]),
        2 * w,
    )
    for i in (36, 84):
        row = np.hstack(
            [
                label(images[i], f"frame {12 + i} (+{i / 24:.1f} s)"),
                label(ours[i], "ours"),
                label(per[i], "per-frame"),
            ]
        )
        save(folder / f"carried_{12 + i}.jpg", row, 3 * w)
    result = {"ours": warping_error(images, ours), "per-frame": warping_error(images, per)}
    print("megamind flicker:", result)
    vt = decode(ROOT / "samples" / "vtest.avi", 1)[0]
    if STYLE_PHOTO.exists():
        style = cv2.cvtColor(cv2.imread(str(STYLE_PHOTO)), cv2.COLOR_BGR2RGB)
        styled = st.transfer_style(style, vt)
        thumb = cv2.resize(style, (vt.shape[1], vt.shape[0]))
        save(
            folder / "style.jpg",
            np.hstack(
                [label(vt, "frame"), label(thumb, "style"), label(styled, "styled keyframe")]
            ),
            3 * w,
        )
    frame = images[40]
    tiles = [
        label(st.Posterizer(8)(frame) if n == "posterize" else getattr(st, n)(frame), n)
        for n in st.FILTERS
    ]
    sheet = np.vstack([np.hstack(tiles[:3]), np.hstack(tiles[3:])])
    save(folder / "filters.jpg", sheet, 3 * w)
    return result


def render(rows: list[dict], frames: int, megamind: dict | None) -> str:
    load = os.getloadavg()[0]
    lines = [
        "## Stylize: speed and flicker",
        "",
        f"Measured with `.venv/bin/python bench/stylize.py --frames {frames} --write "
        "docs/stylize.md --frames-dir docs/stylize` on the first "
        f"{frames} frames of vtest.avi (768x576), {platform.machine()}, {os.cpu_count()} CPUs "
        f"(load average {load:.1f} at the start; above 2 the fps are low and noisy). fps is "
        "the stylization alone (frames decoded beforehand). Flicker: warping error, 8-bit "
        "levels (lower is steadier). Oracle error: difference to the keyframe recipe applied to "
        "each frame itself, second half of the clip (lower follows the content better).",
        "",
        "| mode | fps at 576p | flicker | oracle error | note |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        oracle = f"{r['oracle']:.1f}" if "oracle" in r else ""
        lines.append(
            f"| {r['mode']} | {r['fps']:.2f} | {r['flicker']:.2f} | {oracle} | {r['note']} |"
        )
    by = {r["mode"]: r for r in rows}
    ours, per = by["keyframe: guided (ours)"], by["keyframe: per-frame patch"]
    lines += [
        "",
        f"Keyframe carried by ours flickers {per['flicker'] / max(ours['flicker'], 1e-6):.1f}x "
        "less than the same synthesis run per frame.",
        "",
    ]
    if megamind:
        lines += [
            "Megamind.avi, frames 12-96 (one shot, 3.5 s, 24 fps, 720x528), keyframe at frame "
            f"12 (`--frames-dir docs/stylize`): flicker ours {megamind['ours']:.2f}, per-frame "
            f"patch synthesis {megamind['per-frame']:.2f} "
            f"({megamind['per-frame'] / max(megamind['ours'], 1e-6):.1f}x).",
            "",
        ]
    return "\n".join(lines)


# -- vintage (CycleGAN) ----------------------------------------------------------------------------
#: (name, file, first frame, working size): vtest (fixed camera, pedestrians) and Megamind (one
#: animated shot, moving camera) at half size, tree (a handheld camera) at its own 320x240
VINTAGE_CLIPS = (
    ("vtest", "vtest.avi", 0, (384, 288)),
    ("tree", "tree.avi", 0, (320, 240)),
    ("Megamind", "Megamind.avi", 12, (360, 264)),
)


def run_vintage(images: list[np.ndarray], **kw) -> tuple[list[np.ndarray], float]:
    """The vintage filter over frames (shared=False: per frame): outputs, seconds a frame."""
    model = st.Vintage(**kw)
    t0 = time.perf_counter()
    out = [model(img) for img in images]
    return out, (time.perf_counter() - t0) / len(images)


def smoothed(images: list[np.ndarray], outputs: list[np.ndarray], amount: float) -> list:
    """Outputs blended with the previous one warped by flow (stylize's --smooth)."""
    smoother = st.Smoother(amount)
    return [smoother(i, o) for i, o in zip(images, outputs, strict=True)]


def change_map(images: list[np.ndarray], outputs: list[np.ndarray], k: int) -> np.ndarray:
    """|output k - output k-1 warped by the input's flow|, x4, as a picture (black: steady)."""
    from moviola.vision.flow import FlowEstimator, gray, warp

    flow = FlowEstimator("medium")
    back = flow(gray(images[k]), gray(images[k - 1]))
    moved = warp(outputs[k - 1].astype(np.float32), back)
    diff = np.abs(outputs[k].astype(np.float32) - moved).mean(axis=2)
    heat = np.clip(diff * 4, 0, 255).astype(np.uint8)
    return cv2.cvtColor(heat, cv2.COLOR_GRAY2RGB)


def breathing(images: list[np.ndarray], outputs: list[np.ndarray]) -> float:
    """How much the output's overall colour moves that the input's does not: the mean change,
    frame to frame, of (mean output colour - mean input colour), levels (channels averaged)."""
    shift = [
        o.reshape(-1, 3).mean(axis=0) - i.reshape(-1, 3).mean(axis=0)
        for i, o in zip(images, outputs, strict=True)
    ]
    return float(np.mean([np.abs(b - a).mean() for a, b in pairwise(shift)]))


def measure_vintage(frames: int, sheet: Path | None) -> list[dict]:
    """Flicker of the vintage filter's variants, and of patch synthesis, on each clip."""
    found = []
    tiles: list[np.ndarray] = []
    for name, file, start, size in VINTAGE_CLIPS:
        path = ROOT / "samples" / file
        images = [
            cv2.resize(i, size, interpolation=cv2.INTER_AREA) for i in decode(path, frames, start)
        ]
        per, per_s = run_vintage(images, shared=False)
        shot, shot_s = run_vintage(images)
        first, _ = run_vintage(images, running=0.0)
        patch, _ = drive(st.Stylize(style=str(STYLE_PHOTO)), images)
        variants = {
            "input itself": images,
            "per frame": per,
            "shot statistics (ours, default)": shot,
            "shot statistics, first frame's only": first,
            "per frame + flow blending 0.5": smoothed(images, per, 0.5),
            "shot statistics + flow blending 0.5": smoothed(images, shot, 0.5),
            "patch synthesis (--style starry_night.jpg)": patch,
        }
        row = {"clip": name, "size": size, "s_per_frame": per_s, "s_shot": shot_s}
        row["flicker"] = {k: warping_error(images, v) for k, v in variants.items()}
        row["breathing"] = {k: breathing(images, v) for k, v in variants.items()}
        row["from_per_frame"] = {
            k: float(
                np.mean(
                    [np.abs(a.astype(np.float32) - b).mean() for a, b in zip(v, per, strict=True)]
                )
            )
            for k, v in variants.items()
        }
        found.append(row)
        print(name, {k: round(v, 2) for k, v in row["flicker"].items()}, flush=True)
        print(name, {k: round(v, 3) for k, v in row["breathing"].items()}, flush=True)
        if sheet is not None:
            k = frames - 1
            w = 240
            cells = [
                label(images[k], f"{name} {start + k}"),
                label(per[k], "per frame"),
                label(shot[k], "shot stats"),
                label(change_map(images, per, k), "change x4: per frame"),
                label(change_map(images, shot, k), "change x4: shot stats"),
            ]
            h = round(size[1] * w / size[0])
            tiles.append(
                np.hstack([cv2.resize(c, (w, h), interpolation=cv2.INTER_AREA) for c in cells])
            )
            for tag, img in (("per", per[k]), ("shot", shot[k]), ("in", images[k])):
                save(OUT / f"vintage_{name}_{tag}.png", img)
    if sheet is not None:
        from PIL import Image

        width = max(t.shape[1] for t in tiles)
        stacked = np.vstack([np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0))) for t in tiles])
        sheet.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(stacked).quantize(256).save(sheet, optimize=True)
        print("sheet:", sheet, sheet.stat().st_size, "bytes")
    return found


def vintage_tiles() -> str:
    """One vtest frame enlarged to 1536x1152 (tiled by default above 1280 px): whole, in 640-px
    tiles with the frame's statistics shared, and in tiles each with its own statistics."""
    frame = decode(ROOT / "samples" / "vtest.avi", 1)[0]
    big = cv2.resize(frame, (1536, 1152), interpolation=cv2.INTER_CUBIC)
    t0 = time.perf_counter()
    whole = st.Vintage(tile=0)(big)
    t1 = time.perf_counter()
    tiled = st.Vintage(tile=640)(big)
    t2 = time.perf_counter()
    alone = st.Vintage(tile=640, shared=False)
    alone.session.stats = None  # every tile normalised by its own statistics
    own = alone.model(big)
    diff = [float(np.abs(x.astype(np.float32) - whole).mean()) for x in (tiled, own)]
    text = (
        f"Tiles (`--parts tiles`): vtest frame 0 enlarged to 1536x1152, whole in {t1 - t0:.0f} "
        f"s, in 640-px tiles with the frame's statistics shared in {t2 - t1:.0f} s: mean "
        f"difference to the whole-frame result {diff[0]:.1f} levels, against {diff[1]:.1f} when "
        "each tile is normalised by its own statistics (`bench/out/vintage_tiles.png`: whole, "
        "shared, own, top to bottom)."
    )
    crop = np.vstack([x[380:780, 400:1300] for x in (whole, tiled, own)])
    save(OUT / "vintage_tiles.png", crop)
    print(text)
    return text


def vintage_shots() -> str:
    """Where the filter starts new shots over the whole of Megamind.avi (128x96), beside the
    cuts of the shot detector (TransNetV2 when fetched)."""
    model = st.Vintage()
    starts = []
    with av.open(str(MEGAMIND)) as c:
        for i, f in enumerate(c.decode(video=0)):
            small = cv2.resize(
                f.to_ndarray(format="rgb24"), (128, 96), interpolation=cv2.INTER_AREA
            )
            before = model.shots
            model(small)
            if model.shots != before:
                starts.append(i)
    text = (
        f"Shots (`--parts shots`): over the whole of Megamind.avi (270 frames, at 128x96) the "
        f"filter starts new shots at frames {', '.join(map(str, starts))}; `moviola shots` "
        "(TransNetV2) finds cuts at 98, 154 and 200."
    )
    print(text)
    return text


def render_vintage(
    found: list[dict], frames: int, sheet: Path | None, notes: dict[str, str]
) -> str:
    """The section; ``notes``: the text of the other vintage parts run (tiles, shots)."""
    load = os.getloadavg()[0]
    names = list(found[0]["flicker"])
    lines = [
        "## Vintage filter: flicker",
        "",
        "Measured with `"
        + (
            f"MOVIOLA_THREADS={os.environ['MOVIOLA_THREADS']} "
            if "MOVIOLA_THREADS" in os.environ
            else ""
        )
        + ".venv/bin/python bench/stylize.py --parts vintage"
        + "".join(f",{part}" for part in notes)
        + " --vintage-frames "
        f"{frames} --write docs/stylize.md"
        + (f" --sheet {sheet}`" if sheet else "`")
        + f" on the first {frames} frames of each clip (Megamind from frame 12, inside its first "
        f"shot), {platform.machine()}, {os.cpu_count()} CPUs (load average {load:.1f} at the end). "
        "Flicker: warping error along the input's optical flow, 8-bit levels (lower is "
        "steadier); 'input itself' is the footage's own (noise, light, flow errors), the floor "
        "any output sits on. 'from per frame': mean absolute difference to the per-frame "
        "output, levels (how far the look moved). Breathing: how much the output's mean colour "
        "moves from frame to frame beyond the input's own change (the global flicker instance "
        "normalisation causes), levels.",
        "",
        "| variant | "
        + " | ".join(f"{r['clip']} {r['size'][0]}x{r['size'][1]}" for r in found)
        + " | from per frame (mean) | breathing ("
        + ", ".join(r["clip"] for r in found)
        + ") |",
        "|---|" + "---|" * (len(found) + 2),
    ]
    for n in names:
        cells = " | ".join(f"{r['flicker'][n]:.2f}" for r in found)
        away = np.mean([r["from_per_frame"][n] for r in found])
        breath = ", ".join(f"{r['breathing'][n]:.3f}" for r in found)
        lines.append(f"| {n} | {cells} | {away:.1f} | {breath} |")
    ratios = [
        r["flicker"]["per frame"] / max(r["flicker"]["shot statistics (ours, default)"], 1e-6)
        for r in found
    ]
    speed = ", ".join(
        f"{r['clip']} {r['s_per_frame']:.2f} s per frame, {r['s_shot']:.2f} shared" for r in found
    )
    lines += [
        "",
        "Per frame flickers "
        + ", ".join(f"{x:.1f}x" for x in ratios)
        + " as much as shot statistics (the clips in the order of the table). "
        f"Network time at these sizes: {speed}.",
        "",
    ]
    for note in notes.values():
        lines += [note, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--write", help="write the figures into this markdown file")
    parser.add_argument("--frames-dir", help="write example frames (JPEG) into this folder")
    parser.add_argument(
        "--parts",
        default="synthesis,vintage,tiles,shots",
        help="synthesis, vintage, tiles and shots (with vintage)",
    )
    parser.add_argument("--vintage-frames", type=int, default=20)
    parser.add_argument("--sheet", help="vintage: write a contact sheet (PNG) here")
    args = parser.parse_args()
    if not MEGAMIND.exists():
        sys.exit("bench: samples/Megamind.avi missing; run `make samples`")
    parts = set(args.parts.split(","))
    if "synthesis" in parts:
        rows = measure(args.frames, Path(args.frames_dir) if args.frames_dir else None)
        megamind = make_frames(Path(args.frames_dir)) if args.frames_dir else None
        if args.write:
            write_section(Path(args.write), render(rows, args.frames, megamind), title="# stylize")
    if "vintage" in parts:
        sheet = Path(args.sheet) if args.sheet else None
        found = measure_vintage(args.vintage_frames, sheet)
        notes = {"tiles": vintage_tiles()} if "tiles" in parts else {}
        if "shots" in parts:
            notes["shots"] = vintage_shots()
        if args.write:
            section = render_vintage(found, args.vintage_frames, sheet, notes)
            write_section(Path(args.write), section, title="# stylize")


if __name__ == "__main__":
    main()
