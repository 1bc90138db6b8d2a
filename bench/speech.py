"""Speech: transcription accuracy and speed, speaker attribution, silence cutting, memory.

All on real recordings taken from PyPI packages by scripts/get-speech-samples.sh (see
docs/speech.md for each source and its license):

1. **Transcription.** Word error rate of ``moviola transcribe`` (Silero VAD + Whisper over
   packed windows) against the same Whisper model run by faster-whisper with its own defaults
   on the whole file, side by side, on LibriVox sentences (public-domain reading, reference text
   from pocketsphinx's test data) one by one and joined with pauses, and "go forward ten meters".
   Also: words invented on music and on silence, and speed in times real time.
2. **Speakers.** Speaker attribution accuracy (share of words, by the speaker speaking at the
   word's middle, under the best one-to-one mapping of clusters to speakers) on a real two-person
   phone call with its reference turns (pyannote.audio's sample) and on a recording assembled
   from two different readers with known turns.
3. **Silence cutting.** ``moviola cut --silence`` against auto-editor 23.32.1 (pure Python,
   ../shared/PEERS.md) on the same clips, clean and with room tone: seconds removed, reference
   words still heard in the output (transcribed), run time.
4. **Memory.** Peak resident memory of a transcription of 10 and of 60 minutes of audio (a
   sentence a minute over room tone), ours and faster-whisper's whole-file call.

    .venv/bin/python bench/speech.py [--write docs/benchmarks.md] [--skip-memory]

auto-editor runs from its own virtual environment (numpy<2, av<14): set AUTO_EDITOR to its
executable, or the bench makes one in bench/out/auto-editor-venv.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, ROOT, write_section  # noqa: E402

SPEECH = ROOT / "samples" / "speech"
RATE = 16000
NUMBERS = {"10": "ten", "mr": "mister", "mrs": "missus"}
CMD = f"{sys.executable} bench/speech.py --write docs/benchmarks.md"


# --- inputs --------------------------------------------------------------------------------------


def read_wav(path: Path) -> np.ndarray:
    from moviola.media.pcm import decode_mono

    return np.concatenate(list(decode_mono(path, RATE)))


def write_wav(path: Path, samples) -> Path:
    """16-bit mono WAV at 16 kHz from an array, or from an iterable of arrays (streamed)."""
    import av

    blocks = [samples] if isinstance(samples, np.ndarray) else samples
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=RATE, layout="mono")
        for block in blocks:
            pcm = (np.clip(block, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
            for i in range(0, pcm.shape[1], RATE * 10):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(pcm[:, i : i + RATE * 10]), format="s16", layout="mono"
                )
                frame.sample_rate = RATE
                for p in stream.encode(frame):
                    out.mux(p)
        for p in stream.encode(None):
            out.mux(p)
    return path


def goforward() -> np.ndarray:
    return np.fromfile(SPEECH / "goforward.raw", np.int16).astype(np.float32) / 32768


def librivox() -> list[tuple[str, np.ndarray, str]]:
    out = []
    for wav in sorted(SPEECH.glob("librivox-*.wav")):
        out.append((wav.stem, read_wav(wav), wav.with_suffix(".txt").read_text().strip()))
    return out


def silence(seconds: float, noise_db: float | None = None, seed: int = 0) -> np.ndarray:
    n = int(seconds * RATE)
    if noise_db is None:
        return np.zeros(n, np.float32)
    rng = np.random.default_rng(seed)
    pink = np.cumsum(rng.standard_normal(n)).astype(np.float32)
    pink -= np.convolve(pink, np.ones(400) / 400, mode="same")  # drift removed: room-tone-ish
    return (pink / (np.abs(pink).max() + 1e-9) * 10 ** (noise_db / 20)).astype(np.float32)


def music(seconds: float) -> np.ndarray:
    """Chords with harmonics, a bass line and drum hits (synthetic: no real music offline)."""
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    chords = [(220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6)]
    for k in range(int(seconds)):
        sel = (t >= k) & (t < k + 1)
        env = np.exp(-3 * (t[sel] - k))
        for f in chords[k % 3]:
            for h in (1, 2, 3):
                out[sel] += env * np.sin(2 * np.pi * f * h * t[sel]) / (h * 6)
        hit = (t >= k) & (t < k + 0.05)
        out[hit] += np.random.default_rng(k).standard_normal(hit.sum()) * 0.3
    return (out / np.abs(out).max() * 0.5).astype(np.float32)


# --- scoring -------------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    text = text.lower().replace("-", " ")
    return [NUMBERS.get(w, w) for w in re.findall(r"[a-z0-9']+", text)]


def wer(ref: str, hyp: str) -> tuple[int, int]:
    """(word edits, reference words)."""
    from moviola.speech.transcript import word_edits

    r, h = words(ref), words(hyp)
    return word_edits(r, h), len(r)


def recall(ref: str, hyp: str) -> float:
    import difflib

    r, h = words(ref), words(hyp)
    m = difflib.SequenceMatcher(None, r, h)
    return sum(b.size for b in m.get_matching_blocks()) / max(len(r), 1)


# --- 1. transcription ------------------------------------------------------------------------------


def faster_whisper_defaults(model_dir: Path):
    from faster_whisper import WhisperModel

    fw = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=os.cpu_count())

    def run(path: Path) -> str:
        segs, _ = fw.transcribe(str(path))
        return " ".join(s.text for s in segs)

    return run


def bench_transcription(rows: list[str]) -> dict:
    from moviola import models
    from moviola.speech.transcribe import Transcriber

    d = OUT / "speech"
    sents = librivox()
    joined = np.concatenate([np.concatenate([silence(1.0), a]) for _, a, _ in sents])
    sets = [(name, write_wav(d / f"{name}.wav", a), ref) for name, a, ref in sents]
    sets.append(("goforward", write_wav(d / "goforward.wav", goforward()), "go forward ten meters"))
    joined_ref = " ".join(ref for _, _, ref in sents)
    sets.append(("librivox-joined", write_wav(d / "librivox-joined.wav", joined), joined_ref))
    music_wav = write_wav(d / "music.wav", music(30))
    silent_wav = write_wav(d / "silence.wav", silence(30, -50))
    results = {}
    for model in ("whisper-tiny-en", "whisper-base"):
        ours = Transcriber(model)
        theirs = faster_whisper_defaults(models.ensure(model).parent)
        e_o = e_t = n = 0
        t_o = t_t = dur = 0.0
        for name, path, ref in sets:
            t0 = time.perf_counter()
            hyp_o = ours.transcribe(path).text
            t1 = time.perf_counter()
            hyp_t = theirs(path)
            t2 = time.perf_counter()
            eo, nn = wer(ref, hyp_o)
            et, _ = wer(ref, hyp_t)
            print(
                f"  {model} {name}: ours {eo}/{nn} {hyp_o!r} | faster-whisper {et}/{nn} {hyp_t!r}"
            )
            if name != "librivox-joined":
                e_o, e_t, n = e_o + eo, e_t + et, n + nn
            else:
                results[(model, "joined")] = (eo / nn, et / nn)
            t_o, t_t = t_o + t1 - t0, t_t + t2 - t1
            dur += len(read_wav(path)) / RATE
        invented = {}
        for label, path in (("music", music_wav), ("silence", silent_wav)):
            invented[label] = (len(words(ours.transcribe(path).text)), len(words(theirs(path))))
        jo, jt = results[(model, "joined")]
        rows.append(
            f"| {model} | {e_o / n:.1%} | {e_t / n:.1%} | {jo:.1%} | {jt:.1%} | "
            f"{dur / t_o:.1f}x | {dur / t_t:.1f}x | {invented['music'][0]} / "
            f"{invented['music'][1]} | {invented['silence'][0]} / {invented['silence'][1]} |"
        )
        results[model] = {"wer": e_o / n, "wer_fw": e_t / n, "invented": invented}
    return results


# --- 2. speakers --------------------------------------------------------------------------------


def rttm_turns(path: Path) -> list[tuple[float, float, str]]:
    out = []
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) > 7 and f[0] == "SPEAKER":
            out.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return out


def attribution(transcript, turns) -> tuple[float, int]:
    """Share of words whose cluster maps to the true speaker (best one-to-one mapping)."""
    from itertools import permutations

    pairs = []
    for w in transcript.words:
        mid = (w.start + w.end) / 2
        who = {s for a, b, s in turns if a <= mid < b}
        if len(who) == 1 and w.speaker:
            pairs.append((w.speaker, who.pop()))
    clusters = sorted({c for c, _ in pairs})
    truths = sorted({t for _, t in pairs})
    best = 0
    for perm in permutations(truths, min(len(truths), len(clusters))):
        mapping = dict(zip(clusters, perm, strict=False))
        best = max(best, sum(mapping.get(c) == t for c, t in pairs))
    return best / max(len(pairs), 1), len(pairs)


# Megamind.avi's four lines (seconds, from its transcript's sentence times; who says each is
# read off the picture: the character in frame moves their lips).
MEGAMIND_TURNS = [(0.0, 4.3, "Roxanne"), (4.3, 6.25, "Bernard"), (6.25, 8.3, "Roxanne"),
                  (9.3, 11.3, "Bernard")]  # fmt: skip


def bench_speakers(rows: list[str]) -> dict:
    from moviola.speech.transcribe import Transcriber

    tr = Transcriber("whisper-tiny-en")
    d = OUT / "speech"
    a, b = librivox(), goforward()
    parts, turns, t = [], [], 0.0
    order = [a[0][1], b, a[1][1], b, a[2][1], b, a[3][1]]
    for k, clip in enumerate(order):
        parts += [silence(0.6), clip]
        t += 0.6
        turns.append((t, t + len(clip) / RATE, "reader" if k % 2 == 0 else "goforward"))
        t += len(clip) / RATE
    assembled = write_wav(d / "assembled-two-speakers.wav", np.concatenate(parts))
    out = {}
    cases = [
        (
            "phone call (pyannote sample, 30 s)",
            SPEECH / "two-speakers.wav",
            rttm_turns(SPEECH / "two-speakers.rttm"),
        ),
        ("assembled: LibriVox reader + pocketsphinx speaker", assembled, turns),
    ]
    megamind = ROOT / "samples" / "Megamind.avi"
    if megamind.exists():
        cases.append(("Megamind.avi (two characters, 11 s)", megamind, MEGAMIND_TURNS))
    for name, path, truth in cases:
        for speakers in ("auto", 2):
            t0 = time.perf_counter()
            tx = tr.transcribe(path, speakers=speakers)
            secs = time.perf_counter() - t0
            acc, n = attribution(tx, truth)
            rows.append(
                f"| {name} | {speakers} | {len(tx.speakers)} | {acc:.1%} ({n} words) | {secs:.1f} s |"
            )
            out[(name, speakers)] = acc
    return out


# --- 3. silence cutting --------------------------------------------------------------------------


def auto_editor() -> str | None:
    exe = os.environ.get("AUTO_EDITOR")
    if exe:
        return exe
    venv = OUT / "auto-editor-venv"
    if not (venv / "bin" / "auto-editor").exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
            subprocess.run([*pip, "--no-deps", "auto-editor==23.32.1"], check=True)
            subprocess.run([*pip, "numpy<2", "av<14", "pillow"], check=True)
        except (subprocess.CalledProcessError, OSError) as e:
            print(f"auto-editor could not be installed: {e}")
            return None
    return str(venv / "bin" / "auto-editor")


def make_talk(path: Path, noise_db: float | None) -> tuple[Path, str]:
    sents = librivox()
    gaps = [1.5, 2.0, 0.8, 2.5, 1.2, 1.5]
    audio = [silence(gaps[0], noise_db, 1)]
    for k, (_, a, _) in enumerate(sents):
        bed = silence(len(a) / RATE, noise_db, k + 2)
        audio += [a + bed, silence(gaps[k + 1], noise_db, k + 10)]
    wav = write_wav(path.with_suffix(".wav"), np.concatenate(audio))
    seconds = sum(len(x) for x in audio) / RATE
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=320x240:r=25",
            "-i",
            str(wav),
            "-t",
            f"{seconds:.3f}",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(path),
        ],
        check=True,
    )
    return path, " ".join(ref for _, _, ref in sents)


def duration(path: Path) -> float:
    from moviola.media.probe import probe

    return float(probe(path).duration or 0)


def bench_cut(rows: list[str]) -> dict:
    from moviola.speech.transcribe import Transcriber

    tr = Transcriber("whisper-tiny-en")
    ae = auto_editor()
    d = OUT / "speech"
    out = {}
    for label, noise in (("clean pauses", None), ("pauses with room tone at -30 dBFS", -30.0)):
        src, _ = make_talk(d / f"talk-{'clean' if noise is None else 'tone'}.mp4", noise)
        ref = tr.transcribe(src).text  # what Whisper hears in the uncut clip: the cut's yardstick
        total = duration(src)
        tools = [
            (
                "moviola cut --silence",
                [
                    str(ROOT / ".venv/bin/moviola"),
                    "cut",
                    str(src),
                    "-o",
                    "{out}",
                    "--silence",
                    "-q",
                ],
            )
        ]
        if ae:
            tools.append(
                ("auto-editor 23.32.1 (defaults)", [ae, str(src), "-o", "{out}", "--no-open"])
            )
        for name, cmd in tools:
            target = d / f"cut-{len(out)}.mp4"
            target.unlink(missing_ok=True)
            t0 = time.perf_counter()
            proc = subprocess.run(
                [c.replace("{out}", str(target)) for c in cmd], capture_output=True, text=True
            )
            secs = time.perf_counter() - t0
            if proc.returncode != 0 or not target.exists():
                rows.append(f"| {label} | {name} | failed: {proc.stderr.strip()[-120:]} | | |")
                continue
            kept = duration(target)
            heard = recall(ref, tr.transcribe(target).text)
            rows.append(
                f"| {label} | {name} | {total - kept:.2f} s of {total:.2f} s | {heard:.1%} | "
                f"{secs:.1f} s |"
            )
            out[(label, name)] = (total - kept, heard)
    return out


# --- 4. memory -----------------------------------------------------------------------------------


def long_audio(minutes: int) -> Path:
    path = OUT / "speech" / f"long-{minutes}min.wav"
    if path.exists():
        return path
    sents = librivox()

    def minute(m: int) -> np.ndarray:
        a = sents[m % len(sents)][1]
        block = silence(60.0, -45.0, m)
        block[RATE * 5 : RATE * 5 + len(a)] += a
        return block

    return write_wav(path, (minute(m) for m in range(minutes)))


PEAK = """
import resource, sys, time
t = time.perf_counter()
if sys.argv[1] == "ours":
    from moviola.speech.transcribe import Transcriber
    n = len(Transcriber("whisper-tiny-en").transcribe(sys.argv[2]).words)
