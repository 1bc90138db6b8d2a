#!/usr/bin/env bash
# The demo: moviola's main jobs on real footage (vtest.avi from Debian's opencv-doc) and on a
# clip it makes itself (moving picture, flash frames, click track). Results go to demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
M=.venv/bin/moviola
OUT=demo-out
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== probe the real footage"
$M probe samples/vtest.avi

echo "== the first 20 s, scaled to 720p at exactly 29.97 fps (one decode, one encode pass)"
$M chain samples/vtest.avi -o "$OUT/vtest_720p_2997.mp4" --end 20 \
    "resize:width=960,height=720" "fps:rate=30000/1001" -q

echo "== a clip with audio, made here: flashes at 0.5/1.5/2.5 s with a click on each"
.venv/bin/python -c "from moviola.media import synth; synth.make_clip('$OUT/sample.mp4', \
width=640, height=360, duration=3.2)"

echo "== trim, speed up 1.5x and convert to 50 fps: audio follows"
$M chain "$OUT/sample.mp4" -o "$OUT/sample_fast.mp4" "trim:start=0.25" "speed:factor=1.5" \
    "fps:rate=50" -q
.venv/bin/python - "$OUT/sample_fast.mp4" <<'PY'
import sys
from moviola.media.synth import click_times, flash_times
f, c = flash_times(sys.argv[1]), click_times(sys.argv[1])
print("flash frames at", [round(x, 3) for x in f], "s; clicks at", [round(float(x), 3) for x in c],
      "s; worst offset", round(max(abs(a - b) for a, b in zip(f, c)) * 1000, 1), "ms")
PY

echo "== background removal (RobustVideoMatting): alpha in ProRes 4444, and over green"
$M matte samples/vtest.avi -o "$OUT/vtest_matte.mov" --end 4 -q
$M matte samples/vtest.avi -o "$OUT/vtest_green.mp4" --background green --end 4 -q

echo "== frame interpolation (RIFE): animation at 23.976 -> 59.94 fps, no morphing at cuts"
$M chain samples/Megamind.avi -o "$OUT/megamind_5994.mp4" --start 7.5 --end 9.5 \
    "resize:width=360" "interpolate:fps=60000/1001" -q

echo "== super-resolution (Real-ESRGAN animevideov3 x3): 256x192 -> 768x576"
$M chain samples/vtest.avi -o "$OUT/vtest_upscaled_x3.mp4" --end 1 "resize:width=256" \
    "upscale:scale=3" -q

echo "== colorize: 3 s of vtest made gray, coloured again from its first frame, carried along motion"
.venv/bin/python - "$OUT" <<'PY'
import sys
import cv2
import numpy as np
from moviola.media import VideoReader, VideoWriter
out = sys.argv[1]
with VideoReader("samples/vtest.avi", end=3) as reader:
    writer = VideoWriter(out + "/vtest_gray.mp4", reader.stream_info)
    for i, frame in enumerate(reader):
        if i == 0:
            cv2.imwrite(out + "/vtest_first_frame.png", cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR))
        gray = cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY)
        writer.write(frame.with_image(np.repeat(gray[..., None], 3, axis=2)))
    writer.close()
PY
$M colorize "$OUT/vtest_gray.mp4" -o "$OUT/vtest_colorized.mp4" \
    --reference "$OUT/vtest_first_frame.png" -q

echo "== stylize: a cartoon look, steadied over time; a 3D-photo move from a photo and its depth"
$M stylize samples/vtest.avi -o "$OUT/vtest_cartoon.mp4" --end 3 --filter cartoon --smooth 0.6 -q
$M parallax samples/photos/aloeL.jpg -o "$OUT/aloe_parallax.mp4" \
    --depth samples/photos/aloeGT.png --move circle --seconds 2 -q

echo "== editing assistant: shots of Megamind.avi, described, exported for an editor"
$M shots samples/Megamind.avi -o "$OUT/megamind_shots.json" -q
$M describe samples/Megamind.avi --shots "$OUT/megamind_shots.json" -o "$OUT/megamind_described.json" -q
$M export samples/Megamind.avi --shots "$OUT/megamind_described.json" -o "$OUT/megamind.otio"
$M export samples/Megamind.avi --shots "$OUT/megamind_described.json" -o "$OUT/megamind.edl"
$M export samples/Megamind.avi --shots "$OUT/megamind_described.json" -o "$OUT/megamind_contact.png"

echo "== what is said: Megamind.avi transcribed (two speakers), subtitled as a track and burned in"
$M transcribe samples/Megamind.avi -o "$OUT/megamind.srt" --speakers 2 -q
cat "$OUT/megamind.srt"
$M subtitle samples/Megamind.avi -o "$OUT/megamind_subtitled.mkv" --from "$OUT/megamind.srt"
$M subtitle samples/Megamind.avi -o "$OUT/megamind_captions.mp4" --from "$OUT/megamind.srt" --burn -q
$M cut samples/Megamind.avi -o "$OUT/megamind_one_line.mp4" --keep "judge a book by its cover"

echo "== music: Megamind.avi scored (cuts on beats, ducked under the dialogue), and music alone"
$M score samples/Megamind.avi --mood epic -o "$OUT/megamind_scored.mkv" --midi "$OUT/megamind_score.mid"
$M score --seconds 20 --mood calm -o "$OUT/calm.flac"

echo
echo "demo results in $OUT/:"
for f in "$OUT"/*; do
    case "$f" in
        *.mp4|*.mov|*.mkv|*.webm|*.gif) $M probe "$f" | head -2 ;;
        *) echo "$f" ;;
    esac
done
