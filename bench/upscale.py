"""Upscale benchmark: quality, speed and tile seams of `upscale` on real footage.

Footage (``bash scripts/get-samples.sh``): samples/vtest.avi (live action, 768x576, 10 fps) and
samples/Megamind.avi (animation, 720x528).

quality  Frames of each clip are reduced by the model's factor (area averaging) and enlarged back;
         PSNR and SSIM (luma, Gaussian 11x11 window, sigma 1.5) against the original, and a
         sharpness ratio: variance of the Laplacian of the result's luma over the original's
         (1.0: as sharp as the original; GAN models may exceed it with invented texture). A
         border of 4 x factor pixels is left out. Each model against bicubic, Lanczos-4 and the
         classical mode (Lanczos + unsharp mask, `--model lanczos`).
speed    Frames per second through the whole pipeline (decode, upscale, H.264 CRF 18 encode) at
         480p input (vtest scaled to 640x480). The RRDB models (x4plus, x4plus-anime) take minutes
         per 480p frame on a small CPU, so they are timed at 160x120 input and the time per 480p
         frame is extrapolated (x16 pixels, x tiling overhead), and said so (--rrdb-frames N
         also times them on N real 480p frames). Then our pipeline vs
         a plain loop (PyAV decode, the same ncnn model on the whole frame, PyAV encode with the
         same settings, one thread), one run each.
seams    A region run whole and in forced small tiles: the largest and mean difference.
memory   Peak memory of a model run at two input sizes (fresh processes): bytes per pixel.
crops    Side-by-side PNGs in docs/upscale/: a real 480p input enlarged x3 (input
         nearest-neighbour, Lanczos, classical, each model), and a x4 round trip beside the
         original.

    .venv/bin/python bench/upscale.py [--parts quality,speed,seams,memory,crops] [--frames 2]
                                      [--speed-frames 6] [--rrdb-frames 0]
                                      [--write docs/upscale.md]

Results are kept in bench/out/upscale_results.json, so parts can be run one at a time; --write
renders all stored parts into the generated section of the markdown file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

import moviola
from moviola.effects import upscale as up
from moviola.media import Frame, StreamInfo
from moviola.models.runtime import open_session
from moviola.pipeline import create

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RESULTS = OUT / "upscale_results.json"
CROPS = ROOT / "docs" / "upscale"
CLIPS = {"vtest": ROOT / "samples" / "vtest.avi", "megamind": ROOT / "samples" / "Megamind.avi"}
ANIME = "realesr-animevideov3"
BY_FACTOR = {
    2: [f"{ANIME}-x2"],
    3: [f"{ANIME}-x3"],
    4: [f"{ANIME}-x4", "realesrgan-x4plus", "realesrgan-x4plus-anime"],
}
RRDB = ("realesrgan-x4plus", "realesrgan-x4plus-anime")
SHORT = {
    f"{ANIME}-x2": "animevideov3-x2",
    f"{ANIME}-x3": "animevideov3-x3",
    f"{ANIME}-x4": "animevideov3-x4",
    "realesrgan-x4plus": "x4plus",
    "realesrgan-x4plus-anime": "x4plus-anime",
}
MARK_START, MARK_END = "<!-- bench/upscale.py: start -->", "<!-- bench/upscale.py: end -->"


# --- helpers -----------------------------------------------------------------------------------


def read_frames(path: Path, indices: list[int]) -> list[np.ndarray]:
    wanted, out = set(indices), {}
    with av.open(str(path)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i in wanted:
                out[i] = frame.to_ndarray(format="rgb24")
            if i >= max(indices):
                break
    return [out[i] for i in indices]


def luma(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    return 0.299 * r + 0.587 * g + 0.114 * b


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two luma images (0..255), Gaussian window 11x11, sigma 1.5."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x):
        return cv2.GaussianBlur(x, (11, 11), 1.5)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float((num / den)[5:-5, 5:-5].mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 10 * np.log10(255**2 / mse) if mse else float("inf")


def laplacian_var(y: np.ndarray) -> float:
    return float(cv2.Laplacian(y, cv2.CV_64F).var())


def apply(method: str, image: np.ndarray, factor: float, tile: int = 0) -> np.ndarray:
    """Enlarge an RGB uint8 image by ``factor`` with a baseline or the upscale effect."""
    h, w = image.shape[:2]
    size = (round(w * factor), round(h * factor))
    if method == "bicubic":
        return cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    if method == "lanczos":
        return cv2.resize(image, size, interpolation=cv2.INTER_LANCZOS4)
    model = "lanczos" if method == "classical" else method
    effect = create("upscale", model=model, width=size[0], height=size[1], tile=tile)
    effect.configure(StreamInfo(w, h, Fraction(10), Fraction(1, 10)))
    try:
        return effect.process(Frame(image, Fraction(0), Fraction(1, 10), 0)).image
    finally:
        effect.close()


def load_results() -> dict:
    try:
        return json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return {}


def save_results(results: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs"


# --- parts -------------------------------------------------------------------------------------


def part_quality(frames: int) -> dict:
    rows = []
    for clip, path in CLIPS.items():
        count = 270 if clip == "megamind" else 795
        indices = [round((i + 1) * count / (frames + 1)) for i in range(frames)]
        originals = read_frames(path, indices)
        for factor, models in BY_FACTOR.items():
            methods = ["bicubic", "lanczos", "classical", *models]
            scores: dict[str, list[tuple[float, float, float, float]]] = {m: [] for m in methods}
            for original in originals:
                h, w = original.shape[:2]
                h, w = h - h % factor, w - w % factor
                truth = original[:h, :w]
                small = cv2.resize(truth, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
                b = 4 * factor
                y_true = luma(truth)[b:-b, b:-b]
                sharp_true = laplacian_var(y_true)
                for m in methods:
                    start = time.perf_counter()
                    result = apply(m, small, factor)
                    seconds = time.perf_counter() - start
                    y = luma(result)[b:-b, b:-b]
                    scores[m].append(
                        (psnr(y, y_true), ssim(y, y_true), laplacian_var(y) / sharp_true, seconds)
                    )
                    print(f"quality {clip} x{factor} {m}: {np.round(scores[m][-1], 3)}", flush=True)
            for m in methods:
                p, s, sh, sec = np.mean(scores[m], axis=0)
                rows.append(
                    {
                        "clip": clip,
                        "factor": factor,
                        "method": m,
                        "psnr": round(float(p), 2),
                        "ssim": round(float(s), 4),
                        "sharpness": round(float(sh), 2),
                        "seconds": round(float(sec), 2),
                        "input": f"{w // factor}x{h // factor}",
                        "frames": len(originals),
                    }
                )
    return {"rows": rows}


def make_clip(width: int, height: int, frames: int) -> Path:
    """vtest's first frames scaled to width x height (H.264 CRF 12), made once."""
    dst = OUT / f"vtest_{width}x{height}_{frames}.mp4"
    if not dst.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        clip = moviola.open(CLIPS["vtest"], end=frames / 10)
        clip.apply("resize", width=width, height=height, fit="stretch").save(dst, crf=12)
    return dst


