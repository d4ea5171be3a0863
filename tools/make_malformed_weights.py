#!/usr/bin/python3
"""Writes tests/malformed/: small safetensors files, each broken in one way, for the loader's tests
(tests/unit/test_malformed_weights.cpp) and as seeds for its fuzzer (tests/fuzz/).

Plain Python, no torch: the files are made byte by byte, so that each can be wrong in a way no
ordinary writer would produce. They describe tests/unit/tiny_network.hpp's network: a one-block
ResNet with 4 channels on 1x8x8 images and 2 classes (382 floats). The int8_* files (and valid_int8) are int8
model files of the same network (docs/int8.md's format, as tools/quantize.py writes them), for
ctresnet::quantized<tiny_network>: their scales are powers of two, so that the biases, multipliers
and add parameters the loader derives from them are exact here too. Deterministic: a rerun
rewrites the same bytes.

    tools/make_malformed_weights.py [--out tests/malformed]
"""
import argparse
import json
import math
import struct
from pathlib import Path

# tiny_network's state dict: names and shapes, as ctresnet::tensors() lists them.
BATCH_NORM = ["weight", "bias", "running_mean", "running_var"]
TENSORS = [("conv1.weight", [4, 1, 3, 3])] + [(f"bn1.{p}", [4]) for p in BATCH_NORM]
for conv in ("1", "2"):
    TENSORS += [(f"layer1.0.conv{conv}.weight", [4, 4, 3, 3])] + [(f"layer1.0.bn{conv}.{p}", [4]) for p in BATCH_NORM]
TENSORS += [("fc.weight", [2, 4]), ("fc.bias", [2])]


def values(name, count):
    """Small, exactly representable, deterministic weights; variances positive."""
    if name.endswith("running_var"):
        return [0.5 + 0.25 * (i % 3) for i in range(count)]
    seed = sum(map(ord, name))
    return [((seed + 7 * i) % 17 - 8) / 16 for i in range(count)]


def f32(numbers):
    return struct.pack(f"<{len(numbers)}f", *numbers)


def valid_tensors(dtype="F32"):
    """[(name, dtype, shape, bytes)] of the whole network, in tensors() order."""
    result = []
    for name, shape in TENSORS:
        numbers = values(name, math.prod(shape))
        data = f32(numbers) if dtype == "F32" else struct.pack(f"<{len(numbers)}e", *numbers)
        result.append((name, dtype, shape, data))
    return result


def header_of(tensors, metadata=None):
    """The header dict for tensors laid out one after another, and the data section."""
    header = {"__metadata__": metadata} if metadata else {}
    data = b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return header, data


def file_bytes(header_text, data, length=None):
    """Length prefix (the header's own unless given), header padded to 8 bytes, data."""
    text = header_text.encode("utf-8") if isinstance(header_text, str) else header_text
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def dump(header):
    return json.dumps(header, separators=(",", ":"))


def one_tensor(entry, data):
    """A file of one tensor 'x' whose header entry is `entry` (a dict or raw JSON text)."""
    text = entry if isinstance(entry, str) else dump(entry)
    return file_bytes('{"x":' + text + "}", data)


