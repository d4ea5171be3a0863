#!/usr/bin/python3
"""PyTorch's quantized digits model on the 360 held-out digits: main_job.digits_int8_as_pytorch's reference.

PyTorch's quantized model (engine qnnpack, the recipe of docs/int8.md) is built with the parameters
of an int8 model file, --weights (default examples/digits/resnet20_digits.int8.safetensors, which
`tools/quantize.py --model digits` writes), instead of being calibrated again: the reference is
that file's on every machine, whatever scales calibration would give there. The script exports the
model it built as quantize.py exports one and requires every tensor to equal the file's, so
PyTorch runs exactly the file.

The images are examples/digits/test/'s PGM files in the order of its labels.txt, transformed as
tools/train_digits.py transforms them. Writes --out FILE (safetensors):
  "labels"             I32 [360]             labels.txt's labels
  "quant"              U8  [360, 1, 16, 16]  the quantized input (QuantStub's int_repr())
  "output"             U8  [360, 10]         the classifier's uint8 logits (int_repr() before DeQuantStub)
  "output_scale" F32 [], "output_zero_point" I32 []   their quantization
  "logits"             F32 [360, 10]         the dequantized logits
and FILE.stamp, a hash of the tools/*.py it imports, the weights, the test set and the torch
versions: when FILE and a matching stamp exist, nothing is done. About 3 s on one thread.
"""
import argparse
import hashlib
import signal
import sys
import time
from pathlib import Path

try:
    import numpy as np
    import torch
    import torchvision
    import torch.nn.quantized as nnq
except ImportError as error:
    sys.exit(f"{error}: apt-get install python3-torch python3-torchvision\n"
             f"(this ran under {sys.executable}; use /usr/bin/python3)")

import int8_reference
import quantize
import safetensors_io
import train_digits

TOOLS_DIR = Path(__file__).resolve().parent
DEFAULT_WEIGHTS = quantize.DIGITS_DIR / "resnet20_digits.int8.safetensors"
TEST_DIR = quantize.DIGITS_DIR / "test"
SOURCES = ("make_int8_digits_refs.py", "int8_reference.py", "quantize.py", "quantizable_models.py",
           "resnet_models.py", "safetensors_io.py", "train_digits.py")


def test_set():
    """(file names, labels int64 [N], images float32 [N, 1, 16, 16]) in labels.txt's order."""
    names, labels = [], []
    for line in (TEST_DIR / "labels.txt").read_text().splitlines():
        if line.strip():
            name, label = line.split()
            names.append(name)
            labels.append(int(label))
    pixels = torch.stack([train_digits.read_pgm(TEST_DIR / name) for name in names])
    return names, torch.tensor(labels), train_digits.transform(pixels)


def stamp_of(weights):
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update(name.encode() + b"\0" + (TOOLS_DIR / name).read_bytes() + b"\0")
    digest.update(Path(weights).read_bytes())
    digest.update((TEST_DIR / "labels.txt").read_bytes())
    for pgm in sorted(TEST_DIR.glob("*.pgm")):
        digest.update(pgm.name.encode() + b"\0" + pgm.read_bytes())
    digest.update(f"torch {torch.__version__} torchvision {torchvision.__version__}".encode())
    return digest.hexdigest() + "\n"


def pytorch_model(tensors, metadata):
    """PyTorch's quantized model (qnnpack) holding exactly the parameters of the file."""
    if metadata.get("format") != int8_reference.FORMAT or metadata.get("layout") != "cifar":
        raise SystemExit(f"not an int8 CIFAR model file (metadata {metadata})")
    spec = quantize.Spec("cifar", int(metadata["depth"]), metadata["shortcut"],
                         in_channels=int(metadata["in_channels"]), num_classes=int(metadata["num_classes"]))
    # The structure of a converted model, calibrated on anything: every value is replaced below.
    generator = torch.Generator().manual_seed(0)
    placeholder = torch.randn(2, spec.in_channels, 16, 16, generator=generator)
    model = quantize.quantize_model(spec, spec.float_model().state_dict(), [placeholder])

    def scalar(name):
        return tensors[name].item()

    for name, module in model.named_modules():
        if isinstance(module, nnq.Quantize):
            module.scale = torch.tensor([scalar(f"{name}.output_scale")], dtype=module.scale.dtype)
            module.zero_point = torch.tensor([scalar(f"{name}.output_zero_point")], dtype=module.zero_point.dtype)
        elif isinstance(module, (nnq.Conv2d, nnq.Linear)):
            weight = torch._make_per_channel_quantized_tensor(
                torch.from_numpy(tensors[f"{name}.weight"].copy()),
                torch.from_numpy(tensors[f"{name}.weight_scale"].astype(np.float64)),
                torch.from_numpy(tensors[f"{name}.weight_zero_point"].astype(np.int64)), 0)
            module.set_weight_bias(weight, torch.from_numpy(tensors[f"{name}.bias_float"].copy()))
            module.scale = float(scalar(f"{name}.output_scale"))
            module.zero_point = int(scalar(f"{name}.output_zero_point"))
        elif isinstance(module, nnq.QFunctional):
            prefix = f"{name.rsplit('.', 1)[0]}.add"
            module.scale = float(scalar(f"{prefix}.output_scale"))
            module.zero_point = int(scalar(f"{prefix}.output_zero_point"))

    exported = quantize.export(model, placeholder[:1])
    differing = sorted(name for name in set(exported) | set(tensors)
                       if name not in exported or name not in tensors
                       or exported[name].numpy().tobytes() != tensors[name].tobytes())
    if differing:
        raise SystemExit(f"PyTorch's model does not hold the file's parameters: {differing[:8]}")
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="the int8 digits model")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help="the reference file to write")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    torch.set_num_threads(1)
    started = time.perf_counter()
    stamp_path = args.out.with_name(args.out.name + ".stamp")
    stamp = stamp_of(args.weights)
    if args.out.exists() and stamp_path.exists() and stamp_path.read_text() == stamp:
        print(f"{args.out}: up to date")
        return
    stamp_path.unlink(missing_ok=True)

    tensors, metadata = int8_reference.load(args.weights)
    model = pytorch_model(tensors, metadata)
    names, labels, images = test_set()
    captured = {}
    for stage in ("quant", "fc"):
        getattr(model, stage).register_forward_hook(
            lambda module, inputs, output, stage=stage: captured.__setitem__(stage, output))
    with torch.inference_mode():
        logits = model(images)
    output = captured["fc"]
    reference = {"labels": labels.to(torch.int32), "quant": captured["quant"].int_repr(), "output": output.int_repr(),
                 "output_scale": torch.tensor(output.q_scale(), dtype=torch.float32),
                 "output_zero_point": torch.tensor(output.q_zero_point(), dtype=torch.int32), "logits": logits}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    safetensors_io.save_file(reference, args.out, {
        "format": "ctresnet-int8-reference", "engine": quantize.ENGINE, "torch": torch.__version__,
        "weights_sha256": hashlib.sha256(args.weights.read_bytes()).hexdigest(),
        "images": f"the {len(names)} PGM files of examples/digits/test/labels.txt, in its order"})
    with safetensors_io.atomic_output(stamp_path, "w") as out:
        out.write(stamp)
    correct = int((logits.argmax(1) == labels).sum())
    print(f"{args.out}: {len(names)} images, PyTorch int8 accuracy {correct}/{len(names)} "
          f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
