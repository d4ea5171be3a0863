#!/usr/bin/python3
"""Golden model of ctresnet's int8 networks: PyTorch's quantized ResNets (engine qnnpack), in numpy.

It runs a quantized model as tools/quantize.py writes it (docs/int8.md lists the tensors) with
integer arithmetic and explicitly rounded float32 steps only, in the order PyTorch 1.13's qnnpack
kernels perform them, so that every intermediate uint8 tensor equals PyTorch's int_repr() bit for
bit. The C++ kernels follow these functions; docs/int8.md states the same formulas.

Arithmetic: activations are uint8 (quint8) values in int64 arrays, weights int8, accumulators
int64 checked to fit int32 (PyTorch's accumulators are int32). Convolution sums are computed as
float64 matrix products: every product is an integer below 2**16 in magnitude and every partial sum
an integer below 2**53, so each float64 result is the exact integer sum whatever the summation
order; they are then converted back to int64.

    forward(tensors, metadata, images)   -> {"quant", "layer1".."layer4" (or "layer3"), "output"
                                              (uint8 arrays; "output" is the classifier's), "logits"
                                              (float32, dequantized)}
    load(path)                           -> (tensors as numpy arrays, metadata)

With --weights FILE --io FILE it runs the model on the "input" of an io file written by
tools/make_int8_references.py and compares every stored uint8 tensor; exit status 0 when all are
equal.
"""
import argparse
import json
import struct
import sys
from pathlib import Path

import numpy as np

FORMAT = "ctresnet-int8"
FORMAT_VERSION = "1"
ENGINE = "qnnpack"

F32 = np.float32
QMIN, QMAX = 0, 255  # quint8
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

BOTTLENECK_DEPTHS = (50, 101, 152)
BLOCKS_PER_STAGE = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
CIFAR_WIDTHS = (16, 32, 64)


# ----------------------------------------------------------------------------------------------
# Parameters derived from scales (what PyTorch computes inside its ops)
# ----------------------------------------------------------------------------------------------

def f32_bits(value):
    """The IEEE-754 bits of float32(value) as a Python int."""
    return int(np.array(value, dtype=F32).view(np.uint32))


def bias_int32(bias_float, weight_scale, input_scale):
    """quant_utils::QuantizeBias -> quantize_val<qint32>: the int32 bias a conv or linear adds.

    scale = (double)weight_scale[c] * (double)input_scale        (exact: two float32 values)
    inv   = 1.0f / (float)scale                                   (float32 division)
    bias  = clamp(nearbyint(bias_float[c] * inv), INT32 range)    (float32 product, half to even)
    """
    scale = (np.asarray(weight_scale, np.float64) * np.float64(input_scale)).astype(F32)
    inv = F32(1.0) / scale
    q = np.rint(np.asarray(bias_float, F32) * inv)
    return np.clip(q, INT32_MIN, INT32_MAX).astype(np.int64)


def requant_scale(weight_scale, input_scale, output_scale):
    """generate_requantization_scales: M[c] = (w_scale[c] * in_scale) * (1.f / out_scale), all float32."""
    inverse_output_scale = F32(1.0) / F32(output_scale)
    return (np.asarray(weight_scale, F32) * F32(input_scale)).astype(F32) * inverse_output_scale


def add_params(a_scale, b_scale, output_scale):
    """pytorch_qnnp_compute_add_quantization_params: (a_multiplier, b_multiplier, shift).

    a_out = a_scale / out_scale, b_out = b_scale / out_scale      (float32 divisions)
    e     = exponent of max(a_out, b_out)  (floor(log2), from the float32 bits)
    shift = 21 - e                          (must be in [13, 31])
    mult  = lrintf(x_out * 2**(21 - e))     (exact power-of-two product, half to even; < 2**22)
    """
    a_out = F32(a_scale) / F32(output_scale)
    b_out = F32(b_scale) / F32(output_scale)
    for ratio in (a_out, b_out):
        if not (2.0**-14 <= ratio < 2.0**8):
            raise ValueError(f"add: input-to-output scale ratio {ratio} outside qnnpack's [2**-14, 2**8)")
    exponent = (f32_bits(max(a_out, b_out)) >> 23) - 127
    shift = 21 - exponent
    assert 13 <= shift < 32
    multiplier = F32(2.0 ** (21 - exponent))
    a_mult, b_mult = int(np.rint(a_out * multiplier)), int(np.rint(b_out * multiplier))
    assert max(a_mult, b_mult) >= 2**21 and a_mult < 2**22 and b_mult < 2**22
    return a_mult, b_mult, shift


