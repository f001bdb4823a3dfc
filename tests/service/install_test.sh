#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then build Larod programs the way
# the Axis examples do: flags from `pkg-config --cflags --libs liblarod`,
# -Wall -Wextra -Werror, nothing from the source tree. Runs against a private
# ospreyd (run_with_daemon.sh). usage: install_test.sh BUILD_DIR SOURCE_DIR
set -u
build=$1 src=$2
tmp=$OSPREY_TEST_TMP
prefix=$tmp/prefix
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
for f in include/larod.h include/larod-version.h lib/liblarod.so.3 lib/liblarod.so bin/ospreyd bin/osprey \
         bin/osprey-client lib/pkgconfig/liblarod.pc lib/systemd/user/ospreyd.service; do
  [ -e "$prefix/$f" ] && ok "installed $f" || fail "missing $prefix/$f"
done
grep -q "^ExecStart=$prefix/bin/ospreyd$" "$prefix/lib/systemd/user/ospreyd.service" ||
  fail "the systemd unit does not name the installed ospreyd"
# Only the Larod API leaves liblarod (its version script).
if nm -D --defined-only "$prefix/lib/liblarod.so.3" | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep -v '^larod' | grep -q .; then
  fail "liblarod exports symbols other than larod*"
fi

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs liblarod) || { fail "pkg-config liblarod"; exit 1; }
echo "pkg-config --cflags --libs liblarod: $flags"
[ "$(pkg-config --modversion liblarod)" = "3.6.0" ] || fail "liblarod.pc version is not 3.6.0"
# The flags point into the prefix, not the build or source tree.
case "$flags" in *"$build"* | *"$src"*) fail "pkg-config flags point outside the prefix" ;; esac

# The 72-prototype header check, compiled and run against the installed library.
cc -std=c11 -Wall -Wextra -Wpedantic -Werror "$src/tests/service/larod_header_test.c" $flags \
  -Wl,-rpath,"$prefix/lib" -o "$tmp/header_test" && ok "header test builds through pkg-config" ||
  fail "header test does not build through pkg-config"
if [ -x "$tmp/header_test" ]; then
  "$tmp/header_test" | grep -q "API 3.6" && ok "header test runs" || fail "header test run"
  ldd "$tmp/header_test" | grep -q "$prefix/lib/liblarod.so.3" || fail "not linked against the installed liblarod"
fi

# A small application written as the public examples are (LAROD_API_VERSION_3,
# the examples' warning flags), run against ospreyd.
cat >"$tmp/app.c" <<'APP'
#include <stdio.h>
#include <stdlib.h>
#include "larod.h"
int main(void) {
  larodError* error = NULL;
  larodConnection* conn = NULL;
  if (!larodConnect(&conn, &error)) {
    fprintf(stderr, "connect: %s\n", error->msg);
    return 1;
  }
  larodTensor** t = larodCreateTensors(1, &error);
  if (!t || !larodBuildTensorDims(t[0], LAROD_TENSOR_LAYOUT_420SP, 640, 480, 3, &error) ||
      !larodBuildTensorPitches(t[0], LAROD_TENSOR_LAYOUT_420SP, 640, 480, 3, &error)) {
    fprintf(stderr, "tensor: %s\n", error ? error->msg : "?");
    return 1;
  }
  size_t n = 0, bytes = 0;
  const larodDevice** devs = larodListDevices(conn, &n, &error);
  larodGetTensorByteSize(t[0], &bytes, &error);
  printf("larod %d.%d: %zu devices, NV12 640x480 = %zu bytes\n", LAROD_VERSION_MAJOR, LAROD_VERSION_MINOR, n,
         bytes);
  free(devs);
  larodDestroyTensors(conn, &t, 1, NULL);
  larodDisconnect(&conn, NULL);
  return 0;
}
APP
cc -DLAROD_API_VERSION_3 -Wall -Wformat=2 -Wpointer-arith -Wbad-function-cast -Wstrict-prototypes \
  -Wmissing-prototypes -Winline -Wdisabled-optimization -Wfloat-equal -W -Wextra -Werror \
  "$tmp/app.c" $flags -Wl,-rpath,"$prefix/lib" -o "$tmp/app" && ok "example-style app builds" ||
  fail "example-style app does not build"
[ -x "$tmp/app" ] && { "$tmp/app" | grep -q "devices, NV12 640x480 = 460800 bytes" && ok "app runs" || fail "app run"; }

# The repository's camera example, when FFmpeg's development files are there.
if pkg-config --exists libavformat libavcodec libavutil libswscale; then
  cc -std=c11 -Wall -Wextra -Werror "$src/examples/camera_pipeline.c" \
    $(pkg-config --cflags --libs liblarod libavformat libavcodec libavutil libswscale) -lm \
    -o "$tmp/camera_pipeline" && ok "camera_pipeline builds through pkg-config" ||
    fail "camera_pipeline does not build through pkg-config"
else
  echo "note: FFmpeg development files missing; camera_pipeline not built"
fi

# The installed client finds the installed library by itself ($ORIGIN rpath).
env -u LD_LIBRARY_PATH "$prefix/bin/osprey-client" -a >"$tmp/list.out" 2>&1 && grep -q cpu-tflite "$tmp/list.out" &&
  ok "installed osprey-client lists devices" || { fail "installed osprey-client -a"; cat "$tmp/list.out"; }
ldd "$prefix/bin/osprey-client" | grep -q "$prefix/bin/../lib/liblarod.so.3\|$prefix/lib/liblarod.so.3" ||
  fail "installed osprey-client does not use the installed liblarod"
exit $failures
