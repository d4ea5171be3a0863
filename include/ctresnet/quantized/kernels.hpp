// The int8 kernels: the integer arithmetic of PyTorch's quantized ResNets (engine qnnpack) on one
// image in channels-last (HWC) order, as docs/int8.md states it and tools/int8_reference.py
// implements it, function for function. Activations are uint8 with a zero point; weights int8
// with zero point 0 (symmetric, which the loader requires); sums int32.
//
// This file is the portable layer, plain C++: the scalar arithmetic (the reference the vector
// kernels follow lane by lane), the packed weight layout, and portable forms of every kernel.
// conv.hpp runs the convs, the classifier and the residual add with vector tiles where the build
// targets AVX-512 VNNI or AVX2 (kernels_avx512.hpp, kernels_avx2.hpp, winograd_avx2.hpp) or
// aarch64's NEON (kernels_neon.hpp), and splits them among a thread pool's threads. Every float step is the single binary32 operation
// the spec names, rounded to nearest even: none is a product followed by a sum, so contracting
// into a fused multiply-add (-ffp-contract) cannot change one, and std::nearbyint (like the vector
// conversions) rounds ties to even under the default rounding mode, which ctresnet never changes.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/config.hpp>
#include <ctresnet/describe.hpp>
#include <ctresnet/kernels/conv_geometry.hpp>
#include <ctresnet/thread_pool.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "ctresnet's int8 kernels need float operations evaluated in float (FLT_EVAL_METHOD 0); on 32-bit x86 compile with -msse2 -mfpmath=sse"
#endif

