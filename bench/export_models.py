#!/usr/bin/python3
"""Write the benchmark's models and inputs into a cache directory, skipping files that exist.

For each torchvision ResNet depth: seeded random weights (tools/resnet_models.py's randomize_,
with non-trivial BatchNorm statistics) saved as DIR/resnetN_seedS.safetensors for ctresnet and
PyTorch, and the same model as DIR/resnetN_seedS.onnx (opset 13, dynamic batch axis) for ONNX
Runtime. For each batch size: DIR/input_bN_seedS.f32, fixed-seed standard-normal images as raw
float32 NCHW. Every file appears under its final name only once it is complete.

With --int8, each model is also quantized from those weights, calibrated on 8 seeded random
images: by tools/quantize.py's recipe (engine qnnpack) into DIR/resnetN_seedS.int8.safetensors
for ctresnet and DIR/resnetN_seedS.int8.onnx (QDQ, opset 13) for ONNX Runtime, and with
onednn's recipe for x86 (per-channel weights, 7-bit activations) into
DIR/resnetN_seedS.int8.onednn.pt (traced and frozen TorchScript) for PyTorch. For each batch size,
DIR/resnetN_seedS.int8_bN_seedI.expected.f32 holds the qnnpack model's dequantized logits of the
input, which ctresnet's must equal bit for bit.

With --digits, the trained digits model (examples/digits/resnet20_digits.safetensors: CIFAR
ResNet-20, shortcut A, 1x16x16 input, tools/train_digits.py's definition) is also exported as
DIR/resnet20_digits.onnx (opset 13, dynamic batch axis), with DIR/digits_input_b1_seedI.f32, a
seeded standard-normal 1x1x16x16 image, for the browser benchmark (bench/web/).
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

CALIBRATION_IMAGES = 8

IMAGE_SHAPE = (3, 224, 224)

DIGITS_WEIGHTS = Path(__file__).resolve().parent.parent / "examples" / "digits" / "resnet20_digits.safetensors"
DIGITS_IMAGE_SHAPE = (1, 16, 16)


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


def int8_paths(cache, depth, seed):
    stem = f"resnet{depth}_seed{seed}.int8"
    return cache / f"{stem}.safetensors", cache / f"{stem}.onnx", cache / f"{stem}.onednn.pt"


def int8_expected_path(cache, depth, weights_seed, batch, input_seed):
    return cache / f"resnet{depth}_seed{weights_seed}.int8_b{batch}_seed{input_seed}.expected.f32"


def replace_atomically(path, write):
    """Calls write(temporary path), then gives the file its name."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def export_int8_model(cache, depth, seed, batches, input_seed):
    """The three int8 files of one model, and the qnnpack model's logits for each input batch."""
    import bench_pytorch_int8  # noqa: E402 (tools/: onednn's recipe)
    import quantize  # noqa: E402 (tools/: the qnnpack recipe and its file format)

    weights, onnx, scripted = int8_paths(cache, depth, seed)
    expected = {b: int8_expected_path(cache, depth, seed, b, input_seed) for b in batches}
    if all(p.exists() for p in (weights, onnx, scripted, *expected.values())):
        return
    spec = quantize.Spec("torchvision", depth, None, 3, 1000)
    float_model = resnet_models.randomize_(spec.float_model(), seed)
    state_dict = float_model.state_dict()
    calibration = torch.randn(CALIBRATION_IMAGES, 3, 224, 224, generator=torch.Generator().manual_seed(seed + 1000))
    qnnpack = quantize.quantize_model(spec, state_dict, [calibration])
    example = torch.zeros(1, *IMAGE_SHAPE)
    replace_atomically(weights, lambda tmp: safetensors_io.save_file(
        quantize.export(qnnpack, example), tmp,
        quantize.file_metadata(spec, f"{CALIBRATION_IMAGES} seeded random images (seed {seed + 1000})")))
    with torch.no_grad():
        replace_atomically(onnx, lambda tmp: torch.onnx.export(
            qnnpack, example, tmp, opset_version=13, input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}))
    with torch.inference_mode():
        for batch, path in expected.items():
            images = torch.from_file(str(input_path(cache, batch, input_seed)), size=batch * 3 * 224 * 224,
                                     dtype=torch.float32).reshape(batch, *IMAGE_SHAPE)
            logits = qnnpack(images)
            replace_atomically(path, lambda tmp: logits.numpy().astype("<f4").tofile(tmp))
        onednn = bench_pytorch_int8.onednn_model(spec, state_dict, calibration)
        frozen = torch.jit.freeze(torch.jit.trace(onednn, example).eval())
        replace_atomically(scripted, lambda tmp: torch.jit.save(frozen, str(tmp)))
    print(f"quantized resnet{depth} (seed {seed}): {weights.name}, {onnx.name}, {scripted.name}", flush=True)


def export_input(cache, batch, seed):
    path = input_path(cache, batch, seed)
    if path.exists():
        return
    images = torch.randn(batch, *IMAGE_SHAPE, generator=torch.Generator().manual_seed(seed))
    with safetensors_io.atomic_output(path, "wb") as out:
        out.write(images.numpy().astype("<f4").tobytes())
    print(f"wrote {path.name}", flush=True)


def export_digits(cache, input_seed):
    """The digits model as ONNX, built from its safetensors file by train_digits.py's definition."""
    onnx = cache / "resnet20_digits.onnx"
    image = cache / f"digits_input_b1_seed{input_seed}.f32"
    if not onnx.exists():
        tensors, metadata = safetensors_io.load_file_with_metadata(DIGITS_WEIGHTS)
        model = resnet_models.build_cifar(int(metadata["depth"]), metadata["shortcut"],
                                          int(metadata["num_classes"]), int(metadata["in_channels"]))
        resnet_models.load_strict(model, tensors)
        with torch.no_grad():
            replace_atomically(onnx, lambda tmp: torch.onnx.export(
                model.eval(), torch.zeros(1, *DIGITS_IMAGE_SHAPE), tmp, opset_version=13, input_names=["input"],
                output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}))
        print(f"exported the digits model: {onnx.name}", flush=True)
    if not image.exists():
        pixels = torch.randn(1, *DIGITS_IMAGE_SHAPE, generator=torch.Generator().manual_seed(input_seed))
        replace_atomically(image, lambda tmp: tmp.write_bytes(pixels.numpy().astype("<f4").tobytes()))
        print(f"wrote {image.name}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--depths", type=lambda s: [int(d) for d in s.split(",")], required=True)
    parser.add_argument("--batches", type=lambda s: [int(b) for b in s.split(",")], required=True)
    parser.add_argument("--weights-seed", type=int, default=0)
    parser.add_argument("--input-seed", type=int, default=1)
    parser.add_argument("--int8", action="store_true", help="also the quantized models (see above)")
    parser.add_argument("--digits", action="store_true", help="also the digits model as ONNX (see above)")
    args = parser.parse_args()

    torch.set_num_threads(os.cpu_count() or 1)
    args.cache.mkdir(parents=True, exist_ok=True)
    for depth in args.depths:
        export_model(args.cache, depth, args.weights_seed)
    for batch in args.batches:
        export_input(args.cache, batch, args.input_seed)
    if args.int8:
        for depth in args.depths:
            export_int8_model(args.cache, depth, args.weights_seed, args.batches, args.input_seed)
    if args.digits:
        export_digits(args.cache, args.input_seed)


if __name__ == "__main__":
    main()
