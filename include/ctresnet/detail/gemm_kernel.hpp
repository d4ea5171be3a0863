// The innermost loop of every convolution: a register-blocked tile of C = A * B followed by the
// layer's epilogue. A is channels-last pixels (rows of `depth` floats, `lda` apart), B a panel of
// weights stored as `depth` rows of `ldb` output channels (see conv_weight_index). The tile shape
// follows the register file: AVX-512 holds 14 rows x 32 channels of accumulators in its 32
// registers. Written with Eigen's packet primitives, so SSE, AVX, AVX-512 and NEON share it.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <utility>

namespace ctresnet::ops::detail {

using packet = Eigen::internal::packet_traits<float>::type;
inline constexpr int packet_floats = Eigen::internal::packet_traits<float>::size;

#if defined(__AVX512F__) || defined(__aarch64__)
inline constexpr int vector_registers = 32;
#else
inline constexpr int vector_registers = 16;
#endif

/// Accumulator vectors per tile row: 32 channels on AVX-512; 16 on NEON, AVX and scalar code; 8 on SSE.
inline constexpr int tile_vectors = packet_floats >= 16 ? 2 : (vector_registers >= 32 && packet_floats == 4 ? 4 : 2);
inline constexpr int tile_columns = tile_vectors * packet_floats;
/// Tile rows: as many as the accumulators leave registers for (B's vectors and one broadcast).
inline constexpr int tile_rows = std::min(14, (vector_registers - tile_vectors - 2) / tile_vectors);

/// What happens to a finished tile: y = max(0, acc * scale + shift + residual), the ReLU optional
/// and `residual` possibly null; with a null `scale`, the tile is stored as it is.
struct tile_epilogue {
  const float* scale;
  const float* shift;
  const float* residual;
  index_t residual_stride;
  bool relu;
};

/// Rows x (Vectors * packet_floats) outputs. Everything the compiler needs to keep the
/// accumulators in registers is a template constant.
template <int Rows, int Vectors>
void gemm_tile(index_t depth, const float* a, index_t lda, const float* b, index_t ldb, float* c, index_t ldc,
               const tile_epilogue& e) {
  using namespace Eigen::internal;
  packet acc[Rows][Vectors];
  for (int i = 0; i < Rows; ++i)
    for (int v = 0; v < Vectors; ++v) acc[i][v] = pset1<packet>(0.0f);

  for (index_t k = 0; k < depth; ++k, b += ldb) {
    packet weights[Vectors];
    for (int v = 0; v < Vectors; ++v) weights[v] = ploadu<packet>(b + v * packet_floats);
    for (int i = 0; i < Rows; ++i) {
      const packet x = pset1<packet>(a[i * lda + k]);
      for (int v = 0; v < Vectors; ++v) acc[i][v] = pmadd(x, weights[v], acc[i][v]);
    }
  }

  if (e.scale == nullptr) {
    for (int i = 0; i < Rows; ++i)
      for (int v = 0; v < Vectors; ++v) pstoreu(c + i * ldc + v * packet_floats, acc[i][v]);
    return;
  }
  packet scale[Vectors], shift[Vectors];
  for (int v = 0; v < Vectors; ++v) {
    scale[v] = ploadu<packet>(e.scale + v * packet_floats);
    shift[v] = ploadu<packet>(e.shift + v * packet_floats);
  }
  const packet zero = pset1<packet>(0.0f);
  for (int i = 0; i < Rows; ++i) {
    for (int v = 0; v < Vectors; ++v) {
      packet y = pmadd(acc[i][v], scale[v], shift[v]);
      if (e.residual) y = padd(y, ploadu<packet>(e.residual + i * e.residual_stride + v * packet_floats));
      if (e.relu) y = pmax(y, zero);
      pstoreu(c + i * ldc + v * packet_floats, y);
    }
  }
}

/// The same for a panel narrower than one vector (fewer than packet_floats output channels).
inline void gemm_tile_narrow(int rows, int columns, index_t depth, const float* a, index_t lda, const float* b,
                             index_t ldb, float* c, index_t ldc, const tile_epilogue& e) {
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < columns; ++j) {
      float sum = 0.0f;
      for (index_t k = 0; k < depth; ++k) sum += a[i * lda + k] * b[k * ldb + j];
      if (e.scale == nullptr) {
        c[i * ldc + j] = sum;
        continue;
      }
      float y = sum * e.scale[j] + e.shift[j];
      if (e.residual) y += e.residual[i * e.residual_stride + j];
      c[i * ldc + j] = e.relu ? std::max(y, 0.0f) : y;
    }
  }
}

using gemm_tile_function = void (*)(index_t, const float*, index_t, const float*, index_t, float*, index_t,
                                    const tile_epilogue&);

/// gemm_tile<rows, Vectors> for rows = 1 ... tile_rows, indexed by rows - 1: the last tile of a
/// layer whose pixel count is not a multiple of tile_rows runs the kernel of its own height.
template <int Vectors, std::size_t... Rows>
constexpr std::array<gemm_tile_function, sizeof...(Rows)> gemm_tiles_by_rows(std::index_sequence<Rows...>) {
  return {&gemm_tile<int(Rows) + 1, Vectors>...};
}
template <int Vectors>
inline constexpr auto gemm_tiles = gemm_tiles_by_rows<Vectors>(std::make_index_sequence<tile_rows>{});

}  // namespace ctresnet::ops::detail
