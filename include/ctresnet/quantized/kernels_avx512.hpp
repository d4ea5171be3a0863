// The int8 conv tile for AVX-512 with VNNI: vpdpbusd multiplies 4 uint8 activations by 4 int8
// weights and adds the 4 products to an int32 lane, exactly (no intermediate saturation; the int32
// sums wrap around, as the portable kernels' do). Compiled where __AVX512F__, __AVX512BW__ and
// __AVX512VNNI__ are defined (-march=native on such a CPU, or -mavx512f -mavx512bw -mavx512vnni);
// conv.hpp picks it.
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

  /// Requantizes one pixel's sums of up to 4 panels (the biases already in them) and stores the
  /// 16 x Panels bytes: clamp(nearbyint((float)acc * M) + zp, low, 255) as requantize() computes
  /// it lane by lane. The int32 to float conversion and the product round to nearest even, as does
  /// the float to int32 conversion under the default rounding mode (= nearbyint; out of range it
  /// gives INT32_MIN, as to_int32_as_cvtps2dq). The rest is qnnpack's own sequence: narrow to int16
  /// with saturation, add zp with saturation, narrow to uint8 with saturation, raise to `low`;
  /// for every int32 v it gives clamp(v + zp, low, 255) (v beyond int16 saturates to 0 or 255
  /// before the clamp could tell it from a smaller one).
  template <int Panels>
  static void requantize_store(const __m512i (&acc)[Panels], const __m512 (&multiplier)[Panels],
                               __m512i zero_point, __m512i low, std::uint8_t* out) {
    __m512i q[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    for (int v = 0; v < Panels; ++v) q[v] = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[v]), multiplier[v]));
    const __m512i q01 = _mm512_adds_epi16(_mm512_packs_epi32(q[0], q[1]), zero_point);
    const __m512i q23 = _mm512_adds_epi16(_mm512_packs_epi32(q[2], q[3]), zero_point);
    // 128-bit lane l now holds 4 outputs of each panel, panel after panel: back in order.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i bytes = _mm512_max_epu8(_mm512_permutexvar_epi32(order, _mm512_packus_epi16(q01, q23)), low);
    if constexpr (Panels == 4)
      _mm512_storeu_si512(out, bytes);
    else
      _mm512_mask_storeu_epi8(out, (__mmask64{1} << (16 * Panels)) - 1, bytes);
  }

  /// add_relu_range (kernels.hpp) 16 elements at a time: the same int32 operations lane by lane
  /// (vpmulld keeps the low 32 bits, as the uint32 products do), the rest element by element.
  static void add_relu_range(const std::uint8_t* a, const std::uint8_t* b, index_t first, index_t last,
                             std::uint32_t ma, std::uint32_t mb, std::uint32_t offset, int shift,
                             std::int32_t zero_point, std::uint8_t* out) {
    const __m512i va = _mm512_set1_epi32(static_cast<int>(ma)), vb = _mm512_set1_epi32(static_cast<int>(mb));
    const __m512i voffset = _mm512_set1_epi32(static_cast<int>(offset));
    const std::int32_t mask = static_cast<std::int32_t>((std::uint32_t{1} << shift) - 1);
    const __m512i vmask = _mm512_set1_epi32(mask), vhalf = _mm512_set1_epi32(mask >> 1);
    const __m128i count = _mm_cvtsi32_si128(shift);
    const __m512i low = _mm512_set1_epi32(zero_point), high = _mm512_set1_epi32(qmax);
    index_t i = first;
    for (; i + 16 <= last; i += 16) {
      const __m512i x = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
      const __m512i y = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
      const __m512i acc =
          _mm512_sub_epi32(_mm512_add_epi32(_mm512_mullo_epi32(x, va), _mm512_mullo_epi32(y, vb)), voffset);
      // remainder = (acc & mask) - (acc < 0); r = (acc >> shift) + (remainder > half)
      const __m512i remainder = _mm512_add_epi32(_mm512_and_si512(acc, vmask), _mm512_srai_epi32(acc, 31));
      const __mmask16 up = _mm512_cmpgt_epi32_mask(remainder, vhalf);
      __m512i r = _mm512_sra_epi32(acc, count);
      r = _mm512_mask_add_epi32(r, up, r, _mm512_set1_epi32(1));
      r = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(r, low), low), high);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi32_epi8(r));
    }
    kernels::int8::add_relu_range(a, b, i, last, ma, mb, offset, shift, zero_point, out);
  }

  template <int Panels>
  static void run(const tile_job& t) {
    static_assert(Panels >= 1 && Panels <= panels);
    __m512i acc[pixels][Panels];
    for (int v = 0; v < Panels; ++v) {
      const __m512i bias = _mm512_loadu_si512(t.bias + 16 * v);
      for (int p = 0; p < pixels; ++p) acc[p][v] = bias;
    }
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
    __m512 multiplier[Panels];
    for (int v = 0; v < Panels; ++v) multiplier[v] = _mm512_loadu_ps(t.multipliers + 16 * v);
    const __m512i zero_point = _mm512_set1_epi16(static_cast<short>(t.zero_point));
    const __m512i low = _mm512_set1_epi8(static_cast<char>(t.low));
    for (int p = 0; p < pixels; ++p)
      if (p < t.count) requantize_store<Panels>(acc[p], multiplier, zero_point, low, t.out + p * t.out_stride);
  }
};

}  // namespace ctresnet::kernels::int8
