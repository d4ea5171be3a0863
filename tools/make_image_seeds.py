#!/usr/bin/python3
"""Writes tests/fuzz/seeds/images/, the seeds of the image fuzzer (tests/fuzz/fuzz_decode_image.cpp):
tiny images in each format stb_image reads and PIL writes (PNG gray/RGB/RGBA/palette/16-bit, JPEG
baseline/progressive/gray, BMP, TGA, GIF, PPM, PGM), and a PNG that announces 200 million pixels
(the CLI test cli.huge_image). Deterministic: a rerun rewrites the same bytes.

    tools/make_image_seeds.py [--out tests/fuzz/seeds/images]
"""
import argparse
import struct
import zlib
from pathlib import Path

from PIL import Image


def pattern(mode, width=7, height=5):
    image = Image.new("RGBA", (width, height))
    image.putdata([((37 * x) % 256, (59 * y) % 256, (x * y * 23) % 256, 255 - 30 * x) for y in range(height)
                   for x in range(width)])
    return image.convert(mode)


def png_claiming(width, height):
    """A PNG whose header announces width x height RGB pixels, with one empty data chunk."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(__file__).resolve().parent.parent / "tests" / "fuzz" / "seeds" / "images"
    parser.add_argument("--out", type=Path, default=default)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    pattern("L").save(out / "gray.png")
    pattern("RGB").save(out / "rgb.png")
    pattern("RGBA").save(out / "rgba.png")
    pattern("LA").save(out / "gray_alpha.png")
    pattern("P").save(out / "palette.png")
    pattern("I").save(out / "gray16.png")
    pattern("RGB", 17, 9).save(out / "baseline.jpg", quality=80)
    pattern("RGB", 17, 9).save(out / "progressive.jpg", quality=80, progressive=True)
    pattern("L", 17, 9).save(out / "gray.jpg", quality=80)
    pattern("RGB").save(out / "rgb.bmp")
    pattern("RGBA").save(out / "rgba.tga")
    pattern("RGB").save(out / "rle.tga", compression="tga_rle")
    pattern("P").save(out / "palette.gif")
    pattern("RGB").save(out / "rgb.ppm")
    pattern("L").save(out / "gray.pgm")
    # 20000 x 10000 pixels announced in 57 bytes: ctresnet-classify refuses it before decoding.
    (out / "huge_claim.png").write_bytes(png_claiming(20000, 10000))
    # The fuzzer's finding in stb_image 2.27: a Huffman table of more than 256 codes (here 16 x 20)
    # overflows stb's tables; examples/image_file.hpp refuses it. A regression file of the fuzz tests.
    jpeg = bytearray((out / "baseline.jpg").read_bytes())
    dht = jpeg.index(b"\xff\xc4")
    jpeg[dht + 5: dht + 21] = bytes([20] * 16)
    regressions = out.parent.parent / "regressions" / "decode_image"
    regressions.mkdir(parents=True, exist_ok=True)
    (regressions / "jpeg_huffman_table_of_320_codes.jpg").write_bytes(bytes(jpeg))
    print(f"images in {out}")


if __name__ == "__main__":
    main()
