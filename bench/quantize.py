"""int8 on the CPU: ONNX Runtime static quantization of moviola's models, side by side with fp32.

Rule (issue #22, part 5): ship an int8 variant only where it is at least 1.4x faster and loses
at most 0.2 dB (or the effect's own quality measure). Each model (the face detector is TFLite:
not here) is quantized into a temporary folder by ``quant_pre_process`` and ``quantize_static``:
per-channel int8 weights, MinMax calibration on inputs made from real footage (samples/) as
moviola makes them, from frames that are never evaluated. Variants:

  qdq             QDQ, uint8 asymmetric activations, Conv/MatMul/Gemm only (ConvTranspose, warps,
                  recurrent gates and activations stay float)
  qdq-ends-fp32   the same, the first quantizable node after each input and the last before each
                  output kept float (nodes_to_exclude; e.g. RIFE's convs before its flow heads)
  qdq-sym         int8 symmetric activations (S8S8)
  qoperator       QOperator format (QLinearConv, QLinearMatMul) instead of QDQ
  qdq-all-ops     QDQ over every op ONNX Runtime can quantize (Add, Concat, Resize, pooling...):
                  fewer float/int8 transitions; qdq-all-ops-ends-fp32: with the ends kept float

fp32 and every variant run in moviola's own sessions (2 intra-op threads) on the same held-out
inputs; timing is interleaved (each round calls every session once, the order rotating), the
median per call reported. Quality, against fp32 and the truth where there is one; it passes when:

  rife-hdv3    the interpolated middle frame (moviola's FlowNet: flow and mask from the network,
               its own warp) against the real frame t+1, from t and t+2: loses <= 0.2 dB PSNR
  rvm          alpha over a recurrent run (state carried in each) vs fp32's: PSNR >= 40 dB
  u2netp       saliency vs fp32's: mean abs difference <= 1/255, pooled IoU of masks >= 0.98
  transnetv2   the shot boundaries moviola's segmenter finds on a clip of joined segments of
               the three samples (hard cuts and a dissolve): identical to fp32's
  yolov3-tiny  moviola's detections (ObjectDetector): >= 98 % of boxes matched (same label,
               box IoU >= 0.9) both ways

A last row times one 3x3 convolution (64 -> 64 channels, 144 x 192), fp32 vs int8: the int8
kernel's own speed-up on this CPU.

    .venv/bin/python bench/quantize.py [--frames 8] [--repeat 3] [--only rife,rvm,...]
        [--variants qdq,qdq-sym,...] [--write FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
OPS = ["Conv", "MatMul", "Gemm"]
VARIANTS: dict[str, dict[str, Any]] = {
    "qdq": {},
    "qdq-ends-fp32": {"ends": True},
    "qdq-sym": {"symmetric": True},
    "qoperator": {"format": "QOperator"},
    "qdq-all-ops": {"ops": None},
    "qdq-all-ops-ends-fp32": {"ops": None, "ends": True},
}
Feeds = dict[str, np.ndarray]


# --- footage and metrics -------------------------------------------------------------------------


def read_frames(name: str, start: int, count: int, step: int = 1) -> list[np.ndarray]:
    """RGB uint8 frames ``start``, ``start + step``, ... of samples/<name>."""
    cap = cv2.VideoCapture(str(SAMPLES / name))
    if not cap.isOpened():
        sys.exit(f"bench: samples/{name} missing; run `make samples`")
    for _ in range(start):  # decode up to the start: seeking in these AVI files is not exact
        cap.grab()
    out: list[np.ndarray] = []
    while len(out) < count and (got := cap.read())[0]:
        out.append(cv2.cvtColor(got[1], cv2.COLOR_BGR2RGB))
        for _ in range(step - 1):
            cap.grab()
    cap.release()
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else float(10 * np.log10(1 / mse))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


# --- quantization --------------------------------------------------------------------------------


def prepare(src: Path, tmp: Path) -> Path:
    """Opset 13 at least (per-channel QDQ needs it; RVM's export is opset 12), then
    ``quant_pre_process`` (ONNX shape inference and ORT's basic graph optimizations)."""
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import quant_pre_process

    model = onnx.load(str(src))
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 13:
        src = tmp / f"{src.stem}-opset13.onnx"
        onnx.save(version_converter.convert_version(model, 13), str(src))
    out = tmp / f"{src.stem}-pre.onnx"
    # symbolic shape inference gives up on RIFE's and RVM's dynamic sizes: ONNX's own is used
    quant_pre_process(str(src), str(out), skip_symbolic_shape=True)
    return out


def sensitive_ends(path: Path, ops: list[str]) -> tuple[list[str], int]:
    """Names of the first quantizable nodes on every path from a graph input and the last on
    every path to a graph output; and how many quantizable nodes there are."""
    import onnx

    graph = onnx.load(str(path)).graph
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list[Any]] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    found: list[str] = []

    def walk(
        start: list[str], step: Callable[[str], list[Any]], across: Callable[[Any], list[str]]
    ):
        seen, todo = set(), list(start)
        while todo:
            for n in step(todo.pop()):
                if n.name in seen:
                    continue
                seen.add(n.name)
                if n.op_type in ops:
                    found.append(n.name)
                else:
                    todo.extend(across(n))

    walk([i.name for i in graph.input], lambda t: consumers.get(t, []), lambda n: n.output)
    walk(
        [o.name for o in graph.output],
        lambda t: [producer.get(t)] * (t in producer),
        lambda n: n.input,
    )
    return sorted(set(found)), sum(n.op_type in ops for n in graph.node)


def quantize(pre: Path, dst: Path, feeds: list[Feeds], variant: str) -> str:
    """Write the int8 variant of the prepared model; returns a note on what was excluded."""
    import onnxruntime.quantization as oq

    class Reader(oq.CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(feeds)

        def get_next(self):  # type: ignore[override]
            return next(self.it, None)

    v = VARIANTS[variant]
    ops = v.get("ops", OPS)
    exclude, of = sensitive_ends(pre, ops or OPS) if v.get("ends") else ([], 0)
    sym = bool(v.get("symmetric"))
    oq.quantize_static(
        str(pre),
        str(dst),
        Reader(),
        quant_format=getattr(oq.QuantFormat, v.get("format", "QDQ")),
        op_types_to_quantize=ops,
        per_channel=True,
        activation_type=oq.QuantType.QInt8 if sym else oq.QuantType.QUInt8,
        weight_type=oq.QuantType.QInt8,
        nodes_to_exclude=exclude,
        extra_options={"ActivationSymmetric": sym},
    )
    return f"{len(exclude)} of {of} Conv/MatMul kept float" if exclude else ""


def open_cpu(path: Path):
    from moviola.models.runtime import open_session

    return open_session(path, threads=2, device="cpu")


def interleaved(calls: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds per call of each, the calls alternating (order rotating each round);
    at least ``repeat`` rounds, more (up to 40) for fast models: about 2 s of calls each."""
    for call in calls.values():
        call()  # warm-up
    names = list(calls)
    t0 = time.perf_counter()
    calls[names[0]]()
    repeat = max(repeat, min(40, int(2 / max(time.perf_counter() - t0, 1e-3))))
    times: dict[str, list[float]] = {k: [] for k in names}
    for r in range(repeat):
        for k in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.perf_counter()
            calls[k]()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


# --- the models: each returns (calibration feeds, timing feed, quality(session) -> (text, ok)) ----

Quality = Callable[[Any], tuple[str, bool]]


def rife(frames: int) -> tuple[str, Path, list[Feeds], Feeds, Quality]:
    from moviola.effects.interpolate import FlowNet
    from moviola.media.frame import to_float
    from moviola.models import ensure

    def net(session, rgb: np.ndarray) -> FlowNet:
        return FlowNet(session, rgb.shape[1], rgb.shape[0], 1.0)  # scale 1: moviola's up to 2K

    def feed(a: np.ndarray, b: np.ndarray) -> Feeds:
        n = net(None, a)
        return {"img0": n.tensor(a), "img1": n.tensor(b), "scale": np.array(1.0, np.float32)}

    # calibration: pairs (t, t+2) from the first 100 frames; evaluation: later triples
    starts = [("vtest.avi", t) for t in (10, 60)] + [("Megamind.avi", t) for t in (30, 70)]
    calib = [feed(*read_frames(name, t, 2, step=2)) for name, t in starts]
    triples = []
    for k in range(max(1, frames // 2)):
        name, t = ("vtest.avi", 300 + 90 * k) if k % 2 == 0 else ("Megamind.avi", 130 + 40 * k)
        triples.append(read_frames(name, t, 3))
    timing = feed(triples[0][0], triples[0][2])
    ref: dict[str, Any] = {}  # fp32's results: its session is the first one measured

    def quality(session) -> tuple[str, bool]:
        vs_truth, middles = [], []
        for a, mid, b in triples:
            n = net(session, a)
            middle = n.frames(to_float(a), n.tensor(a), to_float(b), n.tensor(b), [0.5])[0.5]
            vs_truth.append(psnr(middle, to_float(mid)))
            middles.append(middle)
        score = float(np.mean(vs_truth))
        if not ref:
            ref.update(score=score, middles=middles)
            return f"middle frame vs the real one: {score:.2f} dB", True
        loss = ref["score"] - score
        agree = np.mean([psnr(m, r) for m, r in zip(middles, ref["middles"], strict=True)])
        return f"{score:.2f} dB, loss {loss:.2f} dB; vs fp32 {agree:.1f} dB", loss <= 0.2

    label = f"rife-hdv3 ({triples[0][0].shape[1]}x{triples[0][0].shape[0]}, {len(triples)} triples)"
    return label, ensure("rife-hdv3"), calib, timing, quality


def rvm(frames: int) -> tuple[str, Path, list[Feeds], Feeds, Quality]:
    from moviola.effects.matte import auto_downsample
    from moviola.models import ensure
    from moviola.models.image_model import frame_tensor

    src = ensure("rvm-mobilenetv3")
    fp32 = open_cpu(src)
    ratio = np.array([auto_downsample(768, 576)], np.float32)

    def run(session, frames_in: list[np.ndarray]) -> tuple[list[np.ndarray], list[Feeds]]:
        rec = [np.zeros((1, 1, 1, 1), np.float32)] * 4
        alphas, feeds = [], []
        for rgb in frames_in:
            f = {"src": frame_tensor(rgb), "downsample_ratio": ratio}
            f.update({f"r{i + 1}i": r for i, r in enumerate(rec)})
            out = session.run(f)
            rec = [out[f"r{i}o"] for i in range(1, 5)]
            alphas.append(np.clip(out["pha"][0, 0], 0, 1))
            feeds.append(f)
        return alphas, feeds

    _, calib = run(fp32, read_frames("vtest.avi", 0, 12, step=6))
    held = read_frames("vtest.avi", 400, 2 * frames)
    reference, feeds = run(fp32, held)
    timing = feeds[-1]  # a steady-state call: real recurrent state

    def quality(session) -> tuple[str, bool]:
        alphas, _ = run(session, held)
        p = float(np.mean([psnr(a, r) for a, r in zip(alphas, reference, strict=True)]))
        mad = float(np.mean([np.abs(a - r).mean() for a, r in zip(alphas, reference, strict=True)]))
        return f"alpha vs fp32: PSNR {p:.1f} dB, mean abs {mad:.4f}", p >= 40

    return (
        f"rvm-mobilenetv3 (768x576, ratio {ratio[0]:.3g}, {len(held)} frames)",
        src,
        calib,
        timing,
        quality,
    )


def u2netp(frames: int) -> tuple[str, Path, list[Feeds], Feeds, Quality]:
    from moviola.media.frame import to_float
    from moviola.models import ensure
    from moviola.models.image_model import IMAGENET_MEAN, IMAGENET_STD, normalize, to_tensor

    src = ensure("u2netp")

    def feed(rgb: np.ndarray) -> Feeds:  # as matte's per-frame model path
        small = to_float(cv2.resize(rgb, (320, 320), interpolation=cv2.INTER_AREA))
        return {"input.1": to_tensor(normalize(small, IMAGENET_MEAN, IMAGENET_STD))}

    def pick(n: int, starts: tuple[int, int, int]) -> list[np.ndarray]:
        per = max(1, n // 3)
        names = ("Megamind.avi", "tree.avi", "vtest.avi")
        return sum((read_frames(f, s, per, 10) for f, s in zip(names, starts, strict=True)), [])

    calib = [feed(f) for f in pick(9, (0, 0, 0))]
    held = [feed(f) for f in pick(frames, (150, 38, 450))]  # tree.avi has 68 frames
    fp32 = open_cpu(src)
    out = fp32.output_names[0]
    reference = [np.clip(fp32.run(x)[out][0, 0], 0, 1) for x in held]
    cover = float(np.mean([(r > 0.5).mean() for r in reference]))

    def quality(session) -> tuple[str, bool]:
        maps = [np.clip(session.run(x)[out][0, 0], 0, 1) for x in held]
        mad = float(np.mean([np.abs(m - r).mean() for m, r in zip(maps, reference, strict=True)]))
        both = iou(np.stack(maps) > 0.5, np.stack(reference) > 0.5)
        text = f"vs fp32: mean abs {mad:.4f}, mask IoU {both:.3f} (fp32 mask {cover:.0%} of frame)"
        return text, mad <= 1 / 255 and both >= 0.98

    return f"u2netp (320x320, {len(held)} frames)", src, calib, held[0], quality


def transnetv2(frames: int) -> tuple[str, Path, list[Feeds], Feeds, Quality]:
    from moviola.analysis.shots import CONTEXT, NET_SIZE, WINDOW, NetSegmenter, NetStream
    from moviola.models import ensure

    def small(name: str, start: int, count: int) -> list[np.ndarray]:
        return [
            cv2.resize(f, NET_SIZE, interpolation=cv2.INTER_AREA)
            for f in read_frames(name, start, count)
        ]

    def windows(clip: list[np.ndarray]) -> list[Feeds]:
        pad = [clip[0]] * CONTEXT + clip + [clip[-1]] * WINDOW
        return [
            {"frames": np.stack(pad[s : s + WINDOW])[None]}
            for s in range(0, len(clip), WINDOW - 2 * CONTEXT)
        ]

    # calibration clip: the first frames of each sample; evaluation clip: later segments joined
    # by hard cuts and a 10-frame dissolve
    calib = windows(
        small("vtest.avi", 0, 80) + small("Megamind.avi", 0, 60) + small("tree.avi", 0, 30)
    )
    n = max(30, 6 * frames)
    a, b = small("vtest.avi", 500, n), small("Megamind.avi", 140, n)
    c, d = small("tree.avi", 32, n), small("vtest.avi", 700, n)  # tree.avi has 68 frames
    mix = [
        ((1 - t) * x + t * y + 0.5).astype(np.uint8)
        for t, x, y in zip(np.linspace(0.09, 0.91, 10), c[-10:], d[:10], strict=True)
    ]
    clip = a + b + c[:-10] + mix + d[10:]
    src = ensure("transnetv2")

    def boundaries(session) -> tuple[list[tuple[int, int, str]], np.ndarray]:
        stream, seg = NetStream(session), NetSegmenter(0.5)
        found, probs = [], []

        def take(preds) -> None:
            for single, many in preds:
                probs.append((single, many))
                got = seg.push(len(probs) - 1, single, many)
                if got is not None:
                    found.append((got.first, got.frames, got.kind))

        for f in clip:
            take(stream.push(f))
        take(stream.finish())
        last = seg.close()
        if last is not None:
            found.append((last.first, last.frames, last.kind))
        return found, np.array(probs)

    reference, ref_probs = boundaries(open_cpu(src))
    print(f"transnetv2: fp32 finds {reference} (first, frames, kind)", file=sys.stderr)

    def quality(session) -> tuple[str, bool]:
        found, probs = boundaries(session)
        same = found == reference
        diff = np.abs(probs - ref_probs).max()
        return f"{'same' if same else 'OTHER'} boundaries, max prob. diff {diff:.3f}", same

    return f"transnetv2 ({len(clip)}-frame clip, 100-frame window)", src, calib, calib[0], quality


def yolo(frames: int) -> tuple[str, Path, list[Feeds], Feeds, Quality]:
    from moviola.analysis.detect import ObjectDetector
    from moviola.models import ensure

    src = ensure("yolov3-tiny-coco")
    det = ObjectDetector(src.parent)
    fp32 = det.session
    captured: list[Feeds] = []

    class Swap:  # moviola's detector, any session: records the feeds it makes
        def __init__(self, session) -> None:
            self.session = session

        def run(self, names, feeds):
            captured.append(dict(feeds))
            if hasattr(self.session, "output_names"):  # a moviola session
                out = self.session.run(feeds)
                return [out[k] for k in self.session.output_names]
            return self.session.run(names, feeds)

    def detect(session, images: list[np.ndarray]):
        det.session = Swap(session)  # type: ignore[assignment]
        try:
            return [det(img) for img in images]
        finally:
            det.session = fp32

    per = max(1, frames // 2)
    detect(fp32, read_frames("vtest.avi", 0, 6, 20) + read_frames("Megamind.avi", 0, 6, 15))
    calib = list(captured)
    held = read_frames("vtest.avi", 500, per, 12) + read_frames("Megamind.avi", 160, per, 12)
    reference = detect(fp32, held)
    timing = captured[-1]

    def box_iou(p, q) -> float:
        ix = max(0.0, min(p.x1, q.x1) - max(p.x0, q.x0))
        iy = max(0.0, min(p.y1, q.y1) - max(p.y0, q.y0))
        inter = ix * iy
        return inter / max(1e-9, p.width * p.height + q.width * q.height - inter)

    def quality(session) -> tuple[str, bool]:
        got = detect(session, held)
        matched = total = 0
        for ours, ref in zip(got, reference, strict=True):
            free = list(ref)
            for d in ours:
                hit = next((r for r in free if r.label == d.label and box_iou(d, r) >= 0.9), None)
                if hit is not None:
                    free.remove(hit)
                    matched += 1
            total += max(len(ours), len(ref))
        share = matched / total if total else 1.0
        n_ref = sum(len(r) for r in reference)
        return f"{share:.0%} of boxes matched (fp32: {n_ref} boxes)", share >= 0.98

    return f"yolov3-tiny (416 wide, {len(held)} frames)", src, calib, timing, quality


MODELS = {"rife": rife, "rvm": rvm, "u2netp": u2netp, "transnetv2": transnetv2, "yolo": yolo}


# --- running -------------------------------------------------------------------------------------


def bench_model(key: str, frames: int, repeat: int, variants: list[str], tmp: Path) -> list[dict]:
    label, src, calib, timing, quality = MODELS[key](frames)
    pre = prepare(src, tmp)
    sessions, rows = {"fp32": open_cpu(src)}, []
    for v in variants:
        dst = tmp / f"{key}-{v}.onnx"
        try:
            note = quantize(pre, dst, calib, v)
            sessions[v] = open_cpu(dst)
            sessions[v].run(timing)
        except Exception as e:  # a variant that ONNX Runtime cannot build, load or run
            text = str(e).splitlines()[0].split("Status Message: ")[-1][:120].replace("|", "/")
            rows.append({"model": label, "variant": v, "s": np.nan, "speed": np.nan, "ok": False})
            rows[-1] |= {"quality": f"fails: {text}", "note": ""}
            sessions.pop(v, None)
            continue
        rows.append({"model": label, "variant": v, "note": note})
    rows.insert(0, {"model": label, "variant": "fp32", "note": ""})
    times = interleaved({k: (lambda s=s: s.run(timing)) for k, s in sessions.items()}, repeat)
    for r in rows:
        if r["variant"] in sessions:
            r["quality"], r["ok"] = quality(sessions[r["variant"]])
            r["s"] = times[r["variant"]]
            r["speed"] = times["fp32"] / r["s"]
    return rows


def kernel_ceiling(repeat: int, tmp: Path) -> dict:
    """One 3x3 conv, 64 -> 64 channels on 144 x 192 (a RIFE block at 576p): fp32 vs int8."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = (rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32)
    shape = [1, 64, 144, 192]
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], name="conv")],
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(w, "w")],
    )
    src, dst = tmp / "conv.onnx", tmp / "conv-int8.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(src))
    x = {"x": rng.random(shape, dtype=np.float32)}
    quantize(src, dst, [x], "qdq")
    sessions = {"fp32": open_cpu(src), "qdq": open_cpu(dst)}
    t = interleaved({k: (lambda s=s: s.run(x)) for k, s in sessions.items()}, repeat)
    return {
        "model": "one 3x3 conv 64->64, 144x192",
        "variant": "qdq",
        "s": t["qdq"],
        "speed": t["fp32"] / t["qdq"],
        "quality": f"fp32 {t['fp32'] * 1000:.1f} ms",
        "ok": True,
        "note": "",
        "verdict": "the int8 kernel's best case",
    }


