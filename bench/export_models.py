#!/usr/bin/python3
"""Write the benchmark's models and inputs into a cache directory, skipping files that exist.

For each torchvision ResNet depth: seeded random weights (tools/resnet_models.py's randomize_,
with non-trivial BatchNorm statistics) saved as DIR/resnetN_seedS.safetensors for ctresnet and
PyTorch, and the same model as DIR/resnetN_seedS.onnx (opset 13, dynamic batch axis) for ONNX
Runtime. For each batch size: DIR/input_bN_seedS.f32, fixed-seed standard-normal images as raw
float32 NCHW. Every file appears under its final name only once it is complete.
"""
import argparse
import os
import sys
from pathlib import Path

import torch

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import resnet_models  # noqa: E402
import safetensors_io  # noqa: E402

IMAGE_SHAPE = (3, 224, 224)


def model_paths(cache, depth, seed):
    stem = cache / f"resnet{depth}_seed{seed}"
    return stem.with_suffix(".safetensors"), stem.with_suffix(".onnx")


def input_path(cache, batch, seed):
    return cache / f"input_b{batch}_seed{seed}.f32"


def export_model(cache, depth, seed):
    weights, onnx = model_paths(cache, depth, seed)
    if weights.exists() and onnx.exists():
        return
    # no_grad rather than inference_mode: tensors made in inference mode cannot be traced for ONNX.
    with torch.no_grad():
        model = resnet_models.randomize_(resnet_models.build("torchvision", depth), seed)
        safetensors_io.save_file(
            model.state_dict(), weights, {"layout": "torchvision", "depth": str(depth), "weights": f"seed {seed}"}
        )
        tmp = cache / f".{onnx.name}.{os.getpid()}.tmp"
        try:
            torch.onnx.export(
                model,
                torch.zeros(1, *IMAGE_SHAPE),
                tmp,
                opset_version=13,
                input_names=["input"],
                output_names=["logits"],
                dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            )
            os.replace(tmp, onnx)
        except BaseException:
            os.unlink(tmp)
            raise
    print(f"exported resnet{depth} (seed {seed}): {weights.name}, {onnx.name}", flush=True)


def export_input(cache, batch, seed):
    path = input_path(cache, batch, seed)
    if path.exists():
        return
    images = torch.randn(batch, *IMAGE_SHAPE, generator=torch.Generator().manual_seed(seed))
    with safetensors_io.atomic_output(path, "wb") as out:
        out.write(images.numpy().astype("<f4").tobytes())
    print(f"wrote {path.name}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--depths", type=lambda s: [int(d) for d in s.split(",")], required=True)
    parser.add_argument("--batches", type=lambda s: [int(b) for b in s.split(",")], required=True)
    parser.add_argument("--weights-seed", type=int, default=0)
    parser.add_argument("--input-seed", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(os.cpu_count() or 1)
    args.cache.mkdir(parents=True, exist_ok=True)
    for depth in args.depths:
        export_model(args.cache, depth, args.weights_seed)
    for batch in args.batches:
        export_input(args.cache, batch, args.input_seed)


if __name__ == "__main__":
    main()
