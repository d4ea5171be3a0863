// The int8 tile for AVX2 (x86-64-v3) that reads the packed weights as they are: the classifier's,
// whose weights serve one pixel each, so that widening them first would cost more than it saves
// (the convs widen theirs once per block of panels: direct_avx2.hpp). vpmaddubsw would multiply
// uint8 by int8 directly, but it saturates the sum of two products at int16 (255 x 127 x 2 = 64,770
// does not fit), so this tile widens both to int16 as it goes and multiplies with vpmaddwd, which
// sums two int16 products into an int32 exactly. A packed group of 4 weights of 4 outputs (16
// bytes) widens to one vector whose int32 lanes pair the weights 0-1 and 2-3 of each output; the 4
// activations of a group, widened and repeated, pair alike; each output's two lanes are added at
// the end. Also the residual add's vector form. Compiled where __AVX2__ is defined; conv.hpp picks
// it when AVX-512 VNNI is not there.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/quantized/kernels.hpp>

#include <immintrin.h>

#include <cstdint>

namespace ctresnet::kernels::int8 {

struct avx2_tile {
  static constexpr const char* name = "AVX2";
  static constexpr int pixels = 2;  // a tile: 2 pixels x 1 panel = 8 vectors of int32 pairs
  static constexpr int panels = 1;

  /// The 4 activations at `p` as int16, repeated over the vector.
  static __m256i activations(const std::uint8_t* p) {
    return _mm256_cvtepu8_epi16(_mm_set1_epi32(load_group(p)));
  }
  /// 16 bytes of packed weights (4 outputs x 4) as int16.
  static __m256i weights(const std::int8_t* p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }

  /// 8 outputs' int32 sums from two vectors of pairs (outputs 0-3, 4-7).
  static __m256i sums(__m256i a, __m256i b) {
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(a, b), 0xD8);
  }

  /// requantize() on 8 int32 sums, as avx512_vnni_tile::requantize16 computes it.
  static __m256i requantize8(__m256i acc, __m256i bias, __m256 multiplier, __m256i low, __m256i high,
                             __m256i zero_point) {
    const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc, bias)), multiplier);
    const __m256i q = _mm256_min_epi32(_mm256_max_epi32(_mm256_cvtps_epi32(v), low), high);
    return _mm256_add_epi32(q, zero_point);
  }

  /// add_relu_range (kernels.hpp) 8 elements at a time: the same int32 operations lane by lane
  /// (vpmulld keeps the low 32 bits, as the uint32 products do), the rest element by element.
  static void add_relu_range(const std::uint8_t* a, const std::uint8_t* b, index_t first, index_t last,
                             std::uint32_t ma, std::uint32_t mb, std::uint32_t offset, int shift,
                             std::int32_t zero_point, std::uint8_t* out) {
    const __m256i va = _mm256_set1_epi32(static_cast<int>(ma)), vb = _mm256_set1_epi32(static_cast<int>(mb));
    const __m256i voffset = _mm256_set1_epi32(static_cast<int>(offset));
    const std::int32_t mask = static_cast<std::int32_t>((std::uint32_t{1} << shift) - 1);
    const __m256i vmask = _mm256_set1_epi32(mask), vhalf = _mm256_set1_epi32(mask >> 1);
    const __m128i count = _mm_cvtsi32_si128(shift);
    const __m256i low = _mm256_set1_epi32(zero_point), high = _mm256_set1_epi32(qmax);
    index_t i = first;
    for (; i + 8 <= last; i += 8) {
      const __m256i x = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + i)));
      const __m256i y = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + i)));
      const __m256i acc =
          _mm256_sub_epi32(_mm256_add_epi32(_mm256_mullo_epi32(x, va), _mm256_mullo_epi32(y, vb)), voffset);
      // remainder = (acc & mask) - (acc < 0); r = (acc >> shift) + (remainder > half): the
      // comparison's all-ones lanes are -1, subtracted.
      const __m256i remainder = _mm256_add_epi32(_mm256_and_si256(acc, vmask), _mm256_srai_epi32(acc, 31));
      __m256i r = _mm256_sub_epi32(_mm256_sra_epi32(acc, count), _mm256_cmpgt_epi32(remainder, vhalf));
      r = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r, low), low), high);
      // 8 values in [0, 255]: to bytes.
      const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(words, words));
    }
    kernels::int8::add_relu_range(a, b, i, last, ma, mb, offset, shift, zero_point, out);
  }

  template <int Panels>
  static void run(const tile_job& t) {
    static_assert(Panels == 1);
    __m256i acc[pixels][4];
    for (int p = 0; p < pixels; ++p)
      for (int v = 0; v < 4; ++v) acc[p][v] = _mm256_setzero_si256();
    const std::int8_t* w = t.weights;
    const auto step = [&](const std::int8_t* group, const std::uint8_t* const* a_at) {
      __m256i a[pixels];
      for (int p = 0; p < pixels; ++p) a[p] = activations(a_at[p]);
      for (int v = 0; v < 4; ++v) {
        const __m256i wv = weights(group + 16 * v);
        for (int p = 0; p < pixels; ++p) acc[p][v] = _mm256_add_epi32(acc[p][v], _mm256_madd_epi16(a[p], wv));
      }
    };
    for (int s = 0; s < t.segments; ++s) {
      const std::uint8_t* r[pixels];
      for (int p = 0; p < pixels; ++p) r[p] = t.rows[s * pixels + p];
      for (int g = 0; g < t.segment_groups; ++g, w += 64) {
        step(w, r);
        for (int p = 0; p < pixels; ++p) r[p] += 4;
      }
    }
    if (t.tail_weights != nullptr) {
      const std::uint8_t* r[pixels];
      for (int p = 0; p < pixels; ++p) r[p] = t.rows[p] + 4 * t.segment_groups;
      step(t.tail_weights, r);
    }
    const __m256i zero_point = _mm256_set1_epi32(t.zero_point);
    const __m256i low = _mm256_set1_epi32(t.low - t.zero_point), high = _mm256_set1_epi32(qmax - t.zero_point);
    const auto* const bias = reinterpret_cast<const __m256i*>(t.bias);
    const __m256i bias0 = _mm256_loadu_si256(bias), bias1 = _mm256_loadu_si256(bias + 1);
    const __m256 m0 = _mm256_loadu_ps(t.multipliers), m1 = _mm256_loadu_ps(t.multipliers + 8);
    for (int p = 0; p < pixels; ++p) {
      if (p >= t.count) break;
      const __m256i q0 = requantize8(sums(acc[p][0], acc[p][1]), bias0, m0, low, high, zero_point);
      const __m256i q1 = requantize8(sums(acc[p][2], acc[p][3]), bias1, m1, low, high, zero_point);
      // [0..3, 8..11 | 4..7, 12..15] as int16, then as bytes, then in order.
      const __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(q0, q1), _mm256_setzero_si256());
      const __m128i ordered = _mm_unpacklo_epi32(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(t.out + p * t.out_stride), ordered);
    }
  }
};

}  // namespace ctresnet::kernels::int8