namespace ctresnet::kernels::int8 {

/// part(thread, threads) on every thread of `pool`, or part(0, 1) on this one if there is none.
template <class Part>
void run_parts(thread_pool* pool, Part&& part) {
  if (pool == nullptr || pool->size() == 1)
    part(0, 1);
  else
    pool->run(part);
}

/// A conv's scratch (conv_scratch_bytes(shape, threads) bytes) and its threads: a pool of
/// `threads`, or none for the calling thread alone. `spare` is a buffer of `spare_bytes` that the
/// conv may use too (null: none), which some kernels use for larger blocks of work.
struct workers {
  std::uint8_t* scratch;
  thread_pool* pool;
  std::uint8_t* spare = nullptr;
  std::size_t spare_bytes = 0;
};

/// The range of quint8 activations.
inline constexpr std::int32_t qmin = 0, qmax = 255;

/// `v` clamped to [low, qmax] as a uint8.
inline std::uint8_t clamp_to_uint8(std::int64_t v, std::int32_t low = qmin) {
  return static_cast<std::uint8_t>(std::min<std::int64_t>(std::max<std::int64_t>(v, low), qmax));
}

/// x86's cvtps2dq on an integral float: the int32 it holds, or INT32_MIN for |v| >= 2^31 (and
/// NaN), which qnnpack's requantization then clamps to its lower bound.
inline std::int32_t to_int32_as_cvtps2dq(float v) {
  return std::fabs(v) < 2147483648.0f ? static_cast<std::int32_t>(v) : INT32_MIN;
}

/// qnnpack's fp32 requantization (q8conv/q8gemm): clamp(nearbyint((float)acc * M) + zp, low, 255),
/// int32 to float, one float product, rounded half to even. (qnnpack also saturates to int16
/// before adding the zero point, which never changes the clamped result.)
inline std::uint8_t requantize(std::int32_t acc, float multiplier, std::int32_t zero_point, std::int32_t low) {
  const float v = std::nearbyint(static_cast<float>(acc) * multiplier);
  return clamp_to_uint8(std::int64_t{to_int32_as_cvtps2dq(v)} + zero_point, low);
}

/// QuantStub (ATen quantize_val<quint8>): clamp(zp + nearbyint(x * inverse_scale), 0, 255), with
/// inverse_scale = 1.0f / scale rounded first. NaN becomes 0, as x86's conversion makes PyTorch's.
inline std::uint8_t quantize(float x, float inverse_scale, std::int32_t zero_point) {
  const float r = std::nearbyint(x * inverse_scale);
  if (!(r >= -512.0f)) return 0;  // below every zero point's reach, or NaN
  if (r > 512.0f) return qmax;
  return clamp_to_uint8(static_cast<std::int64_t>(r) + zero_point);
}

/// DeQuantStub: (float)(q - zp) * scale.
inline float dequantize(std::uint8_t q, float scale, std::int32_t zero_point) {
  return static_cast<float>(std::int32_t{q} - zero_point) * scale;
}

/// int32 addition that wraps around, as qnnpack's vector adds do (no undefined behaviour where a
/// sum would leave int32, which PyTorch's and the golden model's sums never do).
inline std::int32_t add_wrapping(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

/// The float CHW image `chw` quantized, channels-last; with a pool, each thread takes a range of
/// rows.
CTRESNET_NOINLINE void quantize_chw_to_hwc(const float* chw, int channels, int height, int width, float scale,
                                         std::int32_t zero_point, std::uint8_t* hwc, thread_pool* pool = nullptr) {
  const float inverse_scale = 1.0f / scale;
  const index_t area = index_t{height} * width;
  run_parts(pool, [&](int thread, int threads) {
    const index_t first = index_t{height} * thread / threads * width, last = index_t{height} * (thread + 1) / threads * width;
    for (int c = 0; c < channels; ++c)
      for (index_t p = first; p < last; ++p) hwc[p * channels + c] = quantize(chw[c * area + p], inverse_scale, zero_point);
  });
}

/// `count` floats quantized, in their order.
CTRESNET_NOINLINE void quantize(const float* x, index_t count, float scale, std::int32_t zero_point, std::uint8_t* q) {
  const float inverse_scale = 1.0f / scale;
  for (index_t i = 0; i < count; ++i) q[i] = quantize(x[i], inverse_scale, zero_point);
}

/// `count` uint8 values dequantized.
CTRESNET_NOINLINE void dequantize(const std::uint8_t* q, index_t count, float scale, std::int32_t zero_point,
                                float* x) {
  for (index_t i = 0; i < count; ++i) x[i] = dequantize(q[i], scale, zero_point);
}

/// One uint8 CHW image to HWC, and back.
CTRESNET_NOINLINE void chw_to_hwc(const std::uint8_t* chw, int channels, int height, int width, std::uint8_t* hwc) {
  const index_t area = index_t{height} * width;
  for (int c = 0; c < channels; ++c)
    for (index_t p = 0; p < area; ++p) hwc[p * channels + c] = chw[c * area + p];
}
CTRESNET_NOINLINE void hwc_to_chw(const std::uint8_t* hwc, int channels, int height, int width, std::uint8_t* chw) {
  const index_t area = index_t{height} * width;
  for (index_t p = 0; p < area; ++p)
    for (int c = 0; c < channels; ++c) chw[c * area + p] = hwc[p * channels + c];
}

/// Output channels per panel of packed weights.
inline constexpr index_t panel_width = 16;

/// Where the vector tiles (conv.hpp) read weight k of output channel o (k in (ky, kx, c) order, of
/// a window of `length`) in a layer of `out_channels`: the outputs in panels of panel_width (the
/// last one narrower if out_channels is not a multiple), each panel's weights in groups of 4
/// consecutive k, within a group output after output, 4 bytes each ([group][output][4]: the
/// operand of a 4-way u8 x s8 dot product); the length % 4 last weights of each output after the
/// groups ([output][length % 4]). A panel of width w starts at its first output times `length`
/// and takes w x length bytes, so the packed weights take out_channels x length bytes, as unpacked.
constexpr index_t panel_index(index_t o, index_t k, index_t out_channels, index_t length) {
  const index_t panel = o / panel_width, j = o % panel_width;
  const index_t width = std::min(panel_width, out_channels - panel * panel_width);
  const index_t grouped = length - length % 4;
  const index_t base = panel * panel_width * length;
  if (k < grouped) return base + ((k / 4) * width + j) * 4 + k % 4;
  return base + grouped * width + j * (length - grouped) + (k - grouped);
}

/// Whether this build's kernels read the weights in panels (a vector tile is compiled: AVX-512
/// with VNNI, AVX2, or aarch64's NEON; see conv.hpp) or in rows, window after window (the portable
/// kernels alone, whose dot products compilers vectorise best on contiguous rows).
#if (defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)) || defined(__AVX2__) || \
    (defined(__aarch64__) && defined(__ARM_NEON))
inline constexpr bool weights_in_panels = true;
#else
inline constexpr bool weights_in_panels = false;
#endif

/// What every kernel of this build subtracts from an activation before multiplying it: 128 where
/// the tile multiplies with aarch64's sdot (__ARM_FEATURE_DOTPROD), which takes two int8 operands,
/// so that q - 128 = q XOR 0x80 is an int8; 0 elsewhere (u8 x s8 products). pack_layer folds
/// activation_offset x sum of w into the biases, so the sums come out the same (docs/int8.md).
#if defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD)
inline constexpr std::int32_t activation_offset = 128;
#else
inline constexpr std::int32_t activation_offset = 0;
#endif

/// How a build packs a layer (pack_layer), which is all of a quantized state that depends on the
/// build: the weights' order (packed_index) and the activation offset folded into the biases. A
/// state packed one way is right for the builds that pack it the same way only.
enum class weight_packing : std::uint8_t {
  rows = 1,       // o x length + k; offset 0: the portable kernels alone
  panels = 2,     // panel_index; offset 0: the AVX-512 VNNI, AVX2 and aarch64 NEON (no dotprod) tiles
  panels_sdot = 3 // panel_index; offset 128: the aarch64 NEON tile with sdot
};

/// The activation offset a packing folds into the biases.
constexpr std::int32_t activation_offset_of(weight_packing packing) {
  return packing == weight_packing::panels_sdot ? 128 : 0;
}

/// This build's packing.
inline constexpr weight_packing build_weight_packing =
    !weights_in_panels ? weight_packing::rows
                       : activation_offset == 0 ? weight_packing::panels : weight_packing::panels_sdot;
static_assert(activation_offset_of(build_weight_packing) == activation_offset);

/// Where weight k of output channel o lies in panels (panel_index) or in rows (o x length + k), in
/// a layer stored in blocks of `block_outputs` outputs (a grouped conv's; the whole layer
/// otherwise), each block packed as a layer of its own.
constexpr index_t blocked_index(bool panels, index_t o, index_t k, index_t out_channels, index_t length,
                                index_t block_outputs) {
  const index_t first = block_outputs > 0 ? o / block_outputs * block_outputs : 0;
  const index_t width = block_outputs > 0 ? block_outputs : out_channels;
  return first * length + (panels ? panel_index(o - first, k, width, length) : (o - first) * length + k);
}

/// Where this build's kernels read weight k of output channel o: panel_index, or o x length + k,
/// in blocks of `block_outputs` outputs (0: one block).
constexpr index_t packed_index(index_t o, index_t k, index_t out_channels, index_t length, index_t block_outputs = 0) {
  return blocked_index(weights_in_panels, o, k, out_channels, length, block_outputs);
}

/// A bias with the input's zero point and an activation offset folded in, `weight_sum` the sum of
/// its output's weights: bias + (offset - zp_in) x weight_sum, wrapping as the kernels' int32 sums
/// do. A state's biases move from one packing's offset to another's by adding
/// (offset_to - offset_from) x weight_sum the same way.
constexpr std::int32_t fold_bias(std::int32_t bias, std::int32_t input_zero_point, std::int32_t weight_sum,
                                 std::int32_t offset = activation_offset) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(bias) +
                                   static_cast<std::uint32_t>(offset - input_zero_point) *
                                       static_cast<std::uint32_t>(weight_sum));
}

