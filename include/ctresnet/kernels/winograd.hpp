// 3x3 convolutions by Winograd's minimal filtering F(m x m, 3x3) (Lavin and Gray, 2015), for tiles
// of m = 2 or 4 outputs a side at stride 1, and of 2 at stride 2. Each tile's input window
// ((m+2) x (m+2), or 5x5 at stride 2) is transformed (adds and multiplies by constants), multiplied
// by the transformed weights as independent GEMMs (one per window position, or at stride 2 one per
// matrix of weights that several positions share), and transformed back into the m x m outputs,
// followed by the layer's epilogue. Per channel pair, a 2x2 tile costs 16 multiplies instead of 36,
// a 4x4 tile 36 instead of 144, a 2x2 tile at stride 2 25 instead of 36.
// The 4x4 tile's transforms multiply by up to 8 and lose about one decimal digit more (errors of a
// few 1e-5 of the sum in the unit tests; whole networks still agree with PyTorch to about 1e-6),
// and its transformed weights are 4x the weights instead of 16/9.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/kernels/tensor_ops.hpp>

CTRESNET_KERNELS_BEGIN

namespace ctresnet::kernels {

/// The constants of F(Tile x Tile, 3x3) at stride `Stride`.
template <int Tile, int Stride = 1>
struct winograd {
  static_assert((Stride == 1 && (Tile == 2 || Tile == 4)) || (Stride == 2 && Tile == 2),
                "ctresnet implements Winograd's F(2x2, 3x3) and F(4x4, 3x3) at stride 1, and F(2x2, 3x3) at stride 2");
  static constexpr int tile = Tile;                       // outputs per tile side
  static constexpr int stride = Stride;
  static constexpr int step = Stride * Tile;              // inputs from one tile to the next
  static constexpr int window = Stride * (Tile - 1) + 3;  // inputs per tile side
  static constexpr int positions = window * window;       // of the transformed window
  /// Transformed weights per side: one per position, but at stride 2 the last two positions of a
  /// side share theirs (the middle tap, g1, for both odd inputs).
  static constexpr int weight_window = Stride == 1 ? window : window - 1;
  /// Matrices of transformed weights: one GEMM each, over the tiles of every position that uses it.
  static constexpr int weight_positions = weight_window * weight_window;
  /// The most positions that share one matrix of weights.
  static constexpr int shared_positions = (window - weight_window + 1) * (window - weight_window + 1);
  /// The matrix of weights position `p` multiplies by.
  static constexpr int weight_position(int p) {
    const int y = p / window, x = p % window;
    return (y < weight_window ? y : weight_window - 1) * weight_window + (x < weight_window ? x : weight_window - 1);
  }
  static constexpr int max_block_tiles = detail::tile_group * tile_rows;
  /// Tiles a thread transforms and multiplies at once. Each block reads all the transformed
  /// weights, so layers of many channels (whose weights do not stay in L2) take larger blocks:
  /// at 14x14 with 256 channels the 49 tiles are one block instead of two (measured in one
  /// process: 0.98 of resnet18's and resnet50's time).
  static constexpr int block_tiles(index_t in) {
    return in >= 128 ? max_block_tiles : (detail::tile_group + 1) / 2 * tile_rows;
  }

