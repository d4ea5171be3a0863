// The int8 conv tiles for aarch64's NEON (Advanced SIMD). Compiled where __aarch64__ and
// __ARM_NEON are defined; conv.hpp picks neon_dotprod_tile where __ARM_FEATURE_DOTPROD is defined
// too (ARMv8.2's optional dot product, -march=armv8.2-a+dotprod or a CPU that has it), else
// neon_tile.
//
// neon_dotprod_tile: sdot (vdotq_laneq_s32) adds the 4 products of 4 int8 weights and 4 int8
// activations to an int32 lane, exactly. The activations are uint8, so the tile feeds
// q XOR 0x80 = q - 128 as int8, and pack_layer has folded 128 x sum of w into the biases
// (kernels.hpp, activation_offset): the int32 sums are those of the other builds, so the bits are
// too. Padded taps hold zp_in, which the same fold accounts for. Per 16 products: one sdot, plus
// a quarter of a 16-byte load of weights (each serves the tile's 4 pixels) and an eighth of an
// 8-byte load of activations and its eor (each serves 8 sdot).
//
// neon_tile (no dot product): the activations widened to int16 (a uint8 is a non-negative int16),
// the weights widened to int16 once per group for all the tile's pixels (ld4 sorts the packed
// group [output][4] into the 4 weights' vectors of 16 outputs), and smlal / smlal2 by lane adding
// 4 exact int16 x int16 products to int32 lanes: 4 products per instruction.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/quantized/kernels.hpp>

#include <arm_neon.h>

#include <cstdint>

namespace ctresnet::kernels::int8 {

/// What both NEON tiles share: requantization and the residual add.
struct neon_common {
  /// Requantizes one pixel's sums of one panel (16 int32, the biases already in them) and stores
  /// its 16 bytes: clamp(nearbyint((float)acc * M) + zp, low, 255) as requantize() computes it lane
  /// by lane. scvtf and fmul round to nearest even (the default rounding mode); fcvtns rounds to
  /// nearest even too, but saturates out of range where x86's conversion (to_int32_as_cvtps2dq)
  /// gives INT32_MIN, so lanes with |v| >= 2^31 (or NaN) are set to INT32_MIN. Then qnnpack's
  /// sequence: narrow to int16 with saturation, add zp with saturation, narrow to uint8 with
  /// saturation, raise to `low` (= clamp(v + zp, low, 255) for every int32 v).
  static void requantize_store(const int32x4_t (&acc)[4], const float32x4_t (&multiplier)[4], int16x8_t zero_point,
                               uint8x16_t low, std::uint8_t* out) {
    int32x4_t q[4];
    const float32x4_t limit = vdupq_n_f32(2147483648.0f);
    const int32x4_t outside = vdupq_n_s32(INT32_MIN);
    for (int v = 0; v < 4; ++v) {
      const float32x4_t x = vmulq_f32(vcvtq_f32_s32(acc[v]), multiplier[v]);
      q[v] = vbslq_s32(vcaltq_f32(x, limit), vcvtnq_s32_f32(x), outside);
    }
    const int16x8_t q01 = vqaddq_s16(vcombine_s16(vqmovn_s32(q[0]), vqmovn_s32(q[1])), zero_point);
    const int16x8_t q23 = vqaddq_s16(vcombine_s16(vqmovn_s32(q[2]), vqmovn_s32(q[3])), zero_point);
    vst1q_u8(out, vmaxq_u8(vcombine_u8(vqmovun_s16(q01), vqmovun_s16(q23)), low));
  }

  /// The tile's requantization and stores, `acc` holding Pixels pixels' sums of one panel.
  template <int Pixels>
  static void requantize_pixels(const tile_job& t, const int32x4_t (&acc)[Pixels][4]) {
    float32x4_t multiplier[4];
    for (int v = 0; v < 4; ++v) multiplier[v] = vld1q_f32(t.multipliers + 4 * v);
    const int16x8_t zero_point = vdupq_n_s16(static_cast<std::int16_t>(t.zero_point));
    const uint8x16_t low = vdupq_n_u8(static_cast<std::uint8_t>(t.low));
    for (int p = 0; p < Pixels; ++p)
      if (p < t.count) requantize_store(acc[p], multiplier, zero_point, low, t.out + p * t.out_stride);
  }

