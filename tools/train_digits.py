#!/usr/bin/python3
"""Train a CIFAR ResNet-20 (shortcut option A) on scikit-learn's handwritten digits, deterministically.

The result is a small trained model whose test images and PyTorch logits ship
with ctresnet, so that its C++ example can be checked on real data.

Data: sklearn.datasets.load_digits() (python3-sklearn ships it: 1,797 8x8
images of values 0..16), as 8-bit grayscale
    pixel8 = floor(v * 255 / 16 + 0.5)        (uint8; exact, v = 8 gives 128)
These uint8 8x8 images are the data everywhere: training, test files, C++ side.

Split: stratified; per digit, a seeded shuffle of its sklearn indices holds out
36 images, so 360 test images (20%) and 1,437 training images. Test images are
ordered by sklearn index; the i-th one is test/IIII_labelL.pgm, line i + 1 of
test/labels.txt and row i of the reference logits.

The model's transform, computed in float32 (the C++ side reimplements it):
    x = pixel8 / 255                          8x8 in [0, 1]
    x16[2i + a][2j + b] = x[i][j]             nearest-neighbour x2: 16x16, a, b in {0, 1}
    input = (x16 - 0.5) / 0.5                 tensor [N, 1, 16, 16]

Training: SGD with Nesterov momentum and a cosine learning rate, batch 64, on
one thread with deterministic algorithms and fixed seeds; each training image is
shifted by a seeded random -1..1 pixels per axis on the 8x8 grid (zeros enter).

Writes into --out (default examples/digits/):
  resnet20_digits.safetensors    the trained state_dict (F32, num_batches_tracked I64 []), with metadata
  test/IIII_labelL.pgm           the held-out images, binary PGM (P5, 8x8, maxval 255)
  test/labels.txt                "filename label" per line
  reference_logits.safetensors   "logits" F32 [360, 10]: eval-mode outputs on the PGM images as read
                                 back; "labels" F32 [360] (F32 so that a float-only reader takes it)
Running it twice gives byte-identical files.
"""
import argparse
import math
import re
import sys
import time
from pathlib import Path

try:
    import torch
    import torchvision  # noqa: F401  (resnet_models needs it; fail here with the clear message)
    from sklearn.datasets import load_digits
except ImportError as error:
    sys.exit(
        f"{error}: apt-get install python3-torch python3-torchvision python3-sklearn\n"
        f"(this ran under {sys.executable}; use /usr/bin/python3)"
    )

import resnet_models
import safetensors_io
from make_references import stable_seed

TOOLS_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = TOOLS_DIR.parent / "examples" / "digits"
MODEL = "cifar_resnet20_A"
DEPTH, SHORTCUT, NUM_CLASSES, IN_CHANNELS = 20, "A", 10, 1
TEST_PER_CLASS = 36
BATCH = 64
TRANSFORM = "x = pixel8 / 255 (float32); nearest-neighbour x2 to 16x16; (x - 0.5) / 0.5; input [N, 1, 16, 16]"
PGM_NAME = re.compile(r"\d{4}_label\d\.pgm")


def digits_uint8():
    """The data set as (images uint8 [1797, 8, 8], labels int64 [1797])."""
    digits = load_digits()
    values = torch.from_numpy(digits.images).to(torch.float64)
    if values.min() < 0 or values.max() > 16 or not torch.equal(values, values.round()):
        raise ValueError("load_digits() no longer returns integers 0..16")
    images = torch.floor(values * 255 / 16 + 0.5).to(torch.uint8)
    return images, torch.from_numpy(digits.target).to(torch.int64)


def stratified_split(labels, seed):
    """(train, test) sklearn indices: per class, a seeded shuffle holds out TEST_PER_CLASS; both sorted."""
    generator = torch.Generator().manual_seed(seed)
    test = []
    for digit in range(NUM_CLASSES):
        members = torch.nonzero(labels == digit).flatten()
        test.append(members[torch.randperm(len(members), generator=generator)[:TEST_PER_CLASS]])
    test = torch.sort(torch.cat(test)).values
    is_test = torch.zeros(len(labels), dtype=torch.bool)
    is_test[test] = True
    return torch.nonzero(~is_test).flatten(), test


def transform(images):
    """The model's transform (see the docstring): uint8 [N, 8, 8] -> float32 [N, 1, 16, 16]."""
    x = images.to(torch.float32) / 255
    x = x.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2)
    return ((x - 0.5) / 0.5).unsqueeze(1)


def shift(images, generator):
    """Move each uint8 8x8 image by a random -1..1 pixels per axis; zeros enter at the border."""
    padded = torch.nn.functional.pad(images, (1, 1, 1, 1))
    offsets = torch.randint(0, 3, (len(images), 2), generator=generator)
    return torch.stack([padded[i, dy : dy + 8, dx : dx + 8] for i, (dy, dx) in enumerate(offsets.tolist())])


