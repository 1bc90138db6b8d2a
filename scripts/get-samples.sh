#!/usr/bin/env bash
# Real footage to develop and test against: vtest.avi (pedestrians, 768x576) and friends from
# Debian's opencv-doc package, unpacked into samples/. Nothing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p samples
[ -f samples/vtest.avi ] && [ -f samples/Megamind.avi ] && [ -f samples/tree.avi ] && [ -d samples/photos ] && exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(
    cd "$tmp"
    if ! apt-get download opencv-doc >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq
            apt-get download opencv-doc >/dev/null
        else
            echo "samples: apt-get download opencv-doc failed (run 'apt-get update' as root)" >&2
            exit 1
        fi
    fi
    dpkg -x opencv-doc_*.deb x
)
data="$tmp/x/usr/share/doc/opencv-doc/examples/data"
for f in vtest.avi Megamind.avi tree.avi; do
    [ -f "$data/$f" ] && cp "$data/$f" samples/
done
mkdir -p samples/photos
cp "$data"/*.jpg "$data"/*.png samples/photos/ 2>/dev/null || true
echo "samples: $(ls samples | tr '\n' ' ')"
