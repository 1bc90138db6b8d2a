"""The learned composer (moviola.generate.score.composer): weights, determinism, fit to the
harmony, exact lengths, density, cadences, variations, and the numpy inference against torch."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from moviola.generate.score import composer as C
from moviola.generate.score import tokens as T

ROOT = Path(__file__).resolve().parent.parent


def test_weights_load_and_describe_the_training():
    info = C.model_info()
    assert info["params"] > 10_000
    assert info["corpus"]["train"]["pieces"] > 500
    assert info["test_nll_nats"]["note"] > 0
    assert C.WEIGHTS.stat().st_size < 3_000_000


def test_same_seed_same_phrase_and_other_seed_another():
    a = C.compose_phrase(8, tonic=2, mode="major", rng=np.random.default_rng(5))
    b = C.compose_phrase(8, tonic=2, mode="major", rng=np.random.default_rng(5))
    c = C.compose_phrase(8, tonic=2, mode="major", rng=np.random.default_rng(6))
    assert a == b
    assert a.melody != c.melody


@pytest.mark.parametrize(
    ("mode", "bpb"), [("major", 4), ("minor", 3), ("dorian", 4), ("mixolydian", 2)]
)
def test_notes_in_key_and_lengths_exact(mode, bpb):
    scale = T.scale_pcs(mode)
    tonic = 9
    inkey = total = 0
    for bars in (1, 3, 8):
        p = C.compose_phrase(
            bars, tonic=tonic, mode=mode, rng=np.random.default_rng(bars), beats_per_bar=bpb
        )
        end = bars * bpb
        assert p.melody and p.chords
        assert p.chords[0].start == 0 and abs(p.chords[-1].start + p.chords[-1].length - end) < 1e-9
        for a, b in zip(p.chords, p.chords[1:], strict=False):
            assert abs(a.start + a.length - b.start) < 1e-9
        prev_end = 0.0
        for n in p.melody:
            assert n.start >= prev_end - 1e-9 and n.length > 0 and 1 <= n.velocity <= 127
            prev_end = n.start + n.length
            assert 60 <= n.pitch <= 84
        assert (
            abs(p.melody[-1].start + p.melody[-1].length - end) < 1e-9
        )  # the last note ends the phrase
        inkey += sum((n.pitch - tonic) % 12 in scale for n in p.melody)
        total += len(p.melody)
    assert inkey / total > 0.9


def test_cadences_end_where_asked():
    for seed in range(6):
        rng = np.random.default_rng(seed)
        a = C.compose_phrase(4, tonic=7, mode="major", rng=rng, cadence="authentic")
        assert (a.chords[-1].root, a.chords[-1].quality) == (7, "maj")  # G major: I
        assert a.melody[-1].pitch % 12 in a.chords[-1].pitches
        h = C.compose_phrase(4, tonic=7, mode="minor", rng=rng, cadence="half")
        assert h.chords[-1].root == 2 and h.chords[-1].quality in ("maj", "dom7")  # G minor: V


def test_density_steers_the_note_rate():
    def rate(d: float) -> float:
        rng = np.random.default_rng(3)
        return float(
            np.mean(
                [
                    len(C.compose_phrase(4, tonic=0, mode="major", rng=rng, density=d).melody)
                    for _ in range(10)
                ]
            )
        )

    low, mid, high = rate(0.0), rate(0.5), rate(1.0)
    assert low < mid < high and high > 1.5 * low
    per_bar = C.compose_phrase(
        4, tonic=0, mode="major", rng=np.random.default_rng(1), density=[0, 0, 1, 1]
    )
    first = sum(1 for n in per_bar.melody if n.start < 8)
    assert first < len(per_bar.melody) - first


def test_register_and_given_chords_and_start_chord():
    rng = np.random.default_rng(2)
    p = C.compose_phrase(4, tonic=0, mode="major", rng=rng, register=(48, 60))
    assert all(48 <= n.pitch <= 60 for n in p.melody)
    chords = [C.Chord(0, 8, 5, "maj", (5, 9, 0)), C.Chord(8, 8, 0, "maj", (0, 4, 7))]
    q = C.compose_phrase(4, tonic=0, mode="major", rng=rng, chords=chords)
    assert q.chords == chords
    on_beat = [n for n in q.melody if n.start == int(n.start)]
    fits = [n.pitch % 12 in (chords[0] if n.start < 8 else chords[1]).pitches for n in on_beat]
    assert np.mean(fits) > 0.6
    s = C.compose_phrase(4, tonic=0, mode="minor", rng=rng, start_chord="VI")
    assert (s.chords[0].root, s.chords[0].quality) == (8, "maj")


def test_variation_keeps_chords_and_rhythm():
    p = C.compose_phrase(8, tonic=4, mode="minor", rng=np.random.default_rng(9))
    v = C.variation(p, rng=np.random.default_rng(1), amount=0.5)
    assert v.chords == p.chords
    assert [(n.start, n.length) for n in v.melody] == [(n.start, n.length) for n in p.melody]
    changed = sum(a.pitch != b.pitch for a, b in zip(p.melody, v.melody, strict=True))
    assert 0 < changed < len(p.melody)
    assert C.variation(p, rng=np.random.default_rng(1), amount=0.0) == p


def test_bad_arguments_raise_value_errors():
    rng = np.random.default_rng(0)
    for kw in ({"mode": "locrian2"}, {"beats_per_bar": 5}, {"cadence": "deceptive?"}, {"density": 2.0},
               {"register": (60, 62)}, {"start_chord": "Q"}):  # fmt: skip
        with pytest.raises(ValueError):
            C.compose_phrase(2, **({"tonic": 0, "mode": "major", "rng": rng} | kw))  # pyright: ignore[reportArgumentType]


def test_fast():
    import time

    rng = np.random.default_rng(0)
    C.compose_phrase(2, tonic=0, mode="major", rng=rng)
    t = time.perf_counter()
    C.compose_phrase(16, tonic=0, mode="major", rng=rng)
    assert time.perf_counter() - t < 0.1


def _trainer():
    loader = importlib.machinery.SourceFileLoader(
        "train_composer", str(ROOT / "scripts" / "train-composer")
    )
    spec = importlib.util.spec_from_loader("train_composer", loader)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def test_extraction_of_a_chorale_and_a_tune():
    pytest.importorskip("music21")
    from music21 import corpus

    tc = _trainer()
    segs = tc.extract(corpus.parse("bach/bwv165.6.mxl"), "bwv165.6", True)
    assert len(segs) == 4  # four fermatas, four phrases
    for s in segs:
        assert s["bpb"] == 4 and s["mode"] == 0  # G major, moved to C
        t = s["start"]
        for on, d, _ in s["notes"]:
            assert abs(on - t) < 1e-9
            t += T.DURATIONS[d]
        assert abs(t - s["end"]) < 1e-9
    last = segs[-1]["notes"][-1]
    assert (last[2] + T.PITCH_LO) % 12 == 0  # the chorale ends on the tonic
    assert T.chord_of_token(segs[-1]["chords"][-1][2]) == (0, "maj")
    tune = tc.extract(corpus.parse("ryansMammoth/7thRegimentReel.abc"), "reel", False)
    assert len(tune) == 1 and tune[0]["bpb"] == 2 and len(tune[0]["notes"]) > 50
    x, d, p = T.segment_features(tune[0])
    assert x.shape == (len(tune[0]["notes"]), T.N_FEAT) and len(d) == len(p)


def test_numpy_inference_equals_torch():
    torch = pytest.importorskip("torch")
    tc = _trainer()
    m = C._model()
    net = tc.build_net(m.hidden)
    with np.load(C.WEIGHTS) as z:
        sd = {
            "gru.weight_ih_l0": z["gru_wih"], "gru.weight_hh_l0": z["gru_whh"], "gru.bias_ih_l0": z["gru_bih"],
            "gru.bias_hh_l0": z["gru_bhh"], "dur.weight": z["dur_w"], "dur.bias": z["dur_b"],
            "pitch.weight": z["pitch_w"], "pitch.bias": z["pitch_b"], "pitch_dur.weight": z["pitch_dur"],
        }  # fmt: skip
    net.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in sd.items()})
    net.eval()
    rng = np.random.default_rng(0)
    n = 12
    xs = np.zeros((n, T.N_FEAT), np.float32)
    for i in range(n):
        xs[i] = T.features(
            int(rng.integers(T.N_PTOK)),
            int(rng.integers(8)),
            i * 0.5,
            4,
            (7, "dom7"),
            (0, 4, 7),
            1,
            12 - i,
            0.3,
        )
    durs = rng.integers(0, 8, n)
    with torch.no_grad():
        ld, lp = net(torch.from_numpy(xs)[None], torch.from_numpy(durs)[None])
    h = np.zeros(m.hidden, np.float32)
    for i in range(n):
        h = m.step(xs[i], h)
        np.testing.assert_allclose(m.dur_logits(h), ld[0, i].numpy(), atol=1e-4)
        np.testing.assert_allclose(m.pitch_logits(h, int(durs[i])), lp[0, i].numpy(), atol=1e-4)


def test_motif_echoes_earlier_bars_and_cadences_end_long():
    def repeats(motif: float) -> float:
        rng = np.random.default_rng(4)
        share = []
        for _ in range(8):
            p = C.compose_phrase(8, tonic=0, mode="major", rng=rng, motif=motif)
            bars = [
                tuple(n.length for n in p.melody if b * 4 <= n.start < b * 4 + 4) for b in range(8)
            ]
            share.append(np.mean([bars[b] in bars[:b] for b in range(1, 8)]))
            assert p.melody[-1].length >= 1  # a cadence ends on a beat or longer
        return float(np.mean(share))

    assert repeats(1.0) > repeats(0.0) + 0.2  # bar rhythms come back
    with pytest.raises(ValueError):
        C.compose_phrase(2, tonic=0, mode="major", rng=np.random.default_rng(0), motif=1.5)


def test_extreme_temperatures_and_a_narrow_register_still_make_valid_phrases():
    for temperature in (0.02, 20.0):
        for cadence in C.CADENCES:
            p = C.compose_phrase(
                2, tonic=11, mode="phrygian", rng=np.random.default_rng(0), temperature=temperature,
                cadence=cadence, beats_per_bar=3, register=(40, 47),
            )  # fmt: skip
            assert all(40 <= n.pitch <= 47 for n in p.melody)
            assert abs(p.melody[-1].start + p.melody[-1].length - 6) < 1e-9
            assert all(0 <= c.root < 12 and c.quality in T.QUALITIES for c in p.chords)