  /// add_relu_range (kernels.hpp) 8 elements at a time: the same int32 operations lane by lane
  /// (mul keeps the low 32 bits, as the uint32 products do), the rest element by element.
  static void add_relu_range(const std::uint8_t* a, const std::uint8_t* b, index_t first, index_t last,
                             std::uint32_t ma, std::uint32_t mb, std::uint32_t offset, int shift,
                             std::int32_t zero_point, std::uint8_t* out) {
    const uint32x4_t va = vdupq_n_u32(ma), vb = vdupq_n_u32(mb), voffset = vdupq_n_u32(offset);
    const std::int32_t mask = static_cast<std::int32_t>((std::uint32_t{1} << shift) - 1);
    const int32x4_t vmask = vdupq_n_s32(mask), vhalf = vdupq_n_s32(mask >> 1), right = vdupq_n_s32(-shift);
    const int32x4_t low = vdupq_n_s32(zero_point), high = vdupq_n_s32(qmax);
    const auto lanes = [&](uint16x4_t x, uint16x4_t y) {
      const auto acc = vreinterpretq_s32_u32(vsubq_u32(vmlaq_u32(vmulq_u32(vmovl_u16(x), va), vmovl_u16(y), vb), voffset));
      // remainder = (acc & mask) - (acc < 0); r = (acc >> shift) + (remainder > half): the
      // comparison's all-ones lanes are -1, subtracted.
      const int32x4_t remainder = vaddq_s32(vandq_s32(acc, vmask), vshrq_n_s32(acc, 31));
      const int32x4_t r = vsubq_s32(vshlq_s32(acc, right), vreinterpretq_s32_u32(vcgtq_s32(remainder, vhalf)));
      return vminq_s32(vmaxq_s32(vaddq_s32(r, low), low), high);
    };
    index_t i = first;
    for (; i + 8 <= last; i += 8) {
      const uint16x8_t x = vmovl_u8(vld1_u8(a + i)), y = vmovl_u8(vld1_u8(b + i));
      const int32x4_t r0 = lanes(vget_low_u16(x), vget_low_u16(y)), r1 = lanes(vget_high_u16(x), vget_high_u16(y));
      // 8 values in [0, 255]: to bytes.
      vst1_u8(out + i, vmovn_u16(vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(r0)), vmovn_u32(vreinterpretq_u32_s32(r1)))));
    }
    kernels::int8::add_relu_range(a, b, i, last, ma, mb, offset, shift, zero_point, out);
  }
};

#ifdef __ARM_FEATURE_DOTPROD
struct neon_dotprod_tile : neon_common {
  static constexpr const char* name = "NEON sdot";
  static constexpr int pixels = 4;  // a tile: 4 pixels x 1 panel = 16 vectors of int32 sums
  static constexpr int panels = 1;
  static_assert(activation_offset == 128, "sdot multiplies the activations as q - 128 (kernels.hpp)");

  /// Activations as sdot's int8 operands: q XOR 0x80 = q - 128.
  static int8x8_t offset(uint8x8_t q) { return vreinterpret_s8_u8(veor_u8(q, vdup_n_u8(0x80))); }

  /// One group of 4 weights of the panel's 16 outputs (64 bytes at `w`) times the group in lane
  /// Lane of each pixel's activations.
  template <int Lane>
  static void group(int32x4_t (&acc)[pixels][4], const std::int8_t* w, const int8x8_t (&a)[pixels]) {
    for (int v = 0; v < 4; ++v) {
      const int8x16_t wv = vld1q_s8(w + 16 * v);
      for (int p = 0; p < pixels; ++p) acc[p][v] = vdotq_lane_s32(acc[p][v], wv, a[p], Lane);
    }
  }

  /// One group of 4 activations of each pixel (at r[p]), in lane 0.
  static void single_group(int32x4_t (&acc)[pixels][4], const std::int8_t* w, const std::uint8_t* const (&r)[pixels]) {
    int8x8_t a[pixels];
    for (int p = 0; p < pixels; ++p) a[p] = offset(vreinterpret_u8_s32(vdup_n_s32(load_group(r[p]))));
    group<0>(acc, w, a);
  }

