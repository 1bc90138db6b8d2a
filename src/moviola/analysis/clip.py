"""Search by what a shot looks like: CLIP ViT-B/32 image and text embeddings in one space (the
store's ``clip-vit-b32``, fetched from its upstream home by ``moviola models fetch clip-vit-b32``).

When the model is in the cache, ``describe`` embeds each shot's middle frame (``extra
["image_embedding"]``: 512 float16 values, base64, so the description stays JSON) and ``search``
embeds the query with the text tower and scores every shot by the cosine of the two, mapped onto
the same 0..1 scale as the other scores (:func:`look_score`): CLIP's cosines for a picture and
a caption that fit lie around 0.26-0.35 and unrelated pairs around 0.12-0.20, so 0.18 maps to 0
and 0.32 to 0.9. Without the model everything works as before.

Pre-processing is CLIP's (transformers' CLIPImageProcessor): RGB, the short side resized to 224
and the long side to int(224 * long / short) with Pillow's bicubic filter, which widens its kernel
when it shrinks (a frame reduced 5x is low-passed first, not aliased as cv2's INTER_CUBIC would),
centre crop 224 x 224 at ((w - 224) // 2, (h - 224) // 2), /255, mean (0.48145466, 0.4578275,
0.40821073) and std (0.26862954, 0.26130258, 0.27577711). Text goes through the model's own
tokenizer.json (the ``tokenizers`` library: CLIP's byte-level BPE with <|startoftext|> and
<|endoftext|> around the words), truncated to 77 tokens with the end token kept last and padded to
77 with <|endoftext|>: exports of transformers' CLIP text tower pool at argmax(input_ids), the
first end token (the largest id); an ``attention_mask`` is fed only when the graph has that input.
The embedding is the output whose name ends in ``embeds`` (else the first N x D output),
L2-normalised.

Shots indexed before the model was fetched get their embeddings on the next ``moviola index``
without being described again (:func:`fill_looks`, for the files the library would otherwise
skip: their middle frames are decoded and embedded, nothing else).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moviola import models
from moviola.errors import MoviolaError

CLIP_MODEL = "clip-vit-b32"
SIZE = 224
CONTEXT = 77
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)
#: cosine -> score: LOW maps to 0, HIGH to 0.9 (see the module notes)
LOW, HIGH = 0.18, 0.32


def resized_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) after CLIP's resize: short side 224, long side int(224 * long / short)."""
    if width <= height:
        return SIZE, int(SIZE * height / width)
    return int(SIZE * width / height), SIZE


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """One RGB(A) uint8 picture -> 3 x 224 x 224 float32, as CLIP wants it."""
    from PIL import Image

    picture = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    h, w = picture.shape[:2]
    size = resized_size(w, h)
    resized = np.asarray(Image.fromarray(picture).resize(size, Image.Resampling.BICUBIC))
    y0, x0 = (size[1] - SIZE) // 2, (size[0] - SIZE) // 2
    crop = resized[y0 : y0 + SIZE, x0 : x0 + SIZE].astype(np.float32) / 255
    return np.ascontiguousarray(((crop - MEAN) / STD).transpose(2, 0, 1))


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _embedding_output(session: Any) -> str:
    named = [n for n in session.output_names if n.endswith("embeds")]
    if named:
        return named[0]
    for t in session.outputs:
        if len(t.shape) == 2:
            return t.name
    raise MoviolaError(f"{Path(session.path).name}: no N x D embedding among its outputs")


class ClipEncoder:
    """The two towers and the tokenizer in ``folder`` (the cached model's)."""

    def __init__(self, folder: str | Path) -> None:
        from tokenizers import Tokenizer

        from moviola.models.runtime import open_session

        folder = Path(folder)
        self.vision = open_session(folder / "vision.onnx")
        self.text = open_session(folder / "text.onnx")
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(CONTEXT)
        end = self.tokenizer.token_to_id("<|endoftext|>")
        self.tokenizer.enable_padding(
            length=CONTEXT, pad_id=end or 0, pad_token="<|endoftext|>" if end else "[PAD]"
        )
        self._vision_in = self.vision.input_names[0]
        self._vision_out = _embedding_output(self.vision)
        self._text_out = _embedding_output(self.text)

    def images(self, pictures: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 pictures -> N x D, unit length."""
        batch = np.stack([preprocess(p) for p in pictures])
        return _normalise(self.vision.run({self._vision_in: batch})[self._vision_out])

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> N x D, unit length."""
        encoded = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], np.int64)
        feeds = {"input_ids": ids}
        if "attention_mask" in self.text.input_names:
            feeds["attention_mask"] = np.array([e.attention_mask for e in encoded], np.int64)
        return _normalise(self.text.run(feeds)[self._text_out])