def time_ours(src: Path, dst: Path, **params) -> tuple[float, int]:
    start = time.perf_counter()
    result = moviola.open(src).apply("upscale", **params).save(dst)
    return time.perf_counter() - start, result.frames_out


def time_plain(src: Path, dst: Path, model: str) -> tuple[float, int]:
    """The same model on each whole frame in a plain loop: decode, model, encode; one thread."""
    start = time.perf_counter()
    session = open_session(model)
    count = 0
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        stream = None
        for frame in inp.decode(vin):
            rgb = frame.to_ndarray(format="rgb24")
            x = np.ascontiguousarray(rgb.transpose(2, 0, 1), np.float32)[None] / 255
            y = session.run({"data": x})["output"][0]
            img = np.clip(y.transpose(1, 2, 0) * 255 + 0.5, 0, 255).astype(np.uint8)
            if stream is None:
                stream = out.add_stream("libx264", rate=vin.average_rate)
                stream.width, stream.height = img.shape[1], img.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": "18", "preset": "medium"}
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
            count += 1
        for packet in stream.encode():
            out.mux(packet)
    return time.perf_counter() - start, count


def part_speed(frames: int, rrdb_frames: int) -> dict:
    rows = []
    sd = make_clip(640, 480, frames)
    tiny = make_clip(160, 120, 2)
    open_session(f"{ANIME}-x4")  # load once outside the timings
    runs = [("lanczos", sd, {"model": "lanczos", "scale": 3})]
    runs += [(m, sd, {"model": m}) for m in (f"{ANIME}-x2", f"{ANIME}-x3", f"{ANIME}-x4")]
    runs += [(m, tiny, {"model": m}) for m in RRDB]
    if rrdb_frames:
        rrdb_sd = make_clip(640, 480, rrdb_frames)
        runs += [(m, rrdb_sd, {"model": m}) for m in RRDB]
    for name, src, params in runs:
        if name != "lanczos":
            open_session(name)  # loading is not part of the timing
        seconds, n = time_ours(src, OUT / f"upscale_{SHORT.get(name, name)}.mp4", **params)
        info = up.MODELS.get(name)
        row = {
            "method": name,
            "input": "160x120" if src == tiny else "640x480",
            "frames": n,
            "seconds": round(seconds, 2),
            "fps": round(n / seconds, 3),
        }
        if src == tiny and info is not None:
            tile = up.auto_tile(info, 640, 480)
            tiles = len(up.tile_edges(640, tile)) - 1, len(up.tile_edges(480, tile)) - 1
            cw, ch = 640 / tiles[0], 480 / tiles[1]
            overhead = (min(640, cw + 2 * info.pad) * min(480, ch + 2 * info.pad)) / (cw * ch)
            row["est_480p_s_per_frame"] = round(seconds / n * 16 * overhead)
            row["est_tiles"] = f"{tiles[0]}x{tiles[1]} tiles of {tile} px, x{overhead:.2f} work"
        rows.append(row)
        print("speed", row, flush=True)
    model = f"{ANIME}-x3"
    ours_s, ours_n = time_ours(sd, OUT / "upscale_ours_x3.mp4", model=model)
    plain_s, plain_n = time_plain(sd, OUT / "upscale_plain_x3.mp4", model)
    compare = {
        "model": model,
        "frames": ours_n,
        "ours_s": round(ours_s, 2),
        "plain_s": round(plain_s, 2),
        "ours_fps": round(ours_n / ours_s, 3),
        "plain_fps": round(plain_n / plain_s, 3),
    }
    print("compare", compare, flush=True)
    return {"rows": rows, "compare": compare}


