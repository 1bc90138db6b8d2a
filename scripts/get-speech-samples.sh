#!/usr/bin/env bash
# Real speech to develop, test and benchmark against, from packages on PyPI (nothing installed):
#  - pocketsphinx 5.1.1 sdist (BSD-2-Clause, CMU): five LibriVox sentences from "Sense and
#    Sensibility" (public domain reading) with their transcripts, and "go forward ten meters";
#  - pyannote.audio 4.0.7 wheel (MIT): a 30 s telephone conversation between two speakers with its
#    speaker turns (sample.rttm).
# Unpacked into samples/speech/. See docs/speech.md for what each file is.
set -euo pipefail
cd "$(dirname "$0")/.."
out=samples/speech
[ -f "$out/two-speakers.rttm" ] && [ -f "$out/librivox-0930.txt" ] && exit 0
mkdir -p "$out"
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] && py=$(cd "$(dirname "$py")" && pwd)/$(basename "$py") || py=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" -m pip download --no-deps --no-binary :all: -q pocketsphinx==5.1.1 -d "$tmp" >/dev/null
"$py" -m pip download --no-deps --only-binary :all: -q pyannote.audio==4.0.7 -d "$tmp" >/dev/null
tar xzf "$tmp"/pocketsphinx-5.1.1.tar.gz -C "$tmp" pocketsphinx-5.1.1/test/data/librivox \
    pocketsphinx-5.1.1/test/data/goforward.raw pocketsphinx-5.1.1/LICENSE
data="$tmp/pocketsphinx-5.1.1/test/data"
for f in "$data"/librivox/sense_and_sensibility_01_austen_64kb-*.wav; do
    n=$(basename "$f" .wav); n=${n##*-}
    cp "$f" "$out/librivox-$n.wav"
    tr -s ' ' < "$data/librivox/sense_and_sensibility_01_austen_64kb-$n.txt" | sed 's/^ //' > "$out/librivox-$n.txt"
done
cp "$data/goforward.raw" "$out/goforward.raw"   # 16 kHz mono s16le: "go forward ten meters"
cp "$tmp/pocketsphinx-5.1.1/LICENSE" "$out/LICENSE.pocketsphinx"
(cd "$tmp" && "$py" -m zipfile -e pyannote_audio-4.0.7-py3-none-any.whl whl >/dev/null)
cp "$tmp/whl/pyannote/audio/sample/sample.wav" "$out/two-speakers.wav"
cp "$tmp/whl/pyannote/audio/sample/sample.rttm" "$out/two-speakers.rttm"
echo "speech samples: $(ls $out | tr '\n' ' ')"