/// A layer's weights (out_channels x length, row o the window of output o in (ky, kx, c) order,
/// PyTorch's [O][I][kH][kW] transposed to [O][kH][kW][I]; a grouped conv's over its block's inputs,
/// in blocks of `block_outputs` outputs) packed as packed_index says, and its
/// int32 biases with the input's zero point and this build's activation offset folded in:
/// fold_bias(bias[o], zp_in, sum of w[o]). The kernels then sum (q_in - offset) * w over windows
/// padded with zp_in: sum (q - zp_in) * w = sum (q - offset) * w + (offset - zp_in) * sum w, and a
/// padded tap adds (zp_in - offset) * w + (offset - zp_in) * w = 0. The kernels' sums wrap around
/// in int32, as the folding does, so the identity holds modulo 2^32 and the result is exact
/// whenever the true sum fits int32 (check_int8_accumulator). No term comes near wrapping in a
/// ResNet: windows of at most 3 x 3 x 512 = 4,608 weights (2,048 in resnet50's fc) give
/// |sum (q - 128) * w| <= 4,608 x 128 x 128 < 2^27 and |(offset - zp_in) x sum w| <= 255 x 4,608 x 128 < 2^28.
inline void pack_layer(const std::int8_t* rows, const std::int32_t* bias, index_t out_channels, index_t length,
                       std::int32_t input_zero_point, std::int8_t* packed, std::int32_t* folded_bias,
                       index_t block_outputs = 0) {
  for (index_t o = 0; o < out_channels; ++o) {
    std::uint32_t sum = 0;
    for (index_t k = 0; k < length; ++k) {
      const std::int8_t w = rows[o * length + k];
      packed[packed_index(o, k, out_channels, length, block_outputs)] = w;
      sum += static_cast<std::uint32_t>(std::int32_t{w});
    }
    folded_bias[o] = fold_bias(bias[o], input_zero_point, static_cast<std::int32_t>(sum));
  }
}

