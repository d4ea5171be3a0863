// The int8 convolutions and the classifier as this build runs them: tiles of output pixels x
// panels of outputs, each tile's sums kept in vector registers, on the instruction set the
// compiler targets (chosen at compile time): AVX-512 with VNNI (__AVX512F__, __AVX512BW__ and
// __AVX512VNNI__), else AVX2 (__AVX2__), else on aarch64 NEON with sdot (__ARM_FEATURE_DOTPROD) or
// without, else the portable kernels of kernels.hpp. Every path computes the same integers and the
// same float operations, so all give the same bits (tests/int8 checks each against PyTorch and
// against the arithmetic written out; tests/cross runs them on aarch64 under qemu).
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/quantized/kernels.hpp>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#include <ctresnet/quantized/kernels_avx512.hpp>
#define CTRESNET_INT8_TILE ::ctresnet::kernels::int8::avx512_vnni_tile
#elif defined(__AVX2__)
#include <ctresnet/quantized/direct_avx2.hpp>
#include <ctresnet/quantized/kernels_avx2.hpp>
#include <ctresnet/quantized/winograd_avx2.hpp>
#define CTRESNET_INT8_TILE ::ctresnet::kernels::int8::avx2_tile
#define CTRESNET_INT8_DIRECT ::ctresnet::kernels::int8::direct_avx2
#define CTRESNET_INT8_WINOGRAD ::ctresnet::kernels::int8::winograd_avx2
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <ctresnet/quantized/kernels_neon.hpp>
#ifdef __ARM_FEATURE_DOTPROD
#define CTRESNET_INT8_TILE ::ctresnet::kernels::int8::neon_dotprod_tile
#else
#define CTRESNET_INT8_TILE ::ctresnet::kernels::int8::neon_tile
#endif
#endif

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace ctresnet::kernels::int8 {

constexpr index_t whole_lines(index_t bytes) { return (bytes + 63) / 64 * 64; }

/// A conv run as tiles of Tile (avx512_vnni_tile, the NEON tiles; avx2_tile for the classifier)
/// over a pixel range and a panel range of the outputs. A conv whose block's input channels
/// (conv_geometry: all of them unless grouped) are a multiple of 4 reads each tap straight from the
/// input (HWC: a tap's channels lie together), taps outside the image from a row of zp_in; any
/// other copies each tile's windows, padded with zp_in, into rows of whole groups (the stem's 3
/// channels). A grouped conv's panels each lie in one block, whose input channels its taps read; a
/// grouped conv whose blocks are not whole panels, or whose windows would be copied, runs the
/// portable kernels instead. The scratch: the zp_in row, the last groups' weights padded to 4
/// ([panel][16][4], when the window's length is not a multiple of 4), then each thread's window rows.
template <class Tile>
struct tiled_conv {
  static constexpr int pixels = Tile::pixels, max_segments = 49;

  static constexpr bool applies(const conv_geometry& g) {
    return g.block_outputs() % panel_width == 0 && (g.groups == 1 || direct(g));
  }
  static constexpr bool direct(const conv_geometry& g) {
    return g.block_inputs() % 4 == 0 && g.kernel * g.kernel <= max_segments;
  }
  /// Panels a tile computes at once: Tile::panels, or for a grouped conv as many as divide its
  /// blocks' panels (a tile's taps read one block's inputs).
  static constexpr index_t panels_per_tile(const conv_geometry& g) {
    if (g.groups == 1) return Tile::panels;
    const index_t block_panels = g.block_outputs() / panel_width;
    index_t n = Tile::panels;
    while (block_panels % n != 0) --n;
    return n;
  }
  static constexpr index_t row_length(const conv_geometry& g) { return (g.patch_length() + 3) / 4 * 4; }
  static constexpr index_t pad_bytes(const conv_geometry& g) {
    return direct(g) && g.padding > 0 ? whole_lines(g.in_channels) : 0;
  }
  static constexpr index_t tail_bytes(const conv_geometry& g) {
    return !direct(g) && g.patch_length() % 4 != 0 ? whole_lines(g.out_channels * 4) : 0;
  }
  static constexpr index_t rows_bytes(const conv_geometry& g) {
    return direct(g) ? 0 : 2 * whole_lines(pixels * row_length(g));
  }
  static constexpr index_t scratch_bytes(const conv_geometry& g, int threads) {
    return pad_bytes(g) + tail_bytes(g) + threads * rows_bytes(g);
  }

  /// The shared part of the scratch, once before the threads run: the zp_in row, the tail weights.
  static void prepare(const conv_geometry& g, std::int32_t input_zero_point, const layer_weights& p,
                      std::uint8_t* scratch) {
    if (pad_bytes(g) > 0) std::fill_n(scratch, g.in_channels, static_cast<std::uint8_t>(input_zero_point));
    if (tail_bytes(g) > 0) {
      const index_t length = g.patch_length(), grouped = length - length % 4, tail = length % 4;
      auto* const tails = reinterpret_cast<std::int8_t*>(scratch + pad_bytes(g));
      for (index_t o = 0; o < g.out_channels; ++o)
        for (index_t e = 0; e < 4; ++e)
          tails[o * 4 + e] = e < tail ? p.weights[panel_index(o, grouped + e, g.out_channels, length)] : 0;
    }
  }

  /// `n` bytes from `from` to `to` in a few fixed-size copies (which compilers inline), for the
  /// short runs of a window.
  static void copy_bytes(std::uint8_t* to, const std::uint8_t* from, index_t n) {
    if (n >= 16) {
      for (index_t i = 0; i + 16 <= n; i += 16) std::memcpy(to + i, from + i, 16);
      std::memcpy(to + n - 16, from + n - 16, 16);
    } else if (n >= 8) {
      std::memcpy(to, from, 8);
      std::memcpy(to + n - 8, from + n - 8, 8);
    } else if (n >= 4) {
      std::memcpy(to, from, 4);
      std::memcpy(to + n - 4, from + n - 4, 4);
    } else {
      for (index_t i = 0; i < n; ++i) to[i] = from[i];
    }
  }

  /// The window of output pixel (oy, ox) in (ky, kx, c) order, taps outside the image `pad`, then
  /// zeros to `row` bytes.
  static void gather_window(const conv_geometry& g, const std::uint8_t* in, std::uint8_t pad, int oy, int ox,
                            std::uint8_t* to, index_t row) {
    const index_t run = index_t{g.kernel} * g.in_channels;
    const int x0 = g.tap(ox, 0), y0 = g.tap(oy, 0);
    std::uint8_t* const start = to;
    if (g.dilation == 1 && x0 >= 0 && x0 + g.kernel <= g.in_width && y0 >= 0 && y0 + g.kernel <= g.in_height) {
      const std::uint8_t* from = in + (index_t{y0} * g.in_width + x0) * g.in_channels;
      for (int ky = 0; ky < g.kernel; ++ky, to += run, from += index_t{g.in_width} * g.in_channels)
        copy_bytes(to, from, run);
    } else {
      for (int ky = 0; ky < g.kernel; ++ky) {
        const int iy = g.tap(oy, ky);
        for (int kx = 0; kx < g.kernel; ++kx) {
          const int ix = g.tap(ox, kx);
          const bool inside = iy >= 0 && iy < g.in_height && ix >= 0 && ix < g.in_width;
          const std::uint8_t* from = inside ? in + (index_t{iy} * g.in_width + ix) * g.in_channels : nullptr;
          for (int c = 0; c < g.in_channels; ++c) *to++ = inside ? from[c] : pad;
        }
      }
    }
    while (to < start + row) *to++ = 0;
  }

  /// Thread `thread` of `threads`' share: a range of (panel span, pixel tile) pairs, a span being
  /// the panels one tile computes.
  static void run(const conv_geometry& g, const std::uint8_t* in, std::int32_t input_zero_point, const layer_weights& p,
                  std::int32_t output_zero_point, bool relu, std::uint8_t* out, std::uint8_t* scratch, int thread,
                  int threads) {
    const index_t length = g.patch_length();
    const index_t area = index_t{g.out_height} * g.out_width, tiles = (area + pixels - 1) / pixels;
    const index_t panel_count = g.out_channels / panel_width;
    const index_t per_tile = panels_per_tile(g), spans = (panel_count + per_tile - 1) / per_tile;
    const index_t items = spans * tiles;
    const index_t first = items * thread / threads, last = items * (thread + 1) / threads;
    const std::uint8_t* const pad = scratch;
    const auto* const tails = reinterpret_cast<const std::int8_t*>(scratch + pad_bytes(g));
    std::uint8_t* const own_rows = scratch + pad_bytes(g) + tail_bytes(g) + thread * rows_bytes(g);
    const auto pad_value = static_cast<std::uint8_t>(input_zero_point);
    const bool is_direct = direct(g);
    const index_t row = row_length(g);

    const std::uint8_t* rows[max_segments * pixels];
    tile_job job{};
    job.rows = rows;
    job.panel_bytes = panel_width * length;
    job.zero_point = output_zero_point;
    job.low = relu ? output_zero_point : qmin;
    job.out_stride = g.out_channels;
    if (is_direct) {
      job.segments = g.kernel * g.kernel;
      job.segment_groups = static_cast<int>(g.block_inputs() / 4);
      job.tail_weights = nullptr;
    } else {
      job.segments = 1;
      job.segment_groups = static_cast<int>(length / 4);
    }
    // Two buffers of windows: the next tile's are copied while this one's are computed on, so that
    // the kernel does not load bytes that stores of a moment before still hold.
    std::uint8_t* const buffers[2] = {own_rows, own_rows + rows_bytes(g) / 2};
    index_t held[2] = {-1, -1};
    const auto gather = [&](index_t tile, int buffer) {
      const index_t begin = tile * pixels;
      const int count = static_cast<int>(std::min<index_t>(pixels, area - begin));
      for (int q = 0; q < pixels; ++q) {
        const index_t m = begin + std::min(q, count - 1);
        gather_window(g, in, pad_value, static_cast<int>(m / g.out_width), static_cast<int>(m % g.out_width),
                      buffers[buffer] + q * row, row);
      }
      held[buffer] = tile;
    };
    for (index_t item = first; item < last; ++item) {
      // Panel spans outer where taps are read in place (each span's weights stay in cache for all
      // tiles); tiles outer where windows are copied (each copied once for all spans).
      const index_t span = is_direct ? item / tiles : item % spans, tile = is_direct ? item % tiles : item / spans;
      const index_t begin = tile * pixels;
      const int count = static_cast<int>(std::min<index_t>(pixels, area - begin));
      const index_t panel = span * per_tile;
      const index_t o = panel * panel_width;
      if (is_direct) {
        const index_t channel = o / g.block_outputs() * g.block_inputs();  // the block's first input
        for (int q = 0; q < pixels; ++q) {
          const index_t m = begin + std::min(q, count - 1);
          const int oy = static_cast<int>(m / g.out_width), ox = static_cast<int>(m % g.out_width);
          for (int ky = 0; ky < g.kernel; ++ky) {
            const int iy = g.tap(oy, ky);
            for (int kx = 0; kx < g.kernel; ++kx) {
              const int ix = g.tap(ox, kx);
              const bool inside = iy >= 0 && iy < g.in_height && ix >= 0 && ix < g.in_width;
              rows[(ky * g.kernel + kx) * pixels + q] =
                  (inside ? in + (index_t{iy} * g.in_width + ix) * g.in_channels : pad) + channel;
            }
          }
        }
      } else {
        int now = held[0] == tile ? 0 : held[1] == tile ? 1 : -1;
        if (now < 0) gather(tile, now = 0);
        for (int q = 0; q < pixels; ++q) rows[q] = buffers[now] + q * row;
        if ((tile + 1) * spans < last && held[1 - now] != tile + 1) gather(tile + 1, 1 - now);
      }
      const int panels = static_cast<int>(std::min<index_t>(per_tile, panel_count - panel));
      job.weights = p.weights + o * length;
      if (!is_direct) job.tail_weights = tail_bytes(g) > 0 ? tails + o * 4 : nullptr;
      job.count = count;
      job.bias = p.bias + o;
      job.multipliers = p.multipliers + o;
      job.out = out + begin * g.out_channels + o;
      dispatch(job, panels);
    }
  }

  static void dispatch(const tile_job& job, int panels) {
    static_assert(Tile::panels <= 4);
    switch (panels) {
      case 1:
        Tile::template run<1>(job);
        break;
      case 2:
        if constexpr (Tile::panels >= 2) Tile::template run<2>(job);
        break;
      case 3:
        if constexpr (Tile::panels >= 3) Tile::template run<3>(job);
        break;
      default:
        if constexpr (Tile::panels >= 4) Tile::template run<4>(job);
        break;
    }
  }
};

#ifdef CTRESNET_INT8_TILE
static_assert(weights_in_panels, "the vector tiles read the weights in panels (kernels.hpp)");

/// The instruction set of this build's int8 conv kernels.
inline constexpr const char* instruction_set = CTRESNET_INT8_TILE::name;
using conv_tile = CTRESNET_INT8_TILE;

/// The direct convs' vector kernel: direct_avx2 with AVX2, tiled_conv<conv_tile> elsewhere. A
/// conv it does not apply to runs the portable kernels.
#ifdef CTRESNET_INT8_DIRECT
using vector_conv = CTRESNET_INT8_DIRECT;
#else
using vector_conv = tiled_conv<conv_tile>;
#endif

/// The bytes of scratch conv() needs for a conv of shape `g` on `threads` threads.
constexpr index_t conv_scratch_bytes(const conv_geometry& g, int threads = 1) {
  return vector_conv::applies(g) ? vector_conv::scratch_bytes(g, threads)
                                 : portable_scratch_bytes(g.patch_length(), threads);
}

/// quantized::conv2d and conv2d_relu (see conv_portable), with pack_layer's weights and biases, on
/// the threads of `work` (its scratch: conv_scratch_bytes(g, threads)). Every output is computed
/// the same way on any number of threads. With AVX2 and no VNNI, 3x3 convs of stride 1 run as an
/// integer Winograd transform (winograd_avx2.hpp) in work.spare when it holds a block of tiles,
/// the others by direct_avx2 (weights and windows widened in the scratch): the same integers, so
/// the same bits.
CTRESNET_NOINLINE void conv(const conv_geometry& g, const std::uint8_t* in, std::int32_t input_zero_point,
                          const layer_weights& p, std::int32_t output_zero_point, bool relu, std::uint8_t* out,
                          const workers& work) {
  if (!vector_conv::applies(g)) {
    run_parts(work.pool, [&](int thread, int threads) {
      conv_portable(g, in, input_zero_point, p, output_zero_point, relu, out, work.scratch, thread, threads);
    });
    return;
  }
#ifdef CTRESNET_INT8_WINOGRAD
  using winograd = CTRESNET_INT8_WINOGRAD;
  if (winograd::applies(g) && work.spare != nullptr) {
    const index_t block = winograd::block_for(g, work.spare_bytes, work.pool ? work.pool->size() : 1);
    if (block > 0) {
      run_parts(work.pool, [&](int thread, int threads) {
        winograd::run(g, in, input_zero_point, p, output_zero_point, relu, out, work.spare, block, thread, threads);
      });
      return;
    }
  }
#endif
  vector_conv::prepare(g, input_zero_point, p, work.scratch);
  run_parts(work.pool, [&](int thread, int threads) {
    vector_conv::run(g, in, input_zero_point, p, output_zero_point, relu, out, work.scratch, thread, threads);
  });
}

/// quantized::linear: y[o] = clamp(nearbyint((float)(bias[o] + sum of (x - zp_in) * w[o]) * M[o]) +
/// zp_out, 0, 255), with pack_layer's weights and biases: the whole panels as a 1x1 conv of one
/// pixel (split among the pool's threads), the outputs of a last narrower panel as the portable
/// kernels compute them.
CTRESNET_NOINLINE void linear(const std::uint8_t* x, int in_features, int out_features, const layer_weights& p,
                            std::int32_t output_zero_point, std::uint8_t* y, thread_pool* pool = nullptr) {
  const int whole = out_features / static_cast<int>(panel_width) * static_cast<int>(panel_width);
  if (whole == 0 || in_features % 4 != 0) return pixel_outputs(x, in_features, out_features, p, output_zero_point, qmin, y);
  const conv_geometry g{1, 1, in_features, 1, 1, whole, 1, 1, 0};
  run_parts(pool, [&](int thread, int threads) {
    tiled_conv<conv_tile>::run(g, x, 0, p, output_zero_point, false, y, nullptr, thread, threads);
  });
  pixel_outputs(x, in_features, out_features, p, output_zero_point, qmin, y, whole);
}
#else
inline constexpr const char* instruction_set = "portable";

constexpr index_t conv_scratch_bytes(const conv_geometry& g, int threads = 1) {
  return portable_scratch_bytes(g.patch_length(), threads);
}

CTRESNET_NOINLINE void conv(const conv_geometry& g, const std::uint8_t* in, std::int32_t input_zero_point,
                          const layer_weights& p, std::int32_t output_zero_point, bool relu, std::uint8_t* out,
                          const workers& work) {
  run_parts(work.pool, [&](int thread, int threads) {
    conv_portable(g, in, input_zero_point, p, output_zero_point, relu, out, work.scratch, thread, threads);
  });
}

CTRESNET_NOINLINE void linear(const std::uint8_t* x, int in_features, int out_features, const layer_weights& p,
                            std::int32_t output_zero_point, std::uint8_t* y, thread_pool* /*pool*/ = nullptr) {
  pixel_outputs(x, in_features, out_features, p, output_zero_point, qmin, y);
}
#endif

/// quantized::add_relu (qnnpack q8vadd), element by element over `count` values:
///   acc = a * ma + b * mb - (zp_a * ma + zp_b * mb)
///   r   = acc / 2^shift rounded to nearest, ties away from zero (q8vadd's remainder test)
///   out = clamp(r + zp_out, zp_out, 255)
/// `out` may be `a` or `b`. The sums fit int32 (ma, mb <= 2^22 for a valid file: 255 x 2^22 x 2 <
/// 2^31), as in qnnpack; they are computed in uint32, wrapping, so that no state makes them
/// undefined; the vector tiles compute the same int32 operations lane by lane (add_relu_range). With a
/// pool, each thread takes a range. (A file whose
/// two ratios both lie below 2^-10 gives a shift beyond 31, which qnnpack asserts against; every
/// |acc| < 2^31 then rounds to 0, as the int64 form of the spec computes.)
CTRESNET_NOINLINE void add_relu(const std::uint8_t* a, const std::uint8_t* b, index_t count, const add_parameters& p,
                              std::uint8_t* out, thread_pool* pool = nullptr) {
  const std::int32_t zero_point = p.output_zero_point;
  if (p.shift > 31) {
    std::fill(out, out + count, static_cast<std::uint8_t>(std::min(zero_point, qmax)));
    return;
  }
  const auto ma = static_cast<std::uint32_t>(p.branch_multiplier), mb = static_cast<std::uint32_t>(p.shortcut_multiplier);
  const std::uint32_t offset = static_cast<std::uint32_t>(p.branch_zero_point) * ma +
                               static_cast<std::uint32_t>(p.shortcut_zero_point) * mb;
  run_parts(pool, [&](int thread, int threads) {
    const index_t first = count * thread / threads / 64 * 64;
    const index_t last = thread + 1 == threads ? count : count * (thread + 1) / threads / 64 * 64;
#ifdef CTRESNET_INT8_TILE
    conv_tile::add_relu_range(a, b, first, last, ma, mb, offset, p.shift, zero_point, out);
#else
    add_relu_range(a, b, first, last, ma, mb, offset, p.shift, zero_point, out);
#endif
  });
}

}  // namespace ctresnet::kernels::int8
