// 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, 2015):
// each 2x2 block of outputs costs 16 multiplies per input/output channel pair instead of 36. The
// image is cut into tiles; each tile's 4x4 input window is transformed (adds only), multiplied by
// the transformed weights as 16 independent GEMMs (one per window position), and transformed back
// (adds only) into the 2x2 outputs, followed by the layer's epilogue.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/tensor_ops.hpp>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, as in tensor_ops.hpp
#endif

namespace ctresnet::ops {

/// The Winograd scheme's constants.
struct winograd {
  static constexpr int positions = 16;          // of the 4x4 transformed window: one GEMM each
  static constexpr int block_tiles = 2 * tile_rows;  // tiles a thread transforms and multiplies at once

  /// Floats of transformed weights for a conv of `in` -> `out` channels.
  static constexpr index_t weight_floats(index_t in, index_t out) { return positions * in * out; }
  /// Per-thread scratch: one block's transformed inputs and its products.
  static constexpr index_t thread_floats(index_t in, index_t out) { return positions * block_tiles * (in + out); }
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

/// V = B^T d B for tiles [first, first + count) of the image, written as 16 matrices [count, channels].
inline void winograd_inputs(const conv_geometry& g, const float* image, index_t first, int count, float* v) {
  const index_t channels = g.in_channels, tiles_wide = (g.out_width + 1) / 2;
  const index_t matrix = index_t{count} * channels;
  for (int t = 0; t < count; ++t) {
    const int ty = static_cast<int>((first + t) / tiles_wide), tx = static_cast<int>((first + t) % tiles_wide);
    const float* d[4][4];
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) {
        const int iy = 2 * ty - 1 + y, ix = 2 * tx - 1 + x;
        const bool inside = iy >= 0 && iy < g.in_height && ix >= 0 && ix < g.in_width;
        d[y][x] = inside ? image + (index_t{iy} * g.in_width + ix) * channels : nullptr;
      }
    float* out = v + t * channels;
    for (index_t c = 0; c < channels; ++c) {
      float w[4][4];
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) w[y][x] = d[y][x] ? d[y][x][c] : 0.0f;
      float r[4][4];  // B^T d
      for (int x = 0; x < 4; ++x) {
        r[0][x] = w[0][x] - w[2][x];
        r[1][x] = w[1][x] + w[2][x];
        r[2][x] = w[2][x] - w[1][x];
        r[3][x] = w[1][x] - w[3][x];
      }
      for (int y = 0; y < 4; ++y) {  // (B^T d) B
        out[(y * 4 + 0) * matrix + c] = r[y][0] - r[y][2];
        out[(y * 4 + 1) * matrix + c] = r[y][1] + r[y][2];
        out[(y * 4 + 2) * matrix + c] = r[y][2] - r[y][1];
        out[(y * 4 + 3) * matrix + c] = r[y][1] - r[y][3];
      }
    }
  }
}