/// A conv's or fc's integer parameters as the kernels read them (pack_layer): packed int8
/// weights, int32 biases with the input's zero point folded in, the float multipliers M.
struct layer_weights {
  const std::int8_t* weights;
  const std::int32_t* bias;
  const float* multipliers;
};

/// The bytes of scratch the portable kernels need for a window of `length` on `threads` threads:
/// one window of int16 per thread.
constexpr index_t portable_scratch_bytes(index_t length, int threads = 1) {
  return threads * ((2 * length + 63) / 64 * 64);
}

/// The int32 sums of (q - activation_offset) * w of one panel (`width` outputs, packed as
/// panel_index says, starting at `panel`) over one window `patch` of `length` uint8 values, added
/// to `acc`. A product lies in [-32640, 32385] (offset 0) or [-16256, 16384] (offset 128): it is
/// computed in int16, which compilers vectorise well;
/// the sums wrap around as int32 (they stay far inside). A full panel keeps one sum per weight of
/// a group (4 per output), added up at the end.
inline void panel_sums(const std::uint8_t* patch, index_t length, const std::int8_t* panel, index_t width,
                       std::uint32_t* acc) {
  const index_t grouped = length - length % 4, tail = length - grouped;
  if (width == panel_width) {
    std::uint32_t lanes[4 * panel_width] = {};
    for (index_t k = 0; k < grouped; k += 4, panel += 4 * panel_width) {
      const std::int16_t a[4] = {static_cast<std::int16_t>(patch[k] - activation_offset),
                                 static_cast<std::int16_t>(patch[k + 1] - activation_offset),
                                 static_cast<std::int16_t>(patch[k + 2] - activation_offset),
                                 static_cast<std::int16_t>(patch[k + 3] - activation_offset)};
      for (index_t j = 0; j < 4 * panel_width; j += 4)
        for (index_t e = 0; e < 4; ++e)
          lanes[j + e] += static_cast<std::uint32_t>(std::int32_t{static_cast<std::int16_t>(a[e] * panel[j + e])});
    }
    for (index_t j = 0; j < panel_width; ++j) acc[j] += lanes[4 * j] + lanes[4 * j + 1] + lanes[4 * j + 2] + lanes[4 * j + 3];
  } else {
    for (index_t k = 0; k < grouped; k += 4, panel += 4 * width)
      for (index_t j = 0; j < width; ++j)
        for (index_t e = 0; e < 4; ++e)
          acc[j] += static_cast<std::uint32_t>((patch[k + e] - activation_offset) * std::int32_t{panel[j * 4 + e]});
  }
  for (index_t j = 0; j < width; ++j)
    for (index_t e = 0; e < tail; ++e)
      acc[j] += static_cast<std::uint32_t>((patch[grouped + e] - activation_offset) * std::int32_t{panel[j * tail + e]});
}