  /// Tiles that cover an output of `height` x `width`.
  static constexpr index_t tiles(index_t height, index_t width) {
    return ((height + Tile - 1) / Tile) * ((width + Tile - 1) / Tile);
  }
  /// Floats of transformed weights for a conv of `in` -> `out` channels.
  static constexpr index_t weight_floats(index_t in, index_t out) { return weight_positions * in * out; }
  /// The most tiles one block of a conv over `in` channels with `tiles` tiles holds: block_tiles(in),
  /// and no more than the conv has. A thread's scratch is laid out for that many.
  static constexpr index_t scratch_tiles(index_t in, index_t tiles) {
    return block_tiles(in) < tiles ? block_tiles(in) : tiles;
  }
  /// Per-thread scratch for a conv of `in` -> `out` channels and `tiles` tiles: one block's
  /// transformed inputs and its products, a pixel of zeros, and the transformed inputs of the
  /// positions that share a matrix of weights, packed for the GEMM kernel.
  static constexpr index_t thread_floats(index_t in, index_t out, index_t tiles) {
    const index_t block = scratch_tiles(in, tiles);
    return positions * block * (in + out) + in + shared_positions * block * in + detail::pack_slack;
  }
};

/// The Winograd tile side a 3x3 conv with padding 1 runs with, by its stride and the side of its
/// output (0: the direct method). Measured layer by layer with AVX-512 (F4/F2 and direct/F2 time):
/// at stride 1, 4x4 tiles take 0.73-0.92 of 2x2 tiles' time at 56x56 and 28x28, but 1.03-1.27 at
/// 14x14 and below, where their padding and 4x larger weights cost more than they save; 2x2 tiles
/// beat the direct conv down to 8x8 (direct/F2 1.2-1.7) and at 7x7 (1.25-1.4 with 512 channels on
/// a Zen 5, where the weights come from memory and gemm_row_tiles fetches them ahead for both
/// tiles). At stride 2 on a Zen 5, 2x2 tiles take 0.83-0.89 of the direct conv's time at 28x28 and
/// 14x14 in resnet18 and resnet50, but 1.02-1.09 at 7x7 (16 tiles for 49 outputs).
constexpr int winograd_tile_for(int kernel, int stride, int padding, int out_height, int out_width) {
  if (kernel != 3 || padding != 1) return 0;
  const int side = out_height < out_width ? out_height : out_width;
  if (stride == 2) return side >= 14 ? 2 : 0;
  if (stride != 1) return 0;
  return side >= 28 ? 4 : side >= 7 ? 2 : 0;
}

namespace detail {

/// The one-dimensional transforms of F(Tile, 3) at stride `Stride`: G (weights), B^T (inputs) and
/// A^T (outputs). The two-dimensional ones apply them to the columns, then to the rows. `P` is a
/// packet of channels or a single number (float, or double for the weights).
template <int Tile, int Stride>
struct winograd_1d;

template <>
struct winograd_1d<2, 1> {
  template <class P>
  static void weights(const P (&g)[3], P (&u)[4]) {
    using namespace Eigen::internal;
    const P half = pset1<P>(0.5);
    u[0] = g[0];
    u[1] = pmul(half, padd(padd(g[0], g[1]), g[2]));
    u[2] = pmul(half, padd(psub(g[0], g[1]), g[2]));
    u[3] = g[2];
  }
  template <class P>
  static void inputs(const P (&d)[4], P (&r)[4]) {
    using namespace Eigen::internal;
    r[0] = psub(d[0], d[2]);
    r[1] = padd(d[1], d[2]);
    r[2] = psub(d[2], d[1]);
    r[3] = psub(d[1], d[3]);
  }
  template <class P>
  static void outputs(const P (&m)[4], P (&y)[2]) {
    using namespace Eigen::internal;
    y[0] = padd(padd(m[0], m[1]), m[2]);
    y[1] = psub(psub(m[1], m[2]), m[3]);
  }
};

template <>
struct winograd_1d<4, 1> {  // interpolation points 0, 1, -1, 2, -2 and infinity
  template <class P>
  static void weights(const P (&g)[3], P (&u)[6]) {
    using namespace Eigen::internal;
    const P four = pset1<P>(4.0), six = pset1<P>(6.0), twelve = pset1<P>(12.0), twenty_four = pset1<P>(24.0);
    u[0] = pdiv(g[0], four);
    u[1] = pdiv(pnegate(padd(padd(g[0], g[1]), g[2])), six);
    u[2] = pdiv(pnegate(padd(psub(g[0], g[1]), g[2])), six);
    u[3] = padd(padd(pdiv(g[0], twenty_four), pdiv(g[1], twelve)), pdiv(g[2], six));
    u[4] = padd(psub(pdiv(g[0], twenty_four), pdiv(g[1], twelve)), pdiv(g[2], six));
    u[5] = g[2];
  }
  template <class P>
  static void inputs(const P (&d)[6], P (&r)[6]) {
    using namespace Eigen::internal;
    const P four = pset1<P>(4.0f), minus_four = pset1<P>(-4.0f), minus_five = pset1<P>(-5.0f),
            two = pset1<P>(2.0f), minus_two = pset1<P>(-2.0f);
    r[0] = pmadd(four, d[0], pmadd(minus_five, d[2], d[4]));
    r[1] = pmadd(minus_four, padd(d[1], d[2]), padd(d[3], d[4]));
    r[2] = pmadd(four, psub(d[1], d[2]), psub(d[4], d[3]));
    r[3] = pmadd(minus_two, psub(d[1], d[3]), psub(d[4], d[2]));
    r[4] = pmadd(two, psub(d[1], d[3]), psub(d[4], d[2]));
    r[5] = pmadd(four, d[1], pmadd(minus_five, d[3], d[5]));
  }
  template <class P>
  static void outputs(const P (&m)[6], P (&y)[4]) {
    using namespace Eigen::internal;
    const P sum12 = padd(m[1], m[2]), difference12 = psub(m[1], m[2]);
    const P sum34 = padd(m[3], m[4]), difference34 = psub(m[3], m[4]);
    y[0] = padd(padd(m[0], sum12), sum34);
    y[1] = pmadd(pset1<P>(2.0f), difference34, difference12);
    y[2] = pmadd(pset1<P>(4.0f), sum34, sum12);
    y[3] = padd(pmadd(pset1<P>(8.0f), difference34, difference12), m[5]);
  }
};

/// Two outputs at stride 2 from the window x0 ... x4: y0 = g0 x0 + g1 x1 + g2 x2 and
/// y1 = g0 x2 + g1 x3 + g2 x4. The taps g0 and g2 meet the even inputs x0, x2, x4 as a conv of two
/// taps, F(2, 2) (points 0, 1 and infinity: 3 multiplies), and g1 meets the odd inputs x1, x3
/// alone (2 multiplies). 5 multiplies instead of 6, 25 instead of 36 for a 2x2 tile, with adds only.
template <>
struct winograd_1d<2, 2> {
  template <class P>
  static void weights(const P (&g)[3], P (&u)[4]) {  // u[3] serves both odd inputs
    u[0] = g[0];
    u[1] = Eigen::internal::padd(g[0], g[2]);
    u[2] = g[2];
    u[3] = g[1];
  }
  template <class P>
  static void inputs(const P (&d)[5], P (&r)[5]) {
    using namespace Eigen::internal;
    r[0] = psub(d[0], d[2]);
    r[1] = d[2];
    r[2] = psub(d[4], d[2]);
    r[3] = d[1];
    r[4] = d[3];
  }
  template <class P>
  static void outputs(const P (&m)[5], P (&y)[2]) {
    using namespace Eigen::internal;
    y[0] = padd(padd(m[0], m[1]), m[3]);
    y[1] = padd(padd(m[1], m[2]), m[4]);
  }
};

/// U = G g G^T, in double, for as many output channels side by side as a Packet of doubles holds
/// (or one, for a double): `g` points at the first one's tap (0, 0), the taps `tap_step` floats
/// apart, and U's positions go `matrix` floats apart from `u`.
template <int Tile, int Stride, class Packet>
inline void winograd_weight_lanes(const float* g, index_t tap_step, float* u, index_t matrix) {
  using namespace Eigen::internal;
  constexpr int window = winograd<Tile, Stride>::weight_window;
  constexpr int lanes = unpacket_traits<Packet>::size;
  double lane[lanes];
  Packet gg[window][3];  // G g, column by column
  for (int x = 0; x < 3; ++x) {
    Packet column[3], transformed[window];
    for (int y = 0; y < 3; ++y) {
      for (int j = 0; j < lanes; ++j) lane[j] = g[(3 * y + x) * tap_step + j];
      column[y] = ploadu<Packet>(lane);
    }
    winograd_1d<Tile, Stride>::weights(column, transformed);
    for (int y = 0; y < window; ++y) gg[y][x] = transformed[y];
  }
  for (int y = 0; y < window; ++y) {  // (G g) G^T, row by row
    Packet transformed[window];
    winograd_1d<Tile, Stride>::weights(gg[y], transformed);
    for (int x = 0; x < window; ++x) {
      pstoreu(lane, transformed[x]);
      float* position = u + (y * window + x) * matrix;
      for (int j = 0; j < lanes; ++j) position[j] = static_cast<float>(lane[j]);
    }
  }
}

}  // namespace detail

/// U = G g G^T for every channel pair, from weights in panels (conv_weight_index) to
/// `weight_positions` matrices [in, out], each in panels of output channels like an ordinary 1x1 conv's weights.
/// Computed in double, so the transformed weights are the exact ones rounded once, for a vector of
/// a panel's output channels at a time: the weights and each matrix keep them side by side.
template <int Tile, int Stride = 1>
CTRESNET_NOINLINE void winograd_weights(const float* weights, int in_channels, int out_channels, float* transformed) {
  using doubles = Eigen::internal::packet_traits<double>::type;
  constexpr int lanes = Eigen::internal::packet_traits<double>::size;
  const index_t width = conv_panel_width(out_channels), tap_step = conv_weight_tap_step(out_channels, in_channels);
  const index_t matrix = index_t{in_channels} * out_channels;
  for (index_t panel = 0; panel < out_channels; panel += width) {
    for (index_t i = 0; i < in_channels; ++i) {
      // Output channel panel + o, input i: in the weights tap (y, x) at g[(y * 3 + x) * tap_step],
      // in each matrix (laid out as a 1x1 conv's weights) at u + o.
      const float* g = weights + conv_weight_index(out_channels, in_channels, 3, panel, i, 0, 0);
      float* const u = transformed + conv_weight_index(out_channels, in_channels, 1, panel, i, 0, 0);
      const index_t whole = width / lanes * lanes;
      for (index_t o = 0; o < whole; o += lanes)
        detail::winograd_weight_lanes<Tile, Stride, doubles>(g + o, tap_step, u + o, matrix);
      for (index_t o = whole; o < width; ++o)
        detail::winograd_weight_lanes<Tile, Stride, double>(g + o, tap_step, u + o, matrix);
    }
  }
}

namespace detail {

/// B^T d B for one tile, channels [c, c + size of Packet): `d` holds the window's pixels row by
/// row (a pixel in the padding points at zeros), `v` the first of `positions` matrices `matrix`
/// floats apart.
template <int Tile, int Stride, class Packet>
inline void winograd_input_tile(const float* const (&d)[winograd<Tile, Stride>::positions], index_t c, float* v,
                                index_t matrix) {
  using namespace Eigen::internal;
  constexpr int window = winograd<Tile, Stride>::window;
  Packet t[window][window];  // B^T d
  for (int x = 0; x < window; ++x) {
    Packet column[window], transformed[window];
    for (int y = 0; y < window; ++y) column[y] = ploadu<Packet>(d[y * window + x] + c);
    winograd_1d<Tile, Stride>::inputs(column, transformed);
    for (int y = 0; y < window; ++y) t[y][x] = transformed[y];
  }
  for (int y = 0; y < window; ++y) {  // (B^T d) B
    Packet transformed[window];
    winograd_1d<Tile, Stride>::inputs(t[y], transformed);
    for (int x = 0; x < window; ++x) pstoreu(v + (y * window + x) * matrix + c, transformed[x]);
  }
}

/// V = B^T d B for tiles [first, first + count) of the image, written as `positions` matrices
/// [count, channels]. `zeros` holds in_channels zeros: the padding.
template <int Tile, int Stride>
void winograd_inputs(const conv_geometry& g, const float* image, index_t first, int count, const float* zeros,
                     float* v) {
  using scheme = winograd<Tile, Stride>;
  constexpr int window = scheme::window;
  const index_t channels = g.in_channels, tiles_wide = (g.out_width + Tile - 1) / Tile;
  const index_t matrix = index_t{count} * channels;
  const index_t vector_end = channels - channels % packet_floats;
  for (int t = 0; t < count; ++t) {
    const int ty = static_cast<int>((first + t) / tiles_wide), tx = static_cast<int>((first + t) % tiles_wide);
    const float* d[scheme::positions];
    for (int y = 0; y < window; ++y)
      for (int x = 0; x < window; ++x) {
        const int iy = scheme::step * ty - 1 + y, ix = scheme::step * tx - 1 + x;
        const bool inside = iy >= 0 && iy < g.in_height && ix >= 0 && ix < g.in_width;
        d[y * window + x] = inside ? image + (index_t{iy} * g.in_width + ix) * channels : zeros;
      }
    float* tile = v + t * channels;
    index_t c = 0;
    for (; c < vector_end; c += packet_floats) winograd_input_tile<Tile, Stride, packet>(d, c, tile, matrix);
    for (; c < channels; ++c) winograd_input_tile<Tile, Stride, float>(d, c, tile, matrix);
  }
}

/// A^T M A for one tile, channels [c, c + size of Packet), then the epilogue; `valid` says which
/// of the tile's outputs lie inside the image and `at` where they go.
template <int Tile, int Stride, class Packet>
inline void winograd_output_tile(const float* m, index_t matrix, index_t c, const bool (&valid)[Tile * Tile],
                                 const index_t (&at)[Tile * Tile], const conv_epilogue& epilogue,
                                 const conv_scratch& scratch, float* out) {
  using namespace Eigen::internal;
  constexpr int window = winograd<Tile, Stride>::window;
  Packet t[Tile][window];  // A^T M
  for (int x = 0; x < window; ++x) {
    Packet column[window], transformed[Tile];
    for (int y = 0; y < window; ++y) column[y] = ploadu<Packet>(m + (y * window + x) * matrix + c);
    winograd_1d<Tile, Stride>::outputs(column, transformed);
    for (int y = 0; y < Tile; ++y) t[y][x] = transformed[y];
  }
  const Packet scale = ploadu<Packet>(scratch.scale + c), shift = ploadu<Packet>(scratch.shift + c);
  for (int y = 0; y < Tile; ++y) {
    Packet result[Tile];  // (A^T M) A
    winograd_1d<Tile, Stride>::outputs(t[y], result);
    for (int x = 0; x < Tile; ++x) {
      const int i = y * Tile + x;
      if (!valid[i]) continue;
      Packet value = pmadd(result[x], scale, shift);
      if (epilogue.residual) value = padd(value, ploadu<Packet>(epilogue.residual + at[i] + c));
      if (epilogue.relu) value = pmax(value, pset1<Packet>(0.0f));
      pstoreu(out + at[i] + c, value);
    }
  }
}

/// Y = A^T M A for tiles [first, first + count), channels [begin, end), then the epilogue.
template <int Tile, int Stride>
void winograd_outputs(const conv_geometry& g, const float* m, index_t first, int count, index_t begin, index_t end,
                      const conv_epilogue& epilogue, const conv_scratch& scratch, float* out) {
  const index_t channels = g.out_channels, tiles_wide = (g.out_width + Tile - 1) / Tile;
  const index_t matrix = index_t{count} * channels;
  const index_t vector_end = end - (end - begin) % packet_floats;
  for (int t = 0; t < count; ++t) {
    const int ty = static_cast<int>((first + t) / tiles_wide), tx = static_cast<int>((first + t) % tiles_wide);
    bool valid[Tile * Tile];
    index_t at[Tile * Tile];
    for (int i = 0; i < Tile * Tile; ++i) {
      const int oy = Tile * ty + i / Tile, ox = Tile * tx + i % Tile;
      valid[i] = oy < g.out_height && ox < g.out_width;
      at[i] = (index_t{oy} * g.out_width + ox) * channels;
    }
    const float* tile = m + t * channels;
    index_t c = begin;
    for (; c < vector_end; c += packet_floats)
      winograd_output_tile<Tile, Stride, packet>(tile, matrix, c, valid, at, epilogue, scratch, out);
    for (; c < end; ++c) winograd_output_tile<Tile, Stride, float>(tile, matrix, c, valid, at, epilogue, scratch, out);
  }
}

}  // namespace detail

/// Tiles of Tile x Tile outputs that cover a Winograd conv's output.
template <int Tile, int Stride = 1>
constexpr index_t winograd_tiles(const conv_geometry& g) {
  return winograd<Tile, Stride>::tiles(g.out_height, g.out_width);
}

/// Blocks of a Winograd conv's tiles: where each thread would have a quarter of a full block
/// (14 tiles with AVX-512, 15 with AVX2), a multiple of `threads` blocks, so that each thread
/// transforms its own tiles (threads that split one block's channels would each transform and pack
/// all of its inputs: 1 block of 49 tiles at 14x14 and 28x28; 2 threads: 0.95 of resnet18's
/// time). With fewer tiles (16 at 7x7) the weights dominate, and the threads split the channels,
/// each reading a part of them rather than all (AVX2 on two threads: 0.91 of resnet18's time,
/// 0.985 of resnet50's).
template <int Tile, int Stride = 1>
index_t winograd_blocks(const conv_geometry& g, int threads) {
  using scheme = winograd<Tile, Stride>;
  const index_t tiles = winograd_tiles<Tile, Stride>(g);
  const int block_tiles = scheme::block_tiles(g.in_channels);
  index_t blocks = (tiles + block_tiles - 1) / block_tiles;
  if (tiles >= index_t{threads} * scheme::max_block_tiles / 4)
    blocks = (blocks + threads - 1) / threads * threads;
  return blocks;
}

/// Thread `thread` of `threads`' part of a Winograd conv whose tiles are in `blocks` blocks: where
/// `by_rows`, the blocks it claims from `queue`; otherwise a range of output channels.
template <int Tile, int Stride = 1>
CTRESNET_NOINLINE void winograd_conv3x3_part(const conv_geometry& g, const float* in, const float* transformed,
                                           const conv_epilogue& epilogue, float* out, const conv_scratch& scratch,
                                           index_t blocks, ctresnet::detail::work_queue& queue, bool by_rows,
                                           int thread, int threads) {
  using scheme = winograd<Tile, Stride>;
  const index_t tiles = winograd_tiles<Tile, Stride>(g), channels = g.out_channels, depth = g.in_channels;
  const index_t scratch_tiles = scheme::scratch_tiles(depth, tiles);  // as thread_floats lays the scratch out

  float* v = scratch.per_thread + thread * scratch.per_thread_floats;
  float* m = v + scheme::positions * scratch_tiles * depth;
  float* zeros = m + scheme::positions * scratch_tiles * channels;
  float* packed = zeros + depth;
  std::fill(zeros, zeros + depth, 0.0f);
  const detail::tile_epilogue plain{nullptr, nullptr, nullptr, 0, false};
  // With at most 2 tile widths of output channels the GEMMs read the transformed inputs where they
  // lie. (At 4, as 128 channels with AVX-512, in place took 1.15 of the time on two threads.)
  const bool in_place = detail::multiplies_in_place(depth, channels, 2);
  // Block `block`'s tiles over output channels [begin, end).
  const auto run_block = [&](index_t block, index_t begin, index_t end) {
    const index_t tile = tiles * block / blocks;  // blocks of equal size
    const int count = static_cast<int>(tiles * (block + 1) / blocks - tile);
    const int tiles_in_block = (count + tile_rows - 1) / tile_rows;
    detail::winograd_inputs<Tile, Stride>(g, in, tile, count, zeros, v);
    for (int w = 0; w < scheme::weight_positions; ++w) {
      // One GEMM over the tiles of every position that multiplies by matrix w of the weights.
      const float* position_weights = transformed + w * depth * channels;
      detail::row_tile row_tiles[scheme::shared_positions * (scheme::max_block_tiles / tile_rows)];
      int tile_count = 0;
      float* packed_rows = packed;
      for (int p = 0; p < scheme::positions; ++p) {
        if (scheme::weight_position(p) != w) continue;
        const float* transformed_inputs = v + p * count * depth;
        float* products = m + p * count * channels;
        for (int r = 0; r < tiles_in_block; ++r) {
          const int row = count * r / tiles_in_block, rows = count * (r + 1) / tiles_in_block - row;
          detail::row_tile& t = row_tiles[tile_count++];
          t = {rows, transformed_inputs + row * depth, depth, products + row * channels, nullptr};
          if (in_place) continue;
          detail::pack_rows(t.a, depth, rows, depth, packed_rows + row * depth);
          t.a = packed_rows + row * depth;
          t.lda = 0;
        }
        packed_rows += count * depth;
      }
      const float* next_weights = w + 1 < scheme::weight_positions ? position_weights + depth * channels : nullptr;
      detail::gemm_row_tiles(row_tiles, tile_count, depth, position_weights, channels, channels, begin, end, plain,
                             next_weights);
    }
    detail::winograd_outputs<Tile, Stride>(g, m, tile, count, begin, end, epilogue, scratch, out);
  };
  if (by_rows) {
    for (index_t block = queue.next(thread); block >= 0; block = queue.next(thread)) run_block(block, 0, channels);
    return;
  }
  const auto [begin, end] = channel_share(channels, thread, threads);
  for (index_t block = 0; block < blocks; ++block) run_block(block, begin, end);
}

/// out = epilogue(conv3x3(in)), stride `Stride`, padding 1, with weights transformed by
/// winograd_weights<Tile, Stride>.
template <int Tile, int Stride = 1>
CTRESNET_NOINLINE void winograd_conv3x3(const conv_geometry& g, const float* in, const float* transformed,
                                      const conv_epilogue& epilogue, float* out, const conv_scratch& scratch) {
  fold_batch_norm(epilogue.batch_norm, g.out_channels, scratch.scale, scratch.shift);
  const int threads = part_threads(scratch.pool);
  const index_t blocks = winograd_blocks<Tile, Stride>(g, threads);
  const bool by_rows = divide_by_rows(blocks, 1, g.out_channels, threads);
  ctresnet::detail::work_queue queue(by_rows ? blocks : 0, threads);
  run_parts(scratch.pool, [&](int thread, int count) {
    winograd_conv3x3_part<Tile, Stride>(g, in, transformed, epilogue, out, scratch, blocks, queue, by_rows, thread,
                                        count);
  });
}

}  // namespace ctresnet::kernels

CTRESNET_KERNELS_END
