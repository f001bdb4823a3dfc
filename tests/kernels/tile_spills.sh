#!/bin/bash
# The dense int8 tiles keep their sums in registers only while GCC turns
# their arrays of sums into registers, which it does when every loop over
# them is unrolled (int8_microkernels.inc, conv_tile). Kept on the stack,
# the sums cost a 56x56 24 -> 144 layer a third more time, with every test
# still passing. This fails when an optimised build's hot tiles touch the
# stack with vector registers more than a bound (161 and 86 accesses when
# the sums lived there, 40 and 28 since).
# Usage: tile_spills.sh BINARY
set -euo pipefail
binary=${1:?usage: tile_spills.sh BINARY}
for tool in nm objdump; do
  command -v $tool >/dev/null || { echo "tile_spills: $tool not found (binutils)" >&2; exit 1; }
done
failed=0 checked=0
# A kernel's symbols (an awk pattern) @ the most vector accesses to the stack each may have.
while IFS='@' read -r pattern bound; do
  while read -r address size name; do
    [ -n "$address" ] || continue
    start=$((16#$address))
    count=$(objdump -d --no-show-raw-insn --start-address=$start --stop-address=$((start + 16#$size)) "$binary" |
            grep -E 'zmm' | grep -cE '\((%rsp|%rbp)\)' || true)
    checked=$((checked + 1))
    if [ "$count" -gt "$bound" ]; then
      echo "tile_spills: $name: $count vector accesses to the stack, more than $bound" >&2
      failed=1
    fi
  done < <(nm -C -S "$binary" | awk -v p="$pattern" '$0 ~ p {a=$1; s=$2; $1=$2=$3=""; sub(/^ +/, ""); print a, s, $0}')
done <<'PATTERNS'
int8_vnni_vbmi::\(anonymous namespace\)::conv_tile<6, 4, (true|false), false, true>@64
int8_vnni::\(anonymous namespace\)::conv_tile<6, 4, (true|false), false, true>@64
int8_vnni_vbmi::\(anonymous namespace\)::pointwise_resident<4, 4, @48
PATTERNS
if [ "$checked" -lt 4 ]; then
  echo "tile_spills: found $checked of the tiles in $binary" >&2
  exit 1
fi
[ "$failed" -eq 0 ] || exit 1
echo "tile_spills: $checked int8 tiles within their bounds"
