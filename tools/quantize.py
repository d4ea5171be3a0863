#!/usr/bin/python3
"""Quantize a float ResNet checkpoint to int8 as PyTorch does (eager-mode static quantization).

Recipe (docs/int8.md explains it): engine qnnpack; convs fused with their BatchNorm (and ReLU);
activations quint8 per tensor, affine, observed by HistogramObserver over all 256 levels
(reduce_range=False); weights qint8 per output channel, symmetric (PerChannelMinMaxObserver);
residual adds as quantized add_relu. The result is written as a safetensors file of integer
tensors and scales under the names of docs/int8.md, which tools/int8_reference.py runs.

Model, one of:
  --layout torchvision|v1|stage_projection --depth 18|34|50|101|152
                     (torchvision and v1 bottlenecks: also Wide ResNets and ResNeXts, whose
                     width and groups come from the checkpoint; dilated stages with
                     --replace-stride-with-dilation or the checkpoint's metadata)
  --layout cifar --depth 20|32|44|56|110|1202 --shortcut A|B
  --model digits     the CIFAR ResNet-20 (option A, 1 channel) of tools/train_digits.py; its
                     weights, calibration set and test set default to examples/digits/
The number of classes and of input channels come from the checkpoint (--weights).

Calibration (--calibrate):
  random   --count N --seed S seeded N(0, 1) images of --size (224; CIFAR 32; digits 16)
  digits   the training split of tools/train_digits.py (its seeded stratified split, the seed
           from the checkpoint's metadata); the 360 held-out images are never used; --count N
           takes the first N training images in sklearn order
  DIR      the images in DIR (sorted by name), decoded with PIL: the digits model takes 8x8
           grayscale images and its own transform; the others torchvision's eval transform
           (resize to size * 256 / 224, center crop --size, ImageNet mean and std)
Images are observed in batches of --batch (8) in a fixed order, on --threads threads (1): the
same command gives a byte-identical file.

--eval DIR reports the float and the int8 top-1 accuracy on DIR's images, whose labels are in
DIR/labels.txt ("file label" per line; the digits test set's format). --golden also runs
tools/int8_reference.py on them and counts the images whose uint8 logits differ from PyTorch's.
"""
import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

try:
    import numpy as np
    import torch
    import torchvision
    from torch.ao import quantization as tq
except ImportError as error:
    sys.exit(f"{error}: apt-get install python3-torch python3-torchvision\n"
             f"(this ran under {sys.executable}; use /usr/bin/python3)")

import image_transforms
import int8_reference
import quantizable_models
import resnet_models
import safetensors_io

TOOLS_DIR = Path(__file__).resolve().parent
DIGITS_DIR = TOOLS_DIR.parent / "examples" / "digits"
ENGINE = int8_reference.ENGINE
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".pgm", ".ppm", ".pnm", ".bmp", ".webp", ".tif", ".tiff"}
QCONFIG_TEXT = ("activation HistogramObserver(quint8, per_tensor_affine, reduce_range=False); "
                "weight PerChannelMinMaxObserver(qint8, per_channel_symmetric, ch_axis=0)")


def qconfig():
    return tq.QConfig(
        activation=tq.HistogramObserver.with_args(dtype=torch.quint8, qscheme=torch.per_tensor_affine,
                                                  reduce_range=False),
        weight=tq.PerChannelMinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_channel_symmetric),
    )


