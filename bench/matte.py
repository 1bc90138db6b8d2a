"""Matting benchmark: speed and flicker of `matte` vs a plain per-frame loop, on real footage.

The plain loop is how users of per-image background removers process video: decode a frame with
PyAV, run the model on it, composite over green, encode it, next frame, all in one thread. It runs
the same ONNX session as the effect. For u2netp it does what rembg does with that model (input
scaled by its maximum, 320x320, ImageNet normalisation; output stretched to 0..1 per frame);
for RVM it carries the recurrent state as RVM's own inference loop does, at the same downsample
ratio as ours. Both write H.264 (CRF 18, medium) green composites, no audio.

Flicker: mean absolute change of alpha between consecutive frames, in 8-bit levels, over the
pixels that do not move: those whose (lightly blurred) grey value varies by less than 10 levels
over the whole window, eroded by 7 px. "False alpha" is the mean alpha over the same pixels.

    .venv/bin/python bench/matte.py [--frames 150] [--frames-1080 60] [--repeat 2]
                                    [--write docs/matte.md]
    .venv/bin/python bench/matte.py --4k-only [--write docs/matte.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
from _common import vtest_inputs, write_section  # bench/ is on sys.path when run as a script

import moviola
from moviola.effects import matte as matte_mod
from moviola.models import ensure
from moviola.models.runtime import open_session
from moviola.pipeline import Effect, create
from moviola.pipeline.runner import run

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
GREEN = np.array(matte_mod.COLORS["green"], np.float32)
SHEET_FRAMES = (15, 75, 135)


class Regions:
    """Where alpha should not change, from the input alone (576p: a fixed camera).

    still[t]: pixels whose blurred grey value changes by less than 3 levels from frame t-1 to t,
    eroded by 2 px (nothing moved there, so the alpha should not change either).
    people[t]: pixels that differ from the clip's median picture by more than 25 levels, dilated
    by 4 px, and still: the people and their edges. person[t]: the same, not dilated, moving or
    not. background: pixels that never vary by 10 levels over
    the whole window, eroded by 7 px (where nobody ever walks).
    """

    def __init__(self, path: Path) -> None:
        greys = []
        with av.open(str(path)) as c:
            for frame in c.decode(video=0):
                greys.append(cv2.GaussianBlur(frame.to_ndarray(format="gray"), (0, 0), 1.0))
        stack = np.stack(greys)
        median = np.median(stack[::5], axis=0).astype(np.int16)
        spread = stack.max(axis=0).astype(np.int16) - stack.min(axis=0)
        self.background = cv2.erode((spread < 10).astype(np.uint8), np.ones((15, 15))) > 0
        self.shape = stack.shape[1:]
        self.still, self.people, self.person = [None], [None], [None]
        small, big = np.ones((5, 5), np.uint8), np.ones((9, 9), np.uint8)
        for t in range(1, len(greys)):
            moved = np.abs(stack[t].astype(np.int16) - stack[t - 1]) >= 3
            still = cv2.erode((~moved).astype(np.uint8), small) > 0
            fg = (np.abs(stack[t].astype(np.int16) - median) > 25).astype(np.uint8)
            fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, small)
            near = cv2.dilate(fg, big) > 0
            self.still.append(np.packbits(still))
            self.people.append(np.packbits(near & still))
            self.person.append(np.packbits(fg > 0))

    def get(self, which: str, t: int) -> np.ndarray:
        bits = getattr(self, which)[t]
        n = self.shape[0] * self.shape[1]
        return np.unpackbits(bits, count=n).view(bool).reshape(self.shape)


class Meter:
    """Flicker and false alpha; keeps a few frames for the contact sheet."""

    def __init__(self, regions: Regions | None) -> None:
        self.regions = regions
        self.prev = None
        self.flicker_still: list[float] = []
        self.flicker_people: list[float] = []
        self.false: list[float] = []
        self.coverage: list[float] = []
        self.kept: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.count = 0

    def add(self, alpha: np.ndarray, composite: np.ndarray) -> None:
        r = self.regions
        if r is not None:
            if self.prev is not None:
                change = np.abs(alpha - self.prev)
                self.flicker_still.append(float(change[r.get("still", self.count)].mean()))
                people = r.get("people", self.count)
                if people.sum() >= 100:
                    self.flicker_people.append(float(change[people].mean()))
                person = r.get("person", self.count)
                if person.sum() >= 100:
                    self.coverage.append(float(alpha[person].mean()))
            self.false.append(float(alpha[r.background].mean()))
            self.prev = alpha
            if self.count in SHEET_FRAMES:
                self.kept[self.count] = (alpha.copy(), composite.copy())
        self.count += 1

    @staticmethod
    def _levels(values: list[float]) -> float:
        return float(np.mean(values)) * 255 if values else float("nan")

    @property
    def figures(self) -> tuple[float, float, float, float]:
        """Flicker over still pixels, over still people pixels, false alpha (8-bit levels);
        mean alpha over the people (0..1)."""
        return (
            self._levels(self.flicker_still),
            self._levels(self.flicker_people),
            self._levels(self.false),
            float(np.mean(self.coverage)) if self.coverage else float("nan"),
        )


class _Tap(Effect):
    """Not registered: passes frames through and hands the matte's alpha of each frame to the
    meter, so that one run of `matte` with background=green gives both speed and flicker."""

    name = "bench-tap"

    def __init__(self, matte: Effect, meter: Meter) -> None:
        super().__init__()
        self.matte, self.meter = matte, meter

    def process(self, frame):
        self.meter.add(self.matte.last_alpha, frame.image)
        return frame


def run_ours(src: Path, dst: Path, meter: Meter, end=None, **params) -> float:
    matte = create("matte", background="green", **params)
    start = time.perf_counter()
    run(
        src,
        dst,
        [matte, _Tap(matte, meter)],
        end=end,
        codec="h264",
        crf=18,
        preset="medium",
        audio=False,
    )
    return time.perf_counter() - start


def run_plain(src: Path, dst: Path, model: str, meter: Meter) -> float:
    sess = open_session(model)
    start = time.perf_counter()
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        enc = out.add_stream("libx264", rate=vin.average_rate or 25)
        enc.width, enc.height = vin.codec_context.width, vin.codec_context.height
        enc.pix_fmt = "yuv420p"
        enc.options = {"crf": "18", "preset": "medium"}
        rec = [np.zeros((1, 1, 1, 1), np.float32)] * 4
        ratio = np.array([matte_mod.auto_downsample(enc.width, enc.height)], np.float32)
        for frame in inp.decode(vin):
            rgb = frame.to_ndarray(format="rgb24")
            if model == "u2netp":
                alpha = _u2netp_rembg_style(sess, rgb)
            else:
                src_t = (rgb.astype(np.float32) / 255).transpose(2, 0, 1)[None]
                res = sess.run(
                    {
                        "src": src_t,
                        "r1i": rec[0],
                        "r2i": rec[1],
                        "r3i": rec[2],
                        "r4i": rec[3],
                        "downsample_ratio": ratio,
                    }
                )
                rec = [res[f"r{i}o"] for i in range(1, 5)]
                alpha = np.clip(res["pha"][0, 0], 0, 1)
            a = alpha[..., None]
            comp = np.clip(rgb * a + GREEN * (1 - a) + 0.5, 0, 255).astype(np.uint8)
            meter.add(alpha, comp)
            for packet in enc.encode(av.VideoFrame.from_ndarray(comp, format="rgb24")):
                out.mux(packet)
        for packet in enc.encode(None):
            out.mux(packet)
    return time.perf_counter() - start


def _u2netp_rembg_style(sess, rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    x = cv2.resize(rgb, (320, 320), interpolation=cv2.INTER_LANCZOS4).astype(np.float32)
    x = x / max(1.0, float(x.max()))
    x = (x - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    pred = sess.run({sess.input_names[0]: x.transpose(2, 0, 1)[None].astype(np.float32)})
    pred = pred[sess.output_names[0]][0, 0]
    pred = (pred - pred.min()) / max(1e-6, float(pred.max() - pred.min()))
    return np.clip(cv2.resize(pred, (w, h), interpolation=cv2.INTER_LANCZOS4), 0, 1)


def count_frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def contact_sheet(src: Path, ours: Meter, plain_u2: Meter, path: Path) -> None:
    """Rows: frames; columns: input, RVM alpha, RVM over green, u2netp alpha (plain loop)."""
    inputs = {}
    with av.open(str(src)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i in SHEET_FRAMES:
                inputs[i] = frame.to_ndarray(format="rgb24")
    rows = []
    for i in SHEET_FRAMES:
        if i not in inputs or i not in ours.kept:
            continue
        alpha, comp = ours.kept[i]
        tiles = [inputs[i], _grey(alpha), comp]
        if i in plain_u2.kept:
            tiles.append(_grey(plain_u2.kept[i][0]))
        tiles = [cv2.resize(t, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) for t in tiles]
        rows.append(np.hstack(tiles))
    # one detail at full size: the middle of the last sheet frame, input | alpha | composite
    i = SHEET_FRAMES[-1]
    if rows and i in inputs and i in ours.kept:
        h, w = inputs[i].shape[:2]
        y0, x0 = h // 4, int(w * 0.45)
        crop = (slice(y0, y0 + h // 3), slice(x0, x0 + w // 3))
        detail = np.hstack([inputs[i][crop], _grey(ours.kept[i][0])[crop], ours.kept[i][1][crop]])
        pad = np.zeros((detail.shape[0], rows[0].shape[1] - detail.shape[1], 3), np.uint8)
        rows.append(np.hstack([detail, pad]) if pad.shape[1] > 0 else detail)
    if not rows:
        print(f"no contact sheet: the clip is shorter than frame {SHEET_FRAMES[0]}")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(
        str(path),
        cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_PNG_COMPRESSION, 9],
    )


def _grey(alpha: np.ndarray) -> np.ndarray:
    return np.repeat((np.clip(alpha, 0, 1) * 255 + 0.5).astype(np.uint8)[..., None], 3, axis=2)


def versions() -> str:
    import onnxruntime

    return (
        f"moviola {moviola.__version__}, onnxruntime {onnxruntime.__version__} (CPU), "
        f"PyAV {av.__version__}, OpenCV {cv2.__version__}, Python "
        f"{platform.python_version()}, {platform.machine()}, {shutil.os.cpu_count()} cores"
    )


_PEAK_4K = """
import resource, sys, time
from fractions import Fraction
import cv2
import moviola
from moviola.media import Frame, VideoReader
from moviola.pipeline import create

