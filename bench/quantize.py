"""int8 on the CPU: ONNX Runtime static quantization of RIFE, RVM, u2netp and YOLOv3-tiny, each
measured side by side with its fp32 original on the same held-out frames of real footage.

The rule (issue: the best models and the GPU, part 5): ship an int8 variant only where it is at
least 1.4x faster and loses at most 0.2 dB (or the effect's own quality measure).

For each model: QDQ static quantization (per-channel int8 weights, uint8 activations, MinMax
calibration on frames of samples/vtest.avi and samples/Megamind.avi that are not evaluated),
only the convolutions and matrix products quantized (RIFE's warps, RVM's recurrent gates and the
detector heads' arithmetic stay float). Then fp32 and int8 are run alternately on the evaluation
inputs (intra-op threads 2), and compared:

  rife-hdv3   the middle frame of frames (t, t+2) against the real frame t+1: PSNR of each, and
              the loss in dB; also PSNR of int8's middle against fp32's
  rvm         alpha over a 12-frame run (recurrent state carried in each model): mean absolute
              difference to fp32's alpha, and PSNR of int8's alpha against it
  u2netp      saliency map: mean absolute difference to fp32's, IoU of the masks > 0.5
  yolov3-tiny objectness of every cell (sigmoid): mean absolute difference to fp32's, IoU of the
              sets of cells above 0.5

    .venv/bin/python bench/quantize.py [--pairs 4] [--repeat 3] [--write docs/benchmarks.md]

Quantized models are written to a temporary folder, never to the cache or the repository.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from moviola import models

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
OPS = ["Conv", "ConvTranspose", "MatMul", "Gemm"]


def read_frames(path: Path, start: int, count: int, step: int = 1) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    out = []
    while len(out) < count:
        ok, bgr = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        for _ in range(step - 1):
            cap.read()
    cap.release()
    return out


def chw(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb.astype(np.float32).transpose(2, 0, 1)[None] / 255)


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(peak**2 / mse)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


#: weight type: "s8" (per-channel int8: U8S8, fastest where the CPU has VNNI) or "u8" (U8U8,
#: what ONNX Runtime advises on AVX2 without VNNI); set by --weights
WEIGHTS = {"s8": "QInt8", "u8": "QUInt8"}
_weights = "s8"


def quantize(src: Path, dst: Path, feeds: list[dict[str, np.ndarray]]) -> None:
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it: Iterator[dict[str, np.ndarray]] = iter(feeds)

        def get_next(self):  # type: ignore[override]
            return next(self.it, None)

    model = onnx.load(str(src))
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 13:  # per-channel DequantizeLinear needs opset 13 (RVM's export is older)
        model = version_converter.convert_version(model, 13)
        src = dst.with_name(dst.stem + "-opset13.onnx")
        onnx.save(model, str(src))
    quantize_static(
        str(src),
        str(dst),
        Reader(),
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=OPS,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=getattr(QuantType, WEIGHTS[_weights]),
    )


def timed(run: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` calls (after one warm-up call)."""
    run()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# --- the models ----------------------------------------------------------------------------------


def rife(pairs: int, repeat: int, tmp: Path) -> dict:
    src = models.ensure("rife-hdv3")
    calib = read_frames(SAMPLES / "Megamind.avi", 40, 8, step=3)  # 720x528: pad to 736x544
    evaluation = read_frames(SAMPLES / "vtest.avi", 200, 2 * pairs + 1)  # 768x576

    def pad(x: np.ndarray) -> np.ndarray:
        h, w = x.shape[2:]
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        return np.pad(x, ((0, 0), (0, 0), (0, ph - h), (0, pw - w)))

    one = np.array(1.0, np.float32)
    feeds = [
        {"img0": pad(chw(calib[i])), "img1": pad(chw(calib[i + 1])), "scale": one}
        for i in range(0, len(calib) - 1, 2)
    ]
    dst = tmp / "rife-int8.onnx"
    quantize(src, dst, feeds)
    fp, q = session(src), session(dst)
    rows = []
    for i in range(pairs):
        a, mid, b = evaluation[2 * i], evaluation[2 * i + 1], evaluation[2 * i + 2]
        feed = {"img0": chw(a), "img1": chw(b), "scale": one}
        m_fp = fp.run(["middle"], feed)[0][0].transpose(1, 2, 0)
        m_q = q.run(["middle"], feed)[0][0].transpose(1, 2, 0)
        truth = mid.astype(np.float32) / 255
        rows.append((psnr(m_fp, truth), psnr(m_q, truth), psnr(m_q, m_fp)))
    feed = {"img0": chw(evaluation[0]), "img1": chw(evaluation[2]), "scale": one}
    t_fp = timed(lambda: fp.run(["middle"], feed), repeat)
    t_q = timed(lambda: q.run(["middle"], feed), repeat)
    p_fp, p_q, agree = (float(np.mean(c)) for c in zip(*rows, strict=True))
    return {
        "model": "rife-hdv3 (576p pair)",
        "fp32_s": t_fp,
        "int8_s": t_q,
        "quality": f"middle frame vs truth {p_fp:.2f} dB fp32, {p_q:.2f} dB int8 "
        f"(loss {p_fp - p_q:.2f} dB); int8 vs fp32 {agree:.1f} dB",
        "loss_db": p_fp - p_q,
    }


