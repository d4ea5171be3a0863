// Run-time arithmetic on one image in channels-last (HWC) order. Sizes are run-time arguments on
// purpose: the compiler instantiates each kernel once, however many layer shapes a network has,
// which keeps deep networks cheap to compile. The layer types pass their compile-time sizes in.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>
#include <ctresnet/describe.hpp>
#include <ctresnet/detail/work_queue.hpp>
#include <ctresnet/kernels/conv_geometry.hpp>
#include <ctresnet/thread_pool.hpp>

CTRESNET_KERNELS_BEGIN
#include <Eigen/Core>
#include <ctresnet/kernels/gemm.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

namespace ctresnet::kernels {

/// Copies the patch rows of output pixels [first, first + rows) (im2col for those rows): each row
/// is the pixel's kernel window in (row, column, channel) order, zeros where it overhangs the padding.
/// The window covers `channels` channels from `image` on, pixels being g.in_channels floats apart.
/// Channels-last makes each kernel row of an ungrouped window one contiguous run of the image.
inline void gather_patches(const conv_geometry& g, const float* image, index_t channels, index_t first, int rows,
                           float* patches) {
  const index_t pixel_stride = g.in_channels;
  const index_t window_row = g.kernel * channels;
  float* row = patches;
  if (g.dilation > 1) {  // taps `dilation` pixels apart, each inside the image or not on its own
    for (index_t p = first; p < first + rows; ++p) {
      const int oy = static_cast<int>(p / g.out_width), ox = static_cast<int>(p % g.out_width);
      for (int ky = 0; ky < g.kernel; ++ky) {
        const int iy = oy * g.stride - g.padding + ky * g.dilation;
        for (int kx = 0; kx < g.kernel; ++kx, row += channels) {
          const int ix = ox * g.stride - g.padding + kx * g.dilation;
          if (iy < 0 || iy >= g.in_height || ix < 0 || ix >= g.in_width) {
            std::fill(row, row + channels, 0.0f);
          } else {
            const float* pixel = image + (index_t{iy} * g.in_width + ix) * pixel_stride;
            std::copy(pixel, pixel + channels, row);
          }
        }
      }
    }
    return;
  }
  for (index_t p = first; p < first + rows; ++p) {
    const int oy = static_cast<int>(p / g.out_width), ox = static_cast<int>(p % g.out_width);
    const int ix = ox * g.stride - g.padding;
    const int left = std::max(0, -ix), right = std::max(0, ix + g.kernel - g.in_width);  // columns in the padding
    for (int ky = 0; ky < g.kernel; ++ky, row += window_row) {
      const int iy = oy * g.stride - g.padding + ky;
      if (iy < 0 || iy >= g.in_height || left + right >= g.kernel) {
        std::fill(row, row + window_row, 0.0f);
        continue;
      }
      const float* pixel = image + (index_t{iy} * g.in_width + ix + left) * pixel_stride;
      std::fill(row, row + left * channels, 0.0f);
      if (channels == pixel_stride) {
        std::copy(pixel, pixel + (g.kernel - left - right) * channels, row + left * channels);
      } else {
        for (int kx = left; kx < g.kernel - right; ++kx, pixel += pixel_stride)
          std::copy(pixel, pixel + channels, row + kx * channels);
      }
      std::fill(row + (g.kernel - right) * channels, row + window_row, 0.0f);
    }
  }
}

/// gather_patches followed by pack_rows, mostly without the patch rows in between: for a tile of
/// pixels inside one output row, each kernel tap's pixels are `stride` pixels apart in the image,
/// so pack_rows reads them there; only taps that overhang the padding are gathered first (into
/// `patches`). A 3x3 conv over 256 channels thus skips writing and rereading 129 KB of patch rows
/// per tile of 14 pixels.
inline void pack_patches(const conv_geometry& g, const float* image, index_t channels, index_t first, int rows,
                         float* patches, float* packed) {
  const index_t depth = g.patch_length(), oy = first / g.out_width, ox = first % g.out_width;
  if (g.dilation > 1 || ox + rows > g.out_width) {
    gather_patches(g, image, channels, first, rows, patches);
    detail::pack_rows(patches, depth, rows, depth, packed);
    return;
  }
  const index_t pixel_stride = g.in_channels, tap_stride = g.stride * pixel_stride;
  // Taps in weight order, each `channels` columns of the packed rows; pack_rows' spills past a
  // tap's columns land in the next one's, written after it.
  for (int ky = 0; ky < g.kernel; ++ky) {
    const index_t iy = oy * g.stride - g.padding + ky;
    for (int kx = 0; kx < g.kernel; ++kx, packed += channels * rows) {
      const index_t ix = ox * g.stride - g.padding + kx, last_ix = ix + (rows - 1) * index_t{g.stride};
      if (iy >= 0 && iy < g.in_height && ix >= 0 && last_ix < g.in_width) {
        detail::pack_rows(image + (iy * g.in_width + ix) * pixel_stride, tap_stride, rows, channels, packed);
        continue;
      }
      for (int i = 0; i < rows; ++i) {
        const index_t x = ix + i * index_t{g.stride};
        float* row = patches + i * channels;
        if (iy < 0 || iy >= g.in_height || x < 0 || x >= g.in_width)
          std::fill(row, row + channels, 0.0f);
        else
          std::copy_n(image + (iy * g.in_width + x) * pixel_stride, channels, row);
      }
      detail::pack_rows(patches, channels, rows, channels, packed);
    }
  }
}

/// A conv's input as `stride`-phase planes, the layout in which a strided conv with few input
/// channels (the stem: 3 channels, 7x7/2) packs its patch rows fastest. Each channel is a
/// zero-padded plane of (in_height + 2 padding) rows, and each row keeps its columns of equal
/// x mod stride together: padded column X sits in phase X % stride at X / stride. A tap (ky, kx)
/// then reads consecutive output pixels of one output row from consecutive floats, so a tile's
/// column of the packed patch matrix is one short copy instead of a gather from pixels
/// in_channels apart and a transpose (which took 40 % of the stem's time).
struct strided_planes {
  index_t channels, rows, phases, row_floats;  // row_floats: of one phase of one row

