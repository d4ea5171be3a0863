#!/usr/bin/env bash
# Draws the pictures in docs/images/ from the network types themselves: ctresnet-classify --graph
# writes each network's DOT (ctresnet::write_dot) and Graphviz's dot renders it as SVG.
#
#   tools/render_graphs.sh [BUILD_DIR]     (default: build; configured first if it is not yet)
#
#   resnet18.svg                   torchvision's ResNet-18, each stage's repeated blocks as one node
#   torchvision_resnet18.svg       the same, every block drawn: to be shown beside
#   stage_projection_resnet18.svg  the stage-projection layout's ResNet-18, every block drawn, whose
#                                  layer1 has a projection shortcut that torchvision's lacks
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
if ! command -v dot >/dev/null; then
  echo "render_graphs.sh: Graphviz's dot is missing (apt-get install graphviz)" >&2
  exit 1
fi
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build"
cmake --build "$build" -j2 --target ctresnet-classify
classify=$build/examples/ctresnet-classify
images=$root/docs/images
mkdir -p "$images"

# render MODEL LEVEL FILE
render() {
  "$classify" --model "$1" --graph "$2" | dot -Tsvg -o "$images/$3"
  echo "wrote docs/images/$3"
}
render resnet18 collapsed resnet18.svg
render resnet18 full torchvision_resnet18.svg
render stage_projection_resnet18 full stage_projection_resnet18.svg