effect = create("matte", **dict(a.split("=") for a in sys.argv[2:]))
with VideoReader(sys.argv[1], end=0.6) as reader:
    info = reader.stream_info.evolve(width=3840, height=2160)
    effect.configure(info)
    times = []
    for frame in reader:
        big = frame.with_image(cv2.resize(frame.image, (3840, 2160)))
        start = time.perf_counter()
        effect.process(big)
        times.append(time.perf_counter() - start)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, min(times[1:]))
"""


def measure_4k(vtest: Path) -> str:
    """Peak memory of a process running the effect on 3840x2160 frames (vtest scaled up)."""
    rows = [
        "| run | peak memory of the process | seconds a frame (best) |",
        "|---|---|---|",
    ]
    for params in ([], ["background=blur"], ["model=u2netp", "background=green"]):
        out = subprocess.run(
            [sys.executable, "-c", _PEAK_4K, str(vtest), *params],
            capture_output=True,
            text=True,
            check=True,
        )
        peak, seconds = map(float, out.stdout.split())
        label = "matte " + (" ".join(params) or "(defaults: rvm, RGBA out)")
        rows.append(f"| {label} | {peak / 1024:.2f} GB | {seconds:.2f} |")
        print(rows[-1], flush=True)
    return "\n".join(
        [
            "## Matting (`matte`) at 4K: memory",
            "",
            "Command: `.venv/bin/python bench/matte.py --4k-only --write docs/matte.md` (6 "
            "frames of vtest.avi scaled to 3840x2160, through the effect alone, in a fresh "
            "process each; peak resident memory includes Python, the libraries and ONNX "
            f"Runtime's arena). Machine: {versions()}.",
            "",
            *rows,
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150, help="576p frames (vtest.avi)")
    parser.add_argument("--frames-1080", type=int, default=60, help="1080p frames")
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs of each pair")
    parser.add_argument("--write", help="replace this section in a markdown file")
    parser.add_argument("--sheet", default=str(ROOT / "docs" / "matte" / "contact_sheet.png"))
    parser.add_argument(
        "--4k-only",
        dest="only_4k",
        action="store_true",
        help="only measure memory and time at 3840x2160",
    )
    args = parser.parse_args()
    if args.only_4k:
        section = measure_4k(ROOT / "samples" / "vtest.avi")
        print()
        print(section)
        if args.write:
            write_section(Path(args.write), section, "# Matting")
        return
    inputs = vtest_inputs(args.frames, args.frames_1080)
    load_before = os.getloadavg()[0]
    for model in ("rvm-mobilenetv3", "u2netp"):  # load and warm up, outside the timings
        open_session(ensure(model))
        run_ours(
            inputs["576p"], OUT / "warm-up.mp4", Meter(None), end=0.5, model=model.split("-")[0]
        )
    rows = []
    meters = {}
    plan = [
        ("576p", "rvm", "ours", {}),
        ("576p", "rvm", "plain loop", None),
        ("576p", "rvm", "ours, state reset every frame", {"cut_threshold": 0}),
        ("576p", "u2netp", "ours", {"model": "u2netp"}),
        ("576p", "u2netp", "ours, no smoothing", {"model": "u2netp", "smooth": 0}),
        ("576p", "u2netp", "plain loop (rembg-style)", None),
        ("1080p", "rvm", "ours", {}),
        ("1080p", "rvm", "plain loop", None),
    ]
    regions = {"576p": Regions(inputs["576p"]), "1080p": None}
    counts = {k: count_frames(v) for k, v in inputs.items()}

    def one_run(label, model, how, params) -> tuple[float, Meter]:
        meter = Meter(regions[label])
        tag = how.split(",")[0].split(" ")[0] + ("-" + str(len(params)) if params else "")
        dst = OUT / f"matte_{label}_{model}_{tag}.mp4"
        if params is None:
            seconds = run_plain(
                inputs[label], dst, "u2netp" if model == "u2netp" else "rvm-mobilenetv3", meter
            )
        else:
            seconds = run_ours(inputs[label], dst, meter, **params)
        assert meter.count == counts[label], (meter.count, counts[label])
        return seconds, meter

    # Ours and its plain loop alternate, args.repeat times; the best time of each is kept.
    # Variants without a plain-loop twin run once (their flicker is what they are for).
    times: dict[tuple, list[float]] = {}
    for rep in range(args.repeat):
        for label, model, how, params in plan:
            twin = how == "ours" or how.startswith("plain")
            if rep > 0 and not twin:
                continue
            seconds, meter = one_run(label, model, how, params)
            times.setdefault((label, model, how), []).append(seconds)
            meters.setdefault((label, model, how), meter)
            print(f"{label:6} {model:7} {how:32} {counts[label] / seconds:6.2f} fps", flush=True)
    for label, model, how, _params in plan:
        meter = meters[(label, model, how)]
        fps_best = counts[label] / min(times[(label, model, how)])
        rows.append((label, model, how, counts[label], fps_best, *meter.figures))
        still, people, false, coverage = meter.figures
        print(
            f"{label:6} {model:7} {how:32} best {fps_best:6.2f} fps  flicker {still:6.3f} / "
            f"{people:6.3f}  false alpha {false:6.3f}  alpha on people {coverage:.2f}",
            flush=True,
        )

    def num(value: float, digits: int = 3) -> str:
        return "" if np.isnan(value) else f"{value:.{digits}f}"

    fps = {(r[0], r[1], r[2]): r[4] for r in rows}
    people_flicker = {(r[0], r[1], r[2]): r[6] for r in rows}
    table = [
        "| input | model | run | frames | fps | speed vs plain loop | flicker, still pixels "
        "| flicker, still pixels of people | false alpha | alpha on people |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, model, how, n, f, still, people, false, coverage in rows:
        plain = next(
            (v for k, v in fps.items() if k[:2] == (label, model) and k[2].startswith("plain")),
            None,
        )
        ratio = f"{f / plain:.2f}x" if plain and how == "ours" else ""
        once = how != "ours" and not how.startswith("plain")  # one run: for its flicker only
        speed = "(one run)" if once else f"{f:.2f}"
        table.append(
            f"| {label} | {model} | {how} | {n} | {speed} | {ratio} | {num(still)} "
            f"| {num(people)} | {num(false)} | {num(coverage, 2)} |"
        )
    u2_plain = people_flicker[("576p", "u2netp", "plain loop (rembg-style)")]
    rvm_ours = people_flicker[("576p", "rvm", "ours")]
    r576 = regions["576p"]
    section = "\n".join(
        [
            "## Matting (`matte`): speed and flicker on real footage",
            "",
            f"Command: `.venv/bin/python bench/matte.py --frames {args.frames} --frames-1080 "
            f"{args.frames_1080} --repeat {args.repeat}"
            f"{' --write ' + args.write if args.write else ''}` (ours and its plain loop "
            f"alternate, best of {args.repeat} runs each; CPU only; H.264 CRF 18 medium green "
            "composites, no audio).",
            "",
            f"Machine: {versions()}; load average {load_before:.1f} at the start, "
            f"{os.getloadavg()[0]:.1f} at the end (a shared machine: absolute fps vary with "
            "it; ours and the plain loop alternate, so their ratio less).",
            "",
            f"Input: vtest.avi (pedestrians, fixed camera, 768x576, 10 fps; Debian opencv-doc): "
            f"its first {args.frames} frames, and its first {args.frames_1080} scaled to "
            "1920x1080 (H.264).",
            "",
            "Plain loop: decode a frame (PyAV), run the model, composite over green, encode, next "
            "frame, one thread; same ONNX session as ours. For RVM it carries the recurrent state "
            "as RVM's own example does, at our downsample ratio; for u2netp it does what rembg "
            "does (input divided by its maximum, 320x320, ImageNet normalisation, output "
            "stretched to 0..1 per frame, Lanczos back to size). Ours also detects cuts and, for "
            "u2netp, refines edges (guided filter), decontaminates colours and smooths (0.6).",
            "",
            "Flicker: mean absolute change of alpha between consecutive frames, in 8-bit levels "
            "(0..255), over pixels that did not change between the two input frames (blurred "
            "grey value within 3 levels, 2 px away from any that did: "
            f"{np.mean([r576.get('still', t).mean() for t in range(1, len(r576.still))]) * 100:.0f}"
            "% of the picture), and over those of them that belong to people (differ from the "
            "clip's median picture by more than 25 levels, dilated 4 px). False alpha: mean "
            "alpha (levels) where nobody ever walks over the window "
            f"({r576.background.mean() * 100:.0f}% of the picture). Alpha on people: mean "
            "alpha (0..1) over the people (same median test, not dilated; higher is better, "
            "though the test also takes in shadows). 576p only (1080p is the same pictures, "
            "scaled).",
            "",
            *table,
            "",
            "Flicker on people of the default (RVM, recurrent, ours) vs u2netp run frame by frame "
            f"in a plain loop: {rvm_ours:.2f} vs {u2_plain:.2f} levels per frame"
            + (f" ({u2_plain / rvm_ours:.1f}x less)." if rvm_ours > 0 else "."),
            "",
            "Contact sheet (frames 15, 75, 135; columns: input, RVM alpha, RVM over green, u2netp "
            "alpha from the plain loop; last row: a detail at full size): "
            "[matte/contact_sheet.png](matte/contact_sheet.png).",
            "",
        ]
    )
    contact_sheet(
        inputs["576p"],
        meters[("576p", "rvm", "ours")],
        meters[("576p", "u2netp", "plain loop (rembg-style)")],
        Path(args.sheet),
    )
    print()
    print(section)
    if args.write:
        write_section(Path(args.write), section, "# Matting")


if __name__ == "__main__":
    main()