  explicit constexpr strided_planes(const conv_geometry& g)
      : channels(g.in_channels),
        rows(g.in_height + 2 * index_t{g.padding}),
        phases(g.stride),
        row_floats((g.in_width + 2 * index_t{g.padding} + g.stride - 1) / g.stride) {}
  /// Floats of one padded row (all its phases) and of one channel's plane.
  constexpr index_t row_stride() const { return phases * row_floats; }
  constexpr index_t plane_floats() const { return rows * row_stride(); }
  /// Floats the planes take, with room for the packet that copying the last row's end reads past it.
  constexpr index_t floats() const { return channels * plane_floats() + detail::packet_floats; }
  /// Where padded pixel (row, column) of channel c is.
  constexpr index_t index(index_t c, index_t row, index_t column) const {
    return c * plane_floats() + row * row_stride() + column % phases * row_floats + column / phases;
  }
};

/// The CHW image `chw` (in_channels x in_height x in_width, PyTorch's order) as strided_planes.
inline void chw_to_strided_planes(const conv_geometry& g, const float* chw, float* planes) {
  const strided_planes p(g);
  std::fill(planes, planes + p.floats(), 0.0f);
  for (index_t c = 0; c < g.in_channels; ++c)
    for (index_t y = 0; y < g.in_height; ++y, chw += g.in_width)
      for (index_t phase = 0; phase < p.phases; ++phase) {
        // Padded columns X = phase, phase + stride, ...; the image's start at X = padding.
        float* target = planes + p.index(c, y + g.padding, phase);
        const index_t first_x = (phase + p.phases - g.padding % p.phases) % p.phases;  // X - padding = first_x
        target += (first_x + g.padding) / p.phases;
        for (index_t x = first_x; x < g.in_width; x += p.phases) *target++ = chw[x];
      }
}

/// Patch rows of output pixels [first, first + rows) packed for the GEMM kernel, as pack_rows
/// would from gather_patches' rows, but read from strided_planes (ungrouped, undilated convs).
/// Needs pack_slack floats of room beyond rows * patch_length().
inline void pack_patches_from_planes(const conv_geometry& g, const float* planes, index_t first, int rows,
                                     float* packed) {
  const strided_planes p(g);
  const index_t plane_floats = p.plane_floats(), row_stride = p.row_stride();
  // The tile's runs of pixels within one output row: where each starts in the tile, and where its
  // first pixel's window starts in the planes.
  struct run {
    int start, length;
    const float* window;
  };
  run runs[detail::tile_rows];
  int count = 0;
  for (int i = 0; i < rows; ++count) {
    const index_t pixel = first + i, oy = pixel / g.out_width, ox = pixel % g.out_width;
    const int length = static_cast<int>(std::min<index_t>(rows - i, g.out_width - ox));
    runs[count] = {i, length, planes + p.index(0, oy * g.stride, ox * g.stride)};
    i += length;
  }
  // Column k of the packed rows holds tap (ky, kx) of channel c, k = (ky * kernel + kx) * channels
  // + c, as in the weights' panels; copy(offset, column) fills one from the runs' windows + offset.
  const auto for_each_column = [&](auto&& copy) {
    float* column = packed;
    for (int ky = 0; ky < g.kernel; ++ky) {
      // Tap kx is kx / stride floats on in phase kx % stride (no division in the loop).
      index_t phase = 0, shift = 0;
      for (int kx = 0; kx < g.kernel; ++kx) {
        const index_t tap = ky * row_stride + phase * p.row_floats + shift;
        for (index_t c = 0; c < g.in_channels; ++c, column += rows) copy(tap + c * plane_floats, column);
        if (++phase == p.phases) {
          phase = 0;
          ++shift;
        }
      }
    }
  };
  // Whole packets are copied, in increasing k and start: each spills into the part of the packed
  // rows written next (or into the slack). A tile inside one output row, as all the stem's are
  // (112 pixels = 8 tiles of 14), takes one packet per column: twice as fast as the general loop.
  using namespace Eigen::internal;
  using detail::packet;
  if (count == 1 && rows <= detail::packet_floats) {
    const float* window = runs[0].window;
    for_each_column([&](index_t offset, float* column) { pstoreu(column, ploadu<packet>(window + offset)); });
    return;
  }
  for_each_column([&](index_t offset, float* column) {
    for (int r = 0; r < count; ++r)
      for (int j = 0; j < runs[r].length; j += detail::packet_floats)
        pstoreu(column + runs[r].start + j, ploadu<packet>(runs[r].window + offset + j));
  });
}

/// Eval-mode BatchNorm as a per-channel scale and shift:
/// (x - mean) / sqrt(var + eps) * weight + bias == x * scale + shift.
/// `batch_norm` holds weight, bias, running_mean, running_var, `channels` floats each.
/// In vectors where the CPU has an exact vector square root: per channel, std::sqrt compiles to a
/// scalar call that sets errno, which made the folding of resnet50's 53 BatchNorms take 57 us per
/// image on a Zen 5 (10 us in vectors). Eigen's own vector sqrt is an estimate refined once, and
/// would round differently from std::sqrt.
inline void fold_batch_norm(const float* batch_norm, int channels, float* scale, float* shift) {
  const float* var = batch_norm + 3 * index_t{channels};
  int c = 0;  // first scale = sqrt(var + eps)
#if defined(EIGEN_VECTORIZE_SSE)
  for (; c + 4 <= channels; c += 4)
    _mm_storeu_ps(scale + c, _mm_sqrt_ps(_mm_add_ps(_mm_loadu_ps(var + c), _mm_set1_ps(batch_norm_eps))));
#elif defined(EIGEN_VECTORIZE_NEON) && defined(__aarch64__)
  for (; c + 4 <= channels; c += 4)
    vst1q_f32(scale + c, vsqrtq_f32(vaddq_f32(vld1q_f32(var + c), vdupq_n_f32(batch_norm_eps))));
#endif
  for (; c < channels; ++c) scale[c] = std::sqrt(var[c] + batch_norm_eps);
  using vector = Eigen::Map<const Eigen::ArrayXf>;
  const vector weight(batch_norm, channels), bias(batch_norm + channels, channels),
      mean(batch_norm + 2 * index_t{channels}, channels);
  Eigen::Map<Eigen::ArrayXf> folded_scale(scale, channels), folded_shift(shift, channels);
  folded_scale = weight / folded_scale;
  folded_shift = bias - mean * folded_scale;
}

/// What follows a convolution in a ResNet: BatchNorm, optionally the residual sum, optionally ReLU.
struct conv_epilogue {
  const float* batch_norm;
  const float* residual;  // same shape as the output (it may be the output itself), or nullptr
  bool relu;
};

/// How a conv's input image is laid out: channels-last (HWC, every layer's activations) or as
/// strided_planes (the network's input, for its stem).
enum class conv_input { channels_last, strided_planes };

/// Rows of output pixels computed together; a thread packs that many patch rows at a time.
inline constexpr int tile_rows = detail::tile_rows;

/// Scratch one thread needs for a conv with patch rows of `patch_length` floats: one tile of
/// gathered rows, and a group of tiles packed for the GEMM kernel.
constexpr index_t conv_thread_floats(index_t patch_length) {
  return (1 + detail::tile_group) * tile_rows * patch_length + detail::pack_slack;
}

/// Scratch memory a convolution may use: each thread's own (conv_thread_floats or
/// winograd::thread_floats), and a per-channel scale and shift. With a pool of several threads
/// the convolution is split among them.
struct conv_scratch {
  float* per_thread;          // thread t's scratch starts at per_thread + t * per_thread_floats
  index_t per_thread_floats;  // the most that any layer of the network needs
  float* scale;
  float* shift;
  thread_pool* pool;          // nullptr: the calling thread does all the work
};

/// Whether a conv divides its outputs among `threads` threads by rows (tiles of pixels, blocks of
/// Winograd tiles), each unit of rows across all output channels: where there are at least
/// `rows_per_thread` row units per thread. Otherwise each thread takes a range of output channels
/// over all rows (channel_share), so that at 7x7 each thread reads a part of the weights, not all.
inline bool divide_by_rows(index_t row_units, index_t rows_per_thread, index_t channels, int threads) {
  const index_t column_units = channels / detail::tile_width(channels);
  return row_units >= rows_per_thread * threads || column_units < threads;
}

/// Thread `thread` of `threads`' output channels [first, second), in whole tiles, where a conv is
/// divided by channels.
inline std::pair<index_t, index_t> channel_share(index_t channels, int thread, int threads) {
  const index_t step = detail::tile_width(channels), units = channels / step;
  return {units * thread / threads * step, units * (thread + 1) / threads * step};
}

/// Calls part(thread, threads) on the pool's threads, or once on this one if there is no pool.
///
/// A program that defines CTRESNET_PART_TIMER as a type before it includes ctresnet (the same in
/// all its translation units) has one made for each such job, its start(thread) and stop(thread)
/// called around each thread index's part (bench/layer_times.cpp times each layer with it).
template <class Part>
void run_parts(thread_pool* pool, Part&& part) {
#ifdef CTRESNET_PART_TIMER
  CTRESNET_PART_TIMER timer;
  const auto job = [&](int thread, int threads) {
    timer.start(thread);
    part(thread, threads);
    timer.stop(thread);
  };
#else
  Part& job = part;
#endif
  if (pool == nullptr)
    job(0, 1);
  else
    pool->run(job);
}

/// Threads that run a part: the pool's, or the calling thread alone.
inline int part_threads(const thread_pool* pool) { return pool == nullptr ? 1 : pool->size(); }

/// Tiles of up to tile_rows pixels, of equal height, for a conv's `pixels` output pixels.
inline index_t conv_pixel_tiles(index_t pixels) { return (pixels + tile_rows - 1) / tile_rows; }

/// Groups of up to tile_group tiles of pixels, of equal size (9 tiles: 5 and 4 rather than 8 and 1),
/// for a conv's `pixels` output pixels: the row units of conv2d.
inline index_t conv_row_groups(index_t pixels) {
  return (conv_pixel_tiles(pixels) + detail::tile_group - 1) / detail::tile_group;
}

/// Thread `thread` of `threads`' part of out = epilogue(conv(in, weights)): where `by_rows`, the
/// groups of row tiles it claims from `queue`, each a group in one block of groups
/// (conv_weight_layout); otherwise a range of output channels. A grouped conv runs block of
/// groups by block, each a dense conv on its channels.
CTRESNET_NOINLINE void conv2d_part(const conv_geometry& g, conv_input input, const float* in, const float* weights,
                                 const conv_epilogue& epilogue, float* out, const conv_scratch& scratch,
                                 ctresnet::detail::work_queue& queue, bool by_rows, int thread, int threads) {
  const conv_weight_layout layout = g.weight_layout();
  const index_t pixels = g.out_pixels(), channels = layout.block_outputs(), depth = g.patch_length();
  const index_t pixel_tiles = conv_pixel_tiles(pixels), groups = conv_row_groups(pixels);

  float* patches = scratch.per_thread + thread * scratch.per_thread_floats;
  float* packed = patches + tile_rows * depth;
  // A 1x1 stride-1 conv multiplies the image itself: its pixels are the rows of A. With few
  // output channels they are read where they lie (with more, packing them pays; see
  // multiplies_in_place).
  const bool pointwise = input == conv_input::channels_last && g.is_pointwise();
  const bool in_place = pointwise && detail::multiplies_in_place(g.in_channels, channels, 4);
  // Group n of block `block`'s tiles over output channels [begin, end).
  const auto run_group = [&](index_t block, index_t n, index_t begin, index_t end) {
    const index_t first_input = block * layout.block_inputs(), first_output = block * channels;
    const detail::tile_epilogue e{scratch.scale + first_output, scratch.shift + first_output, nullptr, g.out_channels,
                                  epilogue.relu};
    const index_t group = pixel_tiles * n / groups;
    const int count = static_cast<int>(pixel_tiles * (n + 1) / groups - group);
    detail::row_tile tiles[detail::tile_group];
    for (int t = 0; t < count; ++t) {
      // Tiles of equal height (49 pixels: 12, 12, 12, 13 rather than 14, 14, 14, 7).
      const index_t row = pixels * (group + t) / pixel_tiles;
      const int rows = static_cast<int>(pixels * (group + t + 1) / pixel_tiles - row);
      const index_t at = row * g.out_channels + first_output;
      float* tile_packed = packed + t * tile_rows * depth;
      tiles[t] = {rows, tile_packed, 0, out + at, epilogue.residual ? epilogue.residual + at : nullptr};
      const float* tile_pixels = in + row * g.in_channels + first_input;
      if (in_place) {
        tiles[t].a = tile_pixels;
        tiles[t].lda = g.in_channels;
      } else if (pointwise) {
        detail::pack_rows(tile_pixels, g.in_channels, rows, depth, tile_packed);
      } else if (input == conv_input::strided_planes) {
        pack_patches_from_planes(g, in, row, rows, tile_packed);
      } else {
        pack_patches(g, in + first_input, layout.block_inputs(), row, rows, patches, tile_packed);
      }
    }
    detail::gemm_row_tiles(tiles, count, depth, weights + block * layout.block_floats(), channels, g.out_channels,
                           begin, end, e);
  };
  if (by_rows) {
    // Units in the order of the rows, so that a thread's share is a band of the image in every block.
    for (index_t unit = queue.next(thread); unit >= 0; unit = queue.next(thread))
      run_group(unit % layout.blocks(), unit / layout.blocks(), 0, channels);
    return;
  }
  const auto [begin, end] = channel_share(channels, thread, threads);
  for (index_t block = 0; block < layout.blocks(); ++block)
    for (index_t n = 0; n < groups; ++n) run_group(block, n, begin, end);
}

/// out = epilogue(conv(in, weights)), with `weights` in panels (conv_weight_index) and `in` an HWC
/// image, or strided_planes of an ungrouped, undilated conv's input.
CTRESNET_NOINLINE void conv2d(const conv_geometry& g, const float* in, const float* weights, const conv_epilogue& epilogue,
                            float* out, const conv_scratch& scratch, conv_input input = conv_input::channels_last) {
  fold_batch_norm(epilogue.batch_norm, g.out_channels, scratch.scale, scratch.shift);
  const int threads = part_threads(scratch.pool);
  const conv_weight_layout layout = g.weight_layout();
  const bool by_rows = divide_by_rows(conv_pixel_tiles(g.out_pixels()), detail::tile_group, layout.block_outputs(),
                                      threads);
  ctresnet::detail::work_queue queue(by_rows ? layout.blocks() * conv_row_groups(g.out_pixels()) : 0, threads);
  run_parts(scratch.pool, [&](int thread, int count) {
    conv2d_part(g, input, in, weights, epilogue, out, scratch, queue, by_rows, thread, count);
  });
}

/// Output rows [first_row, end_row) of MaxPool2d on an HWC image `height` rows high, of which `in`
/// holds rows in_first_row on (those the output rows read); padding never wins, as in PyTorch.
inline void max_pool_rows(const float* in, int in_first_row, int height, int width, int channels, int kernel,
                          int stride, int padding, int out_width, int first_row, int end_row, float* out) {
  using namespace Eigen::internal;
  using detail::packet;
  const int vector_end = channels - channels % detail::packet_floats;
  for (int oy = first_row; oy < end_row; ++oy) {
    const int y_begin = std::max(0, oy * stride - padding), y_end = std::min(height, oy * stride - padding + kernel);
    for (int ox = 0; ox < out_width; ++ox) {
      const int x_begin = std::max(0, ox * stride - padding), x_end = std::min(width, ox * stride - padding + kernel);
      float* y = out + (index_t{oy} * out_width + ox) * channels;
      // A whole 3x3 window (all but the edges of a 3x3 pool) in nine loads the compiler unrolls:
      // with loops of run-time bounds, pooling the stem's bands took 1.5 times as long.
      const bool whole_3x3 = kernel == 3 && y_end - y_begin == 3 && x_end - x_begin == 3;
      const auto window_max = [&](int c, auto lowest) {  // the window's maximum of channels [c, c + width of lowest)
        auto m = lowest;
        const auto take = [&](int iy, int ix) {
          const float* x = in + (index_t{iy - in_first_row} * width + ix) * channels + c;
          if constexpr (std::is_same_v<decltype(lowest), float>)
            m = std::max(m, *x);
          else
            m = pmax(m, ploadu<packet>(x));
        };
        if (whole_3x3) {
          for (int dy = 0; dy < 3; ++dy)
            for (int dx = 0; dx < 3; ++dx) take(y_begin + dy, x_begin + dx);
        } else {
          for (int iy = y_begin; iy < y_end; ++iy)
            for (int ix = x_begin; ix < x_end; ++ix) take(iy, ix);
        }
        return m;
      };
      constexpr float lowest = -std::numeric_limits<float>::infinity();
      int c = 0;
      for (; c < vector_end; c += detail::packet_floats) pstoreu(y + c, window_max(c, pset1<packet>(lowest)));
      for (; c < channels; ++c) y[c] = window_max(c, lowest);
    }
  }
}

/// MaxPool2d on an HWC image, its output rows split among the pool's threads (if any).
CTRESNET_NOINLINE void max_pool(const float* in, int height, int width, int channels, int kernel, int stride, int padding,
                              int out_height, int out_width, float* out, thread_pool* pool = nullptr) {
  run_parts(pool, [&](int thread, int threads) {
    max_pool_rows(in, 0, height, width, channels, kernel, stride, padding, out_width, out_height * thread / threads,
                  out_height * (thread + 1) / threads, out);
  });
}

/// AvgPool2d (no padding) on an HWC image, written in CHW order: the order PyTorch's flatten
/// feeds the classifier in. A window as large as the image is AdaptiveAvgPool2d(1).
/// Each window's pixels are added a pixel's channels at a time, in the window's order; in vectors
/// where the output is one pixel (its channels then lie together in CHW order too).
CTRESNET_NOINLINE void avg_pool_to_chw(const float* in, int width, int channels, int kernel_height, int kernel_width,
                            int stride, int out_height, int out_width, float* out) {
  const float area = static_cast<float>(kernel_height * kernel_width);
  const index_t out_area = index_t{out_height} * out_width;
  const auto pool = [&](auto sum, int oy, int ox) {  // sum: the output pixel's channels
    sum.setZero();
    for (int ky = 0; ky < kernel_height; ++ky)
      for (int kx = 0; kx < kernel_width; ++kx)
        sum += Eigen::Map<const Eigen::ArrayXf>(
            in + ((index_t{oy} * stride + ky) * width + (index_t{ox} * stride + kx)) * channels, channels);
    sum /= area;
  };
  for (int oy = 0; oy < out_height; ++oy) {
    for (int ox = 0; ox < out_width; ++ox) {
      float* pixel = out + index_t{oy} * out_width + ox;
      if (out_area == 1)
        pool(Eigen::Map<Eigen::ArrayXf>(pixel, channels), oy, ox);
      else
        pool(Eigen::Map<Eigen::ArrayXf, 0, Eigen::InnerStride<>>(pixel, channels, Eigen::InnerStride<>(out_area)), oy,
             ox);
    }
  }
}

/// The zero-padded shortcut on an HWC image: pixel (y, x) of `out` is input pixel (y, x) * stride,
/// its channels placed at [before, before + in_channels) of out_channels, zeros elsewhere.
CTRESNET_NOINLINE void subsample_and_zero_pad(const float* in, int in_width, int in_channels, int stride,
                                            int out_height, int out_width, int out_channels, int before, float* out) {
  for (int y = 0; y < out_height; ++y) {
    for (int x = 0; x < out_width; ++x) {
      const float* pixel = in + (index_t{y} * stride * in_width + index_t{x} * stride) * in_channels;
      float* target = out + (index_t{y} * out_width + x) * out_channels;
      std::fill(target, target + before, 0.0f);
      std::copy(pixel, pixel + in_channels, target + before);
      std::fill(target + before + in_channels, target + out_channels, 0.0f);
    }
  }
}

/// y[out] = weight[out, in] * x[in] + bias[out], the outputs split among the pool's threads (if
/// any): the weights come from memory (8 MB for resnet50), and two cores read them faster than one.
CTRESNET_NOINLINE void linear(const float* x, const float* weight, const float* bias, int in_features, int out_features,
                            float* y, thread_pool* pool = nullptr) {
  using matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  run_parts(pool, [&](int thread, int threads) {
    const int first = out_features * thread / threads, rows = out_features * (thread + 1) / threads - first;
    Eigen::Map<Eigen::VectorXf> result(y + first, rows);
    result = Eigen::Map<const Eigen::VectorXf>(bias + first, rows);
    result.noalias() += Eigen::Map<const matrix>(weight + index_t{first} * in_features, rows, in_features) *
                        Eigen::Map<const Eigen::VectorXf>(x, in_features);
  });
}

/// One HWC image to CHW (PyTorch's order).
CTRESNET_NOINLINE void hwc_to_chw(const float* in, int channels, int height, int width, float* out) {
  const index_t area = index_t{height} * width;
  for (index_t p = 0; p < area; ++p)
    for (int c = 0; c < channels; ++c) out[c * area + p] = in[p * channels + c];
}

/// One CHW image (PyTorch's order) to HWC.
CTRESNET_NOINLINE void chw_to_hwc(const float* in, int channels, int height, int width, float* out) {
  const index_t area = index_t{height} * width;
  for (int c = 0; c < channels; ++c)
    for (index_t p = 0; p < area; ++p) out[p * channels + c] = in[c * area + p];
}

}  // namespace ctresnet::kernels

CTRESNET_KERNELS_END