else:
    from faster_whisper import WhisperModel
    from moviola import models
    m = WhisperModel(str(models.ensure("whisper-tiny-en").parent), device="cpu",
                     compute_type="int8")
    segs, _ = m.transcribe(sys.argv[2], vad_filter=True)
    n = sum(len(s.text.split()) for s in segs)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, n, time.perf_counter() - t)
"""


def bench_memory(rows: list[str]) -> dict:
    out = {}
    for minutes in (10, 60):
        path = long_audio(minutes)
        for who in ("ours", "faster-whisper (whole file, vad_filter)"):
            key = "ours" if who == "ours" else "fw"
            proc = subprocess.run(
                [sys.executable, "-c", PEAK, key, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            mib, n, secs = proc.stdout.split()[-3:]
            rows.append(f"| {minutes} min | {who} | {mib} MiB | {n} | {float(secs):.0f} s |")
            out[(minutes, key)] = int(mib)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", type=Path)
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument(
        "--parts",
        default="transcription,speakers,cut,memory",
        help="comma-separated parts to run (default all)",
    )
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    if args.skip_memory:
        parts.discard("memory")
    if not (SPEECH / "two-speakers.rttm").exists():
        subprocess.run(["bash", str(ROOT / "scripts/get-speech-samples.sh")], check=True)
    (OUT / "speech").mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    t_rows, s_rows, c_rows, m_rows = [], [], [], []
    if "transcription" in parts:
        bench_transcription(t_rows)
    if "speakers" in parts:
        bench_speakers(s_rows)
    if "cut" in parts:
        bench_cut(c_rows)
    if "memory" in parts:
        bench_memory(m_rows)
    section = "\n".join(
        [
            "## Speech: transcription, speakers, silence cutting, memory",
            "",
            f"`{CMD.replace(sys.executable, '.venv/bin/python')}` on this 2-core machine (load "
            f"average {load:.1f} at the start), {time.strftime('%Y-%m-%d')}. Recordings: "
            "docs/speech.md. WER after lower-casing and removing punctuation; the six short "
            'files are pooled (65 words); "joined" is the five LibriVox sentences in one file '
            "with 1 s pauses. faster-whisper runs the same model files with its own defaults "
            "(beam 5, no VAD, whole file, no word timestamps; ours always computes word "
            "timestamps, which costs time). Invented words: words in the transcript of 30 s of "
            "synthetic music / of 30 s of room tone at -50 dBFS (ours / faster-whisper).",
            "",
            "| model | WER ours | WER faster-whisper | joined, ours | joined, faster-whisper "
            "| speed ours | speed faster-whisper | invented on music | invented on room tone |",
            "|---|---|---|---|---|---|---|---|---|",
            *t_rows,
            "",
            "Speaker attribution (whisper-tiny-en words; a GE2E embedding per Whisper segment, "
            "agglomerative clustering cut at a cosine distance of 0.29 for 'auto', segments under 1 s weighted out). "
            "Megamind.avi: four lines, two characters, alternating.",
            "",
            "| recording | --speakers | speakers found | words attributed right | time |",
            "|---|---|---|---|---|",
            *s_rows,
            "",
            "Silence cutting, same clip for both tools (five LibriVox sentences with 0.8 to "
            '2.5 s pauses, 25 fps H.264 + AAC). "Words heard": the words of the uncut clip\'s '
            "transcript (same model) found, in order, in the transcript of the output.",
            "",
            "| clip | tool | removed | words heard | run time |",
            "|---|---|---|---|---|",
            *c_rows,
        ]
    )
    if m_rows:
        section += "\n".join(
            [
                "",
                "",
                "Memory: peak resident set of the whole process (model included) transcribing "
                "a sentence a minute over room tone at -45 dBFS.",
                "",
                "| audio | who | peak memory | words | time |",
                "|---|---|---|---|---|",
                *m_rows,
            ]
        )
    print(section)
    if args.write:
        write_section(args.write, section + "\n")


if __name__ == "__main__":
    main()
