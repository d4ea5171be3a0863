// The int8 convs for AVX2 (x86-64-v3) whose outputs fill whole panels, computed directly, with
// both operands widened to int16 before the products, so that the inner loop is vpmaddwd and
// vpaddd alone. vpmaddwd sums two int16 products into an int32 exactly (vpmaddubsw would saturate
// them at int16), and the int32 sums wrap around as the portable kernels' do.
//
// A thread widens a batch of panels' weights into its scratch, each panel as [pair][16][2]
// (pair q: the window's elements 2q and 2q + 1; a vector of 16 int16 = 8 outputs x 2 elements),
// so that the product of a pair of activations broadcast over the vector gives each output's
// sum in its own int32 lane, in order: no horizontal sums. Then, for each tile of up to 6 output
// pixels, it copies the windows, widened to int16 (zp_in outside the image), once for all panels
// of the batch, and runs the tile on each panel: 6 pixels x 16 outputs in 12 accumulators, two
// weight vectors per pair loaded once for the 6 pixels, each pixel's pair a vpbroadcastd from
// memory. The state's packed weights (panel_index) stay as every panel build reads them; only the
// scratch holds the int16 forms. conv.hpp picks it where __AVX2__ is defined and AVX-512 VNNI is
// not; the Winograd transform (winograd_avx2.hpp) takes the 3x3 convs of stride 1 when it can. A
// grouped conv's window is its block's input channels (conv_geometry::block_inputs), and a batch of
// panels lies in one block.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/quantized/kernels.hpp>

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace ctresnet::kernels::int8 {

/// The int32 sums of `Rows` rows x 16 outputs (outputs 0-7 in `low`, 8-15 in `high` of each row)
/// over pairs of int16: per pair, two weight vectors ([pair][16][2]), and per row a vpbroadcastd of
/// its pair, two vpmaddwd and two vpaddd. A chain of members rather than an array, which g++ 12
/// keeps in memory where a loop indexes it (members stay in registers).
template <int Rows>
struct pair_sums {
  __m256i low, high;
  pair_sums<Rows - 1> rest;

  /// `f(row, low, high)` for each row.
  template <class F>
  void each(F&& f, int row = 0) {
    f(row, low, high);
    rest.each(f, row + 1);
  }
  /// Adds the products of `pairs` pairs of row r (at rows + r x row_stride) and of `w`.
  void accumulate(const std::int16_t* rows, index_t row_stride, const std::int16_t* w, index_t pairs) {
    for (index_t q = 0; q < pairs; ++q, w += 2 * panel_width, rows += 2)
      add(rows, row_stride, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)),
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + panel_width)));
  }
  void add(const std::int16_t* row, index_t row_stride, __m256i w0, __m256i w1) {
    std::int32_t pair;
    std::memcpy(&pair, row, sizeof pair);
    const __m256i x = _mm256_set1_epi32(pair);
    low = _mm256_add_epi32(low, _mm256_madd_epi16(x, w0));
    high = _mm256_add_epi32(high, _mm256_madd_epi16(x, w1));
    rest.add(row + row_stride, row_stride, w0, w1);
  }
};
template <>
struct pair_sums<0> {
  template <class F>
  void each(F&&, int = 0) {}
  void add(const std::int16_t*, index_t, __m256i, __m256i) {}
};

struct direct_avx2 {
  static constexpr int pixels = 6;  // a tile: 6 pixels x 16 outputs = 12 vectors of int32 sums
  /// The bytes of widened weights a thread holds at most (at least one panel): panels enough that
  /// each tile's windows serve several, few enough to stay in a core's L2 cache.
  static constexpr index_t weight_budget = 128 * 1024;

