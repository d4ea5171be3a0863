#!/usr/bin/python3
"""Generate the PyTorch reference files that ctresnet's tests compare against.

For every case NAME (torchvision_resnetDEPTH, stage_projection_resnetDEPTH for
resnet_models' "stage_projection" layout, v1_resnetDEPTH, cifar_resnetDEPTH_SHORTCUT for
the CIFAR ResNets with shortcut option A or B, ...) it writes into --out:
  NAME.weights.safetensors  the randomised model's state_dict (F32, num_batches_tracked I64 [])
  NAME.io.safetensors       "input" F32 [batch,3,size,size] and "output" F32 [batch,classes] (eval logits);
                            size is --size, except for CIFAR cases, which always take 32x32
  NAME.stamp                hash of the tools/*.py this script imports, the case, its batch and
                            input size and the torch versions; a case whose files exist and whose
                            stamp matches is skipped
Seeds derive from NAME only, so the files are reproducible.

With --check-load FILE --case NAME it instead loads FILE (e.g. weights written
back by the C++ side) into NAME's model, runs the stored input and compares with
the stored output: exit status 0 if within 1e-4 * max(1, max|output|), else 1.
"""
import argparse
import functools
import hashlib
import json
import signal
import sys
import time
from pathlib import Path
from typing import NamedTuple, Optional

try:
    import torch
    import torchvision
except ImportError:
    sys.exit(
        "python3-torch is not installed: apt-get install python3-torch python3-torchvision\n"
        f"(this ran under {sys.executable}; use /usr/bin/python3)"
    )

import resnet_models
import safetensors_io

TOOLS_DIR = Path(__file__).resolve().parent


class Case(NamedTuple):
    """A model to generate: an ImageNet layout of resnet_models.build, "cifar" with a shortcut option,
    or one of torchvision's ResNeXt and Wide ResNet constructors by name (`variant`)."""

    layout: str
    depth: int
    shortcut: Optional[str] = None
    variant: Optional[str] = None
    # Stage-output cases also store every stage's feature map ("layer1" ...), at a small input;
    # `dilation` is torchvision's replace_stride_with_dilation.
    stages: bool = False
    dilation: Optional[tuple] = None

    def build(self, num_classes=None):
        if self.layout == "cifar":
            return resnet_models.build_cifar(self.depth, self.shortcut, 10 if num_classes is None else num_classes)
        if self.variant is not None:
            return resnet_models.build_variant(self.variant, num_classes)
        return resnet_models.build(self.layout, self.depth, num_classes, self.dilation)

    def input_size(self, size):
        """CIFAR ResNets are defined on 32x32 images, stage-output cases use 96x96; the others take --size."""
        if self.layout == "cifar":
            return resnet_models.CIFAR_INPUT_SIZE
        return STAGES_INPUT_SIZE if self.stages else size


# A case is named after its layout and depth.
CASES = {
    f"{name}_resnet{depth}": Case(layout, depth)
    for name, layout, depths in (
        ("torchvision", "torchvision", resnet_models.DEPTHS),
        ("stage_projection", "stage_projection", resnet_models.DEPTHS),
        ("v1", "v1", (50, 101)),
    )
    for depth in depths
}
# Both shortcut options on a shallow and a deep net; the deepest ones only with
# option A, the paper's (ResNet-1202 takes seconds at 32x32).
CASES.update(
    (f"cifar_resnet{depth}_{shortcut}", Case("cifar", depth, shortcut))
    for depth, shortcut in ((20, "A"), (20, "B"), (56, "A"), (56, "B"), (110, "A"), (1202, "A"))
)
CASES.update(
    (f"torchvision_{variant}", Case("torchvision", depth, variant=variant))
    for variant, depth in resnet_models.VARIANT_DEPTHS.items()
)
STAGES_INPUT_SIZE = 96
CASES["torchvision_resnet50_stages"] = Case("torchvision", 50, stages=True)
CASES["torchvision_resnet50_dilated_stages"] = Case("torchvision", 50, stages=True, dilation=(False, True, True))
RELATIVE_TOLERANCE = 1e-4


def stable_seed(text):
    """A seed that depends only on `text` (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def case_files(out_dir, name):
    return (out_dir / f"{name}.weights.safetensors", out_dir / f"{name}.io.safetensors", out_dir / f"{name}.stamp")


@functools.lru_cache(maxsize=None)
def generator_sources(script=Path(__file__).resolve()):
    """The generating script and the tools/ modules imported so far: other tools (e.g. train_digits.py)
    do not invalidate stamps."""
    tools = {source.name: source for source in TOOLS_DIR.glob("*.py")}
    sources = {Path(script).resolve()}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and Path(path).name in tools and Path(path).resolve() == tools[Path(path).name]:
            sources.add(tools[Path(path).name])
    return sorted(sources)


def stamp_of(name, batch, size):
    """Everything the files depend on: generator sources, the case's batch and input size, library versions."""
    digest = hashlib.sha256()
    for source in generator_sources():
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    settings = {"case": name, "batch": batch, "size": CASES[name].input_size(size), "torch": torch.__version__,
                "torchvision": torchvision.__version__}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest() + "\n"


