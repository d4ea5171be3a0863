// ctresnet: a packet of four floats for WebAssembly SIMD (-msimd128), for the fp32 kernels.
//
// Eigen 3.4 has no WebAssembly packet math: compiled to wasm it treats a float as a packet of
// one, and the kernels would run scalar. Its SSE path does not compile under emscripten either
// (it includes <mmintrin.h> and uses x86 inline assembly). So on wasm with SIMD the kernels take
// this type as their packet: the packet primitives they call (pset1, ploadu, pstoreu, padd, psub,
// pmul, pmadd, pmax, ptranspose of a 4x4 PacketBlock) are specialised for it in Eigen::internal,
// where Eigen's own architectures specialise them, so the kernels' code is the same on every CPU.
// WebAssembly has no fused multiply-add without the relaxed-SIMD proposal: pmadd multiplies,
// then adds, as Eigen's SSE path does.
//
// CTRESNET_WASM_PACKET is 1 where this packet is the kernels' (wasm with SIMD and Eigen not
// vectorizing by itself), else 0.
#pragma once

#include <Eigen/Core>

#if defined(__wasm_simd128__) && !defined(EIGEN_VECTORIZE)
#define CTRESNET_WASM_PACKET 1
#else
#define CTRESNET_WASM_PACKET 0
#endif

#if CTRESNET_WASM_PACKET
#include <wasm_simd128.h>

namespace ctresnet::kernels::detail {
/// Four floats in one 128-bit SIMD register. A vector type of floats of its own (wasm_simd128.h's
/// v128_t holds four ints), so that Eigen's templates tell it apart.
typedef float wasm_f32x4 __attribute__((__vector_size__(16), __aligned__(16)));
}  // namespace ctresnet::kernels::detail

namespace Eigen::internal {
using ctresnet::kernels::detail::wasm_f32x4;

template <>
struct unpacket_traits<wasm_f32x4> {
  typedef float type;
  typedef wasm_f32x4 half;
  enum { size = 4, alignment = Aligned16, vectorizable = true, masked_load_available = false, masked_store_available = false };
};

template <>
inline wasm_f32x4 pset1<wasm_f32x4>(const float& a) {
  return wasm_f32x4(wasm_f32x4_splat(a));
}
template <>
inline wasm_f32x4 ploadu<wasm_f32x4>(const float* from) {
  return wasm_f32x4(wasm_v128_load(from));
}
template <>
inline void pstoreu<float, wasm_f32x4>(float* to, const wasm_f32x4& from) {
  wasm_v128_store(to, v128_t(from));
}
template <>
inline wasm_f32x4 padd<wasm_f32x4>(const wasm_f32x4& a, const wasm_f32x4& b) {
  return wasm_f32x4(wasm_f32x4_add(v128_t(a), v128_t(b)));
}
template <>
inline wasm_f32x4 psub<wasm_f32x4>(const wasm_f32x4& a, const wasm_f32x4& b) {
  return wasm_f32x4(wasm_f32x4_sub(v128_t(a), v128_t(b)));
}
template <>
inline wasm_f32x4 pmul<wasm_f32x4>(const wasm_f32x4& a, const wasm_f32x4& b) {
  return wasm_f32x4(wasm_f32x4_mul(v128_t(a), v128_t(b)));
}
template <>
inline wasm_f32x4 pmadd<wasm_f32x4>(const wasm_f32x4& a, const wasm_f32x4& b, const wasm_f32x4& c) {
  return padd(pmul(a, b), c);
}
/// b < a ? a : b lane by lane (pmax, not max: no NaN checks), as SSE's maxps.
template <>
inline wasm_f32x4 pmax<wasm_f32x4>(const wasm_f32x4& a, const wasm_f32x4& b) {
  return wasm_f32x4(wasm_f32x4_pmax(v128_t(a), v128_t(b)));
}
inline void ptranspose(PacketBlock<wasm_f32x4, 4>& block) {
  const v128_t r0 = v128_t(block.packet[0]), r1 = v128_t(block.packet[1]);
  const v128_t r2 = v128_t(block.packet[2]), r3 = v128_t(block.packet[3]);
  const v128_t low01 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), high01 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
  const v128_t low23 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), high23 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
  block.packet[0] = wasm_f32x4(wasm_i32x4_shuffle(low01, low23, 0, 1, 4, 5));
  block.packet[1] = wasm_f32x4(wasm_i32x4_shuffle(low01, low23, 2, 3, 6, 7));
  block.packet[2] = wasm_f32x4(wasm_i32x4_shuffle(high01, high23, 0, 1, 4, 5));
  block.packet[3] = wasm_f32x4(wasm_i32x4_shuffle(high01, high23, 2, 3, 6, 7));
}
}  // namespace Eigen::internal
#endif
