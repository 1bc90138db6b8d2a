"""The learned composer: held-out likelihood against n-gram baselines, and musical statistics.

    .venv/bin/python bench/composer.py [--write docs/composer.md] [--phrases 200]
    .venv/bin/python bench/composer.py --show 4 [--midi bench/out/composer.mid]   # read some phrases

- Likelihood: the held-out pieces of scripts/train-composer's split (sha1(name) % 10 == 0; the
  corpus cache build/composer/corpus.json, extracted again with music21 if missing). Per note (a
  note or rest event: pitch token and duration class), negative log-likelihood in bits, of the
  shipped GRU run in numpy (``composer``), and of interpolated Kneser-Ney n-grams (discount 0.75)
  over the same joint (pitch, duration) tokens trained on the same training split. The GRU also
  reads the chords and the meter, which the n-grams do not: that is the point of it. Chords: per
  slot, the shipped trigram against a unigram of chords, both per mode.
- Statistics: 8-bar phrases composed with ``compose_phrase`` (cadence authentic, density 0.5,
  register 55..84, temperature 1, style tune, motif 0.5 and 0; mode and meter taken in turn from
  the held-out pieces') against the first
  8 bars of every held-out piece at least that long, and against 8-bar melodies sampled from the
  5-gram (which sees no chords: its chord tones are counted against the chords of the held-out
  piece it is paired with): in-key ratio (the scale, plus the leading tone in minor), chord tones on the beat,
  pitch-class entropy (bits, per phrase), motif repetition (the share of 4-note interval patterns
  (3 intervals) that occur again in the same phrase), mean leap (semitones), steps (|interval| <= 2).
- Density: notes per bar at density 0, 0.25, 0.5, 0.75, 1; speed: seconds per 16-bar phrase.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import math
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, write_section  # noqa: E402

from moviola.generate.score import composer as C  # noqa: E402
from moviola.generate.score import tokens as T  # noqa: E402

CMD = "bench/composer.py --write docs/composer.md"
BARS = 8


def trainer():
    loader = importlib.machinery.SourceFileLoader(
        "train_composer", str(ROOT / "scripts" / "train-composer")
    )
    spec = importlib.util.spec_from_loader("train_composer", loader)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


class KneserNey:
    """Interpolated Kneser-Ney of order ``n`` over integer tokens (one discount, 0.75)."""

    def __init__(self, seqs: list[list[int]], n: int, vocab: int, d: float = 0.75) -> None:
        self.n, self.v, self.d = n, vocab, d
        self.counts: list[dict[tuple, Counter]] = [defaultdict(Counter) for _ in range(n)]
        for s in seqs:
            s = [-1] * (n - 1) + s
            for i in range(n - 1, len(s)):
                self.counts[n - 1][tuple(s[i - n + 1 : i])][s[i]] += 1
        for k in range(n - 1, 0, -1):  # continuation counts for the lower orders
            for ctx, c in self.counts[k].items():
                for w in c:
                    self.counts[k - 1][ctx[1:]][w] += 1
        self.tot = [{c: sum(v.values()) for c, v in lvl.items()} for lvl in self.counts]

    def prob(self, ctx: tuple, w: int) -> float:
        p = 1.0 / self.v
        for k in range(self.n):
            c = ctx[len(ctx) - k :] if k else ()
            tab = self.counts[k].get(c)
            if not tab:
                continue
            tot = self.tot[k][c]
            p = max(tab.get(w, 0) - self.d, 0) / tot + self.d * len(tab) / tot * p
        return p

    def dist(self, ctx: tuple) -> np.ndarray:
        return np.array([self.prob(ctx, w) for w in range(self.v)])


def note_tokens(seg: dict) -> list[int]:
    return [p * len(T.DURATIONS) + d for _, d, p in seg["notes"]]


def gru_nll(segs: list[dict]) -> tuple[float, float, int]:
    """Bits per note (duration, pitch given duration) of the shipped model, numpy inference."""
    m = C._model()
    sd = sp = 0.0
    n = 0
    for seg in segs:
        xs, ds, ps = T.segment_features(seg)
        h = np.zeros(m.hidden, np.float32)
        for x, d, p in zip(xs, ds, ps, strict=True):
            h = m.step(x, h)
            sd -= float(_logsoftmax(m.dur_logits(h))[d])
            sp -= float(_logsoftmax(m.pitch_logits(h, int(d)))[p])
            n += 1
    return sd / n / math.log(2), sp / n / math.log(2), n


def _logsoftmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


def ngram_nll(model: KneserNey, seqs: list[list[int]]) -> float:
    tot = n = 0
    for s in seqs:
        s2 = [-1] * (model.n - 1) + s
        for i in range(model.n - 1, len(s2)):
            tot -= math.log2(model.prob(tuple(s2[i - model.n + 1 : i]), s2[i]))
            n += 1
    return tot / n


def chord_nll(train: list[dict], test: list[dict]) -> tuple[float, float]:
    m = C._model()
    uni = [Counter() for _ in range(4)]
    for s in train:
        uni[s["mode"] * 2 + int(s["chorale"])].update([c[2] for c in s["chords"]] + [T.N_CHORD + 1])
    tri = un = 0.0
    n = 0
    for s in test:
        seq = [T.N_CHORD, T.N_CHORD] + [c[2] for c in s["chords"]] + [T.N_CHORD + 1]
        table = s["mode"] * 2 + int(s["chorale"])
        u = uni[table]
        tot_u = sum(u.values())
        for i in range(2, len(seq)):
            tri -= math.log2(m.chord_probs(table, seq[i - 2], seq[i - 1])[seq[i]])
            un -= math.log2((u[seq[i]] + 0.05) / (tot_u + 0.05 * (T.N_CHORD + 1)))
            n += 1
    return tri / n, un / n


# ---------------------------------------------------------------- statistics of melodies


def stats(
    melodies: list[
        tuple[list[tuple[float, float, int]], str, int, list[tuple[float, float, frozenset]]]
    ],
) -> dict:
    """melodies: (notes as (start, length, pitch relative to the tonic C), mode, bpb, chords as
    (start, length, pitch classes relative to the tonic))."""
    out: dict[str, list[float]] = defaultdict(list)
    for notes, mode, _bpb, chords in melodies:
        if len(notes) < 5:
            continue
        pcs = [p % 12 for _, _, p in notes]
        scale = T.scale_pcs(mode)
        out["in_key"].append(float(np.mean([p in scale for p in pcs])))
        hist = np.bincount(pcs, minlength=12) / len(pcs)
        out["entropy"].append(float(-(hist[hist > 0] * np.log2(hist[hist > 0])).sum()))
        iv = [b[2] - a[2] for a, b in zip(notes, notes[1:], strict=False)]
        pats = [tuple(iv[i : i + 3]) for i in range(len(iv) - 2)]
        cnt = Counter(pats)
        out["motif"].append(float(np.mean([cnt[p] > 1 for p in pats])) if pats else 0.0)
        out["leap"].append(float(np.mean(np.abs(iv))))
        out["steps"].append(float(np.mean(np.abs(iv) <= 2)))
        out["notes_per_bar"].append(len(notes) / BARS)
        on_beat = [(s, p) for s, _, p in notes if abs(s - round(s)) < 1e-6]
        hits = []
        for s, p in on_beat:
            for cs, cl, cp in chords:
                if cs <= s + 1e-6 < cs + cl:
                    hits.append(p % 12 in cp)
                    break
        if hits:
            out["chord_tones"].append(float(np.mean(hits)))
    return {k: float(np.mean(v)) for k, v in out.items()} | {"n": len(out["in_key"])}


def heldout_windows(test: list[dict]) -> list:
    res = []
    for s in test:
        end = (
            s["start"] - (s["start"] % s["bpb"]) + BARS * s["bpb"]
        )  # 8 bars from the first bar line
        if s["end"] < end - 1e-6:
            continue
        notes = [
            (t, T.DURATIONS[d], p + T.PITCH_LO) for t, d, p in s["notes"] if p != T.REST and t < end
        ]
        chords = [
            (c[0], c[1], frozenset(T.chord_pcs(*T.chord_of_token(c[2])))) for c in s["chords"]
        ]
        res.append((notes, T.MODES[s["mode"]], s["bpb"], chords))
    return res


def generated(test_windows: list, count: int, motif: float = 0.5) -> tuple[list, float]:
    rng = np.random.default_rng(0)
    res = []
    t0 = time.perf_counter()
    for i in range(count):
        _, mode, bpb, _ = test_windows[i % len(test_windows)]
        ph = C.compose_phrase(
            BARS, tonic=0, mode=mode, rng=rng, beats_per_bar=bpb, register=(55, 84), motif=motif
        )
        notes = [(n.start, n.length, n.pitch) for n in ph.melody]
        chords = [(c.start, c.length, frozenset(c.pitches)) for c in ph.chords]
        res.append((notes, mode, bpb, chords))
    return res, (time.perf_counter() - t0) / count


def ngram_melodies(model: KneserNey, test_windows: list, count: int) -> list:
    rng = np.random.default_rng(0)
    res = []
    for i in range(count):
        _, mode, bpb, chords = test_windows[i % len(test_windows)]
        ctx = [-1] * (model.n - 1)
        t, notes = 0.0, []
        while t < BARS * bpb - 1e-9:
            w = C._sample(model.dist(tuple(ctx[-(model.n - 1) :])), rng)
            ctx.append(w)
            p, d = divmod(w, len(T.DURATIONS))
            if p != T.REST:
                notes.append((t, T.DURATIONS[d], p + T.PITCH_LO))
            t += T.DURATIONS[d]
        res.append((notes, mode, bpb, chords))
    return res


def density_rows() -> list[str]:
    rows = []
    for bpb in (4, 3):
        cells = []
        for d in (0.0, 0.25, 0.5, 0.75, 1.0):
            rng = np.random.default_rng(1)
            n = [
                len(
                    C.compose_phrase(
                        8, tonic=0, mode="major", rng=rng, beats_per_bar=bpb, density=d
                    ).melody
                )
                / 8
                for _ in range(40)
            ]
            cells.append(f"{np.mean(n):.2f}")
        rows.append(f"| {bpb}/4 | " + " | ".join(cells) + " |")
    return rows


NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
SHOW = [  # (mode, beats per bar, style, cadence, density, tonic)
    ("major", 4, "tune", "authentic", 0.5, 2),
    ("minor", 3, "hymn", "authentic", 0.3, 9),
    ("major", 4, "hymn", "half", 0.3, 7),
    ("dorian", 4, "tune", "authentic", 0.6, 2),
    ("minor", 2, "tune", "authentic", 0.8, 4),
    ("mixolydian", 4, "tune", "authentic", 0.5, 7),
]


def spell(p: C.Phrase) -> str:
    """Chords and melody bar by bar, as note names (octave numbers; /length in beats unless 1)."""
    chords = " | ".join(
        f"{c.start:g}:{NAMES[c.root]}{'' if c.quality == 'maj' else c.quality}" for c in p.chords
    )
    bars: list[list[str]] = [[] for _ in range(p.bars)]
    for n in p.melody:
        name = f"{NAMES[n.pitch % 12]}{n.pitch // 12 - 1}" + (
            "" if n.length == 1 else f"/{n.length:g}"
        )
        bars[int(n.start // p.beats_per_bar)].append(name)
    return f"  chords: {chords}\n  melody: " + " | ".join(" ".join(b) for b in bars)


def show(count: int, midi: Path | None) -> None:
    """Print ``count`` phrases per setting (8 bars, seed 0..) and write them to a MIDI file."""
    rng = np.random.default_rng(0)
    phrases = []
    for mode, bpb, style, cadence, dens, tonic in SHOW:
        for k in range(count):
            p = C.compose_phrase(
                8,
                tonic=tonic,
                mode=mode,
                rng=rng,
                beats_per_bar=bpb,
                style=style,
                cadence=cadence,
                density=dens,
            )
            print(
                f"{NAMES[tonic]} {mode} {bpb}/4 {style} cadence {cadence} density {dens} (#{k})\n{spell(p)}"
            )
            phrases.append(p)
            if k == 0:
                v = C.variation(p, rng=rng, amount=0.35)
                print(f"  variation 0.35: {spell(v).split('melody: ')[1]}")
    if midi is None:
        return
    import mido

    f = mido.MidiFile(ticks_per_beat=480)
    mel, acc = mido.MidiTrack(), mido.MidiTrack()
    f.tracks += [mel, acc]
    mel.append(mido.Message("program_change", program=73, channel=0))  # flute
    acc.append(mido.Message("program_change", program=48, channel=1))  # strings
    events: list[tuple[int, int, str, int, int]] = []  # tick, order, track, pitch, velocity
    offset = 0.0
    for p in phrases:
        for n in p.melody:
            events += [
                (round((offset + n.start) * 480), 1, "m", n.pitch, n.velocity),
                (round((offset + n.start + n.length) * 480), 0, "m", n.pitch, 0),
            ]
        for c in p.chords:
            for pc in c.pitches:
                pitch = (
                    48 + (pc - c.root) % 12 + c.root
                    if c.root < 6
                    else 36 + (pc - c.root) % 12 + c.root
                )
                events += [
                    (round((offset + c.start) * 480), 1, "a", pitch, 60),
                    (round((offset + c.start + c.length) * 480), 0, "a", pitch, 0),
                ]
        offset += p.bars * p.beats_per_bar + 2
    last = {"m": 0, "a": 0}
    for tick, _, tr, pitch, vel in sorted(events):
        track, ch = (mel, 0) if tr == "m" else (acc, 1)
        track.append(
            mido.Message("note_on", note=pitch, velocity=vel, channel=ch, time=tick - last[tr])
        )
        last[tr] = tick
    midi.parent.mkdir(parents=True, exist_ok=True)
    f.save(midi)
    print(f"wrote {midi}")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--write", type=Path)
    ap.add_argument("--phrases", type=int, default=200)
    ap.add_argument("--show", type=int, default=0, help="print N phrases of each kind instead")
    ap.add_argument("--midi", type=Path, help="with --show: write them to this MIDI file")
    args = ap.parse_args()
    if args.show:
        show(args.show, args.midi)
        return
    tc = trainer()
    segs = tc.load_corpus(False, None)
    train = [s for s in segs if tc.split_of(s["name"]) == "train"]
    test = [s for s in segs if tc.split_of(s["name"]) == "test"]
    print(f"train {len(train)} segments, test {len(test)} segments", flush=True)
    gd, gp, n_notes = gru_nll(test)
    train_tok = [note_tokens(s) for s in train]
    test_tok = [note_tokens(s) for s in test]
    vocab = T.N_PTOK * len(T.DURATIONS)
    kn = {k: KneserNey(train_tok, k, vocab) for k in (1, 3, 5)}
    rows = [f"| GRU (chords, meter, phrase end) | {gd + gp:.3f} | {gd:.3f} | {gp:.3f} |"]
    for k, m in kn.items():
        rows.append(f"| {k}-gram, Kneser-Ney | {ngram_nll(m, test_tok):.3f} | | |")
    ctri, cuni = chord_nll(train, test)
    windows = heldout_windows(test)
    gen, per = generated(windows, args.phrases)
    gen0, _ = generated(windows, args.phrases, motif=0.0)
    ng = ngram_melodies(kn[5], windows, args.phrases)
    st = {
        "held-out pieces (first 8 bars)": stats(windows),
        "composer, motif 0.5 (the default)": stats(gen),
        "composer, motif 0 (the GRU alone)": stats(gen0),
        "5-gram samples (8 bars)": stats(ng),
    }
    srows = [
        f"| {k} | {v['n']} | {v['in_key']:.3f} | {v.get('chord_tones', float('nan')):.3f} | {v['entropy']:.2f} | "
        f"{v['motif']:.3f} | {v['leap']:.2f} | {v['steps']:.3f} | {v['notes_per_bar']:.2f} |"
        for k, v in st.items()
    ]
    rng = np.random.default_rng(2)
    t0 = time.perf_counter()
    for _ in range(20):
        C.compose_phrase(16, tonic=7, mode="minor", rng=rng)
    per16 = (time.perf_counter() - t0) / 20
    tonic_end = np.mean([g[0][-1][2] % 12 == 0 for g in gen])
    info = C.model_info()
    c = info["corpus"]
    lines = [
        "## Composer: held-out likelihood and musical statistics",
        "",
        f"`.venv/bin/python {CMD}` on this 2-core machine, {time.strftime('%Y-%m-%d')}; the weights "
        f"from `scripts/train-composer` ({info['params']} GRU parameters; trained on "
        f"{c['train']['pieces']} pieces, {c['train']['notes']} notes). See the script's docstring "
        "for the method.",
        "",
        f"Held-out: {len({s['name'] for s in test})} pieces, {len(test)} segments, {n_notes} note events. "
        "Negative log-likelihood per note event, bits (lower is better):",
        "",
        "| model | per note | duration | pitch given duration |",
        "|---|---|---|---|",
        *rows,
        "",
        f"Chords (per half-bar slot, held-out): trigram {ctri:.3f} bits, unigram {cuni:.3f} bits.",
        "",
        "| melodies | phrases | in key | chord tones on the beat | pitch-class entropy (bits) | motif repetition | mean leap | steps | notes per bar |",
        "|---|---|---|---|---|---|---|---|---|",
        *srows,
        "",
        f"Composed authentic-cadence phrases ending on the tonic: {tonic_end:.0%}. Density "
        "(notes per bar, 8-bar major phrases, 40 each):",
        "",
        "| meter | 0 | 0.25 | 0.5 | 0.75 | 1 |",
        "|---|---|---|---|---|---|",
        *density_rows(),
        "",
        f"Speed: {per16 * 1000:.1f} ms per 16-bar phrase ({per * 1000:.1f} ms per 8-bar phrase), one core.",
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        write_section(args.write, section, title="# The learned composer")


if __name__ == "__main__":
    main()
