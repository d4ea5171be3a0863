// The int8 conv tile for AVX-512 with VNNI: vpdpbusd multiplies 4 uint8 activations by 4 int8
// weights and adds the 4 products to an int32 lane, exactly (no intermediate saturation; the int32
// sums wrap around, as the portable kernels' do). Compiled where __AVX512F__ and __AVX512VNNI__
// are defined (-march=native on such a CPU, or -mavx512f -mavx512vnni); conv.hpp picks it.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/quantized/kernels.hpp>

#include <immintrin.h>

#include <cstdint>

namespace ctresnet::kernels::int8 {

struct avx512_vnni_tile {
  static constexpr const char* name = "AVX-512 VNNI";
  static constexpr int pixels = 6;  // a tile: 6 pixels x 4 panels = 24 int32 accumulators
  static constexpr int panels = 4;

  /// Requantizes 16 int32 sums: clamp(nearbyint((float)(acc + bias) * M) + zp, low, 255), as
  /// requantize() does lane by lane: the int32 to float conversion and the product round to
  /// nearest even, as do the float to int32 conversion under the default rounding mode (= nearbyint;
  /// out of range it gives INT32_MIN, as to_int32_as_cvtps2dq). clamp(v + zp, low, 255) is
  /// computed as clamp(v, low - zp, 255 - zp) + zp, which cannot overflow.
  static __m128i requantize16(__m512i acc, __m512i bias, __m512 multiplier, __m512i low, __m512i high,
                              __m512i zero_point) {
    const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc, bias)), multiplier);
    const __m512i q = _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(v), low), high);
    return _mm512_cvtepi32_epi8(_mm512_add_epi32(q, zero_point));
  }

  template <int Panels>
  static void run(const tile_job& t) {
    static_assert(Panels >= 1 && Panels <= panels);
    __m512i acc[pixels][Panels];
    for (int p = 0; p < pixels; ++p)
      for (int v = 0; v < Panels; ++v) acc[p][v] = _mm512_setzero_si512();
    const std::int8_t* w = t.weights;
    for (int s = 0; s < t.segments; ++s) {
      const std::uint8_t* const* rows = t.rows + s * pixels;
      const std::uint8_t* r[pixels];
      for (int p = 0; p < pixels; ++p) r[p] = rows[p];
      for (int g = 0; g < t.segment_groups; ++g, w += 64) {
        __m512i wv[Panels];
        for (int v = 0; v < Panels; ++v) wv[v] = _mm512_loadu_si512(w + v * t.panel_bytes);
        for (int p = 0; p < pixels; ++p) {
          const __m512i a = _mm512_set1_epi32(load_group(r[p] + 4 * g));
          for (int v = 0; v < Panels; ++v) acc[p][v] = _mm512_dpbusd_epi32(acc[p][v], a, wv[v]);
        }
      }
    }
    if (t.tail_weights != nullptr) {
      __m512i wv[Panels];
      for (int v = 0; v < Panels; ++v) wv[v] = _mm512_loadu_si512(t.tail_weights + 64 * v);
      for (int p = 0; p < pixels; ++p) {
        const __m512i a = _mm512_set1_epi32(load_group(t.rows[p] + 4 * t.segment_groups));
        for (int v = 0; v < Panels; ++v) acc[p][v] = _mm512_dpbusd_epi32(acc[p][v], a, wv[v]);
      }
    }
    const __m512i zero_point = _mm512_set1_epi32(t.zero_point);
    const __m512i low = _mm512_set1_epi32(t.low - t.zero_point), high = _mm512_set1_epi32(qmax - t.zero_point);
    for (int v = 0; v < Panels; ++v) {
      const __m512i bias = _mm512_loadu_si512(t.bias + 16 * v);
      const __m512 multiplier = _mm512_loadu_ps(t.multipliers + 16 * v);
      for (int p = 0; p < pixels; ++p)
        if (p < t.count)
          _mm_storeu_si128(reinterpret_cast<__m128i*>(t.out + p * t.out_stride + 16 * v),
                           requantize16(acc[p][v], bias, multiplier, low, high, zero_point));
    }
  }
};

}  // namespace ctresnet::kernels::int8