class Spec:
    """What network a checkpoint holds: layout (torchvision, v1, stage_projection, cifar), depth, ..."""

    def __init__(self, layout, depth, shortcut=None, in_channels=3, num_classes=None, width_per_group=64, groups=1,
                 dilation=None):
        self.layout, self.depth, self.shortcut = layout, depth, shortcut
        self.in_channels, self.num_classes = in_channels, num_classes
        # A bottleneck's 3x3 conv (torchvision and v1): 128 wide per group for a Wide ResNet, 32
        # groups of 4 for ResNeXt-50 32x4d.
        self.width_per_group, self.groups = width_per_group, groups
        self.dilation = dilation  # torchvision's replace_stride_with_dilation (three booleans), or None

    def _torchvision_options(self):
        return {"width_per_group": self.width_per_group, "groups": self.groups,
                "replace_stride_with_dilation": self.dilation}

    def float_model(self):
        if self.layout == "cifar":
            return resnet_models.build_cifar(self.depth, self.shortcut, self.num_classes, self.in_channels)
        return resnet_models.build(self.layout, self.depth, self.num_classes, **self._torchvision_options())

    def quantizable_model(self):
        if self.layout == "cifar":
            return quantizable_models.build_cifar(self.depth, self.shortcut, self.num_classes, self.in_channels)
        return quantizable_models.build(self.layout, self.depth, self.num_classes, **self._torchvision_options())

    def metadata(self):
        meta = {"layout": self.layout, "depth": str(self.depth), "in_channels": str(self.in_channels),
                "num_classes": str(self.num_classes)}
        if self.shortcut is not None:
            meta["shortcut"] = self.shortcut
        if self.width_per_group != 64:
            meta["width_per_group"] = str(self.width_per_group)
        if self.groups != 1:
            meta["groups"] = str(self.groups)
        if self.dilation is not None and any(self.dilation):
            meta["replace_stride_with_dilation"] = json.dumps(list(self.dilation))
        return meta


def spec_from_checkpoint(layout, depth, shortcut, state_dict, dilation=None):
    """The Spec of a checkpoint of (layout, depth): its input channels and classes, and for a
    bottleneck network its 3x3 convs' groups and width (a Wide ResNet's is twice torchvision's,
    ResNeXt's grouped), read off layer1.0.conv2's weight [width, width / groups, 3, 3]. A stride
    replaced by dilation leaves no trace in the weights: `dilation` says it."""
    if dilation is not None and any(dilation) and (layout not in ("torchvision", "v1")
                                                   or depth not in resnet_models.BOTTLENECK_DEPTHS):
        raise SystemExit(f"replace_stride_with_dilation {list(dilation)}: only bottleneck networks of the torchvision "
                         f"and v1 layouts have dilated stages (torchvision's basic blocks refuse dilation), not "
                         f"{layout} depth {depth}")
    stem = "conv1.0.weight" if layout == "stage_projection" else "conv1.weight"
    width_per_group, groups = 64, 1
    conv2 = state_dict.get("layer1.0.conv2.weight")
    if layout in ("torchvision", "v1") and depth in resnet_models.BOTTLENECK_DEPTHS and conv2 is not None:
        groups = conv2.shape[0] // conv2.shape[1]
        if groups * conv2.shape[1] != conv2.shape[0]:
            raise SystemExit(f"the checkpoint's layer1.0.conv2 has weight {list(conv2.shape)}: its input channels "
                             "do not divide its outputs into groups")
        width_per_group = conv2.shape[0] // groups  # layer1's bottleneck has 64 planes: its width is groups x this
    return Spec(layout, depth, shortcut, in_channels=state_dict[stem].shape[1],
                num_classes=state_dict["fc.weight"].shape[0], width_per_group=width_per_group, groups=groups,
                dilation=None if dilation is None else tuple(bool(d) for d in dilation))


def dilation_of(text):
    """torchvision's replace_stride_with_dilation from "0,1,1", "false,true,true" or a JSON list."""
    words = text.strip().strip("[]").replace(" ", "").split(",")
    values = {"0": False, "1": True, "false": False, "true": True}
    if len(words) != 3 or any(word.lower() not in values for word in words):
        raise SystemExit(f"replace_stride_with_dilation {text!r}: expected three of 0/1 or false/true, "
                         "for layer2, layer3 and layer4")
    return tuple(values[word.lower()] for word in words)


def quantize_model(spec, state_dict, batches):
    """Fuse, observe the calibration batches, convert with qnnpack; returns the quantized model."""
    torch.backends.quantized.engine = ENGINE
    model = spec.quantizable_model()
    resnet_models.load_strict(model, state_dict)
    model.eval()
    model.fuse_model()
    model.qconfig = qconfig()
    tq.prepare(model, inplace=True)
    with torch.inference_mode():
        for batch in batches:
            model(batch)
    tq.convert(model, inplace=True)
    return model


