// 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, 2015):
// each 2x2 block of outputs costs 16 multiplies per input/output channel pair instead of 36. The
// image is cut into tiles; each tile's 4x4 input window is transformed (adds only), multiplied by
// the transformed weights as 16 independent GEMMs (one per window position), and transformed back
// (adds only) into the 2x2 outputs, followed by the layer's epilogue.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/tensor_ops.hpp>

CTRESNET_KERNELS_BEGIN

namespace ctresnet::ops {

/// The Winograd scheme's constants.
struct winograd {
  static constexpr int positions = 16;          // of the 4x4 transformed window: one GEMM each
  static constexpr int block_tiles = 2 * tile_rows;  // tiles a thread transforms and multiplies at once

  /// Floats of transformed weights for a conv of `in` -> `out` channels.
  static constexpr index_t weight_floats(index_t in, index_t out) { return positions * in * out; }
  /// Per-thread scratch: one block's transformed inputs and its products, a pixel of zeros, and
  /// one position's transformed inputs packed for the GEMM kernel.
  static constexpr index_t thread_floats(index_t in, index_t out) {
    return positions * block_tiles * (in + out) + in + block_tiles * in + detail::pack_slack;
  }
};

/// U = G g G^T for every channel pair, from weights in panels (conv_weight_index) to 16 matrices
/// [in, out], each in panels of output channels like an ordinary 1x1 conv's weights.
CTRESNET_KERNEL void winograd_weights(const float* weights, int in_channels, int out_channels, float* transformed) {
  const index_t width = conv_panel_width(out_channels);
  const index_t matrix = index_t{in_channels} * out_channels;
  for (int o = 0; o < out_channels; ++o) {
    for (int i = 0; i < in_channels; ++i) {
      float g[3][3];
      for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 3; ++x) g[y][x] = weights[conv_weight_index(out_channels, in_channels, 3, o, i, y, x)];
      float gg[4][3];  // G g
      for (int x = 0; x < 3; ++x) {
        gg[0][x] = g[0][x];
        gg[1][x] = 0.5f * (g[0][x] + g[1][x] + g[2][x]);
        gg[2][x] = 0.5f * (g[0][x] - g[1][x] + g[2][x]);
        gg[3][x] = g[2][x];
      }
      const index_t at = (o / width) * width * in_channels + index_t{i} * width + o % width;
      for (int y = 0; y < 4; ++y) {  // (G g) G^T
        const float u[4] = {gg[y][0], 0.5f * (gg[y][0] + gg[y][1] + gg[y][2]), 0.5f * (gg[y][0] - gg[y][1] + gg[y][2]),
                            gg[y][2]};
        for (int x = 0; x < 4; ++x) transformed[(y * 4 + x) * matrix + at] = u[x];
      }
    }
  }
}

