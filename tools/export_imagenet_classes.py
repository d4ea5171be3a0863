#!/usr/bin/python3
"""Write torchvision's ImageNet-1k class names, one per line, in class-index order.

The names are torchvision's own (ResNet50_Weights.IMAGENET1K_V2.meta["categories"],
the list every torchvision ResNet's weights carry); nothing is downloaded. Line i
(counting from 0) names class i. ctresnet-classify compiles the file in, so that
the tool runs from any directory.

    tools/export_imagenet_classes.py                   # writes examples/imagenet_classes.txt
    tools/export_imagenet_classes.py --out FILE
    tools/export_imagenet_classes.py --check           # exit 1 if the file differs from torchvision's list
"""
import argparse
import sys
from pathlib import Path

try:
    import torchvision
except ImportError:
    sys.exit(
        "python3-torchvision is not installed: apt-get install python3-torchvision\n"
        f"(this ran under {sys.executable}; use /usr/bin/python3)"
    )

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "examples" / "imagenet_classes.txt"


def categories():
    names = list(torchvision.models.ResNet50_Weights.IMAGENET1K_V2.meta["categories"])
    if len(names) != 1000 or len(set(names)) != 1000:
        raise RuntimeError(f"expected 1000 distinct ImageNet class names, torchvision has {len(names)}")
    if any("\n" in name or name != name.strip() for name in names):
        raise RuntimeError("a class name has a line break or surrounding spaces; one name per line would break")
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="FILE", help=f"default: {DEFAULT_OUT}")
    parser.add_argument("--check", action="store_true", help="compare FILE with torchvision's list instead of writing")
    args = parser.parse_args()
    text = "".join(f"{name}\n" for name in categories())
    if args.check:
        if not args.out.exists() or args.out.read_text(encoding="utf-8") != text:
            sys.exit(f"{args.out} differs from torchvision {torchvision.__version__}'s class names")
        print(f"{args.out} matches torchvision {torchvision.__version__}'s 1000 class names")
        return
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: 1000 class names from torchvision {torchvision.__version__}")


if __name__ == "__main__":
    main()
