#!/usr/bin/python3
"""Export a ResNet's state_dict as a .safetensors file that ctresnet can load.

Weights are either seeded random values (distinguishable, for tests), PyTorch's
own initialisation, or a torch.save'd state_dict such as downloaded torchvision
weights (e.g. resnet50-0676ba61.pth).
"""
import argparse
import sys
from pathlib import Path

try:
    import torch
    import torchvision  # noqa: F401  (resnet_models needs it; fail here with the clear message)
except ImportError:
    sys.exit(
        "python3-torch is not installed: apt-get install python3-torch python3-torchvision\n"
        f"(this ran under {sys.executable}; use /usr/bin/python3)"
    )

import resnet_models
import safetensors_io

FLOAT_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Example: %(prog)s --layout torchvision --depth 50 --from-state-dict resnet50-0676ba61.pth r50.safetensors",
    )
    parser.add_argument("--layout", required=True, choices=resnet_models.LAYOUTS,
                        help="module structure / stride placement (see resnet_models.py)")
    parser.add_argument("--depth", required=True, type=int, choices=resnet_models.DEPTHS)
    parser.add_argument("--classes", type=int, metavar="N",
                        help="size of the fc layer (default: 1000 for torchvision/v1, 5 for stage_projection, "
                             "or taken from fc.weight with --from-state-dict)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--seed", type=int, default=0, metavar="S",
                        help="seed of the distinguishable random weights of resnet_models.randomize_ (default: 0)")
    source.add_argument("--random-init-like-pytorch", action="store_true",
                        help="keep PyTorch's own initialisation (global RNG seeded with 0); BN stats are 0/1")
    source.add_argument("--from-state-dict", type=Path, metavar="FILE.pth",
                        help="load this torch.save'd state_dict into the model (strict) and export it")
    parser.add_argument("--dtype", choices=FLOAT_DTYPES, default="F32",
                        help="type of the floating-point tensors (num_batches_tracked stays I64; default: F32)")
    parser.add_argument("out", type=Path, metavar="OUT.safetensors")
    return parser.parse_args()


def load_state_dict_file(path):
    """Read a plain state_dict (name -> tensor) without unpickling arbitrary objects."""
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        sys.exit(f"{path}: expected a state_dict (a dict of tensors), got {type(state_dict).__name__}")
    return state_dict


def main():
    args = parse_args()
    torch.set_num_threads(2)

    state_dict = load_state_dict_file(args.from_state_dict) if args.from_state_dict else None
    num_classes = args.classes
    if num_classes is None and state_dict is not None and "fc.weight" in state_dict:
        num_classes = state_dict["fc.weight"].shape[0]

    with torch.inference_mode():
        if args.random_init_like_pytorch:
            torch.manual_seed(0)
        model = resnet_models.build(args.layout, args.depth, num_classes)
        if state_dict is not None:
            try:
                resnet_models.load_strict(model, state_dict)
            except ValueError as mismatch:
                sys.exit(f"{args.from_state_dict} does not fit {args.layout} resnet{args.depth}:\n{mismatch}")
        elif not args.random_init_like_pytorch:
            resnet_models.randomize_(model, args.seed)

        target_dtype = FLOAT_DTYPES[args.dtype]
        tensors = {
            name: tensor.to(target_dtype) if tensor.is_floating_point() else tensor
            for name, tensor in model.state_dict().items()
        }
        if args.from_state_dict:
            origin = f"from {args.from_state_dict.name}"
        elif args.random_init_like_pytorch:
            origin = "pytorch-init"
        else:
            origin = f"seed {args.seed}"
        metadata = {
            "layout": args.layout,
            "depth": str(args.depth),
            "num_classes": str(model.fc.out_features),
            "weights": origin,
            "format": "pt",
        }
        safetensors_io.save_file(tensors, args.out, metadata)

    print(
        f"{args.out}: {len(tensors)} tensors, {resnet_models.parameter_count(model):,} parameters, "
        f"{args.out.stat().st_size:,} bytes ({args.layout} resnet{args.depth}, "
        f"{model.fc.out_features} classes, {origin}, {args.dtype})"
    )


if __name__ == "__main__":
    main()