  static constexpr bool applies(const conv_geometry& g) { return g.block_outputs() % panel_width == 0; }
  /// A window's elements rounded up to whole groups of 4 (the padding: zero weights, zero activations).
  static constexpr index_t span(const conv_geometry& g) { return (g.patch_length() + 3) / 4 * 4; }
  static constexpr index_t panel_bytes(const conv_geometry& g) { return 2 * panel_width * span(g); }
  /// Panels widened at a time: as many as the budget holds, and for a grouped conv a divisor of its
  /// blocks' panels (each batch's windows are one block's inputs).
  static constexpr index_t batch_panels(const conv_geometry& g) {
    const index_t fit =
        std::max<index_t>(1, std::min<index_t>(g.out_channels / panel_width, weight_budget / panel_bytes(g)));
    if (g.groups == 1) return fit;
    const index_t block = g.block_outputs() / panel_width;
    index_t n = std::min(fit, block);
    while (block % n != 0) --n;
    return n;
  }
  /// From one widened window to the next: a cache line more than whole lines, as strides of a power
  /// of two would put the 6 windows' loads in the same few cache sets.
  static constexpr index_t window_bytes(const conv_geometry& g) { return (2 * span(g) + 63) / 64 * 64 + 64; }
  static constexpr index_t thread_bytes(const conv_geometry& g) {
    return batch_panels(g) * panel_bytes(g) + pixels * window_bytes(g);
  }
  /// The scratch: each thread's widened weights and windows.
  static constexpr index_t scratch_bytes(const conv_geometry& g, int threads) { return threads * thread_bytes(g); }

  /// Nothing is shared between the threads (tiled_conv's step before they run): each widens the
  /// weights it uses into its own scratch.
  static void prepare(const conv_geometry&, std::int32_t, const layer_weights&, std::uint8_t*) {}

  /// Thread `thread` of `threads`' share: a range of (batch of panels, pixel tile) pairs, batches
  /// outer, so that a thread widens each batch's weights once.
  static void run(const conv_geometry& g, const std::uint8_t* in, std::int32_t input_zero_point, const layer_weights& p,
                  std::int32_t output_zero_point, bool relu, std::uint8_t* out, std::uint8_t* scratch, int thread,
                  int threads) {
    const index_t area = index_t{g.out_height} * g.out_width, tiles = (area + pixels - 1) / pixels;
    const index_t panel_count = g.out_channels / panel_width, per_batch = batch_panels(g);
    const index_t batches = (panel_count + per_batch - 1) / per_batch, items = batches * tiles;
    const index_t first = items * thread / threads, last = items * (thread + 1) / threads;
    std::uint8_t* const own = scratch + thread * thread_bytes(g);
    auto* const weights = reinterpret_cast<std::int16_t*>(own);
    auto* const windows = reinterpret_cast<std::int16_t*>(own + per_batch * panel_bytes(g));
    const index_t n = span(g), stride = window_bytes(g) / 2;
    const requantization r{output_zero_point, relu ? output_zero_point : qmin};
    index_t held = -1;
    for (index_t item = first; item < last; ++item) {
      const index_t batch = item / tiles, tile = item % tiles;
      const index_t panel = batch * per_batch, panels = std::min(per_batch, panel_count - panel);
      if (batch != held) {
        widen_weights(g, p.weights + panel * panel_width * g.patch_length(), panels, weights);
        held = batch;
      }
      const index_t begin = tile * pixels;
      const int count = static_cast<int>(std::min<index_t>(pixels, area - begin));
      const index_t channel = panel * panel_width / g.block_outputs() * g.block_inputs();  // the block's first input
      for (int q = 0; q < count; ++q)
        gather_window(g, in + channel, input_zero_point, begin + q, windows + q * stride);
      for (index_t v = 0; v < panels; ++v) {
        const index_t o = (panel + v) * panel_width;
        const tile_operands t{windows, stride, weights + v * panel_width * n, n / 2, p.bias + o, p.multipliers + o,
                              out + begin * g.out_channels + o, g.out_channels};
        dispatch(t, count, r);
      }
    }
  }