_shared: dict[Path, ClipEncoder] = {}


def encoder() -> ClipEncoder | None:
    """The cached model's encoder (loaded once per process), or None when it is not fetched."""
    if not models.is_cached(CLIP_MODEL):
        return None
    folder = models.ensure(CLIP_MODEL).parent
    if folder not in _shared:
        _shared[folder] = ClipEncoder(folder)
    return _shared[folder]


def pack(vector: np.ndarray) -> str:
    """An embedding as text for a JSON description: float16, base64."""
    return base64.b64encode(np.asarray(vector, "<f2").tobytes()).decode("ascii")


def unpack(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), "<f2").astype(np.float32)


def look_score(cosine: np.ndarray) -> np.ndarray:
    """CLIP cosines mapped onto the search's 0..1 scale (0.18 -> 0, 0.32 -> 0.9)."""
    return np.clip((np.asarray(cosine, np.float32) - LOW) / (HIGH - LOW) * 0.9, 0.0, 1.0)


def look_scores(query: str, descriptions: Sequence[dict[str, Any]]) -> np.ndarray | None:
    """Each shot's score for how well it looks like ``query`` (0 for shots described without
    the model), or None when no shot has an image embedding or the model is not fetched."""
    packed = [d.get("image_embedding") for d in descriptions]
    if not any(packed):
        return None
    enc = encoder()
    if enc is None:
        return None
    q = enc.texts([query])[0]
    cos = np.array([float(unpack(p) @ q) if p else -1.0 for p in packed], np.float32)
    return look_score(cos)


def middle_frame(start_frame: int, end_frame: int) -> int:
    """The frame describe embeds for a shot that begins with a cut (its middle content sample)."""
    return start_frame + (end_frame - start_frame + 1) // 2


def embed_frames(path: str | Path, frames: Sequence[int], batch: int = 16) -> dict[int, str]:
    """Packed embeddings of the given frames of a video (decoded once, in order, up to the last
    one wanted); {} when the model is not fetched. Frames past the end are left out."""
    enc = encoder()
    wanted = set(frames)
    if enc is None or not wanted:
        return {}
    from moviola.media.reader import VideoReader

    last = max(wanted)
    found: dict[int, str] = {}
    pending: list[tuple[int, np.ndarray]] = []

    def flush() -> None:
        if pending:
            vectors = enc.images([picture for _, picture in pending])
            found.update({i: pack(v) for (i, _), v in zip(pending, vectors, strict=True)})
            pending.clear()

    with VideoReader(path) as reader:
        for index, frame in enumerate(reader):
            if index in wanted:
                pending.append((index, frame.image))
                if len(pending) >= batch:
                    flush()
            if index >= last:
                break
    flush()
    return found


def fill_looks(
    path: str | Path, rows: Sequence[tuple[int, int, int, str]]
) -> tuple[list[tuple[str, int]], int]:
    """The library's upgrade for shots indexed before the model was fetched. ``rows``: (shot
    id, start frame, end frame, description JSON) of one file. Returns (new description JSON,
    shot id) for each shot that had no ``image_embedding`` and how many got one; a shot whose
    frame cannot be read gets an empty one, so it is not tried again. Nothing when the model is
    not fetched or no shot lacks one."""
    if not models.is_cached(CLIP_MODEL):
        return [], 0
    lacking = []
    for shot_id, start, end, text in rows:
        desc = json.loads(text)
        if "image_embedding" not in desc and desc.get("summary") != "shot not decoded":
            lacking.append((shot_id, middle_frame(start, end), desc))
    if not lacking:
        return [], 0
    looks = embed_frames(path, [frame for _, frame, _ in lacking])
    updates = []
    for shot_id, frame, desc in lacking:
        desc["image_embedding"] = looks.get(frame, "")
        updates.append((json.dumps(desc), shot_id))
    return updates, sum(1 for _, frame, _ in lacking if frame in looks)
