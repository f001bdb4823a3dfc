#!/usr/bin/env bash
# Installs what osprey needs on Debian 12: build tools and libraries from the
# Debian archive, Node.js for the LiteRT and ONNX Runtime oracles, Chromium for MediaPipe's. Quiet when all is in place.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates xz-utils
  clang libclang-rt-14-dev lld
  flatbuffers-compiler libflatbuffers-dev
  libfmt-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev libfp16-dev
  libyuv-dev libjpeg62-turbo-dev libpng-dev libexif-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libglib2.0-dev libavdevice-dev opencv-doc
  libonnx-dev libonnx-testdata libprotobuf-dev
  chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]})); then
  echo "osprey: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "osprey: installing packages failed" >&2
    exit 1
  fi
  rm -f "$log"
fi
