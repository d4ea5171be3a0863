#!/usr/bin/python3
"""PyTorch's latency for ResNet-18/50, float32 and int8, one thread, batch 1, 224x224: medians.

Variants, run interleaved (one call of each per round, after --warmup rounds):
  float32            eager, eval()
  int8 qnnpack       quantized as tools/quantize.py does (engine qnnpack, the chosen recipe), eager
  int8 qnnpack jit   the same, torch.jit.trace + torch.jit.freeze
  int8 onednn rr     engine onednn, per-channel weights, 7-bit activations (reduce_range=True), eager
Weights are resnet_models.randomize_'s (timings do not depend on them); calibration: 4 random images.
Traced outputs are checked to equal eager ones bit for bit.
"""
import argparse
import platform
import statistics
import subprocess
import time

import torch
from torch.ao import quantization as tq

import quantize
import resnet_models


def cpu_name():
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown CPU"


def onednn_model(spec, state_dict, calibration):
    torch.backends.quantized.engine = "onednn"
    model = spec.quantizable_model()
    resnet_models.load_strict(model, state_dict)
    model.eval().fuse_model()
    model.qconfig = tq.QConfig(activation=tq.HistogramObserver.with_args(reduce_range=True),
                               weight=tq.default_per_channel_weight_observer)
    tq.prepare(model, inplace=True)
    with torch.inference_mode():
        model(calibration)
    tq.convert(model, inplace=True)
    return model


def variants(depth):
    spec = quantize.Spec("torchvision", depth, None, 3, 1000)
    float_model = resnet_models.randomize_(spec.float_model(), depth)
    state_dict = float_model.state_dict()
    calibration = torch.randn(4, 3, 224, 224, generator=torch.Generator().manual_seed(depth))
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(depth + 1))
    qnnpack = quantize.quantize_model(spec, state_dict, [calibration])
    with torch.inference_mode():
        traced = torch.jit.freeze(torch.jit.trace(qnnpack, x).eval())
        if not torch.equal(traced(x), qnnpack(x)):
            raise RuntimeError("traced and eager int8 outputs differ")
    onednn = onednn_model(spec, state_dict, calibration)
    return x, [("float32", None, float_model), ("int8 qnnpack", "qnnpack", qnnpack),
               ("int8 qnnpack jit", "qnnpack", traced), ("int8 onednn rr", "onednn", onednn)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--depths", type=int, nargs="+", default=[18, 50])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread, batch 1, 224x224, CPU: {cpu_name()}")
    for depth in args.depths:
        x, models = variants(depth)
        times = {name: [] for name, _, _ in models}
        with torch.inference_mode():
            for round_ in range(args.warmup + args.rounds):
                for name, engine, model in models:
                    if engine:
                        torch.backends.quantized.engine = engine
                    started = time.perf_counter()
                    model(x)
                    elapsed = time.perf_counter() - started
                    if round_ >= args.warmup:
                        times[name].append(elapsed)
        for name, samples in times.items():
            print(f"resnet{depth} {name:18s} median {1e3 * statistics.median(samples):7.1f} ms "
                  f"(min {1e3 * min(samples):.1f}, max {1e3 * max(samples):.1f}, {len(samples)} runs)")


if __name__ == "__main__":
    main()
