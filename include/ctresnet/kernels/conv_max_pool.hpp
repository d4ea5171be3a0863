// A conv followed by a max pool, run band by band: each thread computes the conv rows that a band
// of the pool's output rows reads, into its own scratch, and pools them while they are in L2. The
// stem's conv output (112x112x64 floats, 3.2 MB, for a 224x224 image) is never stored whole, and
// the network's activation buffers need only be as large as the pool's output.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>
#include <ctresnet/detail/cache_lines.hpp>
#include <ctresnet/detail/work_queue.hpp>
#include <ctresnet/kernels/tensor_ops.hpp>

CTRESNET_KERNELS_BEGIN
#include <algorithm>
#include <cstring>
#include <utility>

namespace ctresnet::kernels {

/// A MaxPool2d's window and its output's size.
struct pool_geometry {
  int kernel, stride, padding;
  int out_height, out_width;

  /// The input rows [first, end) that output rows [first_row, end_row) read, of an input
  /// `height` rows high.
  constexpr std::pair<int, int> input_rows(int first_row, int end_row, int height) const {
    return {std::max(0, first_row * stride - padding), std::min(height, (end_row - 1) * stride - padding + kernel)};
  }
};

/// Floats of conv rows a band computes at most (128 KB), unless one pool row alone needs more: with
/// the rows it keeps from the band before, a band stays in L2 between the conv that writes it and
/// the pool that reads it. (The stem at 224x224: 4 rows of 112x64 floats, and 1 kept.)
inline constexpr index_t max_pool_band_floats = 32768;

/// Pool rows per band: as many as need at most max_pool_band_floats of new conv rows.
constexpr int max_pool_band_rows(const conv_geometry& g, const pool_geometry& p) {
  const index_t row_floats = index_t{g.out_width} * g.out_channels * p.stride;
  return static_cast<int>(std::max<index_t>(1, std::min<index_t>(p.out_height, max_pool_band_floats / row_floats)));
}

/// Conv rows a band holds: those its pool rows read, the first shared with the band before.
constexpr index_t max_pool_band_conv_rows(const conv_geometry& g, const pool_geometry& p) {
  return std::min<index_t>(g.out_height, index_t{max_pool_band_rows(g, p) - 1} * p.stride + p.kernel);
}

/// Scratch one thread needs for conv2d_max_pool: the conv's (conv_thread_floats), then on a cache
/// line a band of conv rows.
constexpr index_t conv_max_pool_thread_floats(const conv_geometry& g, const pool_geometry& p) {
  return whole_cache_lines(conv_thread_floats(g.patch_length())) +
         max_pool_band_conv_rows(g, p) * g.out_width * g.out_channels;
}

namespace detail {

/// Conv rows [first, end) of an ungrouped, undilated conv, all its output channels, into `out`
/// (row `first` at `out`): tiles of equal height, packed and multiplied in groups of up to tile_group.
inline void conv2d_rows(const conv_geometry& g, conv_input input, const float* in, const float* weights,
                        const tile_epilogue& e, int first, int end, float* out, float* thread_scratch) {
  const index_t depth = g.patch_length(), first_pixel = index_t{first} * g.out_width;
  const index_t pixels = index_t{end - first} * g.out_width, pixel_tiles = conv_pixel_tiles(pixels);
  float* patches = thread_scratch;
  float* packed = patches + tile_rows * depth;
  const index_t groups = (pixel_tiles + tile_group - 1) / tile_group;
  row_tile tiles[tile_group];
  for (index_t n = 0; n < groups; ++n) {
    // Groups of equal size, as conv2d's (conv_row_groups).
    const index_t group = pixel_tiles * n / groups;
    const int count = static_cast<int>(pixel_tiles * (n + 1) / groups - group);
    for (int t = 0; t < count; ++t) {
      const index_t row = pixels * (group + t) / pixel_tiles;
      const int rows = static_cast<int>(pixels * (group + t + 1) / pixel_tiles - row);
      float* tile_packed = packed + t * tile_rows * depth;
      tiles[t] = {rows, tile_packed, 0, out + row * g.out_channels, nullptr};
      if (input == conv_input::strided_planes)
        pack_patches_from_planes(g, in, first_pixel + row, rows, tile_packed);
      else
        pack_patches(g, in, g.in_channels, first_pixel + row, rows, patches, tile_packed);
    }
    gemm_row_tiles(tiles, count, depth, weights, g.out_channels, g.out_channels, 0, g.out_channels, e);
  }
}

/// One thread's bands of conv2d_max_pool, in the order next_band() hands them out (-1 when none
/// is left): for each, the conv rows its pool rows read go to `thread_scratch` after the conv's own
/// scratch; the rows it shares with the band before are kept from it if this thread ran that one.
template <class NextBand>
void conv2d_max_pool_bands(const conv_geometry& g, conv_input input, const float* in, const float* weights,
                           const tile_epilogue& e, const pool_geometry& p, float* out, float* thread_scratch,
                           NextBand&& next_band) {
  const int band_rows = max_pool_band_rows(g, p);
  const index_t conv_row_floats = index_t{g.out_width} * g.out_channels;
  float* const band = thread_scratch + whole_cache_lines(conv_thread_floats(g.patch_length()));
  index_t previous = -1;             // the band this thread pooled last, if any
  int held_first = 0, held_end = 0;  // the conv rows `band` holds
  for (index_t unit = next_band(); unit >= 0; unit = next_band()) {
    const int first_row = static_cast<int>(unit * band_rows);
    const int end_row = std::min(p.out_height, first_row + band_rows);
    const auto [first, end] = p.input_rows(first_row, end_row, g.out_height);
    int computed = first;
    if (previous >= 0 && previous == unit - 1 && held_end > first) {  // keep the rows both bands read
      std::memmove(band, band + index_t{first - held_first} * conv_row_floats,
                   sizeof(float) * static_cast<std::size_t>((held_end - first) * conv_row_floats));
      computed = held_end;
    }
    conv2d_rows(g, input, in, weights, e, computed, end, band + index_t{computed - first} * conv_row_floats,
                thread_scratch);
    max_pool_rows(band, first, g.out_height, g.out_width, g.out_channels, p.kernel, p.stride, p.padding, p.out_width,
                  first_row, end_row, out);
    previous = unit;
    held_first = first;
    held_end = end;
  }
}

}  // namespace detail

/// out = max_pool(epilogue(conv(in))) for an ungrouped, undilated conv without a residual (the
/// epilogue's residual is not read), `in` laid out as `input` says (see conv2d). The pool's output
/// rows go in bands (max_pool_band_rows) to the pool's threads, each taking its own share of bands
/// first (work_queue); each thread needs conv_max_pool_thread_floats of scratch. Where there are
/// fewer bands than threads (small images), some threads have none. The result equals conv2d
/// followed by max_pool.
CTRESNET_NOINLINE void conv2d_max_pool(const conv_geometry& g, conv_input input, const float* in, const float* weights,
                                       const conv_epilogue& epilogue, const pool_geometry& p, float* out,
                                       const conv_scratch& scratch) {
  fold_batch_norm(epilogue.batch_norm, g.out_channels, scratch.scale, scratch.shift);
  const detail::tile_epilogue e{scratch.scale, scratch.shift, nullptr, g.out_channels, epilogue.relu};
  const int band_rows = max_pool_band_rows(g, p);
  ctresnet::detail::work_queue queue((p.out_height + band_rows - 1) / band_rows, part_threads(scratch.pool));
  run_parts(scratch.pool, [&](int thread, int) {
    detail::conv2d_max_pool_bands(g, input, in, weights, e, p, out,
                                  scratch.per_thread + thread * scratch.per_thread_floats,
                                  [&] { return queue.next(thread); });
  });
}

}  // namespace ctresnet::kernels

CTRESNET_KERNELS_END
