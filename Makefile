# osprey: the two commands of the README are `make demo` and `make test`.
# Each installs what it needs (Debian packages, npm packages, models), builds,
# and runs; each is idempotent and quiet when there is nothing to do.

SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
OSPREY_CACHE ?= $(HOME)/.cache/osprey
export OSPREY_CACHE
CMAKE_QUIET := -DCMAKE_RULE_MESSAGES=OFF --log-level=WARNING
# ccache, where installed, lets clones and rebuilds share compiled objects.
CCACHE := $(if $(shell command -v ccache),-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
# Lets ccache cache the files built with a precompiled header (CMakeLists.txt).
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
BUILD_QUIET := -- --no-print-directory -s

.PHONY: all build asan-build deps node-deps models test unit-test asan-test diff-test fuzz-test fuzz bench bench-contend demo clean format install
.PHONY: onnx-test bench-onnx check-headers

all: build

deps:
	@bash scripts/install-deps.sh

# LiteRT (the TFLite runtime in WebAssembly) is the oracle of the tests.
node-deps: tools/litert/node_modules/.osprey-stamp tools/onnxruntime/node_modules/.osprey-stamp
tools/litert/node_modules/.osprey-stamp: tools/litert/package.json tools/litert/package-lock.json | deps
	@npm ci --prefix tools/litert --silent --no-audit --no-fund >/dev/null
	@touch $@
# ONNX Runtime (native) is the oracle for .onnx models; its install script
# downloads optional extras from a host we don't need, so it is skipped.
tools/onnxruntime/node_modules/.osprey-stamp: tools/onnxruntime/package.json tools/onnxruntime/package-lock.json | deps
	@npm ci --prefix tools/onnxruntime --ignore-scripts --silent --no-audit --no-fund >/dev/null
	@touch $@

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CCACHE) $(CMAKE_QUIET) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j$(JOBS) $(BUILD_QUIET) | { grep -v -E '^\[ *[0-9]+%\] Built target' || true; }

# AddressSanitizer + UndefinedBehaviorSanitizer build, with clang for libFuzzer.
$(ASAN_BUILD)/CMakeCache.txt: | deps
	@CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DOSPREY_SANITIZE=ON -DOSPREY_FUZZ=ON $(CCACHE) $(CMAKE_QUIET) >/dev/null

# Only what the sanitizer tests run (the sanitizer_checks target, CMakeLists.txt).
asan-build: deps $(ASAN_BUILD)/CMakeCache.txt
	@cmake --build $(ASAN_BUILD) -j$(JOBS) --target sanitizer_checks $(BUILD_QUIET) | { grep -v -E '^\[ *[0-9]+%\] Built target' || true; }

models: deps
	@node zoo/fetch.mjs

unit-test: build models
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS) -L unit

asan-test: asan-build models
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) -L 'unit|malformed|daemon' -E '^RealModels\.'

fuzz-test: asan-build models
	@cd $(ASAN_BUILD) && ctest --output-on-failure -L fuzz

# Node as the tests run it (cmake/tests.cmake: OSPREY_NODE), with a bound:
# a hang is a named failure, not CI's kill at 90 minutes.
TEST_NODE := timeout --verbose 1200 node --single-threaded

# Every zoo model against LiteRT, through the fast path and the reference kernels.
diff-test: build models node-deps
	@OSPREY_BIN=$(BUILD)/bin/osprey $(TEST_NODE) tests/differential/run.mjs --backend osprey-avx512,xnnpack
	@OSPREY_BIN=$(BUILD)/bin/osprey $(TEST_NODE) tests/differential/run.mjs --backend ref

test: build asan-build models node-deps
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS) -LE fuzz
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) -L 'unit|malformed|fuzz|daemon' -E '^RealModels\.'
	@$(MAKE) --no-print-directory diff-test

