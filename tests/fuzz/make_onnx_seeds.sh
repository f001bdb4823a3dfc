#!/usr/bin/env bash
# Copies ONNX's node test models (Debian libonnx-testdata) of the ops osprey
# converts into OUTDIR: seeds for the ONNX importer fuzzer, which from nothing
# seldom makes a valid ONNX file. Ops osprey does not convert are left out:
# they stop at "unsupported op" and reach none of osprey's converters.
# usage: make_onnx_seeds.sh OSPREY OUTDIR
set -euo pipefail
osprey=$1 out=$2
node=/usr/share/libonnx-testdata/data/node
[ -d "$node" ] || { echo "make_onnx_seeds: no $node (apt-get install libonnx-testdata)" >&2; exit 1; }
ops=$("$osprey" convert --list-ops)
[ -n "$ops" ] || { echo "make_onnx_seeds: $osprey convert --list-ops listed no ops" >&2; exit 1; }
mkdir -p "$out"
for op in $ops; do
  name=test_${op,,}
  for dir in "$node/$name" "$node/$name"_*; do
    [ -f "$dir/model.onnx" ] && cp "$dir/model.onnx" "$out/$(basename "$dir").onnx"
  done
done
true