def part_seams() -> dict:
    frame = read_frames(CLIPS["vtest"], [60])[0]
    frame = cv2.resize(frame, (640, 480), interpolation=cv2.INTER_AREA)
    region = np.ascontiguousarray(frame[140:236, 300:428])  # 128x96: people, a sign
    rows = []
    for model in (f"{ANIME}-x4", *RRDB):
        whole = apply(model, region, 4)
        tiled = apply(model, region, 4, tile=48)
        diff = np.abs(whole.astype(int) - tiled.astype(int))
        rows.append(
            {
                "model": model,
                "region": "128x96",
                "tile": 48,
                "max": int(diff.max()),
                "mean": round(float(diff.mean()), 3),
                "p999": float(np.percentile(diff, 99.9)),
            }
        )
        print("seams", rows[-1], flush=True)
        if model == "realesrgan-x4plus":
            # around the first corner where four tiles meet
            cx, cy = up.tile_edges(128, 48)[1] * 4, up.tile_edges(96, 48)[1] * 4
            crop = (slice(cy - 96, cy + 96), slice(cx - 96, cx + 96))
            amplified = np.clip(diff[crop] * 10, 0, 255).astype(np.uint8)
            sheet = labelled(
                [
                    ("x4plus tiled (corner at centre)", tiled[crop]),
                    ("untiled", whole[crop]),
                    ("|difference| x10", amplified),
                ]
            )
            save_png(CROPS / "seams_x4plus.png", sheet)
    return {"rows": rows}