def _exact_f32(value, what):
    tensor = torch.as_tensor(value, dtype=torch.float64)
    if not torch.equal(tensor.float().double(), tensor):
        raise ValueError(f"{what}: scale {value} is not a float32 value")
    return tensor.float()


def export(model, example):
    """The quantized model's tensors under docs/int8.md's names (torch tensors, for safetensors_io).

    Runs `example` once to learn each layer's input scale (static, so any input does).
    """
    import torch.nn.quantized as nnq

    inputs = {}
    hooks = []
    add_operands = {}
    for name, module in model.named_modules():
        if isinstance(module, (nnq.Conv2d, nnq.Linear)):
            hooks.append(module.register_forward_pre_hook(
                lambda m, args, name=name: inputs.__setitem__(name, (args[0].q_scale(), args[0].q_zero_point()))))
        elif isinstance(module, nnq.QFunctional):
            def add_relu(x, y, module=module, name=name):
                add_operands[name] = ((x.q_scale(), x.q_zero_point()), (y.q_scale(), y.q_zero_point()))
                return type(module).add_relu(module, x, y)
            module.add_relu = add_relu
    try:
        with torch.inference_mode():
            model(example)
    finally:
        for hook in hooks:
            hook.remove()
        for module in model.modules():
            if isinstance(module, nnq.QFunctional):
                del module.add_relu

    tensors = {}
    for name, module in model.named_modules():
        if isinstance(module, nnq.Quantize):
            tensors[f"{name}.output_scale"] = _exact_f32(module.scale.item(), name).reshape(())
            tensors[f"{name}.output_zero_point"] = torch.tensor(int(module.zero_point.item()), dtype=torch.int32)
        elif isinstance(module, (nnq.Conv2d, nnq.Linear)):
            weight = module.weight()
            if weight.qscheme() != torch.per_channel_affine and weight.qscheme() != torch.per_channel_symmetric:
                raise ValueError(f"{name}: weights are not quantized per channel")
            weight_scale = _exact_f32(weight.q_per_channel_scales(), name)
            input_scale, _ = inputs[name]
            input_scale = _exact_f32(input_scale, name).item()
            output_scale = _exact_f32(module.scale, name)
            bias = module.bias().detach().to(torch.float32)
            tensors[f"{name}.weight"] = weight.int_repr().contiguous()
            tensors[f"{name}.weight_scale"] = weight_scale
            tensors[f"{name}.weight_zero_point"] = weight.q_per_channel_zero_points().to(torch.int32)
            tensors[f"{name}.bias"] = torch.from_numpy(
                int8_reference.bias_int32(bias.numpy(), weight_scale.numpy(), input_scale).astype(np.int32))
            tensors[f"{name}.bias_float"] = bias.clone()
            tensors[f"{name}.requant_scale"] = torch.from_numpy(
                int8_reference.requant_scale(weight_scale.numpy(), input_scale, output_scale.item()))
            tensors[f"{name}.output_scale"] = output_scale.reshape(())
            tensors[f"{name}.output_zero_point"] = torch.tensor(int(module.zero_point), dtype=torch.int32)
        elif isinstance(module, nnq.QFunctional):
            (a_scale, _), (b_scale, _) = add_operands[name]
            prefix = f"{name.rsplit('.', 1)[0]}.add"
            output_scale = _exact_f32(module.scale, name)
            a_mult, b_mult, shift = int8_reference.add_params(a_scale, b_scale, output_scale.item())
            tensors[f"{prefix}.output_scale"] = output_scale.reshape(())
            tensors[f"{prefix}.output_zero_point"] = torch.tensor(int(module.zero_point), dtype=torch.int32)
            tensors[f"{prefix}.multipliers"] = torch.tensor([a_mult, b_mult], dtype=torch.int32)
            tensors[f"{prefix}.shift"] = torch.tensor(shift, dtype=torch.int32)
    return tensors


def file_metadata(spec, calibration, source=None):
    meta = {"format": int8_reference.FORMAT, "format_version": int8_reference.FORMAT_VERSION, "engine": ENGINE,
            "qconfig": QCONFIG_TEXT, "calibration": calibration, "torch": torch.__version__,
            "torchvision": torchvision.__version__, **spec.metadata()}
    if source is not None:
        meta["float_weights_sha256"] = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    return meta


