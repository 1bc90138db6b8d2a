"""Cutting by what is said: which stretches of a recording to keep.

Three rules, combinable (a stretch is kept when every rule given keeps it):

- **silence**: Silero VAD's speech regions (not a loudness threshold: room tone, hum and music
  beds are not speech), each widened by ``margin``; silences shorter than ``min_silence`` stay.
- **fillers**: the words of the transcript that are hesitations (um, uh, erm, hmm...) are
  removed. Whisper tends to leave hesitations out of its text, so the transcript for this is
  made with a prompt full of them, which makes Whisper write them down (the trick the Whisper
  authors describe for verbatim transcripts).
- **keep**: text-based editing. Each given text picks the sentence of the transcript that
  holds most of its words in order (at least 60 %; ties go to the sentence closest to it as a
  whole), each pick after the previous one; only those
  sentences are kept, from their first word to their last, widened by ``margin``.

The result is a list of (start, end) seconds, handed to :mod:`moviola.media.splice` to render
or to the timeline exports.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence

from moviola.errors import MoviolaError
from moviola.speech.transcript import Transcript, Word, normalize_word, words_of

FILLERS = frozenset({"um", "umm", "uh", "uhm", "uhhuh", "erm", "er", "hmm", "mm", "ah", "eh"})
#: A prompt in which Whisper sees hesitations written down, so that it writes them too.
FILLER_PROMPT = "Umm, let me think like, hmm... Okay, uh, here's what I'm, like, thinking. Erm."

Span = tuple[float, float]


def speech_spans(
    path: str | os.PathLike, *, min_silence: float = 0.5, margin: float = 0.15
) -> list[Span]:
    """Speech regions of a file's audio (seconds)."""
    from moviola.media.pcm import decode_mono
    from moviola.speech.vad import RATE, SpeechDetector

    det = SpeechDetector(min_silence=min_silence, pad=margin, min_speech=0.1)
    spans: list[Span] = []
    for chunk in decode_mono(path, RATE):
        spans += [r.seconds for r in det.feed(chunk)]
    return spans + [r.seconds for r in det.finish()]


def filler_words(transcript: Transcript) -> list[Word]:
    return [w for w in transcript.words if normalize_word(w.text) in FILLERS]


def without(spans: Sequence[Span], holes: Iterable[Span]) -> list[Span]:
    """``spans`` with the ``holes`` taken out."""
    out = [tuple(s) for s in spans]
    for ha, hb in sorted(holes):
        nxt: list[tuple[float, ...]] = []
        for a, b in out:
            if hb <= a or ha >= b:
                nxt.append((a, b))
                continue
            if ha > a:
                nxt.append((a, ha))
            if hb < b:
                nxt.append((hb, b))
        out = nxt
    return [(a, b) for a, b in out if b - a > 1e-6]


def intersect(x: Sequence[Span], y: Sequence[Span]) -> list[Span]:
    out = []
    for a, b in x:
        for c, d in y:
            lo, hi = max(a, c), min(b, d)
            if hi > lo:
                out.append((lo, hi))
    return sorted(out)


def sentences(transcript: Transcript) -> list[list[Word]]:
    """The transcript's words grouped into sentences (ending in . ? or !)."""
    out: list[list[Word]] = [[]]
    for w in transcript.words:
        out[-1].append(w)
        if w.text.strip().endswith((".", "?", "!")):
            out.append([])
    return [s for s in out if s]


def keep_text(transcript: Transcript, wanted: Sequence[str], margin: float = 0.15) -> list[Span]:
    """The sentences that best match each wanted text, in order (text-based editing)."""
    sents = sentences(transcript)
    if not sents:
        raise MoviolaError("the transcript has no words: nothing to keep")
    spans: list[Span] = []
    at = 0
    for text in wanted:
        target = words_of(text)
        if not target:
            raise MoviolaError(f"--keep {text!r} has no words")
        best, best_score = -1, (0.0, 0.0)
        for i in range(at, len(sents)):
            words = [normalize_word(w.text) for w in sents[i]]
            m = difflib.SequenceMatcher(None, target, words)
            found = sum(b.size for b in m.get_matching_blocks()) / len(target)
            score = (found, m.ratio())  # most of the text found, then the closest sentence
            if score > best_score:
                best, best_score = i, score
        if best < 0 or best_score[0] < 0.6:
            raise MoviolaError(f"no sentence after the previous pick matches --keep {text!r}")
        s = sents[best]
        spans.append((max(s[0].start - margin, 0.0), s[-1].end + margin))
        at = best + 1
    return spans
