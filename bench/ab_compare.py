#!/usr/bin/env python3
"""Compares two versions of ctresnet's headers in one process: forward passes of resnet18 and
resnet50 (batch 1) alternate between version a and version b, and the result per model is the
median of the per-pair ratios b/a. On a machine whose speed drifts by tens of percent within
minutes, this is the comparison that stays meaningful: both versions see the same drift.

    /usr/bin/python3 bench/ab_compare.py HEAD~1            # a = HEAD~1, b = the working tree
    /usr/bin/python3 bench/ab_compare.py v1 v2 --threads 1,2 --pairs 40
    /usr/bin/python3 bench/ab_compare.py HEAD~1 --march x86-64-v3   # the AVX2 kernels
    /usr/bin/python3 bench/ab_compare.py HEAD~1 --threads 2 --busy 1:20  # CPU 1 busy 20 % of the time
    /usr/bin/python3 bench/ab_compare.py HEAD~1 --weights build-bench/models  # run_bench.py's weights

A version is a git revision or a directory holding include/ctresnet. Each is compiled as its own
translation unit with its namespace renamed (-Dctresnet=...), so a change to a kernel shows up as it
would in a real build (an A/B switch inside one kernel changes how the compiler allocates its
registers, and with it the result).

Without --weights, the networks have ctresnet's seeded random weights, whose activations shrink
to subnormal numbers in the deep layers (slow arithmetic on many CPUs: resnet50 runs about 8 %
faster with them flushed to zero). --weights DIR runs resnet<depth>_seed0.safetensors from DIR
instead: the weights bench/run_bench.py exports (into build-bench/models), as ONNX Runtime and
PyTorch run them.
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Another process on one CPU: busy for PERCENT % of every 10 ms, asleep for the rest.
BUSY_LOOP = """
import os, time
os.sched_setaffinity(0, {{{cpu}}})
busy = {percent} / 10000  # seconds of every 0.01
while True:
    start = time.perf_counter()
    while time.perf_counter() - start < busy:
        pass
    if busy < 0.01:
        time.sleep(0.01 - busy)
"""
AB = ROOT / "bench" / "ab"


def include_dir(version: str, scratch: pathlib.Path, side: str) -> pathlib.Path:
    path = pathlib.Path(version)
    if (path / "include" / "ctresnet").is_dir():
        return path / "include"
    if (path / "ctresnet").is_dir():
        return path
    target = scratch / side
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", version, "include"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "include"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", help="git revision or directory of version a (the baseline)")
    parser.add_argument("b", nargs="?", default=str(ROOT), help="version b (default: the working tree)")
    parser.add_argument("--pairs", type=int, default=30, help="forward passes of each version per model (30)")
    parser.add_argument("--threads", default="1", help="comma-separated thread counts (1)")
    parser.add_argument("--models", default="18,50", help="comma-separated depths: 18, 50 (both)")
    parser.add_argument("--cxx", default="g++")
    parser.add_argument("--march", default="native", metavar="ARCH",
                        help="CPU type both versions are compiled for (native); x86-64-v3 times the AVX2 kernels")
    parser.add_argument("--busy", metavar="CPU:PERCENT",
                        help="while timing, another process keeps CPU busy PERCENT %% of every 10 ms, as a "
                             "machine shared with other work does")
    parser.add_argument("--weights", metavar="DIR", type=pathlib.Path,
                        help="run DIR/resnet<depth>_seed0.safetensors (bench/run_bench.py writes them to "
                             "build-bench/models) instead of seeded random weights")
    args = parser.parse_args()
    depths = args.models.split(",")
    if any(d not in ("18", "50") for d in depths) or args.pairs < 1:
        parser.error("--models takes 18 and/or 50, --pairs a positive number")
    busy = None
    if args.busy:
        cpu, _, percent = args.busy.partition(":")
        if not (cpu.isdigit() and percent.isdigit() and 1 <= int(percent) <= 100 and int(cpu) < os.cpu_count()):
            parser.error(f"--busy takes CPU:PERCENT, a CPU below {os.cpu_count()} and 1 to 100, not '{args.busy}'")
        busy = BUSY_LOOP.format(cpu=int(cpu), percent=int(percent))
    if args.weights:
        missing = [str(args.weights / f"resnet{d}_seed0.safetensors") for d in depths
                   if not (args.weights / f"resnet{d}_seed0.safetensors").is_file()]
        if missing:
            parser.error(f"--weights: no {', '.join(missing)} (bench/run_bench.py exports them)")
    if not all(c.isalnum() or c in "-_." for c in args.march):
        parser.error(f"--march takes a CPU type such as native or x86-64-v3, not '{args.march}'")

    with tempfile.TemporaryDirectory(prefix="ctresnet_ab_") as scratch_name:
        scratch = pathlib.Path(scratch_name)
        flags = [args.cxx, "-std=c++17", "-O3", f"-march={args.march}", "-DNDEBUG", "-Wall", "-Wextra", "-Werror",
                 "-isystem", "/usr/include/eigen3"]
        compiles = []
        for side, version in (("a", args.a), ("b", args.b)):
            include = include_dir(version, scratch, side)
            compiles.append(subprocess.Popen(flags + [f"-Dctresnet=ctresnet_ab_{side}", f"-DAB_SIDE={side}",
                                                      "-I", str(include), "-c", str(AB / "variant.cpp"),
                                                      "-o", str(scratch / f"{side}.o")]))
        if any(c.wait() != 0 for c in compiles):
            return 1
        driver = scratch / "ab_driver"
        subprocess.run([args.cxx, "-O2", "-Wall", "-Wextra", "-Werror", str(AB / "driver.cpp"), str(scratch / "a.o"),
                        str(scratch / "b.o"), "-o", str(driver), "-lpthread"], check=True)
        environment = dict(os.environ)
        if args.weights:
            environment["AB_WEIGHTS"] = str(args.weights.resolve())
        print(f"a = {args.a}, b = {args.b}; -march={args.march}; {args.pairs} pairs"
              + (f"; weights from {args.weights}" if args.weights else "; seeded random weights")
              + (f"; CPU {args.busy.replace(':', ' busy ')} % of the time" if busy else "")
              + "; the ratio is b's time over a's (below 1: b is faster)")
        load = subprocess.Popen([sys.executable, "-c", busy]) if busy else None
        try:
            for threads in args.threads.split(","):
                subprocess.run([str(driver), str(args.pairs), threads] + depths, check=True, env=environment)
        finally:
            if load:
                load.kill()
                load.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
