#!/usr/bin/env bash
# Installs osprey's bbox and axparameter (cmake component "acap") into a
# temporary prefix, builds tests/acap/app.c with the Axis examples' flags
# through `pkg-config axparameter bbox`, and runs it: the manifest's default
# is read and the rectangle comes out of bbox as a JSON line.
# Usage: pkg_config_test.sh BUILD_DIR APP_C
set -euo pipefail
build=$1 app=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --component acap --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
PKGS="axparameter bbox gio-2.0"
CFLAGS="-Wall -Wextra -Wformat=2 -Wpointer-arith -Wbad-function-cast -Wstrict-prototypes -Wmissing-prototypes \
  -Winline -Wdisabled-optimization -Wfloat-equal -W -Werror"
# shellcheck disable=SC2046,SC2086
cc $CFLAGS $(pkg-config --cflags $PKGS) "$app" $(pkg-config --libs $PKGS) -o "$prefix/app"

cat >"$prefix/manifest.json" <<'JSON'
{"acapPackageConf": {"setup": {"appName": "detector"}, "configuration": {"paramConfig": [
  {"name": "ConfThresholdPercent", "default": "25", "type": "int:maxlen=3;min=0;max=100"}]}}}
JSON
out=$(cd "$prefix" && OSPREY_AXPARAMETER_DIR=$prefix/conf OSPREY_BBOX_OUTPUT=- LD_LIBRARY_PATH=$prefix/lib ./app 2>&1)
echo "$out"
grep -q '^ConfThresholdPercent 25$' <<<"$out"
grep -q '"kind":"rectangle","points":\[\[0.25,0.25\],\[0.5,0.75\]\]' <<<"$out"
# An app whose parameter is missing gets a clear error, not a crash.
if err=$(cd "$prefix" && OSPREY_AXPARAMETER_DIR=$prefix/conf LD_LIBRARY_PATH=$prefix/lib ./app other 2>&1); then
  echo "expected a failure for an app without the parameter" >&2; exit 1
fi
grep -q "no parameter 'ConfThresholdPercent'" <<<"$err"