def verdict(r: dict) -> str:
    if r["variant"] == "fp32":
        return "reference"
    if np.isnan(r["speed"]):
        return "no: fails to run"
    if not r["speed"] >= 1.4:
        return f"no: {r['speed']:.2f}x < 1.4x" + ("" if r["ok"] else ", quality fails")
    return "meets the rule" if r["ok"] else "no: quality fails"


def machine() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    flags = set(
        next((x for x in info.splitlines() if x.startswith("flags")), ":").split(":")[1].split()
    )
    simd = [f for f in ("avx512_vnni", "avx_vnni", "amx_int8", "avx512f", "avx2") if f in flags]
    vnni = "VNNI" if {"avx512_vnni", "avx_vnni"} & flags else "no VNNI"
    return f"{platform.machine()}, {os.cpu_count()} cores, {' '.join(simd) or 'no AVX2'} ({vnni})"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--frames", type=int, default=8, help="held-out inputs (RIFE: /2 triples)")
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds, at least")
    ap.add_argument("--only", help=f"comma-separated models: {','.join(MODELS)}")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated int8 variants")
    ap.add_argument("--write", type=Path, help="write the section into this markdown file")
    args = ap.parse_args()
    wanted = args.only.split(",") if args.only else list(MODELS)
    variants = args.variants.split(",")
    for name in [*wanted, *variants]:
        if name not in MODELS and name not in VARIANTS:
            ap.error(f"unknown model or variant {name!r}")
    import onnxruntime as ort

    start_load, t_start = load(), time.perf_counter()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="moviola-int8-") as tmp:
        for key in wanted:
            t0 = time.perf_counter()
            rows += bench_model(key, args.frames, args.repeat, variants, Path(tmp))
            print(f"{key}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        rows.append(kernel_ceiling(args.repeat, Path(tmp)))
    lines = [
        "## int8 on the CPU: static quantization measured side by side",
        "",
        f"Command: `.venv/bin/python bench/quantize.py --frames {args.frames} --repeat {args.repeat}"
        + (f" --only {args.only}" if args.only else "")
        + (f" --variants {args.variants}" if args.variants != ",".join(VARIANTS) else "")
        + f"`; {machine()}; onnxruntime {ort.__version__}; load average {start_load} at the start,"
        f" {load()} at the end; {time.perf_counter() - t_start:.0f} s. Median s/call of at least"
        f" {args.repeat} interleaved rounds (about 2 s of calls each), 2 intra-op threads. Rule: ship where >= 1.4x faster"
        " and the quality test passes (see bench/quantize.py).",
        "",
        "| model | variant | s/call | fp32/int8 | quality | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        note = f" ({r['note']})" if r["note"] else ""
        lines.append(
            f"| {r['model']} | {r['variant']}{note} | {r['s']:.4f} | {r['speed']:.2f}x | "
            f"{r['quality']} | {r.get('verdict') or verdict(r)} |"
        )
    lines += ["", "| model | best variant | fp32/int8 | verdict |", "|---|---|---|---|"]
    for model in dict.fromkeys(r["model"] for r in rows if "verdict" not in r):
        tried = [r for r in rows if r["model"] == model and r["variant"] != "fp32"]
        best = max(tried, key=lambda r: (r["ok"], np.nan_to_num(r["speed"])), default=None)
        if best is not None:
            ship = "ship" if verdict(best) == "meets the rule" else "do not ship"
            lines.append(f"| {model} | {best['variant']} | {best['speed']:.2f}x | {ship} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _common import write_section

        write_section(args.write, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
