#!/usr/bin/python3
"""Generate the int8 reference files: PyTorch's quantized ResNets (engine qnnpack) and their outputs.

For every case NAME it writes into --out:
  NAME.int8.weights.safetensors  the quantized model, as tools/quantize.py writes it (docs/int8.md)
  NAME.int8.io.safetensors       "input" F32 [2, C, S, S] (not among the calibration images),
                                 "quant" U8 (the quantized input), "layer1".."layer4" U8 (each stage's
                                 output; CIFAR models have three), "output" U8 [2, classes] (the
                                 classifier's int_repr() before DeQuantStub), "output_scale" F32 [],
                                 "output_zero_point" I32 [], "logits" F32 [2, classes] (dequantized)
  NAME.int8.stamp                hash of the tools/*.py this script imports, the case and the torch
                                 versions (and of the digits checkpoint); a case whose files exist and
                                 whose stamp matches is skipped
Cases:
  torchvision_resnet18, torchvision_resnet50   seeded random weights (resnet_models.randomize_,
                                 the float references' seeds), 4 seeded N(0, 1) calibration images
  torchvision_wide_resnet50_2    the same, with torchvision's Wide ResNet bottlenecks (width 128)
  torchvision_resnext50_32x4d    the same, with ResNeXt-50's grouped bottlenecks (32 groups of 4)
  torchvision_resnet50_dilated   the same with replace_stride_with_dilation [False, True, True],
                                 at 112x112 (layer3 and layer4 stay at 14x14, dilated 2 and 4)
  stage_projection_resnet18      the same, at 193x193 (odd sizes on every stage; 7x7 before the pool)
  cifar_resnet20_A               the same, at 32x32
  digits                         examples/digits' trained weights, calibrated on the digits training
                                 split exactly as `quantize.py --model digits` (same file); the input
                                 is the first two of the 360 held-out images
Seeds derive from NAME only, so the files are reproducible; the weights files equal what
tools/quantize.py writes for the same checkpoint and calibration.

--golden also runs tools/int8_reference.py on each case and prints, per stored tensor, how many
elements differ from PyTorch's (exit status 1 if any does).
"""
import argparse
import hashlib
import json
import signal
import sys
import time
from pathlib import Path
from typing import NamedTuple

try:
    import numpy as np
    import torch
    import torchvision
except ImportError:
    sys.exit("python3-torch is not installed: apt-get install python3-torch python3-torchvision\n"
             f"(this ran under {sys.executable}; use /usr/bin/python3)")

import int8_reference
import quantize
import resnet_models
import safetensors_io
import train_digits  # noqa: F401  (the digits split comes from it: its source goes into the stamps)
import make_references
from make_references import stable_seed

DIGITS_WEIGHTS = quantize.DIGITS_DIR / "resnet20_digits.safetensors"
BATCH = 2
CALIBRATION_IMAGES = 4


class Case(NamedTuple):
    layout: str
    depth: int
    size: int
    shortcut: str = None
    width_per_group: int = 64
    groups: int = 1
    dilation: tuple = None  # torchvision's replace_stride_with_dilation


CASES = {
    "torchvision_resnet18": Case("torchvision", 18, 224),
    "torchvision_resnet50": Case("torchvision", 50, 224),
    "torchvision_wide_resnet50_2": Case("torchvision", 50, 224, width_per_group=128),
    "torchvision_resnext50_32x4d": Case("torchvision", 50, 224, width_per_group=4, groups=32),
    "torchvision_resnet50_dilated": Case("torchvision", 50, 112, dilation=(False, True, True)),
    "stage_projection_resnet18": Case("stage_projection", 18, 193),
    "cifar_resnet20_A": Case("cifar", 20, 32, "A"),
    "digits": Case("cifar", 20, 16, "A"),
}


def case_files(out_dir, name):
    return (out_dir / f"{name}.int8.weights.safetensors", out_dir / f"{name}.int8.io.safetensors",
            out_dir / f"{name}.int8.stamp")


def generator_sources():
    """This script and the tools/ modules it imported."""
    return make_references.generator_sources(Path(__file__).resolve())


def stamp_of(name):
    digest = hashlib.sha256()
    for source in generator_sources():
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    if name == "digits":
        digest.update(DIGITS_WEIGHTS.read_bytes())
    settings = {"case": name, **CASES[name]._asdict(), "batch": BATCH, "calibration_images": CALIBRATION_IMAGES,
                "torch": torch.__version__, "torchvision": torchvision.__version__}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest() + "\n"


def float_checkpoint(name, case):
    """(state_dict, metadata of the checkpoint, spec) of the case's float model."""
    if name == "digits":
        state_dict, metadata = safetensors_io.load_file_with_metadata(DIGITS_WEIGHTS)
    else:
        spec = quantize.Spec(case.layout, case.depth, case.shortcut,
                             num_classes=10 if case.layout == "cifar" else None, width_per_group=case.width_per_group,
                             groups=case.groups, dilation=case.dilation)
        if spec.num_classes is None:
            spec.num_classes = resnet_models.DEFAULT_NUM_CLASSES[case.layout]
        model = resnet_models.randomize_(spec.float_model(), stable_seed(name))
        state_dict, metadata = model.state_dict(), {}
    return state_dict, metadata, quantize.spec_from_checkpoint(case.layout, case.depth, case.shortcut, state_dict,
                                                               case.dilation)


