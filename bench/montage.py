"""Montage benchmark: downbeat accuracy, cut accuracy, render speed, frames around cuts.

downbeats  Synthetic drum tracks with a known downbeat (moviola.generate.bars.drum_track, 12 s,
           first beat at 0.37 s): a hi-hat on every beat and a kick on the first of each bar,
           alone or with a snare on beats 2 and 4, at 90, 120 and 150 BPM, the downbeat on
           each of the 4 beats of the bar. A track counts as right when the chosen phase puts
           every detected bar line within 50 ms of a true downbeat.
montage    ``moviola montage`` on the real samples (Megamind.avi first, so the output runs at
           its 2997/125 fps; then vtest.avi and tree.avi) with a synthetic drum track (24 s,
           128 BPM, snare backbeat, downbeat on the 2nd beat) as the music, letterboxed to
           640x360, with ``--cuts beat`` and ``--cuts bar``. Cut accuracy: the planned cut
           frames against the beat (bar) times, and the cuts the fast shot detector finds in
           the output (detect_shots): the share within one frame of a beat (bar) line, and the
           share of planned cuts it finds (by kind: between clips, between two shots of a
           clip, within one shot). Speed: render frames per second (decode, letterbox,
           H.264 encode) and the whole command's times real time.
pictures   bench/out/montage/: output frames just before and at the first cuts (PNG strips).

    .venv/bin/python bench/montage.py [--parts downbeats,montage]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
OUT = ROOT / "bench" / "out" / "montage"


def downbeats() -> None:
    from moviola.generate.bars import drum_track, find_bars
    from moviola.generate.beats import detect_beats
    from moviola.media.pcm import encode_mono

    print("# downbeats: synthetic drum tracks, 12 s, known downbeat")
    print("| track | BPM | tracks right (of 4 phases) | mean confidence |")
    print("|---|---|---|---|")
    total = right_all = 0
    for backbeat in (False, True):
        for bpm in (90.0, 120.0, 150.0):
            right, conf = 0, []
            for phase in range(4):
                x, _, downs = drum_track(12.0, bpm, first=0.37, downbeat=phase, backbeat=backbeat)
                path = encode_mono(OUT / "drums.wav", [x], 44100)
                bars = find_bars(path, detect_beats(path))
                err = np.abs(bars.times[:, None] - downs[None]).min(axis=1)
                ok = len(bars.times) >= len(downs) - 1 and bool(np.all(err < 0.05))
                right += ok
                conf.append(bars.confidence)
            total += 4
            right_all += right
            kind = "kick on 1, snare on 2 and 4, hats" if backbeat else "kick on 1, hats"
            print(f"| {kind} | {bpm:g} | {right}/4 | {np.mean(conf):.2f} |")
    print(f"\ndownbeat accuracy: {right_all}/{total} tracks ({100 * right_all / total:.0f}%)\n")


def _strip(video: Path, cuts: list[int], name: str) -> None:
    import cv2

    from moviola.media.reader import VideoReader

    want = {c - 1 for c in cuts[:3]} | {c for c in cuts[:3]}
    got = {}
    with VideoReader(video) as r:
        for i, f in enumerate(r):
            if i in want:
                got[i] = f.image
            if i > max(want):
                break
    row = [np.concatenate([got[c - 1], got[c]], axis=1) for c in cuts[:3]]
    image = np.concatenate(row, axis=0)
    cv2.imwrite(str(OUT / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


def run_montage() -> None:
    from moviola.analysis.shots import detect_shots
    from moviola.generate import montage
    from moviola.generate.bars import drum_track
    from moviola.media.pcm import encode_mono

    clips = [SAMPLES / n for n in ("Megamind.avi", "vtest.avi", "tree.avi")]
    missing = [c for c in clips if not c.exists()]
    if missing:
        sys.exit(f"missing {missing}: run `make samples`")
    x, beats, downs = drum_track(24.0, 128.0, first=0.37, downbeat=1, backbeat=True)
    music = encode_mono(OUT / "music.wav", [x], 44100)
    print("# montage: Megamind.avi vtest.avi tree.avi, 24 s drum track at 128 BPM, 640x360")
    print("| --cuts | frames (fps) | cuts | planned within 1 frame / max error | "
          "detected within 1 frame | planned found | render fps | whole command, x real time |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for cuts in ("beat", "bar"):
        out = OUT / f"montage-{cuts}.mp4"
        t0 = time.monotonic()
        r = montage.render(clips, music, out, cuts=cuts, size=(640, 360), seed=0)
        whole = time.monotonic() - t0
        fps = float(r.fps)
        lines = np.array(r.cut_times)
        truth = downs if cuts == "bar" else beats
        planned = np.array([np.abs(c / fps - lines).min() for c in r.cuts])
        detected = [s.start_frame for s in detect_shots(out, method="fast").shots[1:]]
        near = [np.abs(c / fps - lines).min() <= 1 / fps for c in detected]
        found = len(set(detected) & set(r.cuts))
        lines_ok = np.abs(lines[:, None] - truth[None]).min(axis=1).max()
        print(
            f"| {cuts} | {r.frames} ({r.fps}) | {len(r.cuts)} | "
            f"{np.mean(planned <= 1 / fps) * 100:.0f}% / {planned.max() * 1000:.1f} ms | "
            f"{np.mean(near) * 100:.0f}% of {len(detected)} | {found}/{len(r.cuts)} | "
            f"{r.speed:.1f} | {r.length / whole:.2f}x ({whole:.1f} s, analysis {r.analysis:.1f} s) |"
        )
        kinds: dict[str, list[int]] = {}
        for k, c in enumerate(r.cuts):
            a, b = r.stretches[k], r.stretches[k + 1]
            kind = (
                "between clips"
                if a.clip != b.clip
                else "within a clip, another shot"
                if a.shot != b.shot
                else "within one shot (a jump)"
            )
            kinds.setdefault(kind, [0, 0])
            kinds[kind][0] += 1
            kinds[kind][1] += c in detected
        print(f"  (beat/bar lines vs the track's true ones: max error {lines_ok * 1000:.1f} ms;")
        print(
            "   cuts found by kind: "
            + ", ".join(f"{k} {f}/{n}" for k, (n, f) in kinds.items())
            + ")"
        )
        _strip(out, r.cuts, f"cuts-{cuts}.png")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", default="downbeats,montage")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}; python {sys.version.split()[0]}"
    )
    parts = args.parts.split(",")
    if "downbeats" in parts:
        downbeats()
    if "montage" in parts:
        run_montage()


if __name__ == "__main__":
    main()