  /// One tile's operands: `count` widened windows at rows + q x row_stride, a panel's widened
  /// weights of `pairs` pairs, its biases (zero point folded in) and multipliers, where its bytes go.
  struct tile_operands {
    const std::int16_t* rows;
    index_t row_stride;
    const std::int16_t* weights;
    index_t pairs;
    const std::int32_t* bias;
    const float* multipliers;
    std::uint8_t* out;
    index_t out_stride;
  };
  struct requantization {
    std::int32_t zero_point, low;
  };

  static void dispatch(const tile_operands& t, int count, const requantization& r) {
    switch (count) {
      case 1: return tile<1>(t, r);
      case 2: return tile<2>(t, r);
      case 3: return tile<3>(t, r);
      case 4: return tile<4>(t, r);
      case 5: return tile<5>(t, r);
      default: return tile<6>(t, r);
    }
  }

  /// `Count` pixels x 16 outputs: sums of the pairs' products, biases first, then requantize() lane
  /// by lane as avx2_tile computes it, 16 bytes per pixel.
  template <int Count>
  static void tile(const tile_operands& t, const requantization& r) {
    static_assert(Count >= 1 && Count <= pixels);
    const auto* const bias = reinterpret_cast<const __m256i*>(t.bias);
    const __m256i bias0 = _mm256_loadu_si256(bias), bias1 = _mm256_loadu_si256(bias + 1);
    pair_sums<Count> acc;
    acc.each([&](int, __m256i& a0, __m256i& a1) {
      a0 = bias0;
      a1 = bias1;
    });
    acc.accumulate(t.rows, t.row_stride, t.weights, t.pairs);
    const __m256 m0 = _mm256_loadu_ps(t.multipliers), m1 = _mm256_loadu_ps(t.multipliers + 8);
    const __m256i zero_point = _mm256_set1_epi32(r.zero_point);
    const __m256i low = _mm256_set1_epi32(r.low - r.zero_point), high = _mm256_set1_epi32(qmax - r.zero_point);
    acc.each([&](int p, __m256i a0, __m256i a1) {
      const __m256i q0 = requantize8(a0, m0, low, high, zero_point), q1 = requantize8(a1, m1, low, high, zero_point);
      // [0..3, 8..11 | 4..7, 12..15] as int16, then as bytes, then in order.
      const __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(q0, q1), _mm256_setzero_si256());
      const __m128i ordered = _mm_unpacklo_epi32(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(t.out + p * t.out_stride), ordered);
    });
  }

  /// The packed weights' group of 4 elements of 8 outputs (32 bytes: [8][4]) as the pairs 0-1
  /// (.first) and 2-3 (.second) of the 8 outputs, int16: [8][2] each.
  struct widened_group {
    __m256i first, second;
  };
  static widened_group widen_group(const std::int8_t* from) {
    // Within each 128-bit lane (4 outputs x 4 bytes): the bytes 0-1 of each output, then 2-3.
    const __m256i order = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15,  //
                                           0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(from));
    // [lane 0's first pairs, lane 1's first pairs, lane 0's second, lane 1's second]
    const __m256i y = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(x, order), 0xD8);
    return {_mm256_cvtepi8_epi16(_mm256_castsi256_si128(y)), _mm256_cvtepi8_epi16(_mm256_extracti128_si256(y, 1))};
  }

  /// requantize() on 8 int32 sums (the bias in them): the float product, rounded to an int32 (or
  /// INT32_MIN beyond), clamped to [low, 255] - zp, then zp added.
  static __m256i requantize8(__m256i acc, __m256 multiplier, __m256i low, __m256i high, __m256i zero_point) {
    const __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), multiplier));
    return _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(q, low), high), zero_point);
  }

  /// `panels` whole panels of packed weights (panel_index, from `from`) as [pair][16][2] int16 at
  /// `to`, each span(g) x 16 elements: a group of 4 elements x 16 outputs ([16][4] bytes) to its
  /// two pairs; the length % 4 last weights ([16][length % 4]) and the padding to whole groups after.
  static void widen_weights(const conv_geometry& g, const std::int8_t* from, index_t panels, std::int16_t* to) {
    const index_t length = g.patch_length(), grouped = length - length % 4, tail = length % 4;
    for (index_t v = 0; v < panels; ++v) {
      const std::int8_t* w = from + v * panel_width * length;
      std::int16_t* u = to + v * panel_width * span(g);
      for (index_t k = 0; k < grouped; k += 4, w += 4 * panel_width, u += 4 * panel_width)
        for (int h = 0; h < 2; ++h) {  // outputs 8h..8h+7
          const widened_group y = widen_group(w + 32 * h);
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 16 * h), y.first);
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32 + 16 * h), y.second);
        }
      if (tail > 0) {
        std::fill_n(u, 4 * panel_width, std::int16_t{0});
        for (index_t j = 0; j < panel_width; ++j)
          for (index_t e = 0; e < tail; ++e) u[(e / 2) * 2 * panel_width + 2 * j + e % 2] = w[j * tail + e];
      }
    }
  }

  /// `n` bytes from `from` as int16 at `to`, in vectors where they fill one (the last one
  /// overlapping the one before).
  static void widen(const std::uint8_t* from, std::int16_t* to, index_t n) {
    if (n >= 16) {
      for (index_t i = 0; i + 16 <= n; i += 16)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + i),
                            _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(from + i))));
      if (n % 16 != 0)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + n - 16),
                            _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(from + n - 16))));
    } else if (n >= 8) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(to),
                       _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(from))));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(to + n - 8),
                       _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(from + n - 8))));
    } else {
      for (index_t i = 0; i < n; ++i) to[i] = from[i];
    }
  }

  /// The window of output pixel `m` in (ky, kx, c) order as int16, its block's inputs from `in`
  /// on (a pixel's channels in_channels apart), taps outside the image zp_in, then zeros to span(g)
  /// elements. Undilated and ungrouped, a kernel row's taps inside the image are one run of bytes.
  static void gather_window(const conv_geometry& g, const std::uint8_t* in, std::int32_t zero_point, index_t m,
                            std::int16_t* to) {
    const int oy = static_cast<int>(m / g.out_width), ox = static_cast<int>(m % g.out_width);
    const index_t c = g.block_inputs();
    const auto pad = static_cast<std::int16_t>(zero_point);
    std::int16_t* const end = to + span(g);
    if (g.groups == 1 && g.dilation == 1) {
      const int x0 = g.tap(ox, 0);
      const int inside_begin = std::max(0, -x0), inside_end = std::min(g.kernel, g.in_width - x0);
      for (int ky = 0; ky < g.kernel; ++ky) {
        const int iy = g.tap(oy, ky);
        if (iy < 0 || iy >= g.in_height || inside_end <= inside_begin) {
          to = std::fill_n(to, g.kernel * c, pad);
          continue;
        }
        to = std::fill_n(to, inside_begin * c, pad);
        const index_t run = (inside_end - inside_begin) * c;
        widen(in + (index_t{iy} * g.in_width + x0 + inside_begin) * c, to, run);
        to = std::fill_n(to + run, (g.kernel - inside_end) * c, pad);
      }
    } else {
      for (int ky = 0; ky < g.kernel; ++ky)
        for (int kx = 0; kx < g.kernel; ++kx, to += c) {
          const int iy = g.tap(oy, ky), ix = g.tap(ox, kx);
          if (iy < 0 || iy >= g.in_height || ix < 0 || ix >= g.in_width)
            std::fill_n(to, c, pad);
          else
            widen(in + (index_t{iy} * g.in_width + ix) * g.in_channels, to, c);
        }
    }
    std::fill(to, end, std::int16_t{0});
  }
};

}  // namespace ctresnet::kernels::int8