def generate_case(name, batch, size, out_dir):
    """Write NAME's weights and io files; return a one-line description of them."""
    case = CASES[name]
    weights_path, io_path, _ = case_files(out_dir, name)
    seed = stable_seed(name)
    model = resnet_models.randomize_(case.build(), seed)
    size = case.input_size(size)
    inputs = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(stable_seed(name + "/input")))
    stage_outputs = {}
    if case.stages:
        for stage in ("layer1", "layer2", "layer3", "layer4"):
            getattr(model, stage).register_forward_hook(
                lambda module, args, output, stage=stage: stage_outputs.__setitem__(stage, output))
    outputs = model(inputs)
    if not torch.isfinite(outputs).all():
        raise RuntimeError(f"{name}: non-finite logits")

    metadata = {"case": name, "layout": case.layout, "depth": str(case.depth),
                "num_classes": str(model.fc.out_features), "seed": str(seed), "torch": torch.__version__,
                "torchvision": torchvision.__version__}
    if case.shortcut is not None:
        metadata["shortcut"] = case.shortcut
    if case.variant is not None:
        metadata["model"] = case.variant
    state_dict = model.state_dict()
    safetensors_io.save_file(state_dict, weights_path, metadata)
    if case.dilation is not None:
        metadata["replace_stride_with_dilation"] = json.dumps(case.dilation)
    safetensors_io.save_file({"input": inputs, "output": outputs, **stage_outputs}, io_path, metadata)
    return (f"{len(state_dict)} tensors, {resnet_models.parameter_count(model):,} parameters, "
            f"output {list(outputs.shape)}, max|logit| {outputs.abs().max().item():.3g}")


def generate(args):
    out_dir = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [name for name in CASES if not args.only or name in args.only]
    started = time.perf_counter()
    generated = 0
    for name in names:
        case_started = time.perf_counter()
        weights_path, io_path, stamp_path = case_files(out_dir, name)
        stamp = stamp_of(name, args.batch, args.size)
        if weights_path.exists() and io_path.exists() and stamp_path.exists() and stamp_path.read_text() == stamp:
            print(f"{name}: up to date, skipped", flush=True)
            continue
        # A stamp may only exist next to files completed for that very stamp.
        stamp_path.unlink(missing_ok=True)
        summary = generate_case(name, args.batch, args.size, out_dir)
        with safetensors_io.atomic_output(stamp_path, "w") as out:
            out.write(stamp)
        generated += 1
        print(f"{name}: generated in {time.perf_counter() - case_started:.1f} s ({summary})", flush=True)
    print(f"{len(names)} cases ({generated} generated, {len(names) - generated} up to date) "
          f"in {time.perf_counter() - started:.1f} s -> {out_dir}")


def check_load(args):
    """Compare the model loaded from args.check_load with the stored reference output; return exit status."""
    _, io_path, _ = case_files(args.out, args.case)
    if not io_path.exists():
        sys.exit(f"FAIL: {io_path} does not exist; create it with: {sys.argv[0]} --out {args.out} --only {args.case}")
    reference = safetensors_io.load_file(io_path)
    expected = reference["output"]
    try:
        state_dict = safetensors_io.load_file(args.check_load)
    except (OSError, ValueError) as error:
        print(f"FAIL: cannot read {args.check_load}: {error}")
        return 1

    model = CASES[args.case].build(num_classes=expected.shape[1])
    try:
        resnet_models.load_strict(model, state_dict)
    except ValueError as mismatch:
        print(f"FAIL: {args.check_load} does not fit {args.case}:\n{mismatch}")
        return 1

    actual = model(reference["input"])
    max_abs_diff = (actual - expected).abs().max().item()
    tolerance = RELATIVE_TOLERANCE * max(1.0, expected.abs().max().item())
    verdict = "OK" if max_abs_diff <= tolerance else "FAIL"
    print(f"{verdict}: {args.check_load} as {args.case}: max |output - reference| = {max_abs_diff:.3g} "
          f"(tolerance {tolerance:.3g})")
    return 0 if verdict == "OK" else 1


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory of the reference files")
    parser.add_argument("--only", nargs="+", choices=CASES, metavar="NAME",
                        help=f"generate only these cases (default: all): {', '.join(CASES)}")
    parser.add_argument("--batch", type=positive_int, default=2, help="images per input (default: 2)")
    parser.add_argument("--size", type=positive_int, default=224,
                        help="input height and width (default: 224; stage_projection cases need 193..224; "
                             "CIFAR cases ignore it and always use 32)")
    parser.add_argument("--check-load", type=Path, metavar="FILE.safetensors",
                        help="instead of generating, check that FILE reproduces --case's stored output")
    parser.add_argument("--case", choices=CASES, metavar="NAME", help="the case FILE holds weights of")
    args = parser.parse_args()
    if (args.check_load is None) != (args.case is None):
        parser.error("--check-load and --case go together")
    if args.check_load is None:
        selected = args.only or CASES
        needs_stage_projection_size = any(CASES[name].layout == "stage_projection" for name in selected)
        if args.size not in resnet_models.STAGE_PROJECTION_INPUT_SIZES and needs_stage_projection_size:
            parser.error(f"stage_projection cases end in AvgPool2d(7) + fc and need --size in 193..224, got {args.size}")
    return args


def main():
    args = parse_args()
    # Exit cleanly on SIGTERM (timeouts) so that no temporary file is left behind.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    torch.set_num_threads(2)
    with torch.inference_mode():
        if args.check_load is not None:
            sys.exit(check_load(args))
        generate(args)


if __name__ == "__main__":
    main()