def train(model, images, labels, epochs, seed):
    """SGD (Nesterov, cosine learning rate) on shifted images; returns model in eval()."""
    generator = torch.Generator().manual_seed(stable_seed(f"{seed}/batches"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps_per_epoch = math.ceil(len(images) / BATCH)
    total_steps = epochs * steps_per_epoch
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(images), generator=generator)
        correct = 0
        for step, begin in enumerate(range(0, len(images), BATCH)):
            for group in optimizer.param_groups:
                group["lr"] = 0.05 * (1 + math.cos(math.pi * (epoch * steps_per_epoch + step) / total_steps))
            batch = order[begin : begin + BATCH]
            logits = model(transform(shift(images[batch], generator)))
            loss = torch.nn.functional.cross_entropy(logits, labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            correct += (logits.argmax(1) == labels[batch]).sum().item()
        print(f"epoch {epoch + 1:3d}/{epochs}: loss {loss.item():.4f}, train accuracy {correct / len(images):.4f}",
              flush=True)
    return model.eval()


def write_pgm(path, image):
    """Binary PGM (P5) of a uint8 [H, W] image, maxval 255."""
    height, width = image.shape
    with safetensors_io.atomic_output(path, "wb") as out:
        out.write(f"P5\n{width} {height}\n255\n".encode("ascii"))
        out.write(image.contiguous().numpy().tobytes())


def read_pgm(path):
    """Read back a PGM as write_pgm writes it (the single-space header, no comments)."""
    data = Path(path).read_bytes()
    match = re.match(rb"P5\n(\d+) (\d+)\n255\n", data)
    if not match:
        raise ValueError(f"{path}: not a P5 PGM with maxval 255 as write_pgm writes it")
    width, height = int(match.group(1)), int(match.group(2))
    pixels = data[match.end() :]
    if len(pixels) != width * height:
        raise ValueError(f"{path}: {len(pixels)} pixel bytes, expected {width * height}")
    return torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(height, width)


def write_test_set(test_dir, images, labels):
    """The PGM files and labels.txt; returns the file names in row order. Stale PGMs are removed."""
    test_dir.mkdir(parents=True, exist_ok=True)
    for stale in test_dir.iterdir():
        if PGM_NAME.fullmatch(stale.name):
            stale.unlink()
    names = [f"{i:04d}_label{label}.pgm" for i, label in enumerate(labels.tolist())]
    for name, image in zip(names, images):
        write_pgm(test_dir / name, image)
    with safetensors_io.atomic_output(test_dir / "labels.txt", "w") as out:
        out.writelines(f"{name} {label}\n" for name, label in zip(names, labels.tolist()))
    return names


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help=f"directory of the outputs (default: {DEFAULT_OUT})")
    parser.add_argument("--epochs", type=int, default=30, help="training epochs (default: 30)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, the initialisation and the batches")
    return parser.parse_args()


def main():
    args = parse_args()
    started = time.perf_counter()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(stable_seed(f"{args.seed}/init"))  # the model's initialisation uses the global generator

    images, labels = digits_uint8()
    train_index, test_index = stratified_split(labels, stable_seed(f"{args.seed}/split"))
    model = resnet_models.build_cifar(DEPTH, SHORTCUT, NUM_CLASSES, IN_CHANNELS)
    train(model, images[train_index], labels[train_index], args.epochs, args.seed)
    training_time = time.perf_counter() - started

    test_dir = args.out / "test"
    names = write_test_set(test_dir, images[test_index], labels[test_index])
    test_images = torch.stack([read_pgm(test_dir / name) for name in names])
    if not torch.equal(test_images, images[test_index]):
        raise RuntimeError("the PGM files do not read back as the images written")
    test_labels = labels[test_index]
    with torch.no_grad():
        logits = model(transform(test_images))
    correct = (logits.argmax(1) == test_labels).sum().item()
    accuracy = correct / len(test_labels)

    metadata = {
        "model": MODEL, "depth": str(DEPTH), "shortcut": SHORTCUT, "in_channels": str(IN_CHANNELS),
        "num_classes": str(NUM_CLASSES), "input": "[N, 1, 16, 16]", "transform": TRANSFORM,
        "data": "sklearn.datasets.load_digits, pixel8 = floor(v * 255 / 16 + 0.5)",
        "split": f"stratified, {TEST_PER_CLASS} test images per digit", "seed": str(args.seed),
        "epochs": str(args.epochs), "test_accuracy": f"{accuracy:.4f} ({correct}/{len(test_labels)})",
        "torch": torch.__version__, "format": "pt",
    }
    weights_path = args.out / "resnet20_digits.safetensors"
    reference_path = args.out / "reference_logits.safetensors"
    safetensors_io.save_file(model.state_dict(), weights_path, metadata)
    safetensors_io.save_file({"logits": logits, "labels": test_labels.to(torch.float32)}, reference_path, metadata)

    print(f"test accuracy {accuracy:.4f} ({correct}/{len(test_labels)}), {len(train_index)} training images, "
          f"training {training_time:.1f} s, total {time.perf_counter() - started:.1f} s")
    test_bytes = sum(path.stat().st_size for path in test_dir.iterdir())
    for path, size in ((weights_path, weights_path.stat().st_size), (reference_path, reference_path.stat().st_size),
                       (test_dir, test_bytes)):
        print(f"  {path}: {size:,} bytes")


if __name__ == "__main__":
    main()