namespace detail {

/// B^T d B for one tile, channels [c, c + size of Packet): `d` holds the 16 window pixels (a
/// pixel in the padding points at zeros), `v` the first of 16 matrices `matrix` floats apart.
template <class Packet>
inline void winograd_input_tile(const float* const (&d)[16], index_t c, float* v, index_t matrix) {
  using namespace Eigen::internal;
  Packet r[4][4];  // B^T d
  for (int x = 0; x < 4; ++x) {
    const Packet d0 = ploadu<Packet>(d[x] + c), d1 = ploadu<Packet>(d[4 + x] + c), d2 = ploadu<Packet>(d[8 + x] + c),
                 d3 = ploadu<Packet>(d[12 + x] + c);
    r[0][x] = psub(d0, d2);
    r[1][x] = padd(d1, d2);
    r[2][x] = psub(d2, d1);
    r[3][x] = psub(d1, d3);
  }
  for (int y = 0; y < 4; ++y) {  // (B^T d) B
    pstoreu(v + (y * 4 + 0) * matrix + c, psub(r[y][0], r[y][2]));
    pstoreu(v + (y * 4 + 1) * matrix + c, padd(r[y][1], r[y][2]));
    pstoreu(v + (y * 4 + 2) * matrix + c, psub(r[y][2], r[y][1]));
    pstoreu(v + (y * 4 + 3) * matrix + c, psub(r[y][1], r[y][3]));
  }
}

/// V = B^T d B for tiles [first, first + count) of the image, written as 16 matrices [count, channels].
/// `zeros` holds in_channels zeros: the padding.
inline void winograd_inputs(const conv_geometry& g, const float* image, index_t first, int count, const float* zeros,
                            float* v) {
  const index_t channels = g.in_channels, tiles_wide = (g.out_width + 1) / 2;
  const index_t matrix = index_t{count} * channels;
  const index_t vector_end = channels - channels % packet_floats;
  for (int t = 0; t < count; ++t) {
    const int ty = static_cast<int>((first + t) / tiles_wide), tx = static_cast<int>((first + t) % tiles_wide);
    const float* d[16];
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) {
        const int iy = 2 * ty - 1 + y, ix = 2 * tx - 1 + x;
        const bool inside = iy >= 0 && iy < g.in_height && ix >= 0 && ix < g.in_width;
        d[y * 4 + x] = inside ? image + (index_t{iy} * g.in_width + ix) * channels : zeros;
      }
    float* tile = v + t * channels;
    index_t c = 0;
    for (; c < vector_end; c += packet_floats) winograd_input_tile<packet>(d, c, tile, matrix);
    for (; c < channels; ++c) winograd_input_tile<float>(d, c, tile, matrix);
  }
}

/// A^T M A for one tile, channels [c, c + size of Packet), then the epilogue; `valid` says which
/// of the 2x2 outputs lie inside the image and `at` where they go.
template <class Packet>
inline void winograd_output_tile(const float* m, index_t matrix, index_t c, const bool (&valid)[4],
                                 const index_t (&at)[4], const conv_epilogue& epilogue, const conv_scratch& scratch,
                                 float* out) {
  using namespace Eigen::internal;
  Packet r[2][4];  // A^T M
  for (int x = 0; x < 4; ++x) {
    const Packet m0 = ploadu<Packet>(m + x * matrix + c), m1 = ploadu<Packet>(m + (4 + x) * matrix + c),
                 m2 = ploadu<Packet>(m + (8 + x) * matrix + c), m3 = ploadu<Packet>(m + (12 + x) * matrix + c);
    r[0][x] = padd(padd(m0, m1), m2);
    r[1][x] = psub(psub(m1, m2), m3);
  }
  const Packet scale = ploadu<Packet>(scratch.scale + c), shift = ploadu<Packet>(scratch.shift + c);
  for (int y = 0; y < 2; ++y) {
    const Packet result[2] = {padd(padd(r[y][0], r[y][1]), r[y][2]), psub(psub(r[y][1], r[y][2]), r[y][3])};  // (A^T M) A
    for (int x = 0; x < 2; ++x) {
      const int i = y * 2 + x;
      if (!valid[i]) continue;
      Packet value = pmadd(result[x], scale, shift);
      if (epilogue.residual) value = padd(value, ploadu<Packet>(epilogue.residual + at[i] + c));
      if (epilogue.relu) value = pmax(value, pset1<Packet>(0.0f));
      pstoreu(out + at[i] + c, value);
    }
  }
}

