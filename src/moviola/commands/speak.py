"""``moviola speak TEXT -o OUT.wav`` and ``moviola voices``: narration from text, offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from moviola.errors import MoviolaError

MAX_SCRIPT = 4_000_000  # bytes of script text read (about 60 hours of speech)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "speak",
        help="text to speech (Kokoro-82M or Piper): a narration file, signed as synthetic",
        description=(
            "Speak TEXT (or a --script file) into an audio file, offline: Kokoro-82M (24 kHz) "
            "or Piper (22.05 kHz) through espeak-ng's English phonemes. Numbers, money, dates, "
            "times and abbreviations are read out; long scripts are spoken sentence by "
            "sentence and streamed to the file, with pauses at sentence and paragraph ends; the "
            "result is normalised to -23 LUFS (EBU R128; --loudness) and written in the "
            "format of OUT's extension (.wav, .flac, .mp3, .m4a, .ogg, .opus, .mka). The file "
            "is tagged and signed (C2PA) as synthetic speech. --like REF.wav searches Kokoro's "
            "voice space for the voice closest to a recording (see docs/voices.md)."
        ),
    )
    p.add_argument("text", nargs="?", help="what to say (or --script FILE)")
    p.add_argument("-o", "--output", required=True, help="audio file to write")
    p.add_argument("--script", metavar="FILE", help="a UTF-8 text file to read aloud")
    p.add_argument("--voice", help="voice name or blend like alpha:0.6+kumo:0.4 (`moviola voices`)")
    p.add_argument("--speed", type=float, default=1.0, help="speaking rate, 0.5-2 (default 1)")
    p.add_argument(
        "--loudness",
        type=float,
        default=-23.0,
        metavar="LUFS",
        help="integrated loudness of the result (default -23, EBU R128; -16 for podcasts)",
    )
    p.add_argument("--like", metavar="REF", help="match the voice of this recording (>= 2 s)")
    p.add_argument(
        "--save-voice", metavar="NAME", help="keep the --like voice under NAME for --voice"
    )
    p.add_argument(
        "--match-steps", type=int, default=48, help="--like search budget in syntheses (48)"
    )
    p.add_argument(
        "--convert",
        action="store_true",
        help="with --like: convert the speech toward REF's tone colour with OpenVoice V2 "
        "(upstream model: moviola models fetch openvoice-v2-converter)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)

    v = sub.add_parser(
        "voices",
        help="list the voices speak can use",
        description="List the voices of `moviola speak`: built-in, blends and saved voices.",
    )
    v.add_argument("--json", action="store_true", help="as JSON")
    v.set_defaults(func=run_voices)


def _text(args) -> str:
    if args.script and args.text:
        raise MoviolaError("give TEXT or --script FILE, not both")
    if args.script:
        path = Path(args.script)
        try:
            if path.stat().st_size > MAX_SCRIPT:
                raise MoviolaError(
                    f"{path} is over {MAX_SCRIPT // 1_000_000} MB; split the script (about 1 MB "
                    "of text is 15 hours of speech)"
                )
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise MoviolaError(f"cannot read script {path}: {e}") from None
    if args.text is None:
        raise MoviolaError("nothing to say: give TEXT or --script FILE")
    return args.text


def run(args) -> int:
    from moviola.media.pcm import check_audio_target
    from moviola.speech import voices

    text = _text(args)
    voices.text.check_speakable(text)
    out = Path(args.output)
    check_audio_target(out)
    if args.save_voice and not args.like:
        raise MoviolaError("--save-voice needs --like REF")
    if args.convert and not args.like:
        raise MoviolaError("--convert needs --like REF")
    if args.convert:  # before the search: never fetched behind the user's back
        from moviola.speech.voices.convert import require_converter

        require_converter()
    voice = voices.get_voice(args.voice) if not args.like else None
    say = (lambda *_: None) if args.quiet else _progress
    if args.like:
        from moviola.speech.voices.match import match_voice

        found = match_voice(args.like, steps=args.match_steps, progress=say)
        print(
            f"voice like {Path(args.like).name}: speaker similarity {found.similarity:.2f} "
            f"(best built-in {found.baseline_name} {found.baseline:.2f}), "
            f"word error {found.wer:.0%}",
            file=sys.stderr,
        )
        voice = found.voice
        if args.save_voice:
            saved = voices.save_voice(args.save_voice, found.style, **found.meta())
            print(f"saved voice {args.save_voice!r} ({saved})", file=sys.stderr)
    convert = None
    if args.convert:
        from moviola.speech.voices.convert import toward

        convert = toward(args.like, voice, args.speed)
    result = voices.speak(
        text, out, voice, speed=args.speed, loudness=args.loudness, progress=say, convert=convert
    )
    _sign(result.path)
    print(
        f"{result.path}: {result.seconds:.1f} s of speech, {result.sentences} sentences, voice "
        f"{result.voice}, {result.realtime:.1f}x real time"
    )
    return 0


def _sign(path: Path) -> None:
    from moviola.media import provenance

    try:  # C2PA Content Credentials: trainedAlgorithmicMedia (docs/provenance.md)
        provenance.sign(path, kind="speech", tool="speak")
    except MoviolaError as e:
        raise MoviolaError(f"wrote {path} (synthetic speech) but did not sign it: {e}") from None


def _progress(count: int, sentence: str) -> None:
    print(f"  [{count}] {sentence[:70]}", file=sys.stderr)


def run_voices(args) -> int:
    from moviola.speech import voices

    listed = [v.as_dict() for v in voices.all_voices()]
    if args.json:
        print(json.dumps(listed, indent=2))
        return 0
    for v in listed:
        gender = v["gender"] or "-"
        print(
            f"{v['name']:<12} {v['engine']:<7} {v['language']:<6} {gender:<7} "
            f"{v['sample_rate']:>6} Hz  {v['license'][:24]:<24} {v['description']}"
        )
    return 0
