#!/usr/bin/python3
"""torchvision's preprocessing of real images, for ctresnet's preprocessing tests.

The images are the two photographs that python3-sklearn ships (sklearn/datasets/
images/china.jpg and flower.jpg, 640x427 JPEGs) and files derived from them.
Into --out it writes:
  china.png, flower.png    PIL's decoding of the JPEGs, saved losslessly: cases of the
                           transform that do not depend on the JPEG decoder
  portrait_crop.png        a 301x453 crop of china.png: portrait, resized to 256x385, so
                           the centre crop's offset is 80.5, which Python rounds to 80
  gray.png                 flower.png as convert("L"): a gray image the ImageNet
                           transform converts to RGB
  rgba.png                 china.png with a varying alpha, which convert("RGB") drops
  small.png                a 150x101 copy of flower.png: Resize(256) enlarges it
  digit_28x28.png          a scikit-learn digit (test image 0, a 3), enlarged to 28x28
                           and tinted: the digits transform makes it gray and 8x8
  truncated.png            the first 300 bytes of china.png, and
  not_an_image.png         a text file: the command-line tool's error tests read both
  references.safetensors   for every case NAME:
                             NAME.pixels F32 [H, W, C]  the pixels as PIL decodes the file
                             NAME.output F32 [C, H, W]  torchvision's transform of them
                           and in its metadata: "cases" (names, comma-separated), and per
                           case NAME.file (the image's path) and NAME.transform
  resize_references.safetensors
                           PIL's Image.resize(..., BILINEAR) of seeded random images of
                           random sizes (1 to 160 pixels a side, gray or RGB, noise or
                           smooth ramps), shrinking and enlarging: per case I,
                             I.input F32 [H, W, C] and I.output F32 [h, w, C]
  references.stamp         a hash of what the outputs depend on; when it matches, the
                           script does nothing

The transforms, in torchvision's own terms (Debian's python3-torchvision 0.14):
  imagenet256, imagenet232  Image.open(f).convert("RGB") -> Resize(N) -> CenterCrop(224)
                            -> ToTensor() -> Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
  digits                    Grayscale() -> Resize((8, 8)) -> ToTensor() -> nearest x2
                            -> Normalize([0.5], [0.5]); on an 8x8 gray image this is
                            tools/train_digits.py's transform, which the script checks
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path

try:
    import numpy as np
    import PIL
    import sklearn
    import torch
    import torchvision
    from PIL import Image
except ImportError as error:
    sys.exit(
        f"{error}: apt-get install python3-torch python3-torchvision python3-sklearn\n"
        f"(this ran under {sys.executable}; use /usr/bin/python3)"
    )

import image_transforms
import safetensors_io

TOOLS_DIR = Path(__file__).resolve().parent
SKLEARN_IMAGES = Path(sklearn.__file__).resolve().parent / "datasets" / "images"
DIGIT_PGM = TOOLS_DIR.parent / "examples" / "digits" / "test" / "0000_label3.pgm"
TRANSFORMS = {"imagenet256": image_transforms.imagenet(256), "imagenet232": image_transforms.imagenet(232),
              "digits": image_transforms.digits}


def write_images(out):
    """The derived image files; returns the cases as (name, path, transform)."""
    china_jpg, flower_jpg = SKLEARN_IMAGES / "china.jpg", SKLEARN_IMAGES / "flower.jpg"
    china, flower = Image.open(china_jpg).convert("RGB"), Image.open(flower_jpg).convert("RGB")
    china.save(out / "china.png")
    flower.save(out / "flower.png")
    china.crop((170, 10, 170 + 301, 10 + 453)).save(out / "portrait_crop.png")
    flower.convert("L").save(out / "gray.png")
    alpha = np.add.outer(np.arange(china.height), np.arange(china.width)) % 256
    rgba = np.concatenate([np.asarray(china), alpha[..., None].astype(np.uint8)], axis=2)
    Image.fromarray(rgba, "RGBA").save(out / "rgba.png")
    flower.resize((150, 101), Image.BICUBIC).save(out / "small.png")
    digit = np.asarray(Image.open(DIGIT_PGM).resize((28, 28), Image.BICUBIC)).astype(np.int32)
    tinted = np.stack([digit, digit * 3 // 4, np.minimum(digit + 40, 255)], axis=2).astype(np.uint8)
    Image.fromarray(tinted, "RGB").save(out / "digit_28x28.png")
    (out / "truncated.png").write_bytes((out / "china.png").read_bytes()[:300])
    (out / "not_an_image.png").write_text("This is text, not a PNG.\n")
    return [
        ("china_jpg", china_jpg, "imagenet256"),
        ("flower_jpg", flower_jpg, "imagenet256"),
        ("china_png", out / "china.png", "imagenet256"),
        ("flower_png", out / "flower.png", "imagenet256"),
        ("flower_png_232", out / "flower.png", "imagenet232"),
        ("portrait_crop_png", out / "portrait_crop.png", "imagenet256"),
        ("gray_png", out / "gray.png", "imagenet256"),
        ("rgba_png", out / "rgba.png", "imagenet256"),
        ("small_png", out / "small.png", "imagenet256"),
        ("digit_pgm", DIGIT_PGM, "digits"),
        ("digit_28x28_png", out / "digit_28x28.png", "digits"),
    ]


def resize_cases(count=60, seed=5):
    """PIL's bilinear resize of random images, each to a random size."""
    generator = np.random.default_rng(seed)
    tensors = {}
    for case in range(count):
        width, height, new_width, new_height = (int(v) for v in generator.integers(1, 161, size=4))
        channels = int(generator.choice([1, 3]))
        if case % 2:
            pixels = generator.integers(0, 256, size=(height, width, channels), dtype=np.uint8)
        else:
            steps = generator.normal(0, 12, size=(height, width, channels))
            pixels = np.clip(128 + np.cumsum(steps, axis=1), 0, 255).astype(np.uint8)
        image = Image.fromarray(pixels[..., 0] if channels == 1 else pixels, "L" if channels == 1 else "RGB")
        resized = np.array(image.resize((new_width, new_height), Image.BILINEAR)).reshape(new_height, new_width, -1)
        tensors[f"{case}.input"] = torch.from_numpy(pixels).to(torch.float32)
        tensors[f"{case}.output"] = torch.from_numpy(resized).to(torch.float32)
    return tensors