_MEMORY_PROBE = """
import resource, sys, numpy as np
from moviola.models.runtime import open_session
s = open_session(sys.argv[1]); n = int(sys.argv[2])
s.run({"data": np.random.default_rng(0).random((1, 3, n, n), dtype=np.float32)})
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def part_memory() -> dict:
    """Peak memory of one model run on an n x n input, at two sizes, in fresh processes: the
    slope is the working memory per input pixel that auto tiling assumes."""
    import subprocess

    rows = []
    for model, sizes in ((f"{ANIME}-x4", (128, 384)), *((m, (48, 96)) for m in RRDB)):
        peaks = []
        for n in sizes:
            done = subprocess.run(
                [sys.executable, "-c", _MEMORY_PROBE, model, str(n)],
                capture_output=True,
                text=True,
                check=True,
            )
            peaks.append(int(done.stdout.split()[-1]))
        slope = (peaks[1] - peaks[0]) / (sizes[1] ** 2 - sizes[0] ** 2)
        rows.append(
            {
                "model": model,
                "sizes": list(sizes),
                "peak_mb": [p >> 20 for p in peaks],
                "bytes_per_pixel": round(slope),
                "assumed": up.MODELS[model].bytes_per_pixel,
            }
        )
        print("memory", rows[-1], flush=True)
    return {"rows": rows}


def labelled(columns: list[tuple[str, np.ndarray]], per_row: int = 3) -> np.ndarray:
    """The images side by side under their labels, ``per_row`` to a row."""
    tiles = []
    for label, image in columns:
        bar = np.full((22, image.shape[1], 3), 255, np.uint8)
        cv2.putText(bar, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(np.vstack([bar, image]))
    blank = np.full_like(tiles[0], 255)
    tiles += [blank] * (-len(tiles) % per_row)
    gap_v = np.full((tiles[0].shape[0], 4, 3), 255, np.uint8)
    rows = []
    for i in range(0, len(tiles), per_row):
        row = []
        for t in tiles[i : i + per_row]:
            row += [t, gap_v]
        rows.append(np.hstack(row[:-1]))
        rows.append(np.full((4, rows[-1].shape[1], 3), 255, np.uint8))
    return np.vstack(rows[:-1])


def save_png(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def region_upscale(method: str, image: np.ndarray, box, factor: int) -> np.ndarray:
    """``method`` applied to the box (x, y, w, h) of ``image`` with 32 px of context around it
    (as a tile would have), the box's part of the result returned."""
    x, y, w, h = box
    pad = 32
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(image.shape[1], x + w + pad), min(image.shape[0], y + h + pad)
    out = apply(method, np.ascontiguousarray(image[y0:y1, x0:x1]), factor)
    oy, ox = (y - y0) * factor, (x - x0) * factor
    return out[oy : oy + h * factor, ox : ox + w * factor]


def part_crops() -> dict:
    made = []
    methods = [
        ("Lanczos", "lanczos"),
        ("classical (Lanczos+USM)", "classical"),
        ("animevideov3-x3", f"{ANIME}-x3"),
        ("x4plus", "realesrgan-x4plus"),
        ("x4plus-anime", "realesrgan-x4plus-anime"),
    ]
    vtest = cv2.resize(
        read_frames(CLIPS["vtest"], [60])[0], (640, 480), interpolation=cv2.INTER_AREA
    )
    mega = read_frames(CLIPS["megamind"], [120])[0]
    for name, image, box in (
        ("vtest_480p_x3", vtest, (300, 140, 120, 90)),
        ("megamind_x3", mega, (395, 190, 120, 90)),
    ):
        x, y, w, h = box
        columns = [
            (
                "input (nearest x3)",
                cv2.resize(
                    image[y : y + h, x : x + w], (w * 3, h * 3), interpolation=cv2.INTER_NEAREST
                ),
            )
        ]
        for label, method in methods:
            columns.append((label, region_upscale(method, image, box, 3)))
            print("crop", name, label, flush=True)
        save_png(CROPS / f"{name}.png", labelled(columns))
        made.append(f"{name}.png")
    # x4 round trip beside the original
    original = read_frames(CLIPS["vtest"], [60])[0]
    small = cv2.resize(original, (192, 144), interpolation=cv2.INTER_AREA)
    box = (75, 38, 60, 45)  # in the reduced frame: the people and the sign
    x, y, w, h = box
    columns = [
        ("original", original[y * 4 : (y + h) * 4, x * 4 : (x + w) * 4]),
        ("bicubic", region_upscale("bicubic", small, box, 4)),
    ]
    for label, method in (
        ("classical", "classical"),
        ("animevideov3-x4", f"{ANIME}-x4"),
        ("x4plus", "realesrgan-x4plus"),
        ("x4plus-anime", "realesrgan-x4plus-anime"),
    ):
        columns.append((label, region_upscale(method, small, box, 4)))
        print("crop roundtrip", label, flush=True)
    save_png(CROPS / "vtest_roundtrip_x4.png", labelled(columns))
    made.append("vtest_roundtrip_x4.png")
    return {"files": made}


# --- report ------------------------------------------------------------------------------------


