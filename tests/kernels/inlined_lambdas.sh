#!/bin/bash
# The int8 microkernels keep their sums in registers only when every lambda
# and unrolled<> step of a tile is inlined into it: once GCC put one store
# lambda of conv_tile out of line, and the whole model ran 1.25x slower with
# every test still passing. This fails when an optimised build has any of
# them as a function of its own.
# Usage: inlined_lambdas.sh BINARY
set -euo pipefail
binary=${1:?usage: inlined_lambdas.sh BINARY}
command -v nm >/dev/null || { echo "inlined_lambdas: nm not found (binutils)" >&2; exit 1; }
symbols=$(nm -C "$binary" | sed 's/^[0-9a-f]* [A-Za-z] //' | grep '^[^(]*osprey::int8_[a-z0-9_]*::' || true)
if [ -z "$symbols" ]; then
  echo "inlined_lambdas: no int8 microkernel symbols in $binary" >&2
  exit 1
fi
# A lambda's own operator() or an unrolled<> instantiation; walk_pixels<N,
# Lambda> is a function taking a tile lambda, not the lambda itself.
outlined=$(grep -E '\{lambda\([^)]*\)#[0-9]+\}::operator\(\)|::unrolled<' <<<"$symbols" |
           grep -v '^void osprey::int8_[a-z0-9_]*::(anonymous namespace)::walk_pixels<[0-9]*, [^{]*::{lambda([^)]*)#[0-9]*}>(' || true)
if [ -n "$outlined" ]; then
  echo "inlined_lambdas: $(wc -l <<<"$outlined") int8 kernel lambdas compiled out of line (mark them always_inline):" >&2
  cut -c1-240 <<<"$outlined" | head -20 >&2
  exit 1
fi
echo "inlined_lambdas: $(wc -l <<<"$symbols") int8 kernel symbols, no lambda out of line"