def corpus():
    """name -> bytes. Every name but valid_* is one problem; the C++ test names the error it expects."""
    files = {}
    header, data = header_of(valid_tensors(), {"format": "pt"})
    valid = file_bytes(dump(header), data)
    files["valid_f32"] = valid
    files["valid_f16_with_batch_counter"] = file_bytes(
        dump(header_of(valid_tensors("F16") + [("bn1.num_batches_tracked", "I64", [], struct.pack("<q", 3))])[0]),
        header_of(valid_tensors("F16") + [("bn1.num_batches_tracked", "I64", [], struct.pack("<q", 3))])[1])

    # The length prefix and the header as a whole.
    files["empty_file"] = b""
    files["shorter_than_length_prefix"] = b"\x10\x00\x00"
    files["header_length_past_end"] = struct.pack("<Q", 4096) + b'{"x":{}}'
    files["header_length_over_cap"] = struct.pack("<Q", 100_000_001) + b"{}" + b" " * 6
    files["header_length_huge"] = struct.pack("<Q", 2**64 - 1) + b"{}" + b" " * 6
    files["header_not_json"] = file_bytes('{"x": {"dtype": "F32", ', b"")
    files["header_invalid_utf8"] = file_bytes(b'{"\xff\xfe":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}', b"\0" * 4)
    files["header_not_object"] = file_bytes("[1, 2, 3]", b"")
    files["header_nested_too_deep"] = file_bytes('{"x":{"dtype":"F32","shape":[[[1]]],"data_offsets":[0,4]}}', b"\0" * 4)
    files["duplicate_tensor_name"] = file_bytes(
        '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        b"\0" * 8)
    files["duplicate_key_in_entry"] = one_tensor('{"dtype":"F32","dtype":"I8","shape":[1],"data_offsets":[0,4]}',
                                                 b"\0" * 4)
    files["metadata_not_string"] = file_bytes('{"__metadata__":{"epochs":90}}', b"")

    # One tensor's header entry.
    files["entry_not_object"] = file_bytes('{"x":[0,4]}', b"\0" * 4)
    files["dtype_missing"] = one_tensor({"shape": [1], "data_offsets": [0, 4]}, b"\0" * 4)
    files["dtype_unknown"] = one_tensor({"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}, b"\0" * 4)
    files["shape_negative"] = one_tensor({"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}, b"\0" * 4)
    files["shape_extent_over_int64"] = one_tensor({"dtype": "U8", "shape": [2**63], "data_offsets": [0, 4]},
                                                  b"\0" * 4)
    files["shape_count_overflows"] = one_tensor({"dtype": "F32", "shape": [2**32, 2**32, 16], "data_offsets": [0, 4]},
                                                b"\0" * 4)
    files["shape_bytes_overflow"] = one_tensor({"dtype": "F64", "shape": [2**62], "data_offsets": [0, 4]}, b"\0" * 4)
    files["shape_too_many_dimensions"] = one_tensor({"dtype": "F32", "shape": [1] * 65, "data_offsets": [0, 4]},
                                                    b"\0" * 4)
    files["shape_disagrees_with_bytes"] = one_tensor({"dtype": "F32", "shape": [3, 3], "data_offsets": [0, 40]},
                                                     b"\0" * 40)
    files["offsets_not_pair"] = one_tensor({"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}, b"\0" * 8)
    files["offsets_reversed"] = one_tensor({"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}, b"\0" * 8)
    files["offsets_past_data"] = one_tensor({"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, b"\0" * 8)

    # The data section: the tensors' byte ranges must tile it.
    two = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":%s}}'
    files["ranges_overlap"] = file_bytes(two % "[4,12]", b"\0" * 12)
    files["ranges_leave_hole"] = file_bytes(two % "[12,20]", b"\0" * 20)
    files["trailing_bytes"] = file_bytes(two % "[8,16]", b"\0" * 20)
    files["truncated_in_data"] = valid[: len(valid) - 100]
    files["truncated_in_header"] = valid[:40]

    # A well-formed file that does not fit the network, or whose values cannot be weights.
    def variant(change):
        tensors = valid_tensors()
        change(tensors)
        h, d = header_of(tensors)
        return file_bytes(dump(h), d)

    def position(tensors, name):
        return next(k for k, t in enumerate(tensors) if t[0] == name)

    def set_value(name, index, number):
        def change(tensors):
            i = position(tensors, name)
            n, dtype, shape, raw = tensors[i]
            raw = bytearray(raw)
            raw[4 * index: 4 * index + 4] = struct.pack("<f", number)
            tensors[i] = (n, dtype, shape, bytes(raw))
        return change

    def drop(name):
        return lambda tensors: tensors.__delitem__(position(tensors, name))

    def reshape(name, shape):
        def change(tensors):
            i = position(tensors, name)
            n, dtype, _, raw = tensors[i]
            tensors[i] = (n, dtype, shape, raw)
        return change

    def retype(name, dtype):
        def change(tensors):
            i = position(tensors, name)
            n, _, shape, raw = tensors[i]
            tensors[i] = (n, dtype, shape, raw)
        return change

    files["weight_nan"] = variant(set_value("layer1.0.conv2.weight", 5, math.nan))
    files["weight_infinite"] = variant(set_value("fc.bias", 1, -math.inf))
    files["running_var_negative"] = variant(set_value("layer1.0.bn1.running_var", 2, -0.25))
    files["running_var_nan"] = variant(set_value("bn1.running_var", 0, math.nan))
    files["tensor_missing"] = variant(drop("layer1.0.bn2.bias"))
    files["tensor_unexpected"] = variant(lambda t: t.append(("layer2.0.conv1.weight", "F32", [1], f32([0.0]))))
    files["tensor_wrong_shape"] = variant(reshape("fc.weight", [4, 2]))
    files["tensor_integer_dtype"] = variant(retype("fc.bias", "I32"))
    return files


# The int8 model of tiny_network: its layers in the order they run, as quantized<Net>::layers()
# names them. A conv or fc: (name, input layer, weight shape, weight scales as powers of two,
# output scale exponent, output zero point); the add: its output scale exponent and zero point.
INT8_INPUT = ("quant", -6, 128)
INT8_CONVS = [("conv1", "quant", [4, 1, 3, 3], [-7, -6, -7, -8], -4, 0),
              ("layer1.0.conv1", "conv1", [4, 4, 3, 3], [-7, -7, -6, -7], -4, 0),
              ("layer1.0.conv2", "layer1.0.conv1", [4, 4, 3, 3], [-8, -7, -7, -6], -4, 10)]
INT8_ADD = ("layer1.0.add", "layer1.0.conv2", "conv1", -3, 0)
INT8_FC = ("fc", "layer1.0.add", [2, 4], [-7, -6], -3, 100)
INT8_METADATA = {"format": "ctresnet-int8", "format_version": "1", "engine": "qnnpack"}


def i32(numbers):
    return struct.pack(f"<{len(numbers)}i", *numbers)


def int8_tensors():
    """[(name, dtype, shape, bytes)] of a valid int8 file: what PyTorch derives from the scales,
    computed exactly (every scale a power of two, every bias_float a multiple of 1/8)."""
    scale_of = {INT8_INPUT[0]: 2.0 ** INT8_INPUT[1]}
    result = [("quant.output_scale", "F32", [], f32([scale_of["quant"]])),
              ("quant.output_zero_point", "I32", [], i32([INT8_INPUT[2]]))]
    for name, source, shape, weight_exponents, output_exponent, zero_point in INT8_CONVS + [INT8_FC]:
        outputs, count = shape[0], math.prod(shape)
        seed = sum(map(ord, name))
        weights = [(seed + 5 * i) % 61 - 30 for i in range(count)]
        weight_scales = [2.0 ** e for e in weight_exponents]
        bias_float = [((seed + 3 * o) % 9 - 4) / 8 for o in range(outputs)]
        input_scale, output_scale = scale_of[source], 2.0 ** output_exponent
        # quantized_bias and requantization_scale (ctresnet/quantized/parameters.hpp), exact here.
        bias = [round(b / (w * input_scale)) for b, w in zip(bias_float, weight_scales)]
        requant = [w * input_scale / output_scale for w in weight_scales]
        result += [(f"{name}.weight", "I8", shape, struct.pack(f"<{count}b", *weights)),
                   (f"{name}.weight_scale", "F32", [outputs], f32(weight_scales)),
                   (f"{name}.weight_zero_point", "I32", [outputs], i32([0] * outputs)),
                   (f"{name}.bias", "I32", [outputs], i32(bias)),
                   (f"{name}.bias_float", "F32", [outputs], f32(bias_float)),
                   (f"{name}.requant_scale", "F32", [outputs], f32(requant)),
                   (f"{name}.output_scale", "F32", [], f32([output_scale])),
                   (f"{name}.output_zero_point", "I32", [], i32([zero_point]))]
        scale_of[name] = output_scale
        if name == INT8_ADD[1]:
            add, branch, shortcut, exponent, add_zero_point = INT8_ADD
            output = 2.0 ** exponent
            ra, rb = scale_of[branch] / output, scale_of[shortcut] / output
            # add_parameters_for: shift = 21 - floor(log2(max ratio)), multipliers ratio * 2^shift.
            shift = 21 - math.frexp(max(ra, rb))[1] + 1
            result += [(f"{add}.output_scale", "F32", [], f32([output])),
                       (f"{add}.output_zero_point", "I32", [], i32([add_zero_point])),
                       (f"{add}.multipliers", "I32", [2], i32([round(ra * 2 ** shift), round(rb * 2 ** shift)])),
                       (f"{add}.shift", "I32", [], i32([shift]))]
            scale_of[add] = output
    return result


def int8_corpus():
    """name -> bytes: the int8 files, each (but valid_int8) with one problem."""
    def file_of(tensors, metadata=INT8_METADATA):
        h, d = header_of(tensors, metadata)
        return file_bytes(dump(h), d)

    def variant(name, dtype=None, index=0, value=None, pack=None):
        """The valid file with tensor `name`'s element `index` set to `value` (packed as `pack`),
        or its dtype changed to `dtype` with its values converted."""
        tensors = int8_tensors()
        i = next(k for k, t in enumerate(tensors) if t[0] == name)
        n, old_dtype, shape, raw = tensors[i]
        if dtype is not None:
            old = struct.unpack(f"<{math.prod(shape)}b", raw)
            raw = f32(old) if dtype == "F32" else struct.pack(f"<{len(old)}B", *[v & 0xFF for v in old])
            tensors[i] = (n, dtype, shape, raw)
        else:
            size = struct.calcsize(pack)
            raw = bytearray(raw)
            raw[size * index: size * index + size] = struct.pack(pack, value)
            tensors[i] = (n, old_dtype, shape, bytes(raw))
        return file_of(tensors)

    def bias_plus_one(name, index):
        tensors = int8_tensors()
        i = next(k for k, t in enumerate(tensors) if t[0] == name)
        n, dtype, shape, raw = tensors[i]
        values = list(struct.unpack(f"<{shape[0]}i", raw))
        values[index] += 1
        tensors[i] = (n, dtype, shape, i32(values))
        return file_of(tensors)

    return {
        "valid_int8": file_of(int8_tensors()),
        "int8_metadata_missing": file_of(int8_tensors(), None),
        "int8_dilation_not_booleans": file_of(int8_tensors(), {**INT8_METADATA, "replace_stride_with_dilation": "[1, 0]"}),
        "int8_scale_zero": variant("conv1.weight_scale", index=2, value=0.0, pack="<f"),
        "int8_scale_negative": variant("quant.output_scale", value=-0.015625, pack="<f"),
        "int8_scale_nan": variant("layer1.0.conv2.output_scale", value=math.nan, pack="<f"),
        "int8_scale_infinite": variant("fc.weight_scale", index=1, value=math.inf, pack="<f"),
        "int8_zero_point_out_of_range": variant("layer1.0.add.output_zero_point", value=256, pack="<i"),
        "int8_weight_zero_point_not_zero": variant("layer1.0.conv1.weight_zero_point", index=3, value=2, pack="<i"),
        "int8_weight_f32": variant("layer1.0.conv1.weight", dtype="F32"),
        "int8_weight_u8": variant("fc.weight", dtype="U8"),
        "int8_bias_inconsistent": bias_plus_one("layer1.0.conv2.bias", 1),
        "int8_add_shift_inconsistent": variant("layer1.0.add.shift", value=21, pack="<i"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "tests" / "malformed")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    files = corpus()
    files.update(int8_corpus())
    for old in args.out.glob("*.safetensors"):
        if old.stem not in files:
            old.unlink()
    for name, data in files.items():
        (args.out / f"{name}.safetensors").write_bytes(data)
    print(f"{len(files)} files in {args.out}")


if __name__ == "__main__":
    main()
