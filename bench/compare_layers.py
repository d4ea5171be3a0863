#!/usr/bin/env python3
"""ctresnet against ONNX Runtime, layer by layer: where a forward pass is faster or slower than
ORT's. ctresnet's times are bench/layer_times' (each pool job: the convs, the stem's conv with its
max pool, the classifier), ORT's are its profiler's (bench/ort_layer_times.mjs: each node, a conv with its
BatchNorm, residual sum and ReLU fused in). Both run the same weights, batch 1, on 1 thread and on
--threads threads. Each job pairs with the first node not yet paired of the same layer (the same
block, a shortcut with a shortcut): within a block both run the main convs in the same order, but
a ctresnet bottleneck runs its shortcut first, ORT its shortcut before the last conv.

    cmake --build build-bench --target layer_times     # once, after bench/run_bench.py
    /usr/bin/python3 bench/compare_layers.py --model resnet50
    /usr/bin/python3 bench/compare_layers.py --model resnet18 --threads 2 --passes 40 --rounds 3

Needs build-bench/bench/layer_times and the models bench/run_bench.py exports into
build-bench/models (resnet<depth>_seed0.safetensors and .onnx). The two take turns, --rounds
times; each figure is the median over the rounds of each side's median over its passes. Prints
a Markdown table: per layer, ctresnet's and ORT's milliseconds and ctresnet/ORT, on 1 and N
threads; then the same summed by kind of layer (each stage's 1x1 convs, its 3x3 convs, ...).
"""
import argparse
import json
import pathlib
import re
import shutil
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# ORT's nodes that correspond to ctresnet's pool jobs; the others (reorders, flatten, average pool)
# have no job of their own in ctresnet.
ORT_JOB_OPS = {"Conv", "FusedConv", "MaxPool", "Gemm"}
LINE = re.compile(r"^(\S+ \S+)\s+([\d.]+)\s+([\d.]+)\s")


def run(argv):
    """A child's standard output; its errors go to ours, and a failure ends this script."""
    try:
        return subprocess.run([str(a) for a in argv], check=True, stdout=subprocess.PIPE, text=True).stdout
    except subprocess.CalledProcessError as error:
        sys.exit(f"compare_layers: {pathlib.Path(str(argv[0])).name} failed (exit status {error.returncode})")


def layer_times(binary, model, threads, passes, weights):
    """ctresnet's jobs in order: (name, 1-thread ms, N-thread ms)."""
    out = run([binary, "--model", model, "--threads", threads, "--passes", passes, "--weights", weights])
    jobs = [(m.group(1), float(m.group(2)), float(m.group(3))) for m in map(LINE.match, out.splitlines()) if m]
    if not jobs:
        sys.exit(f"compare_layers: {binary} printed no layers:\n{out}")
    return jobs


def ort_layer_times(node, onnx, threads, passes):
    """ORT's job nodes in order: (name, ms)."""
    out = run([node, BENCH / "ort_layer_times.mjs", onnx, threads, passes])
    return [(n["name"], n["ms"]) for n in json.loads(out)["nodes"] if n["op"] in ORT_JOB_OPS]


def merge_stem(nodes):
    """ORT's stem conv and max pool nodes as one ("conv1+maxpool"), as ctresnet runs them: its stem
    pools the conv's output band by band, in one job."""
    outside = [i for i, (name, _) in enumerate(nodes) if "/layer" not in name and "/fc/" not in name]
    conv = next(i for i in outside if "maxpool" not in nodes[i][0])
    pool = next(i for i in outside if "maxpool" in nodes[i][0])
    merged = ("conv1+maxpool", nodes[conv][1] + nodes[pool][1])
    return [merged if i == conv else node for i, node in enumerate(nodes) if i != pool]


def same_layer(ours, theirs):
    """Whether ctresnet's job `ours` ("layer2.0.downsample.0 1x1/2") and ORT's node `theirs`
    ("/layer2/layer2.0/downsample/downsample.0/Conv_output_0_nchwc") are the same layer: the same
    block (or none, for the stem, the max pool and the classifier) and both a shortcut or neither."""
    layer = ours.split(" ", 1)[0]
    if layer == "conv1+maxpool" or theirs == "conv1+maxpool":
        return layer == theirs
    if not layer.startswith("layer"):
        return "/layer" not in theirs and layer.split(".")[0] in ("conv1", "maxpool", "fc") and \
            ("maxpool" in theirs) == (layer == "maxpool") and ("/fc/" in theirs) == (layer == "fc")
    block = ".".join(layer.split(".")[:2])
    return f"/{block}/" in theirs and ("downsample" in theirs) == ("downsample" in layer)