def render(results: dict, command: str) -> str:
    lines = [MARK_START, "", f"Produced by `{command}` on {results.get('machine', '?')}."]
    if results.get("load"):
        loads = ", ".join(f"{k} {v}" for k, v in sorted(results["load"].items()))
        lines.append(
            f"1-minute load average before -> after each part (the CPUs were shared "
            f"with other work): {loads}."
        )
    q = results.get("quality")
    if q:
        lines += [
            "",
            "### Quality: reduce by the factor, enlarge back (luma)",
            "",
            f"{q['rows'][0]['frames']} frames per clip; sharpness = Laplacian variance / "
            "the original's.",
            "",
            "| clip | factor | method | PSNR dB | SSIM | sharpness | s/frame |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in q["rows"]:
            lines.append(
                f"| {r['clip']} ({r['input']} in) | x{r['factor']} | {SHORT.get(r['method'], r['method'])} "
                f"| {r['psnr']:.2f} | {r['ssim']:.4f} | {r['sharpness']:.2f} | {r['seconds']:.2f} |"
            )
    s = results.get("speed")
    if s:
        lines += [
            "",
            "### Speed through the pipeline (decode, upscale, H.264 encode)",
            "",
            "| method | input | frames | seconds | fps | per 480p frame |",
            "|---|---|---|---|---|---|",
        ]
        for r in s["rows"]:
            per = (
                f"~{r['est_480p_s_per_frame']} s (extrapolated: {r['est_tiles']})"
                if "est_480p_s_per_frame" in r
                else f"{r['seconds'] / r['frames']:.2f} s"
            )
            lines.append(
                f"| {SHORT.get(r['method'], r['method'])} | {r['input']} | {r['frames']} "
                f"| {r['seconds']:.1f} | {r['fps']:.3f} | {per} |"
            )
        c = s["compare"]
        lines += [
            "",
            f"Ours vs a plain loop, {SHORT[c['model']]}, 640x480 -> 1920x1440, "
            f"{c['frames']} frames, one run each: ours {c['ours_s']:.1f} s "
            f"({c['ours_fps']:.3f} fps), plain loop {c['plain_s']:.1f} s "
            f"({c['plain_fps']:.3f} fps).",
        ]
    m = results.get("seams")
    if m:
        lines += [
            "",
            "### Tiled vs untiled (8-bit levels)",
            "",
            "| model | region | tile | max | mean | 99.9th percentile |",
            "|---|---|---|---|---|---|",
        ]
        for r in m["rows"]:
            lines.append(
                f"| {SHORT[r['model']]} | {r['region']} | {r['tile']} | {r['max']} "
                f"| {r['mean']} | {r['p999']} |"
            )
    mem = results.get("memory")
    if mem:
        lines += [
            "",
            "### Working memory per input pixel (peak RSS at two sizes, CPU)",
            "",
            "| model | sizes | peak MB | bytes per input pixel | auto tiling assumes |",
            "|---|---|---|---|---|",
        ]
        for r in mem["rows"]:
            sizes = " and ".join(f"{n}x{n}" for n in r["sizes"])
            peaks = " / ".join(str(p) for p in r["peak_mb"])
            lines.append(
                f"| {SHORT[r['model']]} | {sizes} | {peaks} | {r['bytes_per_pixel']} "
                f"| {r['assumed']} |"
            )
    lines += ["", MARK_END]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else ""
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        tail = rest.split(MARK_END, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="quality,speed,seams,memory,crops")
    parser.add_argument("--frames", type=int, default=2, help="frames per clip for quality")
    parser.add_argument("--speed-frames", type=int, default=6, help="480p frames for speed")
    parser.add_argument(
        "--rrdb-frames",
        type=int,
        default=0,
        help="480p frames for x4plus and x4plus-anime "
        "(minutes each on a small CPU; 0: only their 160x120 timing)",
    )
    parser.add_argument("--write", help="replace the generated section of this markdown file")
    args = parser.parse_args()
    for path in CLIPS.values():
        if not path.exists():
            sys.exit(f"bench: {path} missing; run `bash scripts/get-samples.sh`")
    results = load_results()
    results["machine"] = machine()
    for part in [p for p in args.parts.split(",") if p]:
        before = os.getloadavg()[0]
        if part == "quality":
            results["quality"] = part_quality(args.frames)
        elif part == "speed":
            results["speed"] = part_speed(args.speed_frames, args.rrdb_frames)
        elif part == "seams":
            results["seams"] = part_seams()
        elif part == "memory":
            results["memory"] = part_memory()
        elif part == "crops":
            results["crops"] = part_crops()
        elif part == "none":
            continue
        else:
            sys.exit(f"bench: unknown part {part!r}")
        results.setdefault("load", {})[part] = f"{before:.1f} -> {os.getloadavg()[0]:.1f}"
        save_results(results)
    if args.write:
        command = (
            f".venv/bin/python bench/upscale.py --frames {args.frames} "
            f"--speed-frames {args.speed_frames} --rrdb-frames {args.rrdb_frames}"
        )
        write_section(Path(args.write), render(results, command))


if __name__ == "__main__":
    main()