def rvm(frames: int, repeat: int, tmp: Path) -> dict:
    src = models.ensure("rvm-mobilenetv3")
    ratio = np.array([0.47], np.float32)
    zero = [np.zeros((1, 1, 1, 1), np.float32)] * 4
    fp = session(src)

    def run(sess, rgb, rec):
        feed = {"src": chw(rgb), "downsample_ratio": ratio}
        feed.update({f"r{i + 1}i": r for i, r in enumerate(rec)})
        out = sess.run(None, feed)
        names = [o.name for o in sess.get_outputs()]
        got = dict(zip(names, out, strict=True))
        return got["pha"][0, 0], [got[f"r{i}o"] for i in range(1, 5)]

    feeds, rec = [], zero
    for rgb in read_frames(SAMPLES / "vtest.avi", 0, 10, step=5):  # calibration: early frames
        feed = {"src": chw(rgb), "downsample_ratio": ratio}
        feed.update({f"r{i + 1}i": r for i, r in enumerate(rec)})
        feeds.append(feed)
        _, rec = run(fp, rgb, rec)
    dst = tmp / "rvm-int8.onnx"
    quantize(src, dst, feeds)
    q = session(dst)
    held = read_frames(SAMPLES / "vtest.avi", 400, frames)
    rec_fp, rec_q, diffs, ps = zero, zero, [], []
    for rgb in held:
        a_fp, rec_fp = run(fp, rgb, rec_fp)
        a_q, rec_q = run(q, rgb, rec_q)
        diffs.append(float(np.abs(a_fp - a_q).mean()))
        ps.append(psnr(a_q, a_fp))
    t_fp = timed(lambda: run(fp, held[0], zero), repeat)
    t_q = timed(lambda: run(q, held[0], zero), repeat)
    return {
        "model": "rvm-mobilenetv3 (576p, ratio 0.47)",
        "fp32_s": t_fp,
        "int8_s": t_q,
        "quality": f"alpha vs fp32 over {frames} frames: mean abs diff {np.mean(diffs):.4f}, "
        f"PSNR {np.mean(ps):.1f} dB",
        "loss_db": None,
    }


