// 3x3 convs of stride 1 and padding 1 for AVX2 as an integer Winograd F(2x2, 3x3): exact, and
// with 16 products per 2x2 outputs and input channel where the direct conv has 36.
//
// With G scaled by 2 every transform has integer coefficients:
//   V = B^T d B        d: a 4x4 input tile (uint8, zp_in outside the image), |V| <= 1020
//   U = (2G) g (2G)^T  g: a 3x3 filter (int8),                              |U| <= 1152
//   Y = A^T (sum over input channels of U . V) A = 4 x (the 2x2 outputs' sums of q_in x w)
// V and U fit int16, so vpmaddwd multiplies them exactly (2 products summed: |.| < 2^22); the
// sums over channels and the output transform are int32 additions, which wrap around. They are
// exact modulo 2^32, and the true value 4 x S lies within int32 whenever |S| < 2^29, which holds
// for fewer than 1,827 input channels (|S| <= 9 x C x 255 x 128); Y >> 2 is then S exactly, the
// same sum as the direct conv's (zp_in folded into the bias as there).
//
// The transformed inputs and filters do not fit the conv scratch: they use a buffer the caller
// does not need during the conv (a spare activation buffer), in blocks of tiles that fit it.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/quantized/direct_avx2.hpp>
#include <ctresnet/quantized/kernels.hpp>

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ctresnet::kernels::int8 {

struct winograd_avx2 {
  /// The convs it computes: 3x3, ungrouped, undilated, stride 1, padding 1, 16k input and output
  /// channels, and fewer than 1,827 input channels (see above).
  static constexpr bool applies(const conv_geometry& g) {
    return g.groups == 1 && g.dilation == 1 && g.kernel == 3 && g.stride == 1 && g.padding == 1 &&
           g.in_channels % 16 == 0 && g.out_channels % 16 == 0 && g.in_channels < 1827 &&
           g.out_height == g.in_height && g.out_width == g.in_width;
  }
  static constexpr index_t tiles(const conv_geometry& g) {
    return index_t{(g.out_height + 1) / 2} * ((g.out_width + 1) / 2);
  }
  /// The 16 arrays of V ([xi][block][C]), U ([xi][C/2][16][2], both int16) and M ([xi][block][16],
  /// int32) lie a cache line further apart than they need: strides of a power of two would put all
  /// 16 in the same few cache sets.
  static constexpr index_t v_stride(const conv_geometry& g, index_t block) { return block * g.in_channels + 32; }
  static constexpr index_t u_stride(const conv_geometry& g) { return 16 * index_t{g.in_channels} + 32; }
  static constexpr index_t m_stride(index_t block) { return block * 16 + 16; }
  /// Bytes a thread needs for blocks of `block` tiles: V, U and M, each on cache lines.
  static constexpr std::size_t bytes_for(const conv_geometry& g, index_t block) {
    return v_bytes(g, block) + u_bytes(g) + lines(64 * static_cast<std::size_t>(m_stride(block)));
  }
  static constexpr std::size_t v_bytes(const conv_geometry& g, index_t block) {
    return lines(32 * static_cast<std::size_t>(v_stride(g, block)));
  }
  static constexpr std::size_t u_bytes(const conv_geometry& g) {
    return lines(32 * static_cast<std::size_t>(u_stride(g)));
  }
  static constexpr std::size_t lines(std::size_t bytes) { return (bytes + 63) / 64 * 64; }
  static constexpr index_t max_block = 64;

  /// The block of tiles each of `threads` threads uses in `bytes` of buffer, or 0 if even two
  /// tiles do not fit (the caller then runs the direct conv).
  static index_t block_for(const conv_geometry& g, std::size_t bytes, int threads) {
    const std::size_t each = bytes / static_cast<std::size_t>(threads) / 64 * 64;
    const index_t share = (tiles(g) + threads - 1) / threads;
    index_t block = std::min(max_block, share + share % 2);
    while (block >= 2 && bytes_for(g, block) > each) block -= 2;
    return block >= 2 ? block : 0;
  }

  /// Thread `thread` of `threads`' share of the tiles, in blocks of `block`, its buffers at
  /// buffer + thread x bytes_for(g, block).
  static void run(const conv_geometry& g, const std::uint8_t* in, std::int32_t input_zero_point, const layer_weights& p,
                  std::int32_t output_zero_point, bool relu, std::uint8_t* out, std::uint8_t* buffer, index_t block,
                  int thread, int threads) {
    const index_t count = tiles(g), first = count * thread / threads, last = count * (thread + 1) / threads;
    std::uint8_t* const own = buffer + static_cast<std::size_t>(thread) * bytes_for(g, block);
    auto* const v = reinterpret_cast<std::int16_t*>(own);
    auto* const u = reinterpret_cast<std::int16_t*>(own + v_bytes(g, block));
    auto* const m = reinterpret_cast<std::int32_t*>(own + v_bytes(g, block) + u_bytes(g));
    const index_t vs = v_stride(g, block), us = u_stride(g), ms = m_stride(block);
    const std::int32_t low = relu ? output_zero_point : qmin;
    for (index_t begin = first; begin < last; begin += block) {
      const index_t n = std::min(block, last - begin);
      for (index_t t = 0; t < n; ++t) transform_input(g, in, input_zero_point, begin + t, v + t * g.in_channels, vs);
      for (index_t o = 0; o < g.out_channels; o += 16) {
        transform_filters(g, p.weights + o * g.patch_length(), u, us);
        for (int xi = 0; xi < 16; ++xi) multiply(g, v + xi * vs, u + xi * us, n, m + xi * ms);
        for (index_t t = 0; t < n; ++t)
          transform_output(g, m + t * 16, ms, begin + t, p.bias + o, p.multipliers + o, output_zero_point, low, out + o);
      }
    }
  }

 private:
  /// Input tile `tile` (4x4 pixels from (2ty - 1, 2tx - 1), zp_in outside the image) to V, every
  /// input channel: V[xi][.][c] at v + xi x stride + c.
  static void transform_input(const conv_geometry& g, const std::uint8_t* in, std::int32_t zero_point, index_t tile,
                              std::int16_t* v, index_t stride) {
    const int tiles_x = (g.out_width + 1) / 2;
    const int y0 = static_cast<int>(tile / tiles_x) * 2 - 1, x0 = static_cast<int>(tile % tiles_x) * 2 - 1;
    const __m256i pad = _mm256_set1_epi16(static_cast<short>(zero_point));
    const std::uint8_t* at[4][4];
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const int y = y0 + i, x = x0 + j;
        at[i][j] = y >= 0 && y < g.in_height && x >= 0 && x < g.in_width
                       ? in + (index_t{y} * g.in_width + x) * g.in_channels
                       : nullptr;
      }
    for (int c = 0; c < g.in_channels; c += 16) {
      __m256i t[4][4];  // B^T d: rows combined
      for (int j = 0; j < 4; ++j) {
        __m256i d[4];
        for (int i = 0; i < 4; ++i)
          d[i] = at[i][j] != nullptr
                     ? _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at[i][j] + c)))
                     : pad;
        t[0][j] = _mm256_sub_epi16(d[0], d[2]);
        t[1][j] = _mm256_add_epi16(d[1], d[2]);
        t[2][j] = _mm256_sub_epi16(d[2], d[1]);
        t[3][j] = _mm256_sub_epi16(d[1], d[3]);
      }
      for (int i = 0; i < 4; ++i) {
        const __m256i r[4] = {_mm256_sub_epi16(t[i][0], t[i][2]), _mm256_add_epi16(t[i][1], t[i][2]),
                              _mm256_sub_epi16(t[i][2], t[i][1]), _mm256_sub_epi16(t[i][1], t[i][3])};
        for (int j = 0; j < 4; ++j)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(v + (4 * i + j) * stride + c), r[j]);
      }
    }
  }

  /// A panel's 16 filters (packed: tap s, channels 4k..4k+3 at group s x C/4 + k, [16][4]) to U
  /// in direct_avx2's order of pairs: U[xi][channel pair][o][e] (int16) at u + xi x stride +
  /// pair x 32 + o x 2 + e. The transform acts on each element alike, so it runs on the pairs.
  static void transform_filters(const conv_geometry& g, const std::int8_t* panel, std::int16_t* u, index_t stride) {
    const index_t groups = g.in_channels / 4;
    for (index_t k = 0; k < groups; ++k)
      for (int h = 0; h < 2; ++h) {  // outputs 8h..8h+7, 32 bytes of each group
        direct_avx2::widened_group pairs[3][3];
        for (int y = 0; y < 3; ++y)
          for (int x = 0; x < 3; ++x)
            pairs[y][x] = direct_avx2::widen_group(panel + ((y * 3 + x) * groups + k) * 64 + 32 * h);
        for (int e = 0; e < 2; ++e) {  // channels 4k + 2e, 4k + 2e + 1
          __m256i w[3][3];
          for (int y = 0; y < 3; ++y)
            for (int x = 0; x < 3; ++x) w[y][x] = e == 0 ? pairs[y][x].first : pairs[y][x].second;
          __m256i s[4][3];  // (2G) g: rows combined
          for (int x = 0; x < 3; ++x) {
            s[0][x] = _mm256_add_epi16(w[0][x], w[0][x]);
            s[1][x] = _mm256_add_epi16(_mm256_add_epi16(w[0][x], w[1][x]), w[2][x]);
            s[2][x] = _mm256_add_epi16(_mm256_sub_epi16(w[0][x], w[1][x]), w[2][x]);
            s[3][x] = _mm256_add_epi16(w[2][x], w[2][x]);
          }
          for (int i = 0; i < 4; ++i) {
            const __m256i r[4] = {_mm256_add_epi16(s[i][0], s[i][0]),
                                  _mm256_add_epi16(_mm256_add_epi16(s[i][0], s[i][1]), s[i][2]),
                                  _mm256_add_epi16(_mm256_sub_epi16(s[i][0], s[i][1]), s[i][2]),
                                  _mm256_add_epi16(s[i][2], s[i][2])};
            for (int j = 0; j < 4; ++j) {
              std::int16_t* const to = u + (4 * i + j) * stride + (2 * k + e) * 2 * panel_width + 16 * h;
              _mm256_storeu_si256(reinterpret_cast<__m256i*>(to), r[j]);
            }
          }
        }
      }
  }

  /// M[t][o] = sum over c of V[t][c] x U[c][o] for one xi, `n` tiles, 16 outputs: direct_avx2's
  /// sums, 6 tiles at a time, each tile's V a row of pairs.
  static void multiply(const conv_geometry& g, const std::int16_t* v, const std::int16_t* u, index_t n,
                       std::int32_t* m) {
    index_t t = 0;
    for (; t + direct_avx2::pixels <= n; t += direct_avx2::pixels)
      multiply_tiles<direct_avx2::pixels>(g, v + t * g.in_channels, u, m + t * 16);
    switch (n - t) {
      case 0: break;
      case 1: return multiply_tiles<1>(g, v + t * g.in_channels, u, m + t * 16);
      case 2: return multiply_tiles<2>(g, v + t * g.in_channels, u, m + t * 16);
      case 3: return multiply_tiles<3>(g, v + t * g.in_channels, u, m + t * 16);
      case 4: return multiply_tiles<4>(g, v + t * g.in_channels, u, m + t * 16);
      default: return multiply_tiles<5>(g, v + t * g.in_channels, u, m + t * 16);
    }
  }
  template <int Count>
  static void multiply_tiles(const conv_geometry& g, const std::int16_t* v, const std::int16_t* u, std::int32_t* m) {
    pair_sums<Count> acc;
    acc.each([](int, __m256i& low, __m256i& high) { low = high = _mm256_setzero_si256(); });
    acc.accumulate(v, g.in_channels, u, g.in_channels / 2);
    acc.each([&](int p, __m256i low, __m256i high) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(m + p * 16), low);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(m + p * 16 + 8), high);
    });
  }

  /// Y = A^T M A of one tile for 16 outputs (M[xi] at m + xi x stride), divided by 4, plus the
  /// bias, requantized (as avx2_tile's epilogue) to the 2x2 pixels inside the image.
  static void transform_output(const conv_geometry& g, const std::int32_t* m, index_t stride, index_t tile,
                               const std::int32_t* bias, const float* multipliers, std::int32_t zero_point,
                               std::int32_t low, std::uint8_t* out) {
    const int tiles_x = (g.out_width + 1) / 2;
    const int y0 = static_cast<int>(tile / tiles_x) * 2, x0 = static_cast<int>(tile % tiles_x) * 2;
    const __m256i zero16 = _mm256_set1_epi16(static_cast<short>(zero_point));
    const __m128i low8 = _mm_set1_epi8(static_cast<char>(low));
    __m128i half[2][2][2];  // [y][x][outputs 8h..8h+7]: 8 bytes each
    for (int h = 0; h < 2; ++h) {  // outputs 8h..8h+7
      __m256i s[2][4];
      for (int j = 0; j < 4; ++j) {
        const auto at = [&](int i) {
          return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(m + (4 * i + j) * stride + 8 * h));
        };
        const __m256i m0 = at(0), m1 = at(1), m2 = at(2), m3 = at(3);
        s[0][j] = _mm256_add_epi32(_mm256_add_epi32(m0, m1), m2);
        s[1][j] = _mm256_sub_epi32(_mm256_sub_epi32(m1, m2), m3);
      }
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + 8 * h));
      const __m256 scale = _mm256_loadu_ps(multipliers + 8 * h);
      for (int i = 0; i < 2; ++i) {
        const __m256i y[2] = {_mm256_add_epi32(_mm256_add_epi32(s[i][0], s[i][1]), s[i][2]),
                              _mm256_sub_epi32(_mm256_sub_epi32(s[i][1], s[i][2]), s[i][3])};
        for (int j = 0; j < 2; ++j) {
          const __m256i acc = _mm256_add_epi32(_mm256_srai_epi32(y[j], 2), b);
          const __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale));
          // qnnpack's narrowing, as in avx512_vnni_tile: int16 and zp with saturation, uint8 with
          // saturation, then the lower bound; the 8 bytes are the low dwords of the two lanes.
          const __m256i q16 = _mm256_adds_epi16(_mm256_packs_epi32(q, q), zero16);
          const __m256i q8 = _mm256_packus_epi16(q16, q16);
          const __m128i v8 = _mm_unpacklo_epi32(_mm256_castsi256_si128(q8), _mm256_extracti128_si256(q8, 1));
          half[i][j][h] = _mm_max_epu8(v8, low8);
        }
      }
    }
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j)
        if (y0 + i < g.out_height && x0 + j < g.out_width)
          _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (index_t{y0 + i} * g.out_width + x0 + j) * g.out_channels),
                           _mm_unpacklo_epi64(half[i][j][0], half[i][j][1]));
  }
};

}  // namespace ctresnet::kernels::int8