/// Y = A^T M A for tiles [first, first + count), channels [begin, end), then the epilogue.
inline void winograd_outputs(const conv_geometry& g, const float* m, index_t first, int count, index_t begin,
                             index_t end, const conv_epilogue& epilogue, const conv_scratch& scratch, float* out) {
  const index_t channels = g.out_channels, tiles_wide = (g.out_width + 1) / 2;
  const index_t matrix = index_t{count} * channels;
  for (int t = 0; t < count; ++t) {
    const int ty = static_cast<int>((first + t) / tiles_wide), tx = static_cast<int>((first + t) % tiles_wide);
    const bool has_row[2] = {true, 2 * ty + 1 < g.out_height}, has_column[2] = {true, 2 * tx + 1 < g.out_width};
    const float* product = m + t * channels;
    for (index_t c = begin; c < end; ++c) {
      float a[4][4];
      for (int p = 0; p < 16; ++p) a[p / 4][p % 4] = product[p * matrix + c];
      float r[2][4];  // A^T M
      for (int x = 0; x < 4; ++x) {
        r[0][x] = a[0][x] + a[1][x] + a[2][x];
        r[1][x] = a[1][x] - a[2][x] - a[3][x];
      }
      for (int y = 0; y < 2; ++y) {
        if (!has_row[y]) continue;
        const float result[2] = {r[y][0] + r[y][1] + r[y][2], r[y][1] - r[y][2] - r[y][3]};  // (A^T M) A
        for (int x = 0; x < 2; ++x) {
          if (!has_column[x]) continue;
          const index_t at = ((2 * index_t{ty} + y) * g.out_width + 2 * tx + x) * channels + c;
          float value = result[x] * scratch.scale[c] + scratch.shift[c];
          if (epilogue.residual) value += epilogue.residual[at];
          out[at] = epilogue.relu ? std::max(value, 0.0f) : value;
        }
      }
    }
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
  const index_t panel = conv_panel_width(channels);
  const index_t step = std::min<index_t>(panel, detail::tile_columns);
  const index_t channel_tiles = channels / step;

  const bool split_blocks = blocks >= 2 * index_t{threads} || channel_tiles < threads;
  const index_t units = split_blocks ? blocks : channel_tiles;
  const index_t first = units * thread / threads, last = units * (thread + 1) / threads;
  const index_t block_begin = split_blocks ? first : 0, block_end = split_blocks ? last : blocks;
  const index_t column_begin = split_blocks ? 0 : first * step, column_end = split_blocks ? channels : last * step;

  const int vectors = static_cast<int>(step / detail::packet_floats);
  const bool narrow = step % detail::packet_floats != 0;
  const detail::gemm_tile_function* kernels = detail::gemm_tiles<1>.data();
  if (vectors == 2) kernels = detail::gemm_tiles<2>.data();
  if constexpr (detail::tile_vectors == 4)
    if (vectors == 4) kernels = detail::gemm_tiles<detail::tile_vectors>.data();

  float* v = scratch.patches + thread * scratch.patch_floats;
  float* m = v + winograd::positions * winograd::block_tiles * depth;
  const detail::tile_epilogue plain{nullptr, nullptr, nullptr, 0, false};
  for (index_t block = block_begin; block < block_end; ++block) {
    const index_t tile = block * winograd::block_tiles;
    const int count = static_cast<int>(std::min<index_t>(winograd::block_tiles, tiles - tile));
    detail::winograd_inputs(g, in, tile, count, v);
    for (int p = 0; p < winograd::positions; ++p) {
      const float* a_matrix = v + p * count * depth;
      const float* b_matrix = transformed + p * depth * channels;
      float* c_matrix = m + p * count * channels;
      for (int row = 0; row < count; row += tile_rows) {
        const int rows = std::min(tile_rows, count - row);
        for (index_t column = column_begin; column < column_end; column += step) {
          const float* a = a_matrix + row * depth;
          const float* b = b_matrix + (column / panel) * panel * depth + column % panel;
          float* c = c_matrix + row * channels + column;
          if (narrow)
            detail::gemm_tile_narrow(rows, static_cast<int>(step), depth, a, depth, b, panel, c, channels, plain);
          else
            kernels[rows - 1](depth, a, depth, b, panel, c, channels, plain);
        }
      }
    }
    detail::winograd_outputs(g, m, tile, count, column_begin, column_end, epilogue, scratch, out);
  }
}

/// out = epilogue(conv3x3(in)), stride 1, padding 1, with weights transformed by winograd_weights.
CTRESNET_KERNEL void winograd_conv3x3(const conv_geometry& g, const float* in, const float* transformed,
                                      const conv_epilogue& epilogue, float* out, const conv_scratch& scratch) {
  fold_batch_norm(epilogue.batch_norm, g.out_channels, scratch.scale, scratch.shift);
  if (scratch.pool == nullptr || scratch.pool->size() == 1) {
    winograd_conv3x3_part(g, in, transformed, epilogue, out, scratch, 0, 1);
    return;
  }
  scratch.pool->run(
      [&](int thread, int threads) { winograd_conv3x3_part(g, in, transformed, epilogue, out, scratch, thread, threads); });
}

}  // namespace ctresnet::ops

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
