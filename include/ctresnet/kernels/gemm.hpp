// The innermost loop of every convolution: a register-blocked tile of C = A * B followed by the
// layer's epilogue. A is a few rows of pixels (patch rows, or channels-last pixels for a 1x1 conv),
// packed column by column so that each step reads one short contiguous run of A, or read where
// they lie when packing would cost more than it saves (see multiplies_in_place); B is a panel of
// weights stored as `depth` rows of `ldb` output channels (see conv_weight_index). The tile shape
// follows the register file: AVX-512 holds 14 rows x 32 channels of accumulators in its 32
// registers. Written with Eigen's packet primitives, so SSE, AVX, AVX-512 and NEON share it.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>
#include <ctresnet/describe.hpp>
#include <ctresnet/detail/cache_lines.hpp>
#include <ctresnet/kernels/wasm_packet.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <utility>

// Eigen's packet types are vector types with alignment attributes, which g++ notes it drops when
// one is a template argument (PacketBlock<packet, N>); nothing depends on them there.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace ctresnet::kernels::detail {

#if CTRESNET_WASM_PACKET
using packet = wasm_f32x4;  // Eigen has no WebAssembly packets (kernels/wasm_packet.hpp)
#else
using packet = Eigen::internal::packet_traits<float>::type;
#endif
inline constexpr int packet_floats = Eigen::internal::unpacket_traits<packet>::size;
inline constexpr int vectors_per_line = cache_line_floats > packet_floats ? int(cache_line_floats / packet_floats) : 1;

#if defined(__AVX512F__) || defined(__aarch64__)
inline constexpr int vector_registers = 32;
#else
inline constexpr int vector_registers = 16;
#endif

/// Accumulator vectors per tile row: 32 channels on AVX-512; 16 on NEON and AVX; 8 on SSE; 2 in scalar code.
inline constexpr int tile_vectors = packet_floats >= 16 ? 2 : (vector_registers >= 32 && packet_floats == 4 ? 4 : 2);
inline constexpr int tile_columns = tile_vectors * packet_floats;
/// Tile rows: as many as the accumulators leave registers for (B's vectors and one broadcast).
inline constexpr int tile_rows = std::min(14, (vector_registers - tile_vectors - 2) / tile_vectors);

/// What happens to a finished tile: y = max(0, acc * scale + shift + residual), the ReLU optional
/// and `residual` possibly null; with a null `scale`, the tile is stored as it is. The residual may
/// be the output itself (residual_stride then equals the output's row stride): each element is
/// read before it is stored over.
struct tile_epilogue {
  const float* scale;
  const float* shift;
  const float* residual;
  index_t residual_stride;
  bool relu;
};

/// Floats pack_rows may write past the end of the packed rows.
inline constexpr int pack_slack = packet_floats;

/// Rows of A, `lda` floats apart, packed for gemm_tile: packed[k * rows + i] = a[i * lda + k].
/// Transposes blocks of packet_floats x packet_floats in registers where the rows fit in a vector
/// (element by element, the strided stores would cost more than the multiplications they feed).
/// `packed` needs pack_slack floats of room beyond rows * depth.
inline void pack_rows(const float* a, index_t lda, int rows, index_t depth, float* packed) {
  index_t k = 0;
  if constexpr (packet_floats > 1) {
    using namespace Eigen::internal;
    if (rows <= packet_floats) {
      for (; k + packet_floats <= depth; k += packet_floats) {
        PacketBlock<packet, packet_floats> block;
        for (int i = 0; i < packet_floats; ++i) block.packet[i] = ploadu<packet>(a + (i < rows ? i : 0) * lda + k);
        ptranspose(block);
        // Each store spills packet_floats - rows lanes into the next column, which the next
        // store (or the loop below, or the slack) then takes over.
        for (int j = 0; j < packet_floats; ++j) pstoreu(packed + (k + j) * rows, block.packet[j]);
      }
    }
  }
  for (int i = 0; i < rows; ++i) {  // the columns left over
    const float* source = a + i * lda + k;
    float* target = packed + k * rows + i;
    for (index_t n = depth - k; n > 0; --n, ++source, target += rows) *target = *source;
  }
}

/// Hints the cache to fetch what the kernel reads some steps ahead: the hardware prefetchers
/// alone leave the kernel waiting for B's panel (measured in isolation: 110 GFLOP/s without, 160
/// with, against an FMA peak of 155-170 on the AVX-512 machine of bench/'s results).
inline void prefetch(const float* address) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(address);
#else
  (void)address;
#endif
}

/// Asks for a line to be brought into L2 (not L1: it is needed later than the current panel).
inline void prefetch_to_l2(const float* address) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(address, 0, 2);
#else
  (void)address;
#endif
}