def avgpool_multiplier(pool_size, input_scale, output_scale):
    """ATen's quantized average pools: multiplier = input_scale / output_scale / pool_size in float32
    (float division, float division by the int converted to float). The pools here keep the scale,
    so it is float32(1 / pool_size)."""
    return (F32(input_scale) / F32(output_scale)) / F32(pool_size)


# ----------------------------------------------------------------------------------------------
# Operations on uint8 activations (int64 arrays, NCHW)
# ----------------------------------------------------------------------------------------------

def quantize(x, scale, zero_point):
    """QuantStub (quantize_val<quint8>): clamp(zp + nearbyint(x * (1.0f / scale)), 0, 255), float32."""
    inv = F32(1.0) / F32(scale)
    q = np.rint(np.asarray(x, F32) * inv)
    q = np.clip(q, -(2.0**31), 2.0**31)  # only to keep the int64 conversion defined; clamped below
    return np.clip(q.astype(np.int64) + int(zero_point), QMIN, QMAX)


def dequantize(q, scale, zero_point):
    """DeQuantStub: (float)(q - zp) * scale in float32."""
    return (np.asarray(q, np.int64) - int(zero_point)).astype(F32) * F32(scale)


def requantize(acc, multiplier, zero_point, qmin=QMIN, qmax=QMAX):
    """qnnpack's fp32 requantization (q8conv/q8gemm SSE2 and NEON kernels):

    v = nearbyint((float)acc * M)   int32 -> float32 (half to even), float32 product, cvtps2dq
    y = clamp(v + zero_point, qmin, qmax)

    The kernels saturate v to int16 before adding the zero point (packs_epi32 / adds_epi16), which
    never changes the clamped result. cvtps2dq turns |v| >= 2**31 into INT32_MIN (so such an output
    becomes qmin); emulated.
    """
    v = np.rint(acc.astype(F32) * multiplier)
    v = np.where(np.abs(v) >= 2.0**31, -(2.0**31), v).astype(np.int64)
    return np.clip(v + int(zero_point), qmin, qmax)


def _check_int32(acc, what):
    if acc.size and (acc.min() < INT32_MIN or acc.max() > INT32_MAX):
        raise OverflowError(f"{what}: accumulator leaves int32 ({acc.min()}..{acc.max()})")