/// One output pixel of the outputs from `begin` on, from its window `patch` (padded with zp_in),
/// for weights in rows (packed_index without panels): a dot product of (q - activation_offset) * w
/// per output, contiguous.
template <class Element>
void row_outputs(const Element* patch, index_t length, index_t out_channels, const layer_weights& p,
                 std::int32_t output_zero_point, std::int32_t low, std::uint8_t* y, index_t begin = 0) {
  for (index_t o = begin; o < out_channels; ++o) {
    // |sum| < 2^31 for every window the layer types allow (check_int8_accumulator).
    const std::int8_t* const w = p.weights + o * length;
    std::int32_t sum = 0;
    for (index_t k = 0; k < length; ++k) sum += (std::int32_t{patch[k]} - activation_offset) * std::int32_t{w[k]};
    y[o] = requantize(add_wrapping(p.bias[o], sum), p.multipliers[o], output_zero_point, low);
  }
}

/// One output pixel of the outputs from `begin` (a multiple of panel_width) on, from its window
/// `patch` (padded with zp_in): acc = folded bias + sum of (q - activation_offset) * w, then
/// requantize.
inline void pixel_outputs(const std::uint8_t* patch, index_t length, index_t out_channels, const layer_weights& p,
                          std::int32_t output_zero_point, std::int32_t low, std::uint8_t* y, index_t begin = 0) {
  if constexpr (!weights_in_panels) return row_outputs(patch, length, out_channels, p, output_zero_point, low, y, begin);
  for (index_t first = begin; first < out_channels; first += panel_width) {
    const index_t width = std::min(panel_width, out_channels - first);
    std::uint32_t acc[panel_width];
    for (index_t j = 0; j < width; ++j) acc[j] = static_cast<std::uint32_t>(p.bias[first + j]);
    panel_sums(patch, length, p.weights + first * length, width, acc);
    for (index_t j = 0; j < width; ++j)
      y[first + j] = requantize(static_cast<std::int32_t>(acc[j]), p.multipliers[first + j], output_zero_point, low);
  }
}

/// pixel_outputs on a uint8 window (weights in panels), row_outputs on an int16 one (in rows).
template <class Element>
void window_outputs(const Element* patch, index_t length, index_t out_channels, const layer_weights& p,
                    std::int32_t output_zero_point, std::int32_t low, std::uint8_t* y) {
  if constexpr (std::is_same_v<Element, std::uint8_t>)
    pixel_outputs(patch, length, out_channels, p, output_zero_point, low, y);
  else
    row_outputs(patch, length, out_channels, p, output_zero_point, low, y);
}

