#!/usr/bin/python3
"""PIL's decoding of JPEG and PNG files of every kind, for the tests of ctresnet-classify's decoders
(tests/main_job/test_decoders_as_pil.cpp).

Into --out it writes the image files, and references.safetensors with, for every case NAME:
  NAME.rgb       F32 [H, W, 3]     Image.open(file).convert("RGB"), the pixels torchvision's
                                   ImageFolder loader gives
  NAME.imagenet  F32 [3, 224, 224] torchvision's evaluation transform of them: Resize(256),
                                   CenterCrop(224), ToTensor(), Normalize(ImageNet's mean, std)
  NAME.digits    F32 [1, 16, 16]   the digits model's transform (as in make_preprocess_refs.py),
                                   which starts with convert("L")
and in its metadata "cases" (names, comma-separated) and NAME.file (the path). The cases:
  the two photographs python3-sklearn ships (china.jpg, flower.jpg, 640x427 baseline JPEGs);
  JPEGs that PIL writes from a 203x117 crop of china.jpg: qualities 30, 75 and 95, each with
    4:4:4, 4:2:2 and 4:2:0 subsampling; progressive; gray; CMYK (PIL writes Adobe's inverted
    CMYK); one with restart markers; an odd-sized 4:2:0 one;
  PNGs: 8-bit gray, RGB, RGBA, gray with alpha, palette (and with transparency, 4 bits),
    1-bit, 2-bit and 4-bit gray, 16-bit gray (PIL clips it to 255 in convert("RGB")), 16-bit
    RGB, RGBA and gray with alpha, and Adam7-interlaced 8-bit RGB and 16-bit RGBA.
It also writes files that must fail: truncated.jpg (the first 60 % of q75_420.jpg),
corrupt.jpg (entropy-coded bytes overwritten: libjpeg warns, and a warning is an error),
truncated.png and bad_crc.png. references.stamp holds a hash of what the outputs depend on; when
it matches, the script does nothing.
"""
import argparse
import hashlib
import json
import struct
import sys
import zlib
from pathlib import Path

try:
    import numpy as np
    import PIL
    import sklearn
    import torch
    import torchvision
    from PIL import Image
except ImportError as error:
    sys.exit(f"{error}: apt-get install python3-torch python3-torchvision python3-sklearn\n"
             f"(this ran under {sys.executable}; use /usr/bin/python3)")

import image_transforms
import safetensors_io

TOOLS_DIR = Path(__file__).resolve().parent
SKLEARN_IMAGES = Path(sklearn.__file__).resolve().parent / "datasets" / "images"
IMAGENET = image_transforms.imagenet()


def png_bytes(pixels, color_type, depth, interlaced=False, width=None):
    """A PNG of `pixels` (uint8, or big-endian uint16 for depth 16; for fewer than 8 bits, rows of
    packed bytes of an image `width` wide), written here because PIL writes neither 16-bit colour,
    nor gray of 2 or 4 bits, nor interlaced files."""
    height, width = pixels.shape[0], width or pixels.shape[1]
    samples = pixels.reshape(height, pixels.shape[1], -1)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
    data = b""
    for x0, y0, dx, dy in passes if interlaced else ((0, 0, 1, 1),):
        sub = samples[y0::dy, x0::dx]
        if sub.size:
            data += b"".join(b"\0" + row.tobytes() for row in sub)
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 1 if interlaced else 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b"")


