#!/usr/bin/python3
"""Measure how long one translation unit per network takes to compile, and the compiler's peak memory.

Each unit is what a program that runs one network contains: the type, a weights loader, a forward
pass and the summary. It is compiled alone (g++ -O2 -c, the flags of a user's build without
-march), so that the times are those of one core. Prints a Markdown table; the README's
compile-time table comes from it.

    /usr/bin/python3 bench/compile_time.py                   # CIFAR 20/110/1202, ImageNet 18/50/152
    /usr/bin/python3 bench/compile_time.py --compiler clang++ --runs 3
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = {
    "cifar::resnet20": "ctresnet::cifar::resnet20<>",
    "cifar::resnet110": "ctresnet::cifar::resnet110<>",
    "cifar::resnet1202": "ctresnet::cifar::resnet1202<>",
    "resnet18": "ctresnet::resnet18<>",
    "resnet50": "ctresnet::resnet50<>",
    "resnet152": "ctresnet::resnet152<>",
}
UNIT = """#include <ctresnet/ctresnet.hpp>
#include <ctresnet/safetensors.hpp>

#include <iostream>

using net_type = {type};

int main(int argc, char** argv) {{
  if (argc < 2) {{
    ctresnet::print_summary<net_type>(std::cout);
    return 0;
  }}
  net_type net;
  ctresnet::load_safetensors(net, argv[1]);
  net_type::input_tensor x(1, net_type::input_shape::channels, net_type::input_shape::height,
                           net_type::input_shape::width);
  x.setZero();
  std::cout << net.forward(x) << "\\n";
}}
"""


def eigen_include():
    for candidate in (Path("/usr/include/eigen3"), Path("/usr/local/include/eigen3")):
        if (candidate / "Eigen" / "Core").exists():
            return candidate
    sys.exit("Eigen 3 not found: apt-get install libeigen3-dev")


def compile_once(compiler, flags, source, output):
    """Seconds of wall time and peak resident memory (MiB) of one compilation, via GNU time."""
    command = ["/usr/bin/time", "-f", "%e %M", compiler, *flags, "-c", str(source), "-o", str(output)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"compiling {source.name} failed:\n{result.stderr}")
    seconds, kib = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compiler", default="g++")
    parser.add_argument("--runs", type=int, default=1, help="compilations per unit; the median is reported")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        sys.exit("GNU time is missing: apt-get install time")

    flags = ["-std=c++17", "-O2", "-DNDEBUG", f"-I{ROOT / 'include'}", "-isystem", str(eigen_include())]
    print(f"| network | layers | {args.compiler} -O2 seconds | peak compiler memory (MiB) |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.models:
            source = Path(scratch) / (name.replace("::", "_") + ".cpp")
            source.write_text(UNIT.format(type=MODELS[name]))
            runs = [compile_once(args.compiler, flags, source, source.with_suffix(".o")) for _ in range(args.runs)]
            layers = "".join(ch for ch in name.split("resnet")[-1] if ch.isdigit())
            print(f"| {name} | {layers} | {statistics.median(r[0] for r in runs):.1f} | "
                  f"{max(r[1] for r in runs):.0f} |", flush=True)


if __name__ == "__main__":
    main()
