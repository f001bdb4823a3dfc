#!/usr/bin/env bash
# One command for the benchmarks: builds osprey (Release) and the FMA peak
# microbenchmark, makes sure the LiteRT harness and the zoo models are there,
# then measures osprey and LiteRT on every supported zoo model, float and
# quantized by `osprey quantize` (bench/int8.mjs; cached under
# $OSPREY_CACHE/quantized/), and ospreyd's uint8 against float job
# (bench/service.mjs), and writes docs/benchmarks.md, bench/results/ratios.png and bench/results/latest.json.
#
#   bench/run.sh [--runs N] [--warmup N] [--ref-runs N] [--rounds N] [--quiet-wait S] [--no-ref] [--no-int8] [--only NAME...]
#   bench/run.sh --quick [--only NAME...]
#     (the harness itself, int8 forms and ospreyd included, on two small
#     models with few runs; the report goes to $BUILD/bench/quick/)
#   bench/run.sh --contend [--runs N] [--rounds N] [--only NAME...]
#     (osprey's default thread setting against --threads 1 while one busy
#     process per core runs, float and per-tensor uint8 forms; the "Under
#     contention" section of the report)
#
# Environment: BUILD (build directory, default build), OSPREY_CACHE (zoo
# cache, default ~/.cache/osprey), MODELS_DIR (use these .tflite files
# instead of the cache; nothing is fetched).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export BUILD=${BUILD:-build}
export OSPREY_CACHE=${OSPREY_CACHE:-$HOME/.cache/osprey}

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_RULE_MESSAGES=OFF --log-level=WARNING >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" --target osprey ospreyd service_overhead_bench -- --no-print-directory -s >/dev/null

mkdir -p "$BUILD/bench"
cc -O2 -Wall -Wextra -pthread -o "$BUILD/bench/fma_peak" bench/fma_peak.c
cc -O2 -Wall -Wextra -pthread -o "$BUILD/bench/core_stalls" bench/core_stalls.c

if [ ! -f tools/litert/node_modules/.osprey-stamp ] && [ ! -d tools/litert/node_modules/@litertjs ]; then
  npm ci --prefix tools/litert --silent --no-audit --no-fund >/dev/null
fi

if [ -z "${MODELS_DIR:-}" ]; then
  node zoo/fetch.mjs --only models astronaut.png coffee.png messi5.jpg
  MODELS_DIR=$OSPREY_CACHE/models
fi

exec node bench/bench.mjs --osprey "$BUILD/bin/osprey" --fma-peak "$BUILD/bench/fma_peak" \
  --core-stalls "$BUILD/bench/core_stalls" \
  --service "$BUILD/bin/ospreyd,$BUILD/bin/service_overhead_bench" --models-dir "$MODELS_DIR" "$@"