/// quantized::conv2d (with BatchNorm folded in) and conv2d_relu, as qnnpack computes them:
///   acc = bias[o] + sum over (ky, kx, c) of (q_in - zp_in) * w[o]       int32
///   q   = clamp(nearbyint((float)acc * M[o]) + zp_out, low, 255)       low = zp_out with ReLU, else 0
/// Padding is padding with zp_in: it adds nothing. The weights and biases are pack_layer's (a
/// grouped conv's in blocks, each block's window its own input channels). The portable form, one
/// pixel and block at a time; thread `thread` of `threads` computes its share of the output rows.
/// `scratch` holds portable_scratch_bytes(patch_length(), threads).
CTRESNET_NOINLINE void conv_portable(const conv_geometry& g, const std::uint8_t* in, std::int32_t input_zero_point,
                                   const layer_weights& p, std::int32_t output_zero_point, bool relu,
                                   std::uint8_t* out, std::uint8_t* scratch, int thread = 0, int threads = 1) {
  // The window as uint8 for panels, as int16 for rows: widened once per pixel, not per output.
  using element = std::conditional_t<weights_in_panels, std::uint8_t, std::int16_t>;
  const index_t length = g.patch_length();
  const std::int32_t low = relu ? output_zero_point : qmin;
  const auto pad = static_cast<element>(input_zero_point);
  auto* const patch = reinterpret_cast<element*>(scratch + portable_scratch_bytes(length, thread));
  const auto block_inputs = static_cast<int>(g.block_inputs()), block_outputs = static_cast<int>(g.block_outputs());
  const int first = g.out_height * thread / threads, last = g.out_height * (thread + 1) / threads;
  for (int oy = first; oy < last; ++oy) {
    for (int ox = 0; ox < g.out_width; ++ox) {
      for (int begin = 0, channel = 0; begin < g.out_channels; begin += block_outputs, channel += block_inputs) {
        element* tap = patch;
        for (int ky = 0; ky < g.kernel; ++ky) {
          const int iy = g.tap(oy, ky);
          for (int kx = 0; kx < g.kernel; ++kx, tap += block_inputs) {
            const int ix = g.tap(ox, kx);
            if (iy >= 0 && iy < g.in_height && ix >= 0 && ix < g.in_width) {
              const std::uint8_t* const from = in + (index_t{iy} * g.in_width + ix) * g.in_channels + channel;
              for (int c = 0; c < block_inputs; ++c) tap[c] = from[c];
            } else {
              for (int c = 0; c < block_inputs; ++c) tap[c] = pad;
            }
          }
        }
        std::uint8_t* const y = out + (index_t{oy} * g.out_width + ox) * g.out_channels + begin;
        const layer_weights block{p.weights + begin * length, p.bias + begin, p.multipliers + begin};
        window_outputs(patch, length, block_outputs, block, output_zero_point, low, y);
      }
    }
  }
}

/// What one tile computes: `count` (at most the tile's `pixels`) output pixels of `Panels` whole
/// panels of outputs. The window of pixel p is `segments` runs of segment_groups x 4 bytes, run
/// s at rows[s * pixels + p] (a tap's input pixel, or a copy of the window); with tail_weights,
/// 4 more bytes follow the one run, which tail_weights ([panel][16][4], zero where no weight is)
/// multiply. Results go to out + p * out_stride, one byte per output of the panels.
struct tile_job {
  const std::uint8_t* const* rows;
  int segments, segment_groups;
  const std::int8_t* weights;  // the first panel's packed weights
  index_t panel_bytes;         // from one panel's weights to the next one's
  const std::int8_t* tail_weights;
  int count;
  const std::int32_t* bias;  // of the first panel's first output (zero point folded in)
  const float* multipliers;
  std::int32_t zero_point, low;
  std::uint8_t* out;
  index_t out_stride;
};