# A long fuzzing session (not part of `make test`), the model loader, the
# ONNX importer and the quantizer, FUZZ_SECONDS each: FUZZ_SECONDS=3600 make fuzz
FUZZ_SECONDS ?= 600
fuzz: asan-build models
	@mkdir -p out/fuzz-corpus out/fuzz-onnx-corpus
	@bash tests/fuzz/make_op_seeds.sh $(ASAN_BUILD)/bin/make_random_op_model \
	  $(ASAN_BUILD)/bin/make_squared_difference_model $(ASAN_BUILD)/bin/make_landmark_ops_model out/fuzz-seeds
	@$(ASAN_BUILD)/bin/fuzz_model_loader -max_total_time=$(FUZZ_SECONDS) out/fuzz-corpus \
	  out/fuzz-seeds $(OSPREY_CACHE)/models
	@bash tests/fuzz/make_onnx_seeds.sh $(ASAN_BUILD)/bin/osprey out/fuzz-onnx-seeds
	@$(ASAN_BUILD)/bin/fuzz_onnx_import -max_total_time=$(FUZZ_SECONDS) out/fuzz-onnx-corpus \
	  out/fuzz-onnx-seeds
	@mkdir -p out/fuzz-quant-corpus out/fuzz-quant-seeds
	@cp out/fuzz-seeds/*-float.tflite out/fuzz-quant-seeds/
	@$(ASAN_BUILD)/bin/fuzz_quantizer -max_total_time=$(FUZZ_SECONDS) out/fuzz-quant-corpus out/fuzz-quant-seeds

# Regenerates docs/benchmarks.md (osprey vs LiteRT on every zoo model).
# BENCH_MODELS="a b" limits it to some models (a short run, e.g. for a smoke test).
# BENCH_ROUNDS rounds (default 3, about 17 minutes on 2 cores), best median
# kept: one round's figures move with the host's other tenants.
BENCH_MODELS ?=
BENCH_ROUNDS ?= 3
BENCH_ONLY := $(if $(strip $(BENCH_MODELS)),--only $(BENCH_MODELS))
bench: build models node-deps
	@bash bench/run.sh --rounds $(BENCH_ROUNDS) $(BENCH_ONLY)
	@$(MAKE) --no-print-directory bench-onnx

# The "Under contention" table: default threads against --threads 1 with one
# busy process per core (started and stopped by the harness).
bench-contend: build models node-deps
	@bash bench/run.sh --contend $(BENCH_ONLY)

# ONNX import alone: ONNX's node tests and the PP-OCR models against ONNX
# Runtime (ctest label onnx; `make test` runs them too).
onnx-test: build models node-deps
	@cmake -S . -B $(BUILD) -DOSPREY_ONNX_TESTS=ON $(CMAKE_QUIET) >/dev/null
	@cd $(BUILD) && ctest --output-on-failure -L onnx

# The PP-OCR ONNX models in osprey and ONNX Runtime, 1 and 2 threads: the
# "ONNX models" section of docs/benchmarks.md.
bench-onnx: build models node-deps
	@OSPREY_BIN=$(BUILD)/bin/osprey node bench/onnx.mjs --write docs/benchmarks.md

# The harness on two small models with few runs (int8 forms and ospreyd
# included); writes build/bench/quick/, not docs/.
.PHONY: bench-quick
bench-quick: build models node-deps
	@bash bench/run.sh --quick $(BENCH_ONLY)

# Every header compiles on its own (cmake/header_check.cmake; about two
# minutes on 2 cores, not part of `make test`).
check-headers: build
	@cmake --build $(BUILD) -j$(JOBS) --target osprey_header_check $(BUILD_QUIET) | { grep -v -E '^\[ *[0-9]+%\] Built target' || true; }

demo: build models
	@bash scripts/demo.sh $(BUILD)/bin/osprey

# liblarod.so.3, larod.h, larod-version.h, liblarod.pc, ospreyd, osprey and
# osprey-client under PREFIX (apps then build with `pkg-config liblarod`).
PREFIX ?= /usr/local
install: build
	@set -o pipefail; cmake --install $(BUILD) --prefix $(abspath $(PREFIX)) | { grep -v -E '^-- (Install configuration|Up-to-date)' || true; }

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	@rm -rf $(BUILD) $(ASAN_BUILD) out

# MediaPipe's JS solutions in headless Chromium are the landmark oracle
# (tools/mediapipe); puppeteer-core drives Debian's chromium.
node-deps: tools/mediapipe/node_modules/.osprey-stamp
tools/mediapipe/node_modules/.osprey-stamp: tools/mediapipe/package.json tools/mediapipe/package-lock.json | deps
	@npm ci --prefix tools/mediapipe --silent --no-audit --no-fund >/dev/null
	@touch $@
