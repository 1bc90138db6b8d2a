"""Parallax render speed at 720p and 1080p, and depth-from-motion speed.

Input: the Middlebury aloe photo from opencv-doc (samples/photos/aloeL.jpg) cropped to 16:9 and
resized, with its ground-truth disparity (aloeGT.png, unknown pixels filled) as the depth map.
Measured per size, frames per second of:
  still      the parallax effect on a still: layers built once, then one render per frame
             (circle move); also with depth of field + fog, and stereo side by side
  video      a new frame and depth every frame: layers rebuilt per frame, then rendered
  reference  a naive single backward warp (cv2.remap by the source depth; it stretches edges
             into disocclusions): the speed floor of any depth warp
  motion     depth from motion per frame (DepthStream: two DIS flows at 480 px, essential
             matrix, fill, temporal smoothing), on a synthetic camera move at that size

With --pictures DIR it also writes the pictures of docs/depth.md (the aloe photo with its
depth map under several moves, a full-resolution crop of leaf edges, depth from motion on the
real aloe pair and on a synthetic camera clip, anaglyph, depth of field and fog).

    .venv/bin/python bench/parallax.py [--frames 12] [--write docs/depth.md]
        [--pictures docs/depth]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from moviola.effects.parallax import camera
from moviola.media.frame import Frame
from moviola.vision.depth import DepthStream, push_pull
from moviola.vision.scene import Scene
from moviola.vision.viewsynth import Layers, View, anaglyph, border_zoom, depth_of_field, fog

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(os.environ.get("MOVIOLA_SAMPLES", ROOT / "samples"))
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


def aloe(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    image = cv2.imread(str(SAMPLES / "photos" / "aloeL.jpg"))
    gt = cv2.imread(str(SAMPLES / "photos" / "aloeGT.png"), cv2.IMREAD_UNCHANGED)
    if image is None or gt is None:
        sys.exit("bench: samples/photos/aloeL.jpg or aloeGT.png missing; run `make samples`")
    h0, w0 = gt.shape
    ch = round(w0 * height / width)
    top = (h0 - ch) // 2
    image, gt = image[top : top + ch], gt[top : top + ch].astype(np.float32)
    depth = push_pull(gt, (gt > 0).astype(np.float32))
    depth = (depth - depth.min()) / (depth.max() - depth.min())
    image = (
        cv2.resize(
            cv2.cvtColor(image, cv2.COLOR_BGR2RGB), (width, height), interpolation=cv2.INTER_AREA
        ).astype(np.float32)
        / 255
    )
    return image, cv2.resize(depth, (width, height), interpolation=cv2.INTER_LINEAR)


def fps(fn, frames: int) -> tuple[float, float]:
    """(frames per second of wall time, CPU seconds per frame over all threads: steadier than
    wall time on a shared machine)."""
    fn(0)  # warm up
    started, cpu = time.perf_counter(), time.process_time()
    for k in range(frames):
        fn(k)
    return frames / (time.perf_counter() - started), (time.process_time() - cpu) / frames


def naive_warp(image, depth, view: View):
    h, w = depth.shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    par = depth - view.focus
    return cv2.remap(
        image,
        gx + w * view.tx * par,
        gy + w * view.ty * par,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def measure(width: int, height: int, frames: int) -> dict[str, float]:
    image, depth = aloe(width, height)
    views = [camera("circle", k / frames, 1.0, 0.5) for k in range(frames)]
    zoom = border_zoom(views, width, height)
    views = [View(v.tx, v.ty, v.tz, v.zoom * zoom, v.focus) for v in views]
    reach = 0.03 * width * zoom
    layers = Layers(image, depth, reach)
    out = {}
    out["still"] = fps(lambda k: layers.render(views[k]), frames)

    def looks(k):
        img, d, _ = layers.render(views[k])
        fog(depth_of_field(img, d, 0.8, 1.0), d, 0.4, (0.8, 0.82, 0.86))

    out["still + dof + fog"] = fps(looks, frames)

    def stereo(k):
        left = layers.render(views[k].with_offset(-0.015))[0]
        right = layers.render(views[k].with_offset(0.015))[0]
        return np.concatenate([left, right], axis=1)

    out["still, stereo sbs"] = fps(stereo, frames)
    out["still, anaglyph"] = fps(
        lambda k: anaglyph(*[layers.render(views[k].with_offset(s))[0] for s in (-0.015, 0.015)]),
        frames,
    )
    out["video (layers per frame)"] = fps(
        lambda k: Layers(image, depth, reach).render(views[k]), frames
    )
    out["reference: naive warp"] = fps(lambda k: naive_warp(image, depth, views[k]), frames)
    # depth from motion on a synthetic camera move at this size
    scene = Scene.default(width=width, height=height)
    clip = [scene.render((0.02 * k, 0.0, 0.01 * k))[0] for k in range(frames + 4)]
    stream = DepthStream("motion", gap=3, smooth=0.6)
    started, cpu = time.perf_counter(), time.process_time()
    done = 0
    for k, img in enumerate(clip):
        done += len(stream.push(Frame(img, Fraction(k, 25), Fraction(1, 25), k)))
    done += len(stream.flush())
    out["depth from motion"] = (
        done / (time.perf_counter() - started),
        (time.process_time() - cpu) / done,
    )
    return out


def _tile(images, width: int) -> np.ndarray:
    out = []
    for im in images:
        im = im.astype(np.float32) / 255 if im.dtype == np.uint8 else im
        im = im if im.ndim == 3 else np.repeat(im[..., None], 3, axis=2)
        h = round(im.shape[0] * width / im.shape[1])
        out.append(cv2.resize(im, (width, h), interpolation=cv2.INTER_AREA))
    return np.concatenate(out, axis=1)


def _save(path: Path, rgb: np.ndarray) -> None:
    rgb = np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8) if rgb.dtype != np.uint8 else rgb
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print("wrote", path, path.stat().st_size // 1024, "KB")


def pictures(folder: Path) -> None:
    from moviola.vision.depth import MotionDepth, colorize

    folder.mkdir(parents=True, exist_ok=True)
    image, depth = aloe(960, 540)
    focus = 0.5

    def view(move, t, amount=1.5):
        views = [camera(move, k / 16, amount, focus) for k in range(17)]
        zoom = border_zoom(views, 960, 540)
        v = camera(move, t, amount, focus)
        return View(v.tx, v.ty, v.tz, v.zoom * zoom, v.focus)

    layers = Layers(image, depth, 0.045 * 960 * 1.2)
    frames = [layers.render(view("circle", t))[0] for t in (0.0, 0.5)]
    frames.append(layers.render(view("dolly", 1.0))[0])
    frames.append(layers.render(view("dollyzoom", 1.0))[0])
    tiles = [image, colorize(depth, "gray"), *frames]
    _save(
        folder / "aloe_moves.png",
        np.concatenate([_tile(tiles[:3], 224), _tile(tiles[3:], 224)], axis=0),
    )
    # full-resolution crop around leaf edges: the source, and two opposite circle positions
    crop = (slice(100, 300), slice(380, 600))
    _save(
        folder / "aloe_edges.png",
        np.concatenate([image[crop], frames[0][crop], frames[1][crop]], axis=1),
    )
    # looks: anaglyph, depth of field and fog
    base = view("none", 0.0)
    left = layers.render(base.with_offset(-0.02))[0]
    right = layers.render(base.with_offset(0.02))[0]
    img, d, _ = layers.render(base)
    looks = fog(depth_of_field(img, d, 0.9, 0.8), d, 0.4, (0.8, 0.84, 0.9))
    _save(folder / "aloe_anaglyph_dof_fog.png", _tile([anaglyph(left, right), looks], 320))
    # depth from motion on the real aloe stereo pair (two photos, the camera moved sideways)
    left = cv2.cvtColor(cv2.imread(str(SAMPLES / "photos" / "aloeL.jpg")), cv2.COLOR_BGR2RGB)
    right = cv2.cvtColor(cv2.imread(str(SAMPLES / "photos" / "aloeR.jpg")), cv2.COLOR_BGR2RGB)
    gt = cv2.imread(str(SAMPLES / "photos" / "aloeGT.png"), cv2.IMREAD_UNCHANGED)
    est = MotionDepth().estimate(left, right).depth
    gtn = gt.astype(np.float32) / gt.max()
    _save(
        folder / "aloe_depth_from_motion.png",
        _tile([left, colorize(est, "turbo"), colorize(gtn, "turbo")], 240),
    )
    # parallax from that estimated depth (no depth map given: two real photos)
    est_full = cv2.resize(est, (left.shape[1], left.shape[0]), interpolation=cv2.INTER_LINEAR)
    small = cv2.resize(left, (640, 554), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    lay = Layers(small, cv2.resize(est_full, (640, 554)), 40)
    outs = [lay.render(View(tx=s, focus=0.5, zoom=1.08))[0] for s in (-0.035, 0.035)]
    _save(folder / "aloe_parallax_from_motion_depth.png", _tile(outs, 240))
    # a synthetic camera clip: frame, depth from motion, parallax frame (swing)
    scene = Scene.default(
        [
            cv2.cvtColor(cv2.imread(str(SAMPLES / "photos" / n)), cv2.COLOR_BGR2RGB)
            for n in ("fruits.jpg", "baboon.jpg", "building.jpg", "home.jpg")
        ],
        480,
        270,
    )
    stream = DepthStream("motion", gap=3, smooth=0.6)
    pairs = []
    for k in range(10):
        img = scene.render((0.02 * k, 0.0, 0.01 * k), yaw=0.002 * k)[0]
        pairs += stream.push(Frame(img, Fraction(k, 25), Fraction(1, 25), k))
    pairs += stream.flush()
    frame, d = pairs[6]
    lay = Layers(frame.image.astype(np.float32) / 255, d, 30)
    out = lay.render(View(tx=0.05, tz=0.1, focus=0.4, zoom=1.1))[0]
    _save(
        folder / "synthetic_clip.png",
        _tile([frame.image.astype(np.float32) / 255, colorize(d, "turbo"), out], 240),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--write", help="replace this section in a markdown file")
    parser.add_argument("--pictures", help="write the pictures of docs/depth.md here")
    parser.add_argument("--pictures-only", action="store_true")
    args = parser.parse_args()
    if args.pictures:
        pictures(Path(args.pictures))
        if args.pictures_only:
            return
    results = {name: measure(*size, args.frames) for name, size in SIZES.items()}
    for name, r in results.items():
        print(name, {k: (round(v[0], 2), round(v[1], 3)) for k, v in r.items()})
    keys = list(next(iter(results.values())))
    ref = "reference: naive warp"
    lines = [
        "## Parallax render speed",
        "",
        "At 720p and 1080p, the aloe photo with its ground-truth depth, circle move; CPU only "
        "(numpy + OpenCV). fps: frames per second of wall time (higher is better); CPU s: "
        "CPU seconds per frame over all threads (lower is better; steadier than wall time on "
        "a shared machine); x naive: CPU time relative to the reference, a naive single "
        "backward remap by the source depth (which stretches edges into revealed areas): "
        "what the z-buffer, the hole test and the background layer cost over it.",
        "",
        "| what | " + " | ".join(f"{n} fps | {n} CPU s | {n} x naive" for n in results) + " |",
        "|---|" + "---|" * (3 * len(results)),
    ]
    for key in keys:
        cells = []
        for n in results:
            f, c = results[n][key]
            cells += [f"{f:.1f}", f"{c:.3f}", f"{c / results[n][ref][1]:.1f}"]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Still images render every frame from layers built once; video rebuilds the layers "
        "(background fill behind depth edges) for every frame. Depth from motion is measured "
        "on a synthetic camera move of the same size (it works at 480 px inside).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end. Command: `.venv/bin/python bench/parallax.py --frames {args.frames} "
        "--write docs/depth.md`",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        write_section(Path(args.write), section, "# Depth and parallax")


if __name__ == "__main__":
    main()