/// A 4-byte group of activations, as one int32 to broadcast.
inline std::int32_t load_group(const std::uint8_t* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// max_pool's output rows [first, last).
inline void max_pool_rows(const std::uint8_t* in, int height, int width, int channels, int kernel, int stride,
                          int padding, int out_width, int first, int last, std::uint8_t* out) {
  for (int oy = first; oy < last; ++oy) {
    const int y_begin = std::max(0, oy * stride - padding), y_end = std::min(height, oy * stride - padding + kernel);
    for (int ox = 0; ox < out_width; ++ox) {
      const int x_begin = std::max(0, ox * stride - padding), x_end = std::min(width, ox * stride - padding + kernel);
      std::uint8_t* y = out + (index_t{oy} * out_width + ox) * channels;
      std::fill(y, y + channels, std::uint8_t{0});
      for (int iy = y_begin; iy < y_end; ++iy)
        for (int ix = x_begin; ix < x_end; ++ix) {
          const std::uint8_t* x = in + (index_t{iy} * width + ix) * channels;
          for (int c = 0; c < channels; ++c) y[c] = std::max(y[c], x[c]);
        }
    }
  }
}

/// MaxPool2d on uint8 values: the largest of the window's elements inside the image (padding never
/// wins); scale and zero point pass through. With a pool, each thread takes a range of rows.
CTRESNET_NOINLINE void max_pool(const std::uint8_t* in, int height, int width, int channels, int kernel, int stride,
                              int padding, int out_height, int out_width, std::uint8_t* out,
                              thread_pool* pool = nullptr) {
  run_parts(pool, [&](int thread, int threads) {
    max_pool_rows(in, height, width, channels, kernel, stride, padding, out_width, out_height * thread / threads,
                  out_height * (thread + 1) / threads, out);
  });
}

/// The option-A shortcut: pixel (y, x) of `out` is input pixel (y, x) * stride, its channels at
/// [before, before + in_channels) of out_channels, the others `fill` (the zero point: real 0.0).
CTRESNET_NOINLINE void subsample_and_pad(const std::uint8_t* in, int in_width, int in_channels, int stride,
                                       int out_height, int out_width, int out_channels, int before, std::uint8_t fill,
                                       std::uint8_t* out) {
  for (int y = 0; y < out_height; ++y) {
    for (int x = 0; x < out_width; ++x) {
      const std::uint8_t* pixel = in + (index_t{y} * stride * in_width + index_t{x} * stride) * in_channels;
      std::uint8_t* target = out + (index_t{y} * out_width + x) * out_channels;
      std::fill(target, target + before, fill);
      std::copy(pixel, pixel + in_channels, target + before);
      std::fill(target + before + in_channels, target + out_channels, fill);
    }
  }
}

/// quantized::add_relu's fixed-point parameters and its operands' zero points.
struct add_parameters {
  std::int32_t branch_zero_point, shortcut_zero_point;
  std::int32_t branch_multiplier, shortcut_multiplier;
  int shift;  // in [13, 31] for a valid file; 0 in a state not loaded yet
  std::int32_t output_zero_point;
};

/// add_relu's elements [first, last) (conv.hpp), its parameters as add_relu prepares them: the
/// portable form, in int32 arithmetic that compilers may vectorise.
inline void add_relu_range(const std::uint8_t* a, const std::uint8_t* b, index_t first, index_t last,
                           std::uint32_t ma, std::uint32_t mb, std::uint32_t offset, int shift,
                           std::int32_t zero_point, std::uint8_t* out) {
  const std::int32_t mask = static_cast<std::int32_t>((std::uint32_t{1} << shift) - 1), half = mask >> 1;
  for (index_t i = first; i < last; ++i) {
    const auto acc = static_cast<std::int32_t>(a[i] * ma + b[i] * mb - offset);
    const std::int32_t remainder = (acc & mask) - (acc < 0 ? 1 : 0);
    const std::int32_t r = (acc >> shift) + (remainder > half ? 1 : 0) + zero_point;
    out[i] = static_cast<std::uint8_t>(std::min(std::max(r, zero_point), qmax));
  }
}

/// AvgPool2d (no padding) and AdaptiveAvgPool2d(1) (a window as large as the image), as ATen's
/// generic quantized kernels compute them (the output keeps the input's scale and zero point),
/// written in CHW order, the order the classifier reads its flattened features in:
///   acc = sum of the window - zp * N                             int32, N = kernel_height * kernel_width
///   q   = clamp(zp + nearbyint((float)acc * m), 0, 255)           m = (s / s) / (float)N = 1.0f / (float)N
/// Ties round to even. (s / s is exactly 1 for every positive finite scale.)
CTRESNET_NOINLINE void avg_pool_to_chw(const std::uint8_t* in, int width, int channels, int kernel_height,
                                     int kernel_width, int stride, int out_height, int out_width,
                                     std::int32_t zero_point, std::uint8_t* out) {
  const std::int32_t area = kernel_height * kernel_width;
  const float multiplier = 1.0f / static_cast<float>(area);
  const index_t out_area = index_t{out_height} * out_width;
  for (int oy = 0; oy < out_height; ++oy)
    for (int ox = 0; ox < out_width; ++ox)
      for (int c = 0; c < channels; ++c) {
        std::int32_t sum = 0;
        for (int ky = 0; ky < kernel_height; ++ky)
          for (int kx = 0; kx < kernel_width; ++kx)
            sum += in[((index_t{oy} * stride + ky) * width + (index_t{ox} * stride + kx)) * channels + c];
        const float v = std::nearbyint(static_cast<float>(sum - zero_point * area) * multiplier);
        out[c * out_area + index_t{oy} * out_width + ox] =
            clamp_to_uint8(std::int64_t{to_int32_as_cvtps2dq(v)} + zero_point);
      }
}

}  // namespace ctresnet::kernels::int8