def calibration_and_input(name, case, spec, metadata):
    """(calibration images, their description, the batch-2 input)."""
    if name == "digits":
        seed = int(metadata.get("seed", 0))
        calibration = quantize.digits_training_images(seed)
        description = f"digits: the first {len(calibration)} images of the training split (seed {seed}), sklearn order"
        test_dir = quantize.DIGITS_DIR / "test"
        files = quantize.list_images(test_dir)[:BATCH]
        return calibration, description, quantize.load_images(files, True, case.size)
    shape = (spec.in_channels, case.size, case.size)
    generator = torch.Generator().manual_seed(stable_seed(f"{name}/int8-calibration"))
    calibration = torch.randn(CALIBRATION_IMAGES, *shape, generator=generator)
    description = (f"random: {CALIBRATION_IMAGES} images N(0, 1) {list(shape)}, "
                   f"seed stable_seed('{name}/int8-calibration')")
    generator = torch.Generator().manual_seed(stable_seed(f"{name}/int8-input"))
    return calibration, description, torch.randn(BATCH, *shape, generator=generator)


def generate_case(name, out_dir):
    case = CASES[name]
    weights_path, io_path, _ = case_files(out_dir, name)
    state_dict, metadata, spec = float_checkpoint(name, case)
    calibration, description, inputs = calibration_and_input(name, case, spec, metadata)
    batch = 8
    model = quantize.quantize_model(spec, state_dict, quantize.batched(calibration, batch))
    tensors = quantize.export(model, calibration[:1])
    file_metadata = quantize.file_metadata(spec, description, DIGITS_WEIGHTS if name == "digits" else None)
    file_metadata["calibration_batch"] = str(batch)
    if name != "digits":
        file_metadata["float_weights"] = f"resnet_models.randomize_(seed=stable_seed('{name}'))"

    outputs = {}
    stages = [s for s in ("layer1", "layer2", "layer3", "layer4") if hasattr(model, s)]
    for stage in ["quant", *stages, "fc"]:
        getattr(model, stage).register_forward_hook(
            lambda module, args, output, stage=stage: outputs.__setitem__(stage, output))
    with torch.inference_mode():
        logits = model(inputs)
    io = {"input": inputs, "logits": logits, "output": outputs.pop("fc").int_repr(),
          "output_scale": torch.tensor(model.fc.scale, dtype=torch.float32),
          "output_zero_point": torch.tensor(model.fc.zero_point, dtype=torch.int32)}
    io.update({stage: output.int_repr() for stage, output in outputs.items()})
    safetensors_io.save_file(tensors, weights_path, file_metadata)
    io_metadata = {"case": name, "format": int8_reference.FORMAT, "engine": quantize.ENGINE,
                   "torch": torch.__version__, "input": ("the first two held-out digits images" if name == "digits"
                                                          else f"torch.randn seed stable_seed('{name}/int8-input')")}
    safetensors_io.save_file(io, io_path, io_metadata)
    sizes = weights_path.stat().st_size + io_path.stat().st_size
    return f"{len(tensors)} tensors, {sizes / 1e6:.1f} MB, input {list(inputs.shape)}"


def golden_check(name, out_dir):
    """{stored tensor: differing elements} between tools/int8_reference.py and PyTorch."""
    weights_path, io_path, _ = case_files(out_dir, name)
    tensors, metadata = int8_reference.load(weights_path)
    reference, _ = int8_reference.load(io_path)
    outputs = int8_reference.forward(tensors, metadata, reference["input"])
    result = int8_reference.compare(outputs, reference)
    result["logits (bits)"] = int(np.count_nonzero(outputs["logits"].view(np.uint32) != reference["logits"].view(np.uint32)))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory of the reference files")
    parser.add_argument("--only", nargs="+", choices=CASES, metavar="NAME",
                        help=f"generate only these cases (default: all): {', '.join(CASES)}")
    parser.add_argument("--golden", action="store_true", help="compare tools/int8_reference.py with each case")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    names = [name for name in CASES if not args.only or name in args.only]
    started = time.perf_counter()
    generated, failed = 0, False
    for name in names:
        case_started = time.perf_counter()
        weights_path, io_path, stamp_path = case_files(args.out, name)
        stamp = stamp_of(name)
        if weights_path.exists() and io_path.exists() and stamp_path.exists() and stamp_path.read_text() == stamp:
            print(f"{name}: up to date, skipped", flush=True)
        else:
            stamp_path.unlink(missing_ok=True)
            summary = generate_case(name, args.out)
            with safetensors_io.atomic_output(stamp_path, "w") as out:
                out.write(stamp)
            generated += 1
            print(f"{name}: generated in {time.perf_counter() - case_started:.1f} s ({summary})", flush=True)
        if args.golden:
            golden_started = time.perf_counter()
            result = golden_check(name, args.out)
            failed |= any(result.values())
            counts = ", ".join(f"{key} {value}" for key, value in result.items())
            print(f"{name}: golden model vs PyTorch, differing elements: {counts} "
                  f"({time.perf_counter() - golden_started:.1f} s)", flush=True)
    print(f"{len(names)} cases ({generated} generated, {len(names) - generated} up to date) "
          f"in {time.perf_counter() - started:.1f} s -> {args.out}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
