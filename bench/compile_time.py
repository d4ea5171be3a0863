#!/usr/bin/python3
"""Measure how long one translation unit per network takes to compile, and the compiler's peak memory.

Each unit is what a program that runs one network contains: the type, a weights loader, a forward
pass and the summary. It is compiled alone (g++ -O2 -c, the flags of a user's build without
-march), so that the times are those of one core. Prints a Markdown table; the README's
compile-time table comes from it. With --int8, each network's quantized twin
(ctresnet::quantized<Net> with load_int8_safetensors) is compiled too, each run right after its
float unit's, and the table gains its time and the ratio of the medians.

    /usr/bin/python3 bench/compile_time.py                   # CIFAR 20/110/1202, ImageNet 18/50/152
    /usr/bin/python3 bench/compile_time.py --compiler clang++ --runs 3
    /usr/bin/python3 bench/compile_time.py --int8 --runs 3 --models cifar::resnet20 resnet18 resnet50
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
INT8_UNIT = """#include <ctresnet/ctresnet.hpp>
#include <ctresnet/quantized.hpp>
#include <ctresnet/quantized/safetensors.hpp>

#include <iostream>

using float_type = {type};
using net_type = ctresnet::quantized<float_type>;

int main(int argc, char** argv) {{
  if (argc < 2) {{
    ctresnet::print_summary<float_type>(std::cout);
    return 0;
  }}
  net_type net;
  ctresnet::load_int8_safetensors(net, argv[1]);
  float_type::input_tensor x(1, float_type::input_shape::channels, float_type::input_shape::height,
                             float_type::input_shape::width);
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
    parser.add_argument("--int8", action="store_true", help="also compile each network's quantized twin")
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        sys.exit("GNU time is missing: apt-get install time")

    flags = ["-std=c++17", "-O2", "-DNDEBUG", f"-I{ROOT / 'include'}", "-isystem", str(eigen_include())]
    if args.int8:
        print(f"| network | layers | float: {args.compiler} -O2 seconds | int8 seconds | int8 / float "
              "| peak compiler memory, float / int8 (MiB) |")
        print("|---|---:|---:|---:|---:|---:|")
    else:
        print(f"| network | layers | {args.compiler} -O2 seconds | peak compiler memory (MiB) |")
        print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.models:
            stem = Path(scratch) / name.replace("::", "_")
            units = {"float": UNIT, "int8": INT8_UNIT} if args.int8 else {"float": UNIT}
            runs = {precision: [] for precision in units}
            for precision, text in units.items():
                stem.with_suffix(f".{precision}.cpp").write_text(text.format(type=MODELS[name]))
            for _ in range(args.runs):  # the precisions alternate, so that load on the machine hits both
                for precision in units:
                    source = stem.with_suffix(f".{precision}.cpp")
                    runs[precision].append(compile_once(args.compiler, flags, source, source.with_suffix(".o")))
            layers = "".join(ch for ch in name.split("resnet")[-1] if ch.isdigit())
            seconds = {precision: statistics.median(r[0] for r in runs[precision]) for precision in units}
            memory = {precision: max(r[1] for r in runs[precision]) for precision in units}
            if args.int8:
                print(f"| {name} | {layers} | {seconds['float']:.1f} | {seconds['int8']:.1f} | "
                      f"{seconds['int8'] / seconds['float']:.2f} | {memory['float']:.0f} / {memory['int8']:.0f} |",
                      flush=True)
            else:
                print(f"| {name} | {layers} | {seconds['float']:.1f} | {memory['float']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
