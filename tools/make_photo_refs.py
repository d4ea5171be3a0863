#!/usr/bin/python3
"""torchvision's resnet18 with seeded random weights on the two photographs python3-sklearn ships,
through torchvision's whole pipeline from the JPEG files, for the end-to-end test of
ctresnet-classify (tests/main_job/check_photos.py).

Into --out it writes:
  resnet18_random.safetensors  the model's state_dict (resnet_models.randomize_, seed 10, then fc's
                               weight and bias times 20, so that the probabilities are far from
                               uniform and the top five far apart), which ctresnet-classify
                               --model resnet18 loads
  image_folder/photographs/china.jpg, flower.jpg
                               copies of sklearn's JPEGs, an ImageFolder tree of one class
  references.json              per file name, the five most probable classes and their
                               probabilities: Image.open(f).convert("RGB") -> Resize(256) ->
                               CenterCrop(224) -> ToTensor() -> Normalize(ImageNet's mean, std)
                               -> the model -> softmax
  references.stamp             a hash of what the outputs depend on; when it matches, the script
                               does nothing
"""
import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

try:
    import PIL
    import sklearn
    import torch
    import torchvision
    from PIL import Image
except ImportError as error:
    sys.exit(f"{error}: apt-get install python3-torch python3-torchvision python3-sklearn\n"
             f"(this ran under {sys.executable}; use /usr/bin/python3)")

import image_transforms
import resnet_models
import safetensors_io

TOOLS_DIR = Path(__file__).resolve().parent
SKLEARN_IMAGES = Path(sklearn.__file__).resolve().parent / "datasets" / "images"
PHOTOS = ("china.jpg", "flower.jpg")
SEED = 10
FC_SCALE = 20
TRANSFORM = image_transforms.imagenet()


def stamp():
    digest = hashlib.sha256()
    for path in [Path(__file__), TOOLS_DIR / "resnet_models.py", TOOLS_DIR / "safetensors_io.py",
                 TOOLS_DIR / "image_transforms.py"] + \
            [SKLEARN_IMAGES / name for name in PHOTOS]:
        digest.update(path.read_bytes())
    versions = {"torch": torch.__version__, "torchvision": torchvision.__version__, "PIL": PIL.__version__}
    return json.dumps({"sha256": digest.hexdigest(), **versions}, sort_keys=True)


@torch.no_grad()
def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory of the outputs")
    out = parser.parse_args().out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    stamp_path, references_path = out / "references.stamp", out / "references.json"
    expected_stamp = stamp()
    if stamp_path.exists() and references_path.exists() and stamp_path.read_text() == expected_stamp:
        print(f"{references_path} is up to date")
        return
    stamp_path.unlink(missing_ok=True)  # a stamp may only stand next to files made for it

    model = resnet_models.randomize_(resnet_models.build("torchvision", 18), SEED)
    model.fc.weight.mul_(FC_SCALE)
    model.fc.bias.mul_(FC_SCALE)
    safetensors_io.save_file(model.state_dict(), out / "resnet18_random.safetensors", {"seed": str(SEED), "fc_scale": str(FC_SCALE)})
    folder = out / "image_folder" / "photographs"
    folder.mkdir(parents=True, exist_ok=True)
    references = {}
    for name in PHOTOS:
        shutil.copyfile(SKLEARN_IMAGES / name, folder / name)
        probabilities = torch.softmax(model(TRANSFORM(Image.open(folder / name))[None]), dim=1)[0]
        top = torch.topk(probabilities.double(), 6)
        gaps = (top.values[:-1] - top.values[1:]).min().item()
        if gaps < 1e-3:  # the order of the top five must not hang on rounding
            raise RuntimeError(f"{name}: two of the six most probable classes are within {gaps:.2g}; change SEED")
        references[name] = [{"class": int(c), "probability": float(p)}
                            for c, p in zip(top.indices[:5], top.values[:5])]
        print(f"{name}: " + ", ".join(f"{r['class']} {r['probability']:.4f}" for r in references[name]))
    with safetensors_io.atomic_output(references_path, "w") as file:
        json.dump(references, file, indent=1)
    with safetensors_io.atomic_output(stamp_path, "w") as stamp_file:
        stamp_file.write(expected_stamp)
    print(f"wrote {references_path}")


if __name__ == "__main__":
    main()
