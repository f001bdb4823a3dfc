#!/usr/bin/env bash
# The main job on a real photo: find the faces, print them, draw them.
set -euo pipefail
osprey=${1:-build/bin/osprey}
photo=$(node zoo/fetch.mjs --path astronaut.png)
mkdir -p out
"$osprey" detect "$photo" --out out/astronaut-faces.png
echo "annotated picture: $(pwd)/out/astronaut-faces.png"
