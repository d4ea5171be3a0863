#!/usr/bin/python3
"""PyTorch's side of bench/run_bench.py: a worker with the same line protocol as ctresnet_bench.

    torch_bench.py DEPTH WEIGHTS.safetensors INPUT.f32 BATCH THREADS LOGITS.f32
    torch_bench.py DEPTH MODEL.int8.onednn.pt INPUT.f32 BATCH THREADS LOGITS.f32

Loads torchvision's resnetDEPTH with the weights ctresnet reads, then runs it the fast way PyTorch
offers on a CPU: eval(), torch.jit.trace, torch.jit.freeze and torch.jit.optimize_for_inference
(which hands the convolutions to oneDNN), under torch.inference_mode(). Eager mode would be an
unfair peer: with one thread it is about 12 times slower here. A .pt file is a quantized model
that export_models.py --int8 traced and froze; it runs on the quantized engine onednn, PyTorch's
fastest on x86.

Replies, one JSON object a line: {"ready": true, ...} once set up; {"ms": [...]} for "run K";
{"max_rss_kib": ...} for "quit", after writing the last logits. One process serves one thread
count: torch.set_num_threads is set once, before any parallel work, which is when it is reliable.
"""
import json
import resource
import sys
import time
from pathlib import Path

import torch

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import resnet_models  # noqa: E402
import safetensors_io  # noqa: E402

IMAGE_SHAPE = (3, 224, 224)


def reply(obj):
    print(json.dumps(obj), flush=True)


def cpu_capability():
    """The instruction set ATen's kernels use, as torch reports it ("AVX512", "AVX2", "NO AVX";
    ATEN_CPU_CAPABILITY may lower it)."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip()
    return ""


def max_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def main():
    depth, weights, input_path, batch, threads, logits_path = sys.argv[1:]
    batch, threads = int(batch), int(threads)
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)

    images = torch.from_file(input_path, size=batch * 3 * 224 * 224, dtype=torch.float32).reshape(batch, *IMAGE_SHAPE)
    if weights.endswith(".pt"):
        torch.backends.quantized.engine = "onednn"
        frozen = torch.jit.load(weights)
    else:
        model = resnet_models.build("torchvision", int(depth))
        resnet_models.load_strict(model, safetensors_io.load_file(weights))
        with torch.inference_mode():
            traced = torch.jit.trace(model.eval(), images)
            frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
        del model, traced  # the frozen module holds its own (prepacked) weights

    logits = None
    reply({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
           "mkldnn": torch.backends.mkldnn.is_available(), "cpu_capability": cpu_capability()})
    for line in sys.stdin:
        words = line.split()
        if words[:1] == ["run"]:
            times = []
            with torch.inference_mode():
                for _ in range(int(words[1])):
                    start = time.perf_counter()
                    logits = frozen(images)
                    times.append((time.perf_counter() - start) * 1e3)
            reply({"ms": times})
        elif words[:1] == ["quit"]:
            logits.contiguous().numpy().astype("<f4").tofile(logits_path)
            reply({"max_rss_kib": max_rss_kib()})
            return
        else:
            raise SystemExit(f"unknown command: {line!r}")
    raise SystemExit("stdin closed before quit")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # the driver reads the reason from stdout
        reply({"error": f"{type(error).__name__}: {error}"})
        raise
