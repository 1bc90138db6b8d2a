"""What is said in each shot: a transcript's words shared out among the shots.

``describe`` and ``index`` transcribe a clip once (:mod:`moviola.speech.transcribe`; files with
no audio, or no speech, get none) and give every shot the words whose middle falls in it:
``shot.extra["dialogue"]`` is their text and ``shot.extra["words"]`` the words with their times
(``[start, end, word]``, seconds in the source), which is what dialogue search and the exports'
captions use. :func:`find_phrase` locates a phrase in a shot's words (the search's "what is
said" half): the longest run of the phrase's words found in order, allowing a word or two that
Whisper heard differently.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from moviola.analysis.model import ShotList
from moviola.speech.transcript import normalize_word, words_of


def has_audio(path: str | Path) -> bool:
    from moviola.media.probe import probe

    return bool(probe(path).audio)


def attach_dialogue(
    path: str | Path,
    shots: ShotList,
    *,
    model: str = "whisper-tiny-en",
    transcript: Any = None,
    progress: Callable[[float, float | None], None] | None = None,
) -> Any:
    """Transcribe ``path`` (unless ``transcript`` is given) and put each shot's words in its
    ``extra``. Returns the transcript, or None when the file has no audio."""
    if transcript is None:
        if not has_audio(path):
            return None
        from moviola.speech.transcribe import Transcriber

        transcript = Transcriber(model).transcribe(path, progress=progress)
    order = sorted(shots.shots, key=lambda s: s.start)
    for shot in order:
        shot.extra.pop("dialogue", None)
        shot.extra.pop("words", None)
    k = 0
    for w in transcript.words:
        mid = (w.start + w.end) / 2
        while k + 1 < len(order) and mid >= float(order[k].end):
            k += 1
        if not order or not (float(order[k].start) <= mid < float(order[k].end)):
            continue
        shot = order[k]
        shot.extra.setdefault("words", []).append([round(w.start, 3), round(w.end, 3), w.text])
    for shot in order:
        words = shot.extra.get("words")
        if words:
            shot.extra["dialogue"] = "".join(w[2] for w in words).strip()
    return transcript


def find_phrase(query: str, words: Sequence[Sequence[Any]]) -> tuple[float, float, str] | None:
    """Where ``query`` is said among ``words`` ([start, end, word], in order): (share of the
    query's words found in order, time of the first found word, the words found), or None."""
    q = words_of(query)
    said = [normalize_word(str(w[2])) for w in words]
    if not q or not said:
        return None
    m = difflib.SequenceMatcher(None, said, q, autojunk=False)
    blocks = [b for b in m.get_matching_blocks() if b.size]
    if not blocks:
        return None
    found = sum(b.size for b in blocks)
    first, last = blocks[0].a, blocks[-1].a + blocks[-1].size
    if last - first > 2 * len(q) + 2:  # scattered over the shot: not the phrase
        best = max(blocks, key=lambda b: b.size)
        found, first, last = best.size, best.a, best.a + best.size
    text = "".join(str(w[2]) for w in words[first:last]).strip()
    return found / len(q), float(words[first][0]), text
