#!/usr/bin/python3
"""Writes tests/fuzz/seeds/images/, the seeds of the image fuzzer (tests/fuzz/fuzz_decode_image.cpp):
tiny images in each format ctresnet-classify reads and PIL writes (PNG gray/RGB/RGBA/palette/16-bit/
1-bit/interlaced, JPEG baseline/progressive/gray/CMYK/4:4:4, PPM, PGM), a BMP and a GIF (which it
refuses by their signatures), and a PNG that announces 200 million pixels (the CLI test
cli.huge_image). Deterministic: a rerun rewrites the same bytes.

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


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width, height):
    """A PNG whose header announces width x height RGB pixels, with one empty data chunk."""
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b""))


def interlaced_png(image):
    """An 8-bit RGB image as an Adam7-interlaced PNG (PIL writes none)."""
    width, height = image.size
    rows = [image.tobytes()[3 * width * y: 3 * width * (y + 1)] for y in range(height)]
    data = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        for y in range(y0, height, dy):
            if x0 < width:
                data += b"\0" + b"".join(rows[y][3 * x: 3 * x + 3] for x in range(x0, width, dx))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1)) +
            png_chunk(b"IDAT", zlib.compress(data)) + png_chunk(b"IEND", b""))


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
    pattern("RGB", 17, 9).save(out / "subsampling_444.jpg", quality=90, subsampling=0)
    pattern("CMYK", 17, 9).save(out / "cmyk.jpg", quality=80)
    pattern("1").save(out / "bits1.png")
    pattern("P").save(out / "palette_transparency.png", transparency=2)
    (out / "interlaced.png").write_bytes(interlaced_png(pattern("RGB", 11, 9)))
    pattern("RGB").save(out / "rgb.bmp")
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