/// Y = A^T M A for tiles [first, first + count), channels [begin, end), then the epilogue.
inline void winograd_outputs(const conv_geometry& g, const float* m, index_t first, int count, index_t begin,
                             index_t end, const conv_epilogue& epilogue, const conv_scratch& scratch, float* out) {
  const index_t channels = g.out_channels, tiles_wide = (g.out_width + 1) / 2;
  const index_t matrix = index_t{count} * channels;
  const index_t vector_end = end - (end - begin) % packet_floats;
  for (int t = 0; t < count; ++t) {
    const int ty = static_cast<int>((first + t) / tiles_wide), tx = static_cast<int>((first + t) % tiles_wide);
    bool valid[4];
    index_t at[4];
    for (int i = 0; i < 4; ++i) {
      const int oy = 2 * ty + i / 2, ox = 2 * tx + i % 2;
      valid[i] = oy < g.out_height && ox < g.out_width;
      at[i] = (index_t{oy} * g.out_width + ox) * channels;
    }
    const float* tile = m + t * channels;
    index_t c = begin;
    for (; c < vector_end; c += packet_floats)
      winograd_output_tile<packet>(tile, matrix, c, valid, at, epilogue, scratch, out);
    for (; c < end; ++c) winograd_output_tile<float>(tile, matrix, c, valid, at, epilogue, scratch, out);
  }
}

}  // namespace detail

/// Thread `thread` of `threads`' share of a Winograd conv: blocks of tiles, or output channels
/// where there are too few blocks to go round.
CTRESNET_KERNEL void winograd_conv3x3_part(const conv_geometry& g, const float* in, const float* transformed,
                                           const conv_epilogue& epilogue, float* out, const conv_scratch& scratch,
                                           int thread, int threads) {
  const index_t tiles = index_t{(g.out_height + 1) / 2} * ((g.out_width + 1) / 2);
  const index_t blocks = (tiles + winograd::block_tiles - 1) / winograd::block_tiles;
  const index_t channels = g.out_channels, depth = g.in_channels;
  const output_share share = share_of_outputs(blocks, 2, channels, thread, threads);

  float* v = scratch.per_thread + thread * scratch.per_thread_floats;
  float* m = v + winograd::positions * winograd::block_tiles * depth;
  float* zeros = m + winograd::positions * winograd::block_tiles * channels;
  float* packed = zeros + depth;
  std::fill(zeros, zeros + depth, 0.0f);
  const detail::tile_epilogue plain{nullptr, nullptr, nullptr, 0, false};
  for (index_t block = share.row_begin; block < share.row_end; ++block) {
    const index_t tile = tiles * block / blocks;  // blocks of equal size
    const int count = static_cast<int>(tiles * (block + 1) / blocks - tile);
    const int tiles_in_block = (count + tile_rows - 1) / tile_rows;
    detail::winograd_inputs(g, in, tile, count, zeros, v);
    for (int p = 0; p < winograd::positions; ++p) {
      const float* transformed_inputs = v + p * count * depth;
      const float* position_weights = transformed + p * depth * channels;
      float* products = m + p * count * channels;
      detail::row_tile row_tiles[winograd::block_tiles / tile_rows];
      for (int r = 0; r < tiles_in_block; ++r) {
        const int row = count * r / tiles_in_block, rows = count * (r + 1) / tiles_in_block - row;
        detail::pack_rows(transformed_inputs + row * depth, depth, rows, depth, packed + row * depth);
        row_tiles[r] = {rows, packed + row * depth, products + row * channels, nullptr};
      }
      detail::gemm_row_tiles(row_tiles, tiles_in_block, depth, position_weights, channels, share.column_begin,
                             share.column_end, plain);
    }
    detail::winograd_outputs(g, m, tile, count, share.column_begin, share.column_end, epilogue, scratch, out);
  }
}

/// out = epilogue(conv3x3(in)), stride 1, padding 1, with weights transformed by winograd_weights.
CTRESNET_KERNEL void winograd_conv3x3(const conv_geometry& g, const float* in, const float* transformed,
                                      const conv_epilogue& epilogue, float* out, const conv_scratch& scratch) {
  fold_batch_norm(epilogue.batch_norm, g.out_channels, scratch.scale, scratch.shift);
  run_parts(scratch.pool, [&](int thread, int threads) {
    winograd_conv3x3_part(g, in, transformed, epilogue, out, scratch, thread, threads);
  });
}

}  // namespace ctresnet::ops

CTRESNET_KERNELS_END
