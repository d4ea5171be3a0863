#!/usr/bin/env python3
"""How much a model's speed varies from one process to the next. ctresnet and ONNX Runtime each
run in --processes fresh processes, taking turns (the order rotating), and each process loads the
model, runs --warmup passes and then --runs timed ones. The report gives every process's median
and the spread of those medians (largest minus smallest, over their median). Runs inside one
process agree closely; between processes, where the state lands in memory (its pages, and the cache
sets they map to) can differ.

    /usr/bin/python3 bench/process_spread.py --model resnet50 --threads 1 --processes 8
    /usr/bin/python3 bench/process_spread.py --also small-pages=/tmp/ctresnet_bench_hp0

It runs bench/run_bench.py's workers (build-bench/bench/ctresnet_bench and bench/ort_bench.mjs)
on the weights and input that run_bench.py exports into build-bench/models: run that first.
--also NAME=PROGRAM adds another build of ctresnet_bench as a column of its own, such as one
compiled with -DCTRESNET_HUGE_PAGES=0. With one thread, every process runs on the same CPU, as in
run_bench.py.
"""
import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from run_bench import BENCH, ROOT, RUN_TIMEOUT_S, Worker, WorkerError, on_one_cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"],
                        default="resnet50")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--processes", type=int, default=8, help="processes per framework (8)")
    parser.add_argument("--runs", type=int, default=20, help="timed passes per process (20)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed passes first (5)")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build-bench")
    parser.add_argument("--node", default=shutil.which("node") or "/usr/bin/node")
    parser.add_argument("--also", action="append", default=[], metavar="NAME=PROGRAM",
                        help="another ctresnet_bench build, reported as its own column")
    args = parser.parse_args()
    if args.processes < 2 or args.runs < 1 or args.threads < 1:
        parser.error("--processes needs at least 2, --runs and --threads at least 1")

    models = args.build_dir / "models"
    stem = models / f"{args.model}_seed0"
    images = models / "input_b1_seed1.f32"
    for needed in (Path(f"{stem}.safetensors"), Path(f"{stem}.onnx"), images):
        if not needed.exists():
            sys.exit(f"process_spread.py: {needed} is missing: run bench/run_bench.py (which exports it) first")
    programs = {"ctresnet": args.build_dir / "bench" / "ctresnet_bench"}
    for extra in args.also:
        name, _, program = extra.partition("=")
        if not name or not program:
            parser.error(f"--also {extra}: expected NAME=PROGRAM")
        if name in programs or name == "ORT":
            parser.error(f"--also {extra}: the name {name} is taken")
        programs[name] = Path(program)
    if not programs["ctresnet"].exists():
        sys.exit(f"process_spread.py: {programs['ctresnet']} is missing (run_bench.py or cmake --build build-bench "
                 "builds it)")
    for name, program in programs.items():
        if not program.exists():
            sys.exit(f"process_spread.py: --also {name}: {program} is missing")

    with tempfile.TemporaryDirectory(prefix="process_spread_") as scratch:
        medians = measure(args, programs, Path(scratch), stem, images)
    report(args, medians)
    return 0


def measure(args, programs, scratch, stem, images):
    """Each framework's median of args.runs passes in each of args.processes fresh processes."""
    argvs = {name: [program, args.model, f"{stem}.safetensors", images, 1, args.threads, scratch / f"{name}.f32"]
             for name, program in programs.items()}
    argvs["ORT"] = [args.node, BENCH / "ort_bench.mjs", f"{stem}.onnx", images, 1, args.threads,
                    scratch / "ort.f32"]
    names = list(argvs)
    medians = {name: [] for name in names}
    for process in range(args.processes):
        turn = names[process % len(names):] + names[:process % len(names)]
        for name in turn:
            worker = Worker(name, on_one_cpu(argvs[name], args.threads), scratch / f"{name}.log")
            try:
                worker.receive(RUN_TIMEOUT_S)  # loaded
                worker.send(f"run {args.warmup}")
                medians[name].append(statistics.median(worker.send(f"run {args.runs}")["ms"]))
                worker.send("quit")
            except WorkerError as error:
                sys.exit(f"process_spread.py: {error}")
            finally:
                worker.close()
        print(f"process {process + 1} of {args.processes}: " +
              ", ".join(f"{name} {medians[name][-1]:.2f} ms" for name in names), file=sys.stderr)
    return medians


def report(args, medians):
    """The table of every process's median per framework, and their spread."""
    names = list(medians)
    print(f"\n{args.model}, batch 1, {args.threads} thread(s): the median of {args.runs} passes in each of "
          f"{args.processes} processes per framework, ms\n")
    print("| | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for process in range(args.processes):
        print(f"| process {process + 1} | " + " | ".join(f"{medians[name][process]:.2f}" for name in names) + " |")
    print("| smallest - largest | " + " | ".join(f"{min(medians[n]):.2f} - {max(medians[n]):.2f}" for n in names)
          + " |")
    print("| spread | " + " | ".join(
        f"{(max(medians[n]) - min(medians[n])) / statistics.median(medians[n]) * 100:.0f} %" for n in names) + " |")


if __name__ == "__main__":
    sys.exit(main())
