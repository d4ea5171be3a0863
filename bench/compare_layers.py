#!/usr/bin/env python3
"""ctresnet against ONNX Runtime, layer by layer: where a forward pass is faster or slower than
ORT's. ctresnet's times are bench/layer_times' (each pool job: the convs, the max pool, the
classifier), ORT's are its profiler's (bench/ort_layer_times.mjs: each node, a conv with its
BatchNorm, residual sum and ReLU fused in). Both run the same weights, batch 1, on 1 thread and on
--threads threads; a resnet runs its layers in the same order in both, so the table pairs the
i-th job with the i-th conv, max pool or Gemm node.

    /usr/bin/python3 bench/compare_layers.py --model resnet50
    /usr/bin/python3 bench/compare_layers.py --model resnet18 --threads 2 --passes 40 --rounds 3

Needs what bench/run_bench.py builds and exports: build-bench/bench/layer_times and the models
in build-bench/models (resnet<depth>_seed0.safetensors and .onnx). The two take turns, --rounds
times; each figure is the median over the rounds of each side's median over its passes. Prints
a Markdown table: per layer, ctresnet's and ORT's milliseconds and ctresnet/ORT, on 1 and N
threads; then the same summed by kind of layer (each stage's 1x1 convs, its 3x3 convs, ...).
"""
import argparse
import json
import pathlib
import re
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# ORT's nodes that correspond to ctresnet's pool jobs; the others (reorders, flatten, average pool)
# have no job of their own in ctresnet.
ORT_JOB_OPS = {"Conv", "FusedConv", "MaxPool", "Gemm"}
LINE = re.compile(r"^(\S+ \S+)\s+([\d.]+)\s+([\d.]+)\s")


def layer_times(binary, model, threads, passes, weights):
    """ctresnet's jobs in order: (name, 1-thread ms, N-thread ms)."""
    out = subprocess.run([str(binary), "--model", model, "--threads", str(threads), "--passes", str(passes),
                          "--weights", str(weights)], check=True, capture_output=True, text=True).stdout
    jobs = [(m.group(1), float(m.group(2)), float(m.group(3))) for m in map(LINE.match, out.splitlines()) if m]
    if not jobs:
        raise RuntimeError(f"{binary} printed no layers:\n{out}")
    return jobs


def ort_layer_times(onnx, threads, passes):
    """ORT's job nodes in order: (name, ms)."""
    out = subprocess.run(["node", str(BENCH / "ort_layer_times.mjs"), str(onnx), str(threads), str(passes)],
                         check=True, capture_output=True, text=True, cwd=BENCH).stdout
    return [(n["name"], n["ms"]) for n in json.loads(out)["nodes"] if n["op"] in ORT_JOB_OPS]


def kind(name):
    """A layer's kind for the summary: conv (with its stage, whose map size it has), max pool or
    classifier, and its window and stride."""
    layer, size = name.split(" ", 1)
    if layer.startswith("maxpool"):
        return f"max pool {size}"
    if size == "Linear":
        return "classifier"
    stage = layer.split(".")[0]
    return f"{stage} conv {size}" if stage.startswith("layer") else f"conv {size}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["resnet18", "resnet50"], default="resnet50")
    parser.add_argument("--threads", type=int, default=2, help="the second thread count (2)")
    parser.add_argument("--passes", type=int, default=30, help="timed passes per side and round (30)")
    parser.add_argument("--rounds", type=int, default=2, help="turns each side takes (2)")
    parser.add_argument("--build-dir", type=pathlib.Path, default=ROOT / "build-bench")
    args = parser.parse_args()
    if not 2 <= args.threads <= 8 or args.passes < 1 or args.rounds < 1:
        parser.error("--threads takes 2 to 8, --passes and --rounds positive numbers")
    binary = args.build_dir / "bench" / "layer_times"
    weights = args.build_dir / "models" / f"{args.model}_seed0.safetensors"
    onnx = weights.with_suffix(".onnx")
    missing = [str(p) for p in (binary, weights, onnx) if not p.is_file()]
    if missing:
        parser.error(f"missing {', '.join(missing)}: run bench/run_bench.py --models {args.model} first "
                     "(it builds layer_times and exports the models)")

    ours, theirs = [], []  # per round
    for _ in range(args.rounds):
        ours.append(layer_times(binary, args.model, args.threads, args.passes, weights))
        theirs.append((ort_layer_times(onnx, 1, args.passes), ort_layer_times(onnx, args.threads, args.passes)))
    names = [name for name, _, _ in ours[0]]
    if any(len(t[0]) != len(names) or len(t[1]) != len(names) for t in theirs):
        print(f"ctresnet ran {len(names)} jobs, ORT {len(theirs[0][0])} conv, max pool and Gemm nodes: "
              "cannot pair them", file=sys.stderr)
        return 1

    def med(values):
        return statistics.median(values)

    rows = []
    for j, name in enumerate(names):
        rows.append((name, med([r[j][1] for r in ours]), med([t[0][j][1] for t in theirs]),
                     med([r[j][2] for r in ours]), med([t[1][j][1] for t in theirs])))
    n = args.threads
    print(f"{args.model}, batch 1, weights {weights.name}; {args.rounds} rounds of {args.passes} passes; "
          "ctresnet/ORT below 1: ctresnet is faster\n")
    header = f"| layer | ctresnet 1T ms | ORT 1T ms | ctresnet/ORT 1T | ctresnet {n}T ms | ORT {n}T ms | ctresnet/ORT {n}T |"
    print(header + "\n|---|---:|---:|---:|---:|---:|---:|")
    for name, c1, o1, cn, on in rows:
        print(f"| {name} | {c1:.3f} | {o1:.3f} | {c1 / o1:.2f} | {cn:.3f} | {on:.3f} | {cn / on:.2f} |")
    totals = {}
    for name, *times in rows:
        sums = totals.setdefault(kind(name), [0, 0.0, 0.0, 0.0, 0.0])
        sums[0] += 1
        for i, t in enumerate(times):
            sums[1 + i] += t
    print("\n| kind of layer | layers | ctresnet 1T ms | ORT 1T ms | ctresnet/ORT 1T | difference 1T ms "
          f"| ctresnet {n}T ms | ORT {n}T ms | ctresnet/ORT {n}T |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    every = [0.0] * 4
    for k, (count, c1, o1, cn, on) in totals.items():
        print(f"| {k} | {count} | {c1:.2f} | {o1:.2f} | {c1 / o1:.2f} | {c1 - o1:+.2f} | {cn:.2f} | {on:.2f} "
              f"| {cn / on:.2f} |")
        every = [a + b for a, b in zip(every, (c1, o1, cn, on))]
    c1, o1, cn, on = every
    print(f"| all | {len(rows)} | {c1:.2f} | {o1:.2f} | {c1 / o1:.2f} | {c1 - o1:+.2f} | {cn:.2f} | {on:.2f} "
          f"| {cn / on:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