def write_images(out):
    """The image files; returns the cases as (name, path)."""
    cases = [("china_jpg", SKLEARN_IMAGES / "china.jpg"), ("flower_jpg", SKLEARN_IMAGES / "flower.jpg")]

    def add(name, path):
        cases.append((name, path))
        return path

    photo = Image.open(SKLEARN_IMAGES / "china.jpg").convert("RGB")
    crop = photo.crop((150, 120, 150 + 203, 120 + 117))
    for quality in (30, 75, 95):
        for subsampling, label in ((0, "444"), (1, "422"), (2, "420")):
            crop.save(add(f"q{quality}_{label}_jpg", out / f"q{quality}_{label}.jpg"), quality=quality,
                      subsampling=subsampling)
    crop.save(add("progressive_jpg", out / "progressive.jpg"), quality=80, progressive=True)
    crop.convert("L").save(add("gray_jpg", out / "gray.jpg"), quality=85)
    crop.convert("CMYK").save(add("cmyk_jpg", out / "cmyk.jpg"), quality=90)
    crop.save(add("restart_markers_jpg", out / "restart_markers.jpg"), quality=80, restart_marker_blocks=4)
    photo.crop((0, 0, 97, 61)).save(add("odd_size_420_jpg", out / "odd_size_420.jpg"), quality=85, subsampling=2)

    rgb = np.asarray(crop)
    gray = np.asarray(crop.convert("L"))
    ramp = np.add.outer(np.arange(rgb.shape[0]), np.arange(rgb.shape[1])).astype(np.uint16)
    crop.convert("L").save(add("gray_png", out / "gray.png"))
    crop.save(add("rgb_png", out / "rgb.png"))
    Image.fromarray(np.dstack([rgb, (ramp % 256).astype(np.uint8)]), "RGBA").save(add("rgba_png", out / "rgba.png"))
    crop.convert("LA").save(add("gray_alpha_png", out / "gray_alpha.png"))
    crop.quantize(200).save(add("palette_png", out / "palette.png"))
    crop.quantize(16).save(add("palette_4_bits_transparency_png", out / "palette_4_bits_transparency.png"), bits=4,
                           transparency=3)
    crop.convert("1").save(add("gray_1_bit_png", out / "gray_1_bit.png"))
    for bits in (2, 4):
        levels = (gray >> (8 - bits)).astype(np.uint8)
        packed = np.packbits(np.unpackbits(levels[..., None], axis=2)[..., 8 - bits:].reshape(gray.shape[0], -1),
                             axis=1)
        add(f"gray_{bits}_bits_png", out / f"gray_{bits}_bits.png").write_bytes(png_bytes(packed, 0, bits, width=gray.shape[1]))
    wide = (rgb.astype(np.uint16) * 257 + ramp[..., None] % 200).astype(">u2")
    gray_16 = (gray.astype(np.uint16) * 3 + ramp % 7).astype(">u2")  # mostly above 255: PIL clips it
    alpha_16 = (ramp * 300).astype(">u2")
    add("gray_16_bits_png", out / "gray_16_bits.png").write_bytes(png_bytes(gray_16, 0, 16))
    add("rgb_16_bits_png", out / "rgb_16_bits.png").write_bytes(png_bytes(wide, 2, 16))
    add("rgba_16_bits_png", out / "rgba_16_bits.png").write_bytes(png_bytes(np.dstack([wide, alpha_16]), 6, 16))
    add("gray_alpha_16_bits_png", out / "gray_alpha_16_bits.png").write_bytes(
        png_bytes(np.dstack([gray_16, alpha_16]), 4, 16))
    add("interlaced_png", out / "interlaced.png").write_bytes(png_bytes(rgb, 2, 8, interlaced=True))
    add("interlaced_rgba_16_bits_png", out / "interlaced_rgba_16_bits.png").write_bytes(
        png_bytes(np.dstack([wide, alpha_16]), 6, 16, interlaced=True))

    jpeg = (out / "q75_420.jpg").read_bytes()
    (out / "truncated.jpg").write_bytes(jpeg[: len(jpeg) * 6 // 10])
    scan = jpeg.index(b"\xff\xda")
    corrupt = bytearray(jpeg)
    corrupt[scan + 400: scan + 440] = bytes(range(7, 247, 6))  # no 0xFF: markers stay where they were
    (out / "corrupt.jpg").write_bytes(bytes(corrupt))
    png = (out / "rgb.png").read_bytes()
    (out / "truncated.png").write_bytes(png[: len(png) // 2])
    bad_crc = bytearray(png)
    bad_crc[29] ^= 0xFF  # IHDR's CRC
    (out / "bad_crc.png").write_bytes(bytes(bad_crc))
    return cases


def stamp():
    digest = hashlib.sha256()
    for path in (Path(__file__), TOOLS_DIR / "safetensors_io.py", TOOLS_DIR / "image_transforms.py",
                 SKLEARN_IMAGES / "china.jpg", SKLEARN_IMAGES / "flower.jpg"):
        digest.update(path.read_bytes())
    versions = {"torch": torch.__version__, "torchvision": torchvision.__version__, "PIL": PIL.__version__}
    return json.dumps({"sha256": digest.hexdigest(), **versions}, sort_keys=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory of the outputs")
    out = parser.parse_args().out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    stamp_path, references_path = out / "references.stamp", out / "references.safetensors"
    expected_stamp = stamp()
    if stamp_path.exists() and references_path.exists() and stamp_path.read_text() == expected_stamp:
        print(f"{references_path} is up to date")
        return
    stamp_path.unlink(missing_ok=True)  # a stamp may only stand next to files made for it

    cases = write_images(out)
    tensors, metadata = {}, {"cases": ",".join(name for name, _ in cases)}
    for name, path in cases:
        image = Image.open(path)
        rgb = image.convert("RGB")
        tensors[f"{name}.rgb"] = torch.from_numpy(np.array(rgb)).to(torch.float32)
        tensors[f"{name}.imagenet"] = IMAGENET(rgb).contiguous()
        tensors[f"{name}.digits"] = image_transforms.digits(image).contiguous()
        metadata[f"{name}.file"] = str(path)
        print(f"{name}: {path.name} {image.mode} {image.width}x{image.height}")
    safetensors_io.save_file(tensors, references_path, metadata)
    with safetensors_io.atomic_output(stamp_path, "w") as stamp_file:
        stamp_file.write(expected_stamp)
    print(f"wrote {references_path}")


if __name__ == "__main__":
    main()