  template <int Panels>
  static void run(const tile_job& t) {
    static_assert(Panels == 1);
    int32x4_t acc[pixels][4];
    for (int v = 0; v < 4; ++v) {
      const int32x4_t bias = vld1q_s32(t.bias + 4 * v);
      for (int p = 0; p < pixels; ++p) acc[p][v] = bias;
    }
    const std::int8_t* w = t.weights;
    for (int s = 0; s < t.segments; ++s) {
      const std::uint8_t* r[pixels];
      for (int p = 0; p < pixels; ++p) r[p] = t.rows[s * pixels + p];
      int g = 0;
      // 2 groups at a time: 8 activations of each pixel in one register, 8 sdot per pixel; with 16
      // sums and 8 vectors of weights, the 32 registers hold them all.
      for (; g + 2 <= t.segment_groups; g += 2, w += 128) {
        int8x8_t a[pixels];
        for (int p = 0; p < pixels; ++p) a[p] = offset(vld1_u8(r[p] + 4 * g));
        group<0>(acc, w, a);
        group<1>(acc, w + 64, a);
      }
      if (g < t.segment_groups) {
        const std::uint8_t* const at[pixels] = {r[0] + 4 * g, r[1] + 4 * g, r[2] + 4 * g, r[3] + 4 * g};
        single_group(acc, w, at);
        w += 64;
      }
    }
    if (t.tail_weights != nullptr) {
      const std::uint8_t* const at[pixels] = {t.rows[0] + 4 * t.segment_groups, t.rows[1] + 4 * t.segment_groups,
                                              t.rows[2] + 4 * t.segment_groups, t.rows[3] + 4 * t.segment_groups};
      single_group(acc, t.tail_weights, at);
    }
    requantize_pixels<pixels>(t, acc);
  }
};
#else
struct neon_tile : neon_common {
  static constexpr const char* name = "NEON";
  static constexpr int pixels = 4;  // a tile: 4 pixels x 1 panel = 16 vectors of int32 sums
  static constexpr int panels = 1;

  /// Activations lanes 0-3 of `a` times one group of weights (64 bytes at `w`).
  template <int First>
  static void group(int32x4_t (&acc)[pixels][4], const std::int8_t* w, const int16x8_t (&a)[pixels]) {
    const int8x16x4_t wv = vld4q_s8(w);  // wv.val[e]: weight e of the group, of outputs 0-15
    int16x8_t low[4], high[4];           // of outputs 0-7, 8-15
    for (int e = 0; e < 4; ++e) {
      low[e] = vmovl_s8(vget_low_s8(wv.val[e]));
      high[e] = vmovl_high_s8(wv.val[e]);
    }
    for (int p = 0; p < pixels; ++p) {
      lane<First + 0>(acc[p], low[0], high[0], a[p]);
      lane<First + 1>(acc[p], low[1], high[1], a[p]);
      lane<First + 2>(acc[p], low[2], high[2], a[p]);
      lane<First + 3>(acc[p], low[3], high[3], a[p]);
    }
  }
  /// 16 outputs' weights for one activation (lane Lane of `a`), times it.
  template <int Lane>
  static void lane(int32x4_t (&acc)[4], int16x8_t low, int16x8_t high, int16x8_t a) {
    acc[0] = vmlal_laneq_s16(acc[0], vget_low_s16(low), a, Lane);
    acc[1] = vmlal_high_laneq_s16(acc[1], low, a, Lane);
    acc[2] = vmlal_laneq_s16(acc[2], vget_low_s16(high), a, Lane);
    acc[3] = vmlal_high_laneq_s16(acc[3], high, a, Lane);
  }

  /// 4 activations at `p`, as int16 in lanes 0-3.
  static int16x8_t activations(const std::uint8_t* p) {
    return vreinterpretq_s16_u16(vmovl_u8(vreinterpret_u8_s32(vdup_n_s32(load_group(p)))));
  }

  template <int Panels>
  static void run(const tile_job& t) {
    static_assert(Panels == 1);
    static_assert(activation_offset == 0, "smlal multiplies the activations as they are (kernels.hpp)");
    int32x4_t acc[pixels][4];
    for (int v = 0; v < 4; ++v) {
      const int32x4_t bias = vld1q_s32(t.bias + 4 * v);
      for (int p = 0; p < pixels; ++p) acc[p][v] = bias;
    }
    const std::int8_t* w = t.weights;
    for (int s = 0; s < t.segments; ++s) {
      const std::uint8_t* r[pixels];
      for (int p = 0; p < pixels; ++p) r[p] = t.rows[s * pixels + p];
      int g = 0;
      // 2 groups at a time: 8 activations of each pixel widened in one register.
      for (; g + 2 <= t.segment_groups; g += 2, w += 128) {
        int16x8_t a[pixels];
        for (int p = 0; p < pixels; ++p) a[p] = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(r[p] + 4 * g)));
        group<0>(acc, w, a);
        group<4>(acc, w + 64, a);
      }
      if (g < t.segment_groups) {
        int16x8_t a[pixels];
        for (int p = 0; p < pixels; ++p) a[p] = activations(r[p] + 4 * g);
        group<0>(acc, w, a);
        w += 64;
      }
    }
    if (t.tail_weights != nullptr) {
      int16x8_t a[pixels];
      for (int p = 0; p < pixels; ++p) a[p] = activations(t.rows[p] + 4 * t.segment_groups);
      group<0>(acc, t.tail_weights, a);
    }
    requantize_pixels<pixels>(t, acc);
  }
};
#endif

}  // namespace ctresnet::kernels::int8