def kind(name):
    """A layer's kind for the summary: conv (with its stage), max pool or classifier, and its window
    and stride. A stage's convs run at its map size, but for its first 1x1 conv, which runs at the
    size of the stage before (the stride is in the 3x3 conv that follows)."""
    layer, size = name.split(" ", 1)
    if layer.startswith("maxpool"):
        return f"max pool {size}"
    if layer == "conv1+maxpool":
        return f"conv {size} + max pool 3x3/2 (the stem)"
    if size == "Linear":
        return "classifier"
    stage = layer.split(".")[0]
    return f"{stage} conv {size}" if stage.startswith("layer") else f"conv {size}"


def row(cells):
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["resnet18", "resnet50"], default="resnet50")
    parser.add_argument("--threads", type=int, default=2, help="the second thread count (2)")
    parser.add_argument("--passes", type=int, default=30, help="timed passes per side and round (30)")
    parser.add_argument("--rounds", type=int, default=2, help="turns each side takes (2)")
    parser.add_argument("--build-dir", type=pathlib.Path, default=ROOT / "build-bench")
    parser.add_argument("--node", default=shutil.which("node") or "/usr/bin/node")
    args = parser.parse_args()
    if not 2 <= args.threads <= 8 or args.passes < 1 or args.rounds < 1:
        parser.error("--threads takes 2 to 8, --passes and --rounds positive numbers")
    build = args.build_dir.resolve()
    binary = build / "bench" / "layer_times"
    weights = build / "models" / f"{args.model}_seed0.safetensors"
    onnx = weights.with_suffix(".onnx")
    missing = [str(p) for p in (binary, weights, onnx, pathlib.Path(args.node)) if not p.is_file()]
    if missing:
        parser.error(f"missing {', '.join(missing)}: bench/run_bench.py --models {args.model} exports the models "
                     f"and installs onnxruntime-node; cmake --build {args.build_dir} --target layer_times builds "
                     "layer_times; --node names node")

    ours, theirs = [], []  # per round: ctresnet's jobs; ORT's nodes on 1 and on N threads
    for _ in range(args.rounds):
        ours.append(layer_times(binary, args.model, args.threads, args.passes, weights))
        theirs.append([ort_layer_times(args.node, onnx, t, args.passes) for t in (1, args.threads)])
    names = [name for name, _, _ in ours[0]]
    for per_round in theirs:
        for t, nodes in enumerate(per_round):
            if any(name.startswith("conv1+maxpool ") for name in names):
                nodes = merge_stem(nodes)
            if len(nodes) != len(names):
                sys.exit(f"compare_layers: ctresnet ran {len(names)} jobs, ORT {len(nodes)} conv, max pool and Gemm "
                         "nodes: cannot pair them")
            paired = []
            for ours_name in names:
                match = next((i for i, (theirs_name, _) in enumerate(nodes)
                              if i not in paired and same_layer(ours_name, theirs_name)), None)
                if match is None:
                    sys.exit(f"compare_layers: ORT ran no node left for ctresnet's {ours_name}")
                paired.append(match)
            per_round[t] = [nodes[i] for i in paired]  # in ctresnet's order

    rows = []
    for j, name in enumerate(names):
        rows.append((name, statistics.median(r[j][1] for r in ours), statistics.median(t[0][j][1] for t in theirs),
                     statistics.median(r[j][2] for r in ours), statistics.median(t[1][j][1] for t in theirs)))
    n = args.threads
    print(f"{args.model}, batch 1, weights {weights.name}; {args.rounds} rounds of {args.passes} passes; "
          "ctresnet/ORT below 1: ctresnet is faster\n")
    print(row(["layer", "ctresnet 1T ms", "ORT 1T ms", "ctresnet/ORT 1T",
               f"ctresnet {n}T ms", f"ORT {n}T ms", f"ctresnet/ORT {n}T"]))
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, c1, o1, cn, on in rows:
        print(row([name, f"{c1:.3f}", f"{o1:.3f}", f"{c1 / o1:.2f}", f"{cn:.3f}", f"{on:.3f}", f"{cn / on:.2f}"]))

    totals = {"all": [0, 0.0, 0.0, 0.0, 0.0]}
    for name, *times in rows:
        for key in (kind(name), "all"):
            sums = totals.setdefault(key, [0, 0.0, 0.0, 0.0, 0.0])
            sums[0] += 1
            for i, t in enumerate(times):
                sums[1 + i] += t
    totals["all"] = totals.pop("all")  # last
    print()
    print(row(["kind of layer", "layers", "ctresnet 1T ms", "ORT 1T ms", "ctresnet/ORT 1T", "difference 1T ms",
               f"ctresnet {n}T ms", f"ORT {n}T ms", f"ctresnet/ORT {n}T"]))
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key, (count, c1, o1, cn, on) in totals.items():
        print(row([key, str(count), f"{c1:.2f}", f"{o1:.2f}", f"{c1 / o1:.2f}", f"{c1 - o1:+.2f}", f"{cn:.2f}",
                   f"{on:.2f}", f"{cn / on:.2f}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