def conv_accumulate(x, input_zero_point, weight, weight_zero_point, stride, padding, dilation=1):
    """sum over (ci, ky, kx) of (x - zp_in) * (w - zp_w); padding contributes 0 (qnnpack pads with zp_in).

    A weight of fewer input channels than x has is a grouped conv's: each of c / ci groups of
    outputs sees its own ci input channels. Taps lie `dilation` pixels apart."""
    n, c, h, w = x.shape
    o, ci, kh, kw = weight.shape
    if c % ci != 0 or o % (c // ci) != 0:
        raise ValueError(f"conv: weight has {ci} input channels per group, input has {c}: not a whole number of groups")
    groups = c // ci
    xp = np.pad(x - int(input_zero_point), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    wo = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    cols = np.empty((n, c, kh, kw, ho, wo), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            y0, x0 = i * dilation, j * dilation
            cols[:, :, i, j] = xp[:, :, y0 : y0 + stride * (ho - 1) + 1 : stride, x0 : x0 + stride * (wo - 1) + 1 : stride]
    wz = (weight.astype(np.int64) - np.asarray(weight_zero_point, np.int64).reshape(o, 1, 1, 1)).reshape(groups, o // groups, -1)
    cols = cols.reshape(n, groups, ci * kh * kw, ho * wo)
    acc = np.matmul(wz.astype(np.float64)[None], cols)  # [n, groups, o / groups, ho * wo]
    return acc.reshape(n, o, ho, wo).astype(np.int64)


def conv(x, input_zero_point, p, stride, padding, relu, dilation=1):
    """A fused conv (+BN folded) (+ReLU): requantize(acc + bias) per output channel; ReLU is qmin = zp_out."""
    acc = conv_accumulate(x, input_zero_point, p["weight"], p["weight_zero_point"], stride, padding, dilation)
    acc += p["bias"].astype(np.int64)[None, :, None, None]
    _check_int32(acc, "conv")
    zp = int(p["output_zero_point"])
    return requantize(acc, p["requant_scale"][None, :, None, None], zp, zp if relu else QMIN, QMAX)


def linear(x, input_zero_point, p):
    """quantized::linear: requantize(sum((x - zp_in) * (w - zp_w)) + bias) per output feature."""
    wz = p["weight"].astype(np.int64) - np.asarray(p["weight_zero_point"], np.int64)[:, None]
    acc = np.matmul((x - int(input_zero_point)).astype(np.float64), wz.T.astype(np.float64)).astype(np.int64)
    acc += p["bias"].astype(np.int64)[None, :]
    _check_int32(acc, "linear")
    return requantize(acc, p["requant_scale"][None, :], int(p["output_zero_point"]))


def max_pool(x, kernel, stride, padding):
    """Max over the window's elements inside the input (uint8 >= 0, so zero padding is the same)."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=0)
    ho = (h + 2 * padding - kernel) // stride + 1
    wo = (w + 2 * padding - kernel) // stride + 1
    out = np.zeros((n, c, ho, wo), np.int64)
    for i in range(kernel):
        for j in range(kernel):
            out = np.maximum(out, xp[:, :, i : i + stride * (ho - 1) + 1 : stride, j : j + stride * (wo - 1) + 1 : stride])
    return out


def avg_pool(x, scale, zero_point, kernel, stride):
    """AvgPool2d(kernel, stride) without padding, and AdaptiveAvgPool2d(1) (kernel = stride = side),
    on uint8; output scale and zero point are the input's. PyTorch 1.13 runs both with ATen's
    generic kernels under either engine (QuantizedOpKernels.cpp: _qavg_pool_nhwc_kernel,
    _qadaptive_avg_pool_kernel), not with qnnpack's fixed-point pooling:

    acc = sum(window) - zp * k*k                                  (int32)
    m   = avgpool_multiplier(k*k, s, s)                           (float32)
    y   = clamp(zp + nearbyint((float)acc * m), 0, 255)           (float32 product, half to even)

    Their vector path multiplies by m, their scalar path by 1.0f / (1.0f / m); the two are equal
    for every pool size below 5000 when the scales are equal (checked by _check_reciprocal).
    """
    n, c, h, w = x.shape
    ho = (h - kernel) // stride + 1
    wo = (w - kernel) // stride + 1
    acc = np.zeros((n, c, ho, wo), np.int64)
    for i in range(kernel):
        for j in range(kernel):
            acc += x[:, :, i : i + stride * (ho - 1) + 1 : stride, j : j + stride * (wo - 1) + 1 : stride]
    acc -= int(zero_point) * kernel * kernel
    _check_int32(acc, "average pool")
    m = avgpool_multiplier(kernel * kernel, scale, scale)
    _check_reciprocal(m)
    return np.clip(int(zero_point) + np.rint(acc.astype(F32) * m).astype(np.int64), QMIN, QMAX)


def _check_reciprocal(m):
    if F32(1.0) / (F32(1.0) / m) != m:
        raise ValueError(f"average pool multiplier {m}: PyTorch's vector and scalar paths would differ")


def add_relu(a, a_zero_point, b, b_zero_point, a_mult, b_mult, shift, output_zero_point):
    """quantized::add_relu with qnnpack (q8vadd): fixed point, rounding half away from zero.

    acc = a * a_mult + b * b_mult - (a_zp * a_mult + b_zp * b_mult)     (int32, cannot overflow)
    q   = (acc >> shift) + 1 if the remainder exceeds half, as q8vadd's remainder test
          (= acc / 2**shift rounded half away from zero)
    y   = clamp(q + zp_out, zp_out, 255)                                  (ReLU: qmin = zp_out)
    """
    acc = a * a_mult + b * b_mult - (int(a_zero_point) * a_mult + int(b_zero_point) * b_mult)
    _check_int32(acc, "add")
    mask = (1 << shift) - 1
    remainder = (acc & mask) - (acc < 0)
    q = (acc >> shift) + (remainder > (mask >> 1))
    zp = int(output_zero_point)
    return np.clip(q + zp, zp, QMAX)


def zero_pad_shortcut(x, zero_point, out_channels):
    """Option A: x[:, :, ::2, ::2] with (out - in) / 2 channels of zp (real 0.0) on each side."""
    pad = (out_channels - x.shape[1]) // 2
    sub = x[:, :, ::2, ::2]
    return np.pad(sub, ((0, 0), (pad, pad), (0, 0), (0, 0)), constant_values=int(zero_point))


# ----------------------------------------------------------------------------------------------
# Networks
# ----------------------------------------------------------------------------------------------

class _Params:
    """The file's tensors by prefix; records what was read and checks derived tensors."""

    def __init__(self, tensors):
        self.tensors = tensors
        self.used = set()

    def get(self, name):
        if name not in self.tensors:
            raise KeyError(f"missing tensor {name!r}")
        self.used.add(name)
        return self.tensors[name]

    def layer(self, prefix, input_scale):
        """A conv or linear's tensors; checks that bias and requant_scale follow from the scales."""
        p = {key: self.get(f"{prefix}.{key}") for key in ("weight", "weight_scale", "weight_zero_point", "bias",
                                                           "bias_float", "requant_scale", "output_scale",
                                                           "output_zero_point")}
        expected_bias = bias_int32(p["bias_float"], p["weight_scale"], input_scale)
        if not np.array_equal(expected_bias, p["bias"].astype(np.int64)):
            raise ValueError(f"{prefix}.bias does not follow from bias_float and the scales")
        expected_m = requant_scale(p["weight_scale"], input_scale, p["output_scale"])
        if not np.array_equal(expected_m.view(np.uint32), np.asarray(p["requant_scale"], F32).view(np.uint32)):
            raise ValueError(f"{prefix}.requant_scale does not follow from the scales")
        return p

    def unused(self):
        return sorted(set(self.tensors) - self.used)


class _Activation:
    """A uint8 tensor with its scale and zero point."""

    def __init__(self, q, scale, zero_point):
        self.q, self.scale, self.zero_point = q, F32(scale), int(zero_point)


def _conv(params, name, x, stride, padding, relu, dilation=1):
    p = params.layer(name, x.scale)
    return _Activation(conv(x.q, x.zero_point, p, stride, padding, relu, dilation), p["output_scale"],
                       p["output_zero_point"])


def _add_relu(params, name, branch, shortcut):
    scale, zero_point = params.get(f"{name}.output_scale"), params.get(f"{name}.output_zero_point")
    a_mult, b_mult, shift = add_params(branch.scale, shortcut.scale, scale)
    stored = params.get(f"{name}.multipliers"), params.get(f"{name}.shift")
    if [int(v) for v in stored[0]] != [a_mult, b_mult] or int(stored[1]) != shift:
        raise ValueError(f"{name}.multipliers/shift do not follow from the scales")
    q = add_relu(branch.q, branch.zero_point, shortcut.q, shortcut.zero_point, a_mult, b_mult, shift, zero_point)
    return _Activation(q, scale, zero_point)


def _block(params, meta, prefix, x, in_channels, width, stride, first, dilation=1):
    """One residual block, its 3x3 conv (of a bottleneck) dilated by `dilation`; returns (output, out_channels)."""
    layout, depth = meta["layout"], int(meta["depth"])
    bottleneck = layout != "cifar" and depth in BOTTLENECK_DEPTHS
    out_channels = width * (4 if bottleneck else 1)
    if layout == "stage_projection":
        family = "bottleneck" if bottleneck else "basicblock"
        names = [f"{prefix}.{family}.{3 * i}" for i in range(3 if bottleneck else 2)]
    else:
        names = [f"{prefix}.conv{i + 1}" for i in range(3 if bottleneck else 2)]
    if bottleneck:
        s1, s2 = (stride, 1) if layout == "v1" else (1, stride)
        y = _conv(params, names[0], x, s1, 0, True)
        y = _conv(params, names[1], y, s2, dilation, True, dilation)
        y = _conv(params, names[2], y, 1, 0, False)
    else:
        if dilation != 1:
            raise ValueError(f"{prefix}: a basic block with dilation {dilation}, which torchvision refuses")
        y = _conv(params, names[0], x, stride, 1, True)
        y = _conv(params, names[1], y, 1, 1, False)

    if layout == "stage_projection":
        projection = first
    else:
        projection = stride != 1 or in_channels != out_channels
    if not projection:
        shortcut = x
    elif layout == "cifar" and meta.get("shortcut", "A") == "A":
        shortcut = _Activation(zero_pad_shortcut(x.q, x.zero_point, out_channels), x.scale, x.zero_point)
    else:
        shortcut = _conv(params, f"{prefix}.downsample.0", x, stride, 0, False)
    return _add_relu(params, f"{prefix}.add", y, shortcut), out_channels


def forward(tensors, metadata, images, check_unused=True):
    """Run the quantized network on float32 NCHW images; returns the uint8 stage outputs and logits."""
    if metadata.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file (format {metadata.get('format')!r})")
    if metadata.get("engine") != ENGINE:
        raise ValueError(f"engine {metadata.get('engine')!r}; this golden model follows {ENGINE}")
    params = _Params(tensors)
    layout, depth = metadata["layout"], int(metadata["depth"])
    outputs = {}
    x = _Activation(quantize(images, params.get("quant.output_scale"), params.get("quant.output_zero_point")),
                    params.get("quant.output_scale"), params.get("quant.output_zero_point"))
    outputs["quant"] = x.q
    if layout == "cifar":
        x = _conv(params, "conv1", x, 1, 1, True)
        widths = CIFAR_WIDTHS
        blocks = ((depth - 2) // 6,) * 3
    else:
        x = _conv(params, "conv1.0" if layout == "stage_projection" else "conv1", x, 2, 3, True)
        x = _Activation(max_pool(x.q, 3, 2, 1), x.scale, x.zero_point)
        widths = (64, 128, 256, 512)
        blocks = BLOCKS_PER_STAGE[depth]
    channels = x.q.shape[1]
    # torchvision's replace_stride_with_dilation: a marked stage's first block keeps the previous
    # dilation and stride 1; its later blocks dilate by the stride it gave up, times the previous.
    dilate = json.loads(metadata.get("replace_stride_with_dilation", "[false, false, false]"))
    dilation = 1
    for stage, (width, count) in enumerate(zip(widths, blocks), start=1):
        stride, previous = (2 if stage > 1 else 1), dilation
        if stage > 1 and dilate[stage - 2]:
            dilation, stride = dilation * stride, 1
        for b in range(count):
            x, channels = _block(params, metadata, f"layer{stage}.{b}", x, channels, width, stride if b == 0 else 1,
                                 b == 0, previous if b == 0 else dilation)
        outputs[f"layer{stage}"] = x.q
    if layout == "stage_projection":
        kernel = 7  # AvgPool2d(7, stride=1)
        x = _Activation(avg_pool(x.q, x.scale, x.zero_point, kernel, 1), x.scale, x.zero_point)
    else:
        if x.q.shape[2] != x.q.shape[3]:
            raise ValueError("adaptive average pooling of a non-square feature map is not modelled")
        x = _Activation(avg_pool(x.q, x.scale, x.zero_point, x.q.shape[2], x.q.shape[2]), x.scale, x.zero_point)
    flat = x.q.reshape(x.q.shape[0], -1)
    p = params.layer("fc", x.scale)
    outputs["output"] = linear(flat, x.zero_point, p)
    outputs["logits"] = dequantize(outputs["output"], p["output_scale"], p["output_zero_point"])
    if check_unused and params.unused():
        raise ValueError(f"tensors the network does not use: {params.unused()[:8]}")
    return outputs


# ----------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------

_NUMPY_DTYPES = {"U8": np.uint8, "I8": np.int8, "I16": np.int16, "I32": np.int32, "I64": np.int64,
                 "F32": np.float32, "F64": np.float64, "BOOL": np.bool_}


def load(path):
    """(tensors as numpy arrays, metadata) of a safetensors file, without torch."""
    blob = Path(path).read_bytes()
    (header_len,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8 : 8 + header_len])
    metadata = header.pop("__metadata__", {})
    start = 8 + header_len
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = np.dtype(_NUMPY_DTYPES[info["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(blob, dtype=dtype, count=(end - begin) // dtype.itemsize,
                                      offset=start + begin).reshape(info["shape"]).astype(dtype.newbyteorder("="))
    return tensors, metadata


def compare(outputs, reference):
    """{name: number of differing elements} for every uint8 tensor both hold."""
    return {name: int(np.count_nonzero(outputs[name].astype(np.int64) != reference[name].astype(np.int64)))
            for name in outputs if name in reference and name != "logits"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", required=True, type=Path, help="quantized model (tools/quantize.py)")
    parser.add_argument("--io", required=True, type=Path, help="io file of tools/make_int8_references.py")
    args = parser.parse_args()
    tensors, metadata = load(args.weights)
    reference, _ = load(args.io)
    outputs = forward(tensors, metadata, reference["input"])
    mismatches = compare(outputs, reference)
    logits_equal = np.array_equal(outputs["logits"].view(np.uint32), reference["logits"].view(np.uint32))
    for name, count in mismatches.items():
        print(f"{name}: {count} of {outputs[name].size} elements differ")
    print(f"logits: {'bit-identical' if logits_equal else 'DIFFERENT'}")
    sys.exit(0 if not any(mismatches.values()) and logits_equal else 1)


if __name__ == "__main__":
    main()