/// Rows x (Vectors * packet_floats) outputs from `a`: packed by pack_rows (`depth` x Rows), or
/// with InPlace, Rows rows of `depth` floats, `lda` apart. Everything the compiler needs to keep
/// the accumulators in registers is a template constant.
///
/// Each step also asks for one cache line of `upcoming`, into L2: `depth` consecutive lines of the
/// weights the caller needs next (see gemm_row_tiles).
template <int Rows, int Vectors, bool InPlace>
void gemm_tile(index_t depth, const float* a, index_t lda, const float* b, index_t ldb, float* c, index_t ldc,
               const tile_epilogue& e, const float* upcoming) {
  using namespace Eigen::internal;
  // Steps of k to prefetch ahead: far enough for weights that come from memory rather than cache
  // (4 steps gave the best kernel with hot caches, 16 the best network: about 10% faster).
  constexpr int ahead = 16;
  // The epilogue reads the residual, often from L3 (the block's input, written layers ago), and a
  // block's last conv stores its outputs over it. Asked for now, its lines arrive during the loop
  // instead of stalling the epilogue (resnet18: 0.96-0.98 of the time).
  if (e.residual)
    for (int i = 0; i < Rows; ++i)
      for (int v = 0; v < Vectors; v += vectors_per_line) prefetch(e.residual + i * e.residual_stride + v * packet_floats);
  packet acc[Rows][Vectors];
  for (int i = 0; i < Rows; ++i)
    for (int v = 0; v < Vectors; ++v) acc[i][v] = pset1<packet>(0.0f);

  for (index_t k = 0; k < depth; ++k, a += InPlace ? 1 : Rows, b += ldb) {
    packet weights[Vectors];
    for (int v = 0; v < Vectors; ++v) {
      weights[v] = ploadu<packet>(b + v * packet_floats);
      prefetch(b + ahead * ldb + v * packet_floats);
    }
    prefetch_to_l2(upcoming + k * cache_line_floats);  // unconditional: a branch here costs registers
    if constexpr (!InPlace) prefetch(a + ahead * Rows);  // rows in place: one stream each, for the hardware
    for (int i = 0; i < Rows; ++i) {
      const packet x = pset1<packet>(InPlace ? a[i * lda] : a[i]);
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

/// The same for a panel narrower than one vector (fewer than packet_floats output channels); `lda`
/// 0 for rows packed by pack_rows.
inline void gemm_tile_narrow(int rows, int columns, index_t depth, const float* a, index_t lda, const float* b,
                             index_t ldb, float* c, index_t ldc, const tile_epilogue& e) {
  const index_t row_step = lda == 0 ? 1 : lda, k_step = lda == 0 ? rows : 1;
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < columns; ++j) {
      float sum = 0.0f;
      for (index_t k = 0; k < depth; ++k) sum += a[i * row_step + k * k_step] * b[k * ldb + j];
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
                                    const tile_epilogue&, const float*);

/// gemm_tile<rows, Vectors, InPlace> for rows = 1 ... tile_rows, indexed by rows - 1: a layer
/// whose pixel count is not a multiple of tile_rows runs tiles of other heights.
template <int Vectors, bool InPlace, std::size_t... Rows>
constexpr std::array<gemm_tile_function, sizeof...(Rows)> gemm_tiles_by_rows(std::index_sequence<Rows...>) {
  return {&gemm_tile<int(Rows) + 1, Vectors, InPlace>...};
}
template <int Vectors, bool InPlace>
inline constexpr auto gemm_tiles = gemm_tiles_by_rows<Vectors, InPlace>(std::make_index_sequence<tile_rows>{});

/// The kernels for tiles `columns` output channels wide; nullptr if that is narrower than a vector.
template <bool InPlace>
const gemm_tile_function* gemm_tiles_for(index_t columns) {
  if (columns % packet_floats != 0) return nullptr;
  const index_t vectors = columns / packet_floats;
  if (vectors == 1) return gemm_tiles<1, InPlace>.data();
  if (vectors == 2) return gemm_tiles<2, InPlace>.data();
  if constexpr (tile_vectors == 4)
    if (vectors == 4) return gemm_tiles<tile_vectors, InPlace>.data();
  return nullptr;
}

/// Up to this many row tiles share each weight panel while it is in cache: about 56 pixels with 8
/// or 16 floats a vector, so that a 7x7 layer (49 pixels) reads its weights once per thread, as
/// the deep layers' weights come from L3 or memory at batch 1. (With AVX2's 6-row tiles, groups
/// of 4 read them three times. Groups of 10, with Winograd blocks to match: 0.97-0.98 of
/// resnet18's and resnet50's time on one thread, 0.85-0.88 on two, measured in one process on a
/// Zen 4 built with -march=x86-64-v3.)
inline constexpr int tile_group = packet_floats >= 8 ? (56 + tile_rows - 1) / tile_rows : 4;

/// One tile of rows: its A, where its outputs go, and its residual (or nullptr).
struct row_tile {
  int rows;
  const float* a;
  index_t lda;  // 0: `a` is packed by pack_rows; otherwise the floats between A's rows, read in place
  float* c;
  const float* residual;
};

/// Output channels one kernel call computes, for a layer of `channels` output channels: a whole
/// tile's width, or the weight panel's if that is narrower.
constexpr index_t tile_width(index_t channels) { return std::min<index_t>(conv_panel_width(channels), tile_columns); }

/// Whether tiles multiply rows of A that lie `lda` floats apart where they lie (row_tile::lda)
/// rather than packed: where a layer's `channels` outputs take at most `steps` tile widths, and
/// the rows lie at most 512 floats apart. Each step over the output channels reads A again, a
/// little slower in place than packed, while packing costs about as much as a few steps; and a
/// tile's 14 rows 4 KB apart fall into one set of L1, more lines than its ways. (AVX-512 on a
/// Zen 5: a 1x1 conv of 256 -> 64 channels at 56x56 in 0.88 of the time, 64 -> 256 in 1.04;
/// 1024 -> 256 at 14x14 in 1.04.)
constexpr bool multiplies_in_place(index_t lda, index_t channels, int steps) {
  return lda <= 512 && channels <= steps * tile_width(channels);
}

/// For each tile: C[rows, columns [begin, end)] = epilogue(A * B), with weights [depth, channels]
/// in panels (conv_weight_index) and C's rows `ldc` floats apart; begin and end are multiples of
/// tile_width(channels). Columns run outermost, so a stretch of weights is read from memory once
/// for all the tiles.
///
/// At batch 1 the deep layers' weights come from L3 or memory and serve few pixels, so the first
/// tile on a panel would wait for them. The tiles after it, which find the panel in cache, fetch
/// the next panel into L2 meanwhile. Each asks for `depth` lines, one per step of k, from a start
/// `share` lines after the previous tile's: so all of them fetch, the later ones partly lines
/// already asked for, and the last runs on into the panel after the next. (Measured in one
/// process, alternating forward passes with and without: 0.85-0.95 of the time of the 7x7 and
/// 14x14 layers, 0.95-0.985 of resnet18's and resnet50's. Starts `depth` lines apart, so that only
/// the tiles that fit in the next panel fetch, each a new line per step: 1.005-1.015 of the time
/// on one thread and 0.98-1.04 on two on a Zen 5, 1.01-1.04 with AVX2's ten-tile groups there.)
/// Where the tiles after the first cannot cover the next panel (a Winograd conv's two tiles of 8
/// rows at 7x7), the first tile fetches too. After the last panel, the tiles fetch the first one
/// of `following` at column `begin`: weights laid out as these, which the caller multiplies next
/// (a Winograd conv's next matrix of weights), or nullptr. (Both: 0.78-0.83 of the time of a 3x3 conv at
/// 7x7 by Winograd's 2x2 tiles, on a Zen 5.)
inline void gemm_row_tiles(const row_tile* tiles, int count, index_t depth, const float* weights, index_t channels,
                           index_t ldc, index_t begin, index_t end, tile_epilogue e,
                           const float* following = nullptr) {
  const index_t panel = conv_panel_width(channels), step = tile_width(channels);
  const index_t panel_lines = depth * panel / cache_line_floats;
  const int first_fetcher = (count - 1) * depth >= panel_lines ? 1 : 0;
  const int fetchers = count - first_fetcher;
  const index_t share = fetchers > 0 ? (panel_lines + fetchers - 1) / fetchers : 0;  // the panel over the fetchers
  const gemm_tile_function* packed_kernels = gemm_tiles_for<false>(step);
  const gemm_tile_function* in_place_kernels = gemm_tiles_for<true>(step);
  const float* scale = e.scale;
  const float* shift = e.shift;
  for (index_t column = begin; column < end; column += step) {
    const float* b = weights + (column / panel) * panel * depth + column % panel;
    // The next panel, if this step starts a panel: the one after it within [begin, end), or else
    // the first of `following`.
    const index_t next_panel = (column / panel + 1) * panel;
    const float* next = nullptr;
    if (column % panel == 0)
      next = next_panel < end ? weights + next_panel * depth
                              : following ? following + (begin / panel) * panel * depth : nullptr;
    if (scale) {
      e.scale = scale + column;
      e.shift = shift + column;
    }
    for (int t = 0; t < count; ++t) {
      const row_tile& tile = tiles[t];
      e.residual = tile.residual ? tile.residual + column : nullptr;
      // A fetching tile fetches the next panel's lines from (t - first_fetcher) share on; any other
      // tile asks for its own panel again (a cache hit).
      const bool fetches = next != nullptr && t >= first_fetcher && (t - first_fetcher) * share < panel_lines;
      const float* upcoming = fetches ? next + (t - first_fetcher) * share * cache_line_floats : b;
      const gemm_tile_function* kernels = tile.lda == 0 ? packed_kernels : in_place_kernels;
      if (kernels)
        kernels[tile.rows - 1](depth, tile.a, tile.lda, b, panel, tile.c + column, ldc, e, upcoming);
      else
        gemm_tile_narrow(tile.rows, int(step), depth, tile.a, tile.lda, b, panel, tile.c + column, ldc, e);
    }
  }
}

}  // namespace ctresnet::kernels::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
