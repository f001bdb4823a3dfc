#!/usr/bin/env bash
# Installs libvdostream (cmake component "vdostream") into a temporary prefix,
# builds tests/vdo/app.c the way the Axis examples' Makefiles do
# (PKGS = gio-2.0 gio-unix-2.0 vdostream, their -W flags, -Werror), and runs
# it on vtest.avi: frames of the right size, then a clean end of the video.
# Usage: pkg_config_test.sh BUILD_DIR APP_C
set -euo pipefail
build=$1 app=$2
video=""
for v in "${OSPREY_CACHE:-$HOME/.cache/osprey}/media/vtest.avi" /usr/share/doc/opencv-doc/examples/data/vtest.avi; do
  [ -f "$v" ] && { video=$v; break; }
done
[ -n "$video" ] || { echo "skip: vtest.avi not found"; exit 77; }

prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --component vdostream --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
PKGS="gio-2.0 gio-unix-2.0 vdostream"
CFLAGS="-Wall -Wextra -Wformat=2 -Wpointer-arith -Wbad-function-cast -Wstrict-prototypes -Wmissing-prototypes \
  -Winline -Wdisabled-optimization -Wfloat-equal -W -Werror"
# shellcheck disable=SC2046,SC2086
cc $CFLAGS $(pkg-config --cflags $PKGS) "$app" $(pkg-config --libs $PKGS) -o "$prefix/app"
[ "$(pkg-config --variable=includedir vdostream)" -ef "$prefix/include" ]

out=$(OSPREY_VDO_SOURCE=$video OSPREY_VDO_LOOP=0 LD_LIBRARY_PATH=$prefix/lib "$prefix/app" 3)
echo "$out"
grep -q '^channel 1: 768x576 aspect 4:3$' <<<"$out"
[ "$(grep -c '^frame [0-9]* 320x240 size 115200 fd [0-9]* offset 0 sum ' <<<"$out")" -eq 3 ]

# With looping off, the app reaches the end of the video and stops cleanly.
frames=$(OSPREY_VDO_SOURCE=$video OSPREY_VDO_LOOP=0 LD_LIBRARY_PATH=$prefix/lib "$prefix/app" 100000)
grep -q '^end: end of video' <<<"$frames"
echo "$(grep -c '^frame ' <<<"$frames") frames, then: $(grep '^end:' <<<"$frames")"