def u2netp(frames: int, repeat: int, tmp: Path) -> dict:
    src = models.ensure("u2netp")

    def tensor(rgb):
        x = cv2.resize(rgb, (320, 320), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        return np.ascontiguousarray(((x - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)[None])

    calib = read_frames(SAMPLES / "Megamind.avi", 0, 8, step=20)
    dst = tmp / "u2netp-int8.onnx"
    quantize(src, dst, [{"input.1": tensor(f)} for f in calib])
    fp, q = session(src), session(dst)
    held = read_frames(SAMPLES / "vtest.avi", 300, frames, step=4)
    diffs, ious = [], []
    for rgb in held:
        x = {"input.1": tensor(rgb)}
        m_fp, m_q = fp.run(None, x)[0][0, 0], q.run(None, x)[0][0, 0]
        diffs.append(float(np.abs(m_fp - m_q).mean()))
        ious.append(iou(m_fp > 0.5, m_q > 0.5))
    x = {"input.1": tensor(held[0])}
    return {
        "model": "u2netp (320x320)",
        "fp32_s": timed(lambda: fp.run(None, x), repeat),
        "int8_s": timed(lambda: q.run(None, x), repeat),
        "quality": f"saliency vs fp32: mean abs diff {np.mean(diffs):.4f}, "
        f"mask IoU {np.mean(ious):.3f}",
        "loss_db": None,
    }


def yolo(frames: int, repeat: int, tmp: Path) -> dict:
    src = models.ensure("yolov3-tiny-coco")

    def tensor(rgb):
        return chw(cv2.resize(rgb, (416, 416), interpolation=cv2.INTER_AREA))

    calib = read_frames(SAMPLES / "Megamind.avi", 5, 8, step=20)
    dst = tmp / "yolo-int8.onnx"
    quantize(src, dst, [{"image": tensor(f)} for f in calib])
    fp, q = session(src), session(dst)

    def objectness(outs):  # each head: 255 = 3 anchors x 85 (x, y, w, h, obj, 80 classes)
        parts = []
        for head in outs:
            o = head[0].reshape(3, 85, *head.shape[2:])[:, 4]
            parts.append((1 / (1 + np.exp(-o))).ravel())
        return np.concatenate(parts)

    held = read_frames(SAMPLES / "vtest.avi", 500, frames, step=4)
    diffs, ious = [], []
    for rgb in held:
        x = {"image": tensor(rgb)}
        o_fp, o_q = objectness(fp.run(None, x)), objectness(q.run(None, x))
        diffs.append(float(np.abs(o_fp - o_q).mean()))
        ious.append(iou(o_fp > 0.5, o_q > 0.5))
    x = {"image": tensor(held[0])}
    return {
        "model": "yolov3-tiny (416x416)",
        "fp32_s": timed(lambda: fp.run(None, x), repeat),
        "int8_s": timed(lambda: q.run(None, x), repeat),
        "quality": f"objectness vs fp32: mean abs diff {np.mean(diffs):.4f}, "
        f"IoU of cells > 0.5: {np.mean(ious):.3f}",
        "loss_db": None,
    }


# --- report --------------------------------------------------------------------------------------


def verdict(row: dict) -> str:
    speed = row["fp32_s"] / row["int8_s"]
    if speed < 1.4:
        return f"not shipped: {speed:.2f}x is under 1.4x"
    if row["loss_db"] is not None and row["loss_db"] > 0.2:
        return f"not shipped: loses {row['loss_db']:.2f} dB"
    return "meets the rule"


def machine() -> str:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    simd = [f for f in ("avx512_vnni", "avx_vnni", "avx512f", "avx2") if f" {f}" in flags]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()}, {os.cpu_count()} cores ({', '.join(simd) or 'no AVX2'}), "
        f"load {load:.2f} at the start"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=4, help="RIFE evaluation pairs")
    ap.add_argument("--frames", type=int, default=12, help="frames for the other models")
    ap.add_argument("--repeat", type=int, default=3, help="timed calls per model and precision")
    ap.add_argument("--weights", choices=tuple(WEIGHTS), default="s8", help="int8 weight type")
    ap.add_argument("--only", help="comma-separated: rife,rvm,u2netp,yolo")
    ap.add_argument("--write", type=Path, help="append the table to this markdown file")
    args = ap.parse_args()
    global _weights
    _weights = args.weights
    import onnxruntime as ort

    where = machine()
    rows = []
    with tempfile.TemporaryDirectory(prefix="moviola-int8-") as tmp:
        todo = {"rife": (rife, args.pairs), "rvm": (rvm, args.frames)}
        todo |= {"u2netp": (u2netp, args.frames), "yolo": (yolo, args.frames)}
        wanted = args.only.split(",") if args.only else list(todo)
        for fn, n in (todo[k] for k in wanted):
            t0 = time.perf_counter()
            rows.append(fn(n, args.repeat, Path(tmp)))
            print(f"{rows[-1]['model']}: done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    lines = [
        "## int8 on the CPU (ONNX Runtime static quantization)",
        "",
        f"Command: `.venv/bin/python bench/quantize.py --pairs {args.pairs} --frames "
        f"{args.frames} --repeat {args.repeat} --weights {args.weights}`; {where}; onnxruntime "
        f"{ort.__version__}; QDQ, per-channel {args.weights} weights, uint8 activations, MinMax calibration on frames not "
        "evaluated, convolutions and matrix products only; median of the timed calls, fp32 "
        "and int8 alternately, 2 intra-op threads. Rule: ship where at least 1.4x faster and "
        "at most 0.2 dB (or the effect's own measure) lost.",
        "",
        "| model | fp32 s/call | int8 s/call | speed-up | quality | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['fp32_s']:.3f} | {r['int8_s']:.3f} | "
            f"{r['fp32_s'] / r['int8_s']:.2f}x | {r['quality']} | {verdict(r)} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        with open(args.write, "a", encoding="utf-8") as fh:
            fh.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