# ------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------

def digits_training_images(seed):
    """The training split of tools/train_digits.py, transformed: float32 [1437, 1, 16, 16] (sklearn order)."""
    import train_digits
    from make_references import stable_seed

    images, labels = train_digits.digits_uint8()
    train_index, _ = train_digits.stratified_split(labels, stable_seed(f"{seed}/split"))
    return train_digits.transform(images[train_index])


def list_images(directory):
    files = sorted(p for p in Path(directory).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SystemExit(f"{directory}: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def read_labels(directory, files):
    path = Path(directory) / "labels.txt"
    if not path.exists():
        raise SystemExit(f"{path} does not exist: --eval needs a label for every image")
    labels = {}
    for line in path.read_text().splitlines():
        if line.strip():
            name, label = line.split()
            labels[name] = int(label)
    missing = [f.name for f in files if f.name not in labels]
    if missing:
        raise SystemExit(f"{path}: no label for {missing[:5]}")
    return torch.tensor([labels[f.name] for f in files])


def load_images(files, digits, size):
    """Decode with PIL: digits 8x8 grayscale + the digits transform; otherwise torchvision's eval transform."""
    from PIL import Image

    if digits:
        import train_digits

        pixels = []
        for path in files:
            with Image.open(path) as image:
                image = image.convert("L")
                if image.size != (8, 8):
                    raise SystemExit(f"{path}: the digits model takes 8x8 images, not {image.size}")
                pixels.append(torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()))
        return train_digits.transform(torch.stack(pixels))
    transform = image_transforms.imagenet(size * 256 // 224, size)
    batch = []
    for path in files:
        with Image.open(path) as image:
            batch.append(transform(image))
    return torch.stack(batch)


def batched(images, batch):
    return [images[i : i + batch] for i in range(0, len(images), batch)]


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["digits"], help="the digits model with its defaults")
    parser.add_argument("--layout", choices=resnet_models.LAYOUTS + ("cifar",))
    parser.add_argument("--depth", type=int)
    parser.add_argument("--shortcut", choices=resnet_models.CIFAR_SHORTCUTS, help="CIFAR shortcut option")
    parser.add_argument("--replace-stride-with-dilation", metavar="L2,L3,L4",
                        help="torchvision's option of the same name, e.g. 0,1,1 (default: the checkpoint's "
                             "metadata 'replace_stride_with_dilation', else none)")
    parser.add_argument("--weights", type=Path, help="float checkpoint (safetensors state_dict)")
    parser.add_argument("--out", type=Path, required=True, help="quantized model to write (.safetensors)")
    parser.add_argument("--calibrate", default=None, metavar="random|digits|DIR",
                        help="calibration images (default: digits for --model digits, else random)")
    parser.add_argument("--count", type=int, help="calibration images (random: default 8; digits: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of --calibrate random (default 0)")
    parser.add_argument("--size", type=int, help="image side (default 224; CIFAR 32; digits 16)")
    parser.add_argument("--batch", type=int, default=8, help="calibration batch size (default 8)")
    parser.add_argument("--eval", type=Path, metavar="DIR", help="labelled images to measure accuracy on")
    parser.add_argument("--golden", action="store_true", help="also compare tools/int8_reference.py on --eval")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    if args.model == "digits":
        if args.layout or args.depth or args.shortcut:
            parser.error("--model digits fixes the layout, depth and shortcut")
        args.layout, args.depth, args.shortcut = "cifar", 20, "A"
        args.weights = args.weights or DIGITS_DIR / "resnet20_digits.safetensors"
        args.calibrate = args.calibrate or "digits"
        args.eval = args.eval or DIGITS_DIR / "test"
        args.size = args.size or 16
    if not (args.layout and args.depth and args.weights):
        parser.error("give --model digits, or --layout, --depth and --weights")
    if args.layout == "cifar" and args.shortcut is None:
        parser.error("--layout cifar needs --shortcut A or B")
    if args.layout != "cifar" and args.shortcut is not None:
        parser.error("--shortcut is for --layout cifar")
    args.calibrate = args.calibrate or "random"
    if args.calibrate == "digits" and args.model != "digits":
        parser.error("--calibrate digits is for --model digits")
    if args.size is None:
        args.size = resnet_models.CIFAR_INPUT_SIZE if args.layout == "cifar" else 224
    return args


def calibration_set(args, spec, weights_metadata):
    """(images, description) as --calibrate, --count, --seed and --size ask."""
    if args.calibrate == "random":
        count = args.count or 8
        generator = torch.Generator().manual_seed(args.seed)
        images = torch.randn(count, spec.in_channels, args.size, args.size, generator=generator)
        return images, f"random: {count} images N(0, 1) [{spec.in_channels}, {args.size}, {args.size}], seed {args.seed}"
    if args.calibrate == "digits":
        seed = int(weights_metadata.get("seed", 0))
        images = digits_training_images(seed)
        if args.count:
            images = images[: args.count]
        return images, f"digits: the first {len(images)} images of the training split (seed {seed}), sklearn order"
    files = list_images(args.calibrate)
    if args.count:
        files = files[: args.count]
    images = load_images(files, args.model == "digits", args.size)
    return images, f"{len(files)} images of {Path(args.calibrate).name}/ sorted by name, eval transform at {args.size}"


def accuracy(model, images, labels, batch=64):
    with torch.inference_mode():
        logits = torch.cat([model(chunk) for chunk in batched(images, batch)])
    correct = int((logits.argmax(1) == labels).sum())
    return correct, logits


def main():
    args = parse_args()
    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    state_dict, weights_metadata = safetensors_io.load_file_with_metadata(args.weights)
    dilation = args.replace_stride_with_dilation
    if dilation is None and "replace_stride_with_dilation" in weights_metadata:
        dilation = weights_metadata["replace_stride_with_dilation"]
        print(f"{args.weights}: its metadata's replace_stride_with_dilation is {dilation}")
    spec = spec_from_checkpoint(args.layout, args.depth, args.shortcut, state_dict,
                                None if dilation is None else dilation_of(dilation))
    images, description = calibration_set(args, spec, weights_metadata)
    model = quantize_model(spec, state_dict, batched(images, args.batch))
    tensors = export(model, images[:1])
    metadata = file_metadata(spec, description, args.weights)
    metadata["calibration_batch"] = str(args.batch)
    safetensors_io.save_file(tensors, args.out, metadata)
    size = args.out.stat().st_size
    print(f"{args.out}: {len(tensors)} tensors, {size:,} bytes; calibrated on {description} "
          f"in {time.perf_counter() - started:.1f} s")

    if args.eval:
        files = list_images(args.eval)
        labels = read_labels(args.eval, files)
        test_images = load_images(files, args.model == "digits", args.size)
        float_model = spec.float_model()
        resnet_models.load_strict(float_model, state_dict)
        float_correct, float_logits = accuracy(float_model.eval(), test_images, labels)
        fc_outputs = []
        hook = model.fc.register_forward_hook(lambda module, args, output: fc_outputs.append(output.int_repr()))
        int8_correct, int8_logits = accuracy(model, test_images, labels)
        hook.remove()
        n = len(labels)
        print(f"accuracy on {n} images of {args.eval}: float {float_correct / n:.4f} ({float_correct}/{n}), "
              f"int8 {int8_correct / n:.4f} ({int8_correct}/{n}); same prediction on "
              f"{int((float_logits.argmax(1) == int8_logits.argmax(1)).sum())}/{n}, "
              f"max |int8 - float logit| {(int8_logits - float_logits).abs().max().item():.3g}")
        if args.golden:
            fc = torch.cat(fc_outputs).numpy()
            arrays, meta = int8_reference.load(args.out)
            golden = int8_reference.forward(arrays, meta, test_images.numpy())["output"]
            differing = int(np.any(golden != fc, axis=1).sum())
            print(f"golden model: {differing} of {n} images with uint8 logits different from PyTorch's")


if __name__ == "__main__":
    main()