def check_digits_transform_is_train_digits():
    """torchvision's formulation above equals tools/train_digits.py's transform on an 8x8 test image."""
    from train_digits import read_pgm, transform

    pixels = read_pgm(DIGIT_PGM)
    if not torch.equal(image_transforms.digits(Image.open(DIGIT_PGM)), transform(pixels.unsqueeze(0))[0]):
        raise RuntimeError("the digits transform differs from tools/train_digits.py's")


def stamp():
    """What the outputs depend on: this script, the tools it imports, the source images, the versions."""
    digest = hashlib.sha256()
    for path in (Path(__file__), TOOLS_DIR / "safetensors_io.py", TOOLS_DIR / "image_transforms.py",
                 TOOLS_DIR / "train_digits.py", SKLEARN_IMAGES / "china.jpg", SKLEARN_IMAGES / "flower.jpg",
                 DIGIT_PGM):
        digest.update(path.read_bytes())
    versions = {"torch": torch.__version__, "torchvision": torchvision.__version__, "PIL": PIL.__version__}
    return json.dumps({"sha256": digest.hexdigest(), **versions}, sort_keys=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory of the outputs")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    stamp_path, references_path = out / "references.stamp", out / "references.safetensors"
    expected_stamp = stamp()
    outputs = (references_path, out / "resize_references.safetensors")
    if stamp_path.exists() and all(path.exists() for path in outputs) and stamp_path.read_text() == expected_stamp:
        print(f"{references_path} is up to date")
        return
    stamp_path.unlink(missing_ok=True)  # a stamp may only stand next to files made for it

    check_digits_transform_is_train_digits()
    cases = write_images(out)
    tensors, metadata = {}, {"cases": ",".join(name for name, _, _ in cases)}
    for name, path, transform in cases:
        image = Image.open(path)
        pixels = torch.from_numpy(np.array(image)).to(torch.float32)
        tensors[f"{name}.pixels"] = pixels.reshape(image.height, image.width, -1)
        tensors[f"{name}.output"] = TRANSFORMS[transform](image).contiguous()
        metadata[f"{name}.file"] = str(path)
        metadata[f"{name}.transform"] = transform
        print(f"{name}: {path.name} {image.mode} {image.width}x{image.height} -> {transform} "
              f"{list(tensors[f'{name}.output'].shape)}")
    safetensors_io.save_file(tensors, references_path, metadata)
    safetensors_io.save_file(resize_cases(), out / "resize_references.safetensors")
    with safetensors_io.atomic_output(stamp_path, "w") as stamp_file:
        stamp_file.write(expected_stamp)
    print(f"wrote {references_path}")


if __name__ == "__main__":
    main()
