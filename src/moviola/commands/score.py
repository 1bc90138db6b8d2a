"""`moviola score`: an original piece scored to a video, or music alone (see
moviola.generate.score)."""

from __future__ import annotations

import argparse
import json

from moviola.commands._shared import bounded


def add_parser(sub) -> None:
    from moviola.generate.score.moods import MOODS, STYLES

    p = sub.add_parser(
        "score",
        help="compose music to a video: hits on the cuts, intensity following the picture",
        description=(
            "Compose an original piece exactly as long as the video, with its cuts on beats "
            "(the strongest on downbeats, with a hit or a new section), intensity following "
            "motion and brightness, an intro and an ending; mixed under the video's sound "
            "(ducked under speech) or replacing it. The music is composed by a small model "
            "trained on public-domain music (music21's corpus) and played with the FluidR3_GM "
            "soundfont. Example: moviola score edit.mp4 --mood tense -o scored.mp4; "
            "moviola score --seconds 30 --mood calm -o music.wav"
        ),
    )
    p.add_argument("video", nargs="?", metavar="VIDEO", help="the video to score")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="a video (.mp4 .mov .mkv .webm): the video with music; or audio (.wav .flac .mp3 "
        ".m4a .ogg): the music alone",
    )
    p.add_argument(
        "--seconds",
        type=bounded(float, 1, 3 * 3600),
        metavar="S",
        help="music of this length with no video",
    )
    p.add_argument("--mood", default="calm", help=f"one of {', '.join(MOODS)} (default calm)")
    p.add_argument(
        "--style", help=f"instruments: one of {', '.join(STYLES)} (default: the mood's own)"
    )
    p.add_argument("--tempo", default="auto", metavar="auto|BPM", help="auto (default) or a BPM")
    p.add_argument(
        "--seed", type=bounded(int, 0, 2**32 - 1), default=0, help="another piece (default 0)"
    )
    p.add_argument("--midi", metavar="FILE.mid", help="also write the score as a MIDI file")
    p.add_argument("--stems", metavar="DIR", help="also write each instrument group as a WAV")
    p.add_argument(
        "--replace-audio",
        action="store_true",
        help="the music replaces the video's sound (default: mixed under it, ducked under speech)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from moviola.errors import MoviolaError
    from moviola.generate.score import make_music, score_video

    common = dict(
        mood=args.mood,
        style=args.style,
        tempo=args.tempo,
        seed=args.seed,
        midi=args.midi,
        stems=args.stems,
    )
    if args.video and args.seconds:
        raise MoviolaError("score: give a VIDEO or --seconds, not both")
    if args.video:
        result = score_video(args.video, args.output, replace_audio=args.replace_audio, **common)
    elif args.seconds:
        result = make_music(args.seconds, args.output, **common)
    else:
        raise MoviolaError("score: give a VIDEO to score, or --seconds S for music alone")
    if args.json:
        print(
            json.dumps(
                {
                    "output": str(result.output),
                    "seconds": round(result.seconds, 4),
                    "mood": result.mood,
                    "style": result.style,
                    "key": result.key,
                    "audio": result.audio,
                    "sections": result.sections,
                    "cuts": result.cuts,
                    "cuts_on_beat": round(result.on_beat, 4),
                    "cuts_on_bar": round(result.on_bar, 4),
                    "hits": result.hits,
                    "notes": result.notes,
                    "loudness_lufs": round(result.loudness, 2),
                    "peak_dbfs": round(result.peak_db, 2),
                    "ducked_under_speech": result.ducked,
                    "times_real_time": round(result.speed, 2),
                    "midi": str(result.midi) if result.midi else None,
                    "stems": [str(p) for p in result.stems],
                    "note": result.fallback,
                    "beat_times": [round(t, 4) for t in result.beats],
                    "bar_times": [round(t, 4) for t in result.bar_lines],
                },
                indent=2,
            )
        )
    else:
        tempos = ", ".join(f"{s['bpm']:.0f}" for s in result.sections)
        cuts = (
            f"{result.cuts} cuts, {result.on_beat:.0%} on a beat, {result.hits} hits; "
            if result.cuts
            else ""
        )
        n = len(result.sections)
        sound = {
            "mixed": f"under the video's sound (ducked under {result.ducked} stretches of speech), ",
            "replaced": "replacing the video's sound, ",
        }.get(result.audio, "")
        print(
            f"wrote {result.output}: {result.seconds:.2f} s of {result.mood} music "
            f"({result.style}, {result.key}, {n} section{'s' if n != 1 else ''} at {tempos} BPM); "
            f"{cuts}{sound}{result.loudness:.1f} LUFS, {result.speed:.1f}x real time"
            f"{'; ' + result.fallback if result.fallback else ''}"
        )
    return 0
