// The run-time kernels against direct, loop-by-loop definitions of the same operations.
#include <ctresnet/ctresnet.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace {
using namespace ctresnet;

std::vector<float> random_vector(std::size_t n, std::uint64_t seed) {
  random_generator generator(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(generator.uniform(-1.0, 1.0));
  return v;
}

/// PyTorch's Conv2d by its definition, on an HWC image with weights [O, I / groups, kH, kW].
std::vector<float> direct_conv(const kernels::conv_geometry& g, const std::vector<float>& image,
                               const std::vector<float>& oihw) {
  const int group_in = g.in_channels / g.groups, group_out = g.out_channels / g.groups;
  std::vector<float> out(static_cast<std::size_t>(g.out_pixels() * g.out_channels), 0.0f);
  for (int oy = 0; oy < g.out_height; ++oy)
    for (int ox = 0; ox < g.out_width; ++ox)
      for (int o = 0; o < g.out_channels; ++o) {
        double sum = 0;
        for (int i = 0; i < group_in; ++i)
          for (int ky = 0; ky < g.kernel; ++ky)
            for (int kx = 0; kx < g.kernel; ++kx) {
              const int iy = oy * g.stride - g.padding + ky * g.dilation;
              const int ix = ox * g.stride - g.padding + kx * g.dilation;
              if (iy < 0 || ix < 0 || iy >= g.in_height || ix >= g.in_width) continue;
              const int channel = o / group_out * group_in + i;
              sum += double{image[std::size_t((iy * g.in_width + ix) * g.in_channels + channel)]} *
                     oihw[std::size_t(((o * group_in + i) * g.kernel + ky) * g.kernel + kx)];
            }
        out[std::size_t((oy * g.out_width + ox) * g.out_channels + o)] = static_cast<float>(sum);
      }
  return out;
}

/// Weights [O, I / groups, k, k] in ctresnet's storage order (conv_weight_layout), zeros between groups.
std::vector<float> to_panels(const std::vector<float>& oihw, int o, int i, int k, int groups = 1) {
  const conv_weight_layout layout{o, i, k, groups};
  const int group_in = i / groups;
  std::vector<float> panels(std::size_t(layout.stored_floats()), 0.0f);
  for (int a = 0; a < o; ++a)
    for (int b = 0; b < group_in; ++b)
      for (int y = 0; y < k; ++y)
        for (int x = 0; x < k; ++x)
          panels[std::size_t(layout.index(a, b, y, x))] = oihw[std::size_t(((a * group_in + b) * k + y) * k + x)];
  return panels;
}

/// out == relu(batch_norm(conv) + residual) within a relative `epsilon`, with `conv` the direct
/// definition's output and `bn` the norm's weight, bias, mean and variance.
void check_epilogue(const std::vector<float>& out, const std::vector<float>& conv, const std::vector<float>& bn,
                    const std::vector<float>& residual, int channels, double epsilon = 1e-5) {
  for (std::size_t p = 0; p < out.size(); ++p) {
    const std::size_t ch = p % std::size_t(channels);
    const float w = bn[ch], b = bn[channels + ch], mean = bn[2 * channels + ch], var = bn[3 * channels + ch];
    const float normalised = (conv[p] - mean) / std::sqrt(var + 1e-5f) * w + b;
    REQUIRE(out[p] == doctest::Approx(std::max(normalised + residual[p], 0.0f)).epsilon(epsilon));
  }
}

}  // namespace

TEST_CASE("for_each_conv_weight visits each weight once, at the index conv_weight_layout stores it") {
  struct conv_shape {
    index_t out, in, kernel, groups;
  };
  // Panels of 32, 8 and 4 channels; grouped convs gathered into blocks of 16 outputs (ResNeXt's 32
  // groups of 4, depthwise), and groups of 32 outputs, one a block.
  for (const conv_shape c : {conv_shape{64, 3, 7, 1}, conv_shape{24, 16, 3, 1}, conv_shape{12, 20, 1, 1},
                             conv_shape{128, 128, 3, 32}, conv_shape{64, 64, 3, 64}, conv_shape{64, 64, 3, 2},
                             conv_shape{256, 64, 1, 1}}) {
    CAPTURE(c.out);
    CAPTURE(c.in);
    CAPTURE(c.kernel);
    CAPTURE(c.groups);
    tensor_info t{"weight", tensor_role::conv_weight, 4, {c.out, c.in / c.groups, c.kernel, c.kernel}, 0, c.groups};
    const conv_weight_layout layout = t.conv_layout();
    std::vector<index_t> expected;
    for (index_t o = 0; o < c.out; ++o)
      for (index_t i = 0; i < c.in / c.groups; ++i)
        for (index_t y = 0; y < c.kernel; ++y)
          for (index_t x = 0; x < c.kernel; ++x) expected.push_back(layout.index(o, i, y, x));
    std::vector<index_t> visited;
    index_t next = 0;
    int out_of_order = 0;
    for_each_conv_weight(t, [&](index_t pytorch, index_t stored) {
      out_of_order += pytorch != next++;
      visited.push_back(stored);
    });
    CHECK(out_of_order == 0);
    CHECK(visited == expected);
    std::sort(visited.begin(), visited.end());
    CHECK(std::adjacent_find(visited.begin(), visited.end()) == visited.end());
    CHECK(visited.back() < layout.stored_floats());
  }
}

TEST_CASE("conv2d with BatchNorm, residual and ReLU matches the direct definition") {
  struct conv_case {
    int height, width, in_channels, out_channels, kernel, stride, padding, groups;
    int dilation = 1;
  };
  // Output channel counts reach every kernel path: panels narrower than a vector (5, 6), one
  // vector (16), full tiles (32, 64, 96); pixel counts leave partial tiles; few pixels with many
  // channels make threads split the channels instead of the pixels. 1x1 convs read their pixels in
  // place with few output channels (also narrower than a vector) and pack them with many channels
  // or with pixels more than 512 floats apart. Grouped convs: groups of 4 channels in blocks of 4
  // groups (as in ResNeXt-50's first stage), of 8 in pairs, of 16 alone, of 3 (blocks of 6
  // groups), a grouped 1x1 conv, and groups that never reach 16 channels.
  const conv_case cases[] = {{9, 7, 3, 5, 3, 1, 1, 1},      {9, 8, 4, 6, 3, 2, 1, 1},     {11, 11, 3, 16, 7, 2, 3, 1},
                             {6, 6, 8, 16, 1, 1, 0, 1},     {7, 5, 8, 32, 1, 2, 0, 1},    {15, 13, 5, 64, 3, 1, 1, 1},
                             {3, 3, 16, 96, 3, 1, 1, 1},    {29, 29, 4, 32, 1, 1, 0, 1},  {9, 9, 128, 128, 3, 1, 1, 32},
                             {10, 7, 64, 64, 3, 2, 1, 8},   {5, 6, 64, 32, 3, 1, 1, 2},   {8, 8, 36, 36, 3, 1, 1, 12},
                             {7, 7, 32, 64, 1, 1, 0, 8},    {6, 6, 8, 8, 3, 1, 1, 4},     {6, 5, 16, 6, 1, 1, 0, 1},
                             {5, 5, 520, 16, 1, 1, 0, 1},   {7, 6, 16, 160, 1, 1, 0, 1},
                             // strided, with rows of 14 and 28 pixels: tiles that fit in an output row
                             // read each tap's pixels from the image, 2 pixels apart
                             {28, 28, 16, 32, 3, 2, 1, 1}, {56, 56, 8, 16, 3, 2, 1, 1}, {28, 28, 24, 32, 1, 2, 0, 1},
                             // dilated, as in a segmentation backbone: taps 2 and 4 pixels apart
                             {12, 12, 16, 32, 3, 1, 2, 1, 2}, {9, 11, 32, 32, 3, 1, 4, 4, 4}};
  static_assert(kernels::detail::multiplies_in_place(16, 6, 4), "the 1x1 conv of 6 channels reads in place");
  static_assert(!kernels::detail::multiplies_in_place(520, 16, 4) && !kernels::detail::multiplies_in_place(16, 160, 4),
                "the 1x1 convs of 520 inputs and of 160 outputs pack their rows");
  for (const conv_case c : cases) {
    CAPTURE(c.kernel);
    CAPTURE(c.stride);
    CAPTURE(c.out_channels);
    CAPTURE(c.groups);
    CAPTURE(c.dilation);
    const kernels::conv_geometry g = kernels::conv_geometry_for(c.height, c.width, c.in_channels, c.out_channels,
                                                                c.kernel, c.stride, c.padding, c.groups, c.dilation);
    const auto image = random_vector(std::size_t(c.height * c.width * c.in_channels), 1);
    const auto oihw = random_vector(std::size_t(c.out_channels * c.in_channels / c.groups * c.kernel * c.kernel), 2);
    const auto residual = random_vector(std::size_t(g.out_pixels() * c.out_channels), 3);
    std::vector<float> bn = random_vector(std::size_t(4 * c.out_channels), 4);
    for (int i = 0; i < c.out_channels; ++i) bn[std::size_t(3 * c.out_channels + i)] += 1.5f;  // variance > 0
    const auto weights = to_panels(oihw, c.out_channels, c.in_channels, c.kernel, c.groups);
    const auto expected = direct_conv(g, image, oihw);

    for (int threads : {1, 2, 3}) {
      CAPTURE(threads);
      thread_pool pool(threads);
      const index_t patch_floats = kernels::conv_thread_floats(g.patch_length());
      std::vector<float> out(residual.size()), patches(std::size_t(threads * patch_floats)),
          scale(std::size_t(c.out_channels)), shift(std::size_t(c.out_channels));
      std::fill(out.begin(), out.end(), std::numeric_limits<float>::quiet_NaN());  // unwritten: fails
      kernels::conv2d(g, image.data(), weights.data(), {bn.data(), residual.data(), true}, out.data(),
                  {patches.data(), patch_floats, scale.data(), shift.data(), &pool});

      check_epilogue(out, expected, bn, residual, c.out_channels);
      // Written over its residual, as a block's last conv is, the output is the same.
      std::vector<float> sum = residual;
      kernels::conv2d(g, image.data(), weights.data(), {bn.data(), sum.data(), true}, sum.data(),
                  {patches.data(), patch_floats, scale.data(), shift.data(), &pool});
      CHECK(sum == out);
    }
  }
}

TEST_CASE("conv2d reading strided planes (the stem's input) matches the direct definition") {
  struct conv_case {
    int height, width, in_channels, out_channels, kernel, stride, padding;
  };
  // The stem's 7x7/2 on odd and even sizes, whose tiles of pixels straddle output rows or not;
  // strides 1 to 3, a 1x1 conv, padding 0, and more channels than the stem's 3.
  const conv_case cases[] = {{11, 11, 3, 16, 7, 2, 3}, {28, 28, 3, 64, 7, 2, 3}, {13, 17, 3, 32, 5, 3, 2},
                             {9, 7, 3, 5, 3, 1, 1},    {10, 9, 4, 32, 3, 2, 0},  {6, 6, 8, 16, 1, 1, 0},
                             {15, 13, 5, 64, 3, 1, 1}};
  for (const conv_case c : cases) {
    CAPTURE(c.height);
    CAPTURE(c.kernel);
    CAPTURE(c.stride);
    const kernels::conv_geometry g =
        kernels::conv_geometry_for(c.height, c.width, c.in_channels, c.out_channels, c.kernel, c.stride, c.padding);
    const auto image = random_vector(std::size_t(c.height * c.width * c.in_channels), 9);
    const auto oihw = random_vector(std::size_t(c.out_channels * c.in_channels * c.kernel * c.kernel), 10);
    const auto residual = random_vector(std::size_t(g.out_pixels() * c.out_channels), 11);
    std::vector<float> bn = random_vector(std::size_t(4 * c.out_channels), 12);
    for (int i = 0; i < c.out_channels; ++i) bn[std::size_t(3 * c.out_channels + i)] += 1.5f;
    const auto weights = to_panels(oihw, c.out_channels, c.in_channels, c.kernel);
    const auto expected = direct_conv(g, image, oihw);

    std::vector<float> chw(image.size());
    kernels::hwc_to_chw(image.data(), c.in_channels, c.height, c.width, chw.data());
    // NaNs before and after the planes would show in the outputs if a lane the GEMM uses came from outside them.
    std::vector<float> planes(std::size_t(kernels::strided_planes(g).floats() + 64), std::nanf(""));
    kernels::chw_to_strided_planes(g, chw.data(), planes.data() + 32);
    for (int threads : {1, 2}) {
      CAPTURE(threads);
      thread_pool pool(threads);
      const index_t patch_floats = kernels::conv_thread_floats(g.patch_length());
      std::vector<float> out(residual.size()), patches(std::size_t(threads * patch_floats)),
          scale(std::size_t(c.out_channels)), shift(std::size_t(c.out_channels));
      std::fill(out.begin(), out.end(), std::numeric_limits<float>::quiet_NaN());  // unwritten: fails
      kernels::conv2d(g, planes.data() + 32, weights.data(), {bn.data(), residual.data(), true}, out.data(),
                  {patches.data(), patch_floats, scale.data(), shift.data(), &pool}, kernels::conv_input::strided_planes);
      check_epilogue(out, expected, bn, residual, c.out_channels);
    }
  }
}

TEST_CASE_TEMPLATE("Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions, and F(2x2, 3x3) at stride 2, match the "
                   "direct definition",
                   Scheme, kernels::winograd<2>, kernels::winograd<4>, kernels::winograd<2, 2>) {
  struct conv_case {
    int height, width, in_channels, out_channels;
  };
  // Odd sizes leave partial tiles at the edges (and at stride 2, windows that end in the padding);
  // 7x7 with many channels splits channels among threads.
  // The GEMMs read the transformed inputs in place with few output channels, and pack them with
  // many (96) or with more than 512 input channels; 30x30 with 96 packs several row tiles.
  const conv_case cases[] = {{9, 7, 3, 5},    {8, 8, 16, 32},  {7, 7, 32, 64}, {13, 11, 6, 16},  {30, 30, 4, 32},
                             {10, 9, 64, 16}, {6, 5, 24, 48}, {6, 6, 16, 96}, {5, 4, 520, 16}, {30, 30, 8, 96}};
  static_assert(kernels::detail::packet_floats < 4 || kernels::detail::multiplies_in_place(64, 16, 2),
                "with vectors, the Winograd conv of 64 -> 16 channels reads in place");
  static_assert(!kernels::detail::multiplies_in_place(16, 96, 2) && !kernels::detail::multiplies_in_place(520, 16, 2),
                "the Winograd convs of 96 outputs and of 520 inputs pack their rows");
  for (const conv_case c : cases) {
    CAPTURE(c.height);
    CAPTURE(c.out_channels);
    constexpr int stride = Scheme::stride;
    const kernels::conv_geometry g{c.height,         c.width, c.in_channels, (c.height - 1) / stride + 1,
                                   (c.width - 1) / stride + 1, c.out_channels, 3, stride, 1};
    const auto image = random_vector(std::size_t(c.height * c.width * c.in_channels), 5);
    const auto oihw = random_vector(std::size_t(c.out_channels * c.in_channels * 9), 6);
    const auto residual = random_vector(std::size_t(g.out_pixels() * c.out_channels), 7);
    std::vector<float> bn = random_vector(std::size_t(4 * c.out_channels), 8);
    for (int i = 0; i < c.out_channels; ++i) bn[std::size_t(3 * c.out_channels + i)] += 1.5f;
    const auto weights = to_panels(oihw, c.out_channels, c.in_channels, 3);
    std::vector<float> transformed(std::size_t(Scheme::weight_floats(c.in_channels, c.out_channels)));
    kernels::winograd_weights<Scheme::tile, stride>(weights.data(), c.in_channels, c.out_channels, transformed.data());
    const auto expected = direct_conv(g, image, oihw);

    for (int threads : {1, 2, 3}) {
      CAPTURE(threads);
      thread_pool pool(threads);
      const index_t scratch_floats =
          Scheme::thread_floats(c.in_channels, c.out_channels, kernels::winograd_tiles<Scheme::tile, stride>(g));
      // The threads' scratch, then a guard that a scratch sized too small would write into.
      constexpr float guard = -12345.0f;
      std::vector<float> out(residual.size()), scratch(std::size_t(threads * scratch_floats + 256), guard),
          scale(std::size_t(c.out_channels)), shift(std::size_t(c.out_channels));
      std::fill(out.begin(), out.end(), std::numeric_limits<float>::quiet_NaN());  // unwritten: fails
      const kernels::conv_scratch conv_scratch{scratch.data(), scratch_floats, scale.data(), shift.data(), &pool};
      kernels::winograd_conv3x3<Scheme::tile, stride>(g, image.data(), transformed.data(),
                                                      {bn.data(), residual.data(), true}, out.data(), conv_scratch);
      CHECK(std::all_of(scratch.end() - 256, scratch.end(), [&](float v) { return v == guard; }));
      // 4x4 tiles' transforms multiply by up to 8 and lose about a decimal digit more.
      check_epilogue(out, expected, bn, residual, c.out_channels, Scheme::tile == 4 ? 1e-4 : 1e-5);
      // Written over its residual, as a basic block's last conv is, the output is the same.
      std::vector<float> sum = residual;
      kernels::winograd_conv3x3<Scheme::tile, stride>(g, image.data(), transformed.data(),
                                                      {bn.data(), sum.data(), true}, sum.data(), conv_scratch);
      CHECK(sum == out);
    }
  }
}

TEST_CASE("max pool ignores padding and takes the window maximum") {
  // One channel, 4x4 image of negative values: padding (which never wins) must not turn into 0.
  std::vector<float> image(16);
  for (int i = 0; i < 16; ++i) image[std::size_t(i)] = -1.0f - float(i);
  std::vector<float> out(4);
  kernels::max_pool(image.data(), 4, 4, 1, 3, 2, 1, 2, 2, out.data());
  CHECK(out[0] == -1.0f);  // window rows -1..1, cols -1..1 -> pixels (0,0),(0,1),(1,0),(1,1)
  CHECK(out[1] == -2.0f);  // cols 1..3
  CHECK(out[2] == -5.0f);
  CHECK(out[3] == -6.0f);
}

TEST_CASE("max pool on several threads matches the definition, vectors of channels and the rest alike") {
  // 37 channels: whole vectors and single channels; 11x9 pixels: windows cut by every edge.
  const int height = 11, width = 9, channels = 37, out_height = 6, out_width = 5;
  const auto image = random_vector(std::size_t(height * width * channels), 13);
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    thread_pool pool(threads);
    std::vector<float> out(std::size_t(out_height * out_width * channels));
    kernels::max_pool(image.data(), height, width, channels, 3, 2, 1, out_height, out_width, out.data(), &pool);
    for (int oy = 0; oy < out_height; ++oy)
      for (int ox = 0; ox < out_width; ++ox)
        for (int c = 0; c < channels; ++c) {
          float expected = -std::numeric_limits<float>::infinity();
          for (int y = std::max(0, 2 * oy - 1); y <= std::min(height - 1, 2 * oy + 1); ++y)
            for (int x = std::max(0, 2 * ox - 1); x <= std::min(width - 1, 2 * ox + 1); ++x)
              expected = std::max(expected, image[std::size_t((y * width + x) * channels + c)]);
          REQUIRE(out[std::size_t((oy * out_width + ox) * channels + c)] == expected);
        }
  }
}

TEST_CASE("conv2d_max_pool, band by band, equals conv2d followed by max_pool") {
  struct conv_case {
    int height, width, in_channels, out_channels, kernel, stride, padding;
    kernels::conv_input input;
  };
  // The stem's 7x7/2 reading strided planes: 56x56 and 55x55 conv outputs in bands of 4 pool rows
  // (7 bands, the last one's window cut by the edge), one band of 15x15; a 3x3/1 conv reading
  // channels-last; channel counts that are not whole vectors.
  const conv_case cases[] = {{112, 112, 3, 64, 7, 2, 3, kernels::conv_input::strided_planes},
                             {110, 110, 3, 64, 7, 2, 3, kernels::conv_input::strided_planes},
                             {29, 30, 3, 20, 7, 2, 3, kernels::conv_input::strided_planes},
                             {60, 17, 5, 48, 3, 1, 1, kernels::conv_input::channels_last}};
  for (const conv_case c : cases) {
    CAPTURE(c.height);
    CAPTURE(c.width);
    const kernels::conv_geometry g =
        kernels::conv_geometry_for(c.height, c.width, c.in_channels, c.out_channels, c.kernel, c.stride, c.padding);
    const kernels::pool_geometry p{3, 2, 1, window_out(g.out_height, 3, 2, 1), window_out(g.out_width, 3, 2, 1)};
    const auto image = random_vector(std::size_t(c.height * c.width * c.in_channels), 14);
    const auto oihw = random_vector(std::size_t(c.out_channels * c.in_channels * c.kernel * c.kernel), 15);
    std::vector<float> bn = random_vector(std::size_t(4 * c.out_channels), 16);
    for (int i = 0; i < c.out_channels; ++i) bn[std::size_t(3 * c.out_channels + i)] += 1.5f;
    const auto weights = to_panels(oihw, c.out_channels, c.in_channels, c.kernel);
    std::vector<float> in = image;
    if (c.input == kernels::conv_input::strided_planes) {
      std::vector<float> chw(image.size());
      kernels::hwc_to_chw(image.data(), c.in_channels, c.height, c.width, chw.data());
      in.assign(std::size_t(kernels::strided_planes(g).floats()), 0.0f);
      kernels::chw_to_strided_planes(g, chw.data(), in.data());
    }
    const int band_rows = kernels::max_pool_band_rows(g, p);
    const bool several_bands = band_rows < p.out_height;
    CHECK(several_bands == (c.height >= 60));

    const index_t thread_floats = kernels::conv_max_pool_thread_floats(g, p);
    const std::size_t pooled = std::size_t(p.out_height * p.out_width * c.out_channels);
    std::vector<float> conv(std::size_t(g.out_pixels() * c.out_channels)), expected(pooled);
    std::vector<float> scale(std::size_t(c.out_channels)), shift(std::size_t(c.out_channels));
    // Infinities in the scratch win every window that reads a conv row a band did not compute or keep.
    const float stale = std::numeric_limits<float>::infinity();
    for (int threads : {1, 2, 3}) {
      CAPTURE(threads);
      thread_pool pool(threads);
      std::vector<float> scratch(std::size_t(threads * thread_floats));
      const kernels::conv_scratch s{scratch.data(), thread_floats, scale.data(), shift.data(), &pool};
      kernels::conv2d(g, in.data(), weights.data(), {bn.data(), nullptr, true}, conv.data(), s, c.input);
      kernels::max_pool(conv.data(), g.out_height, g.out_width, c.out_channels, 3, 2, 1, p.out_height, p.out_width,
                        expected.data());
      std::vector<float> out(pooled, std::nanf(""));  // NaN != NaN: a row left unwritten fails
      std::fill(scratch.begin(), scratch.end(), stale);
      kernels::conv2d_max_pool(g, c.input, in.data(), weights.data(), {bn.data(), nullptr, true}, p, out.data(), s);
      CHECK(out == expected);
    }
    // One thread taking the bands in other orders, as it may when it helps with another's share:
    // a band after one it did not run computes all its rows. Backwards, from both ends inwards,
    // and pairs of bands in order, the last pair first.
    const index_t bands = (p.out_height + band_rows - 1) / band_rows;
    std::vector<std::vector<index_t>> orders(3);
    for (index_t b = 0; b < bands; ++b) {
      orders[0].push_back(bands - 1 - b);
      orders[1].push_back(b % 2 == 0 ? b / 2 : bands - 1 - b / 2);
    }
    for (index_t pair = (bands - 1) / 2; pair >= 0; --pair)
      for (index_t b = 2 * pair; b < std::min(bands, 2 * pair + 2); ++b) orders[2].push_back(b);
    kernels::fold_batch_norm(bn.data(), c.out_channels, scale.data(), shift.data());
    const kernels::detail::tile_epilogue e{scale.data(), shift.data(), nullptr, c.out_channels, true};
    for (const auto& order : orders) {
      std::vector<float> scratch(std::size_t(thread_floats), stale), out(pooled, std::nanf(""));
      std::size_t next = 0;
      kernels::detail::conv2d_max_pool_bands(g, c.input, in.data(), weights.data(), e, p, out.data(), scratch.data(),
                                             [&] { return next < order.size() ? order[next++] : index_t{-1}; });
      CHECK(out == expected);
    }
  }
}

TEST_CASE("average pool writes channel-major features, as PyTorch flattens them") {
  // 2 channels, 3x3 image; channel 1 is channel 0 plus 100.
  std::vector<float> image(18);
  for (int p = 0; p < 9; ++p) {
    image[std::size_t(2 * p)] = float(p);
    image[std::size_t(2 * p + 1)] = float(p) + 100.0f;
  }
  SUBCASE("global (adaptive to 1x1)") {
    std::vector<float> out(2);
    kernels::avg_pool_to_chw(image.data(), 3, 2, 3, 3, 1, 1, 1, out.data());
    CHECK(out[0] == doctest::Approx(4.0));
    CHECK(out[1] == doctest::Approx(104.0));
  }
  SUBCASE("2x2 windows, stride 1") {
    std::vector<float> out(8);
    kernels::avg_pool_to_chw(image.data(), 3, 2, 2, 2, 1, 2, 2, out.data());
    CHECK(out[0] == doctest::Approx((0 + 1 + 3 + 4) / 4.0));
    CHECK(out[3] == doctest::Approx((4 + 5 + 7 + 8) / 4.0));
    CHECK(out[4] == doctest::Approx(100 + (0 + 1 + 3 + 4) / 4.0));
  }
}

TEST_CASE("linear is weight times input plus bias") {
  const std::size_t in = 5, out = 7;
  const auto x = random_vector(in, 7), w = random_vector(in * out, 8), b = random_vector(out, 9);
  for (int threads : {1, 2, 3}) {  // the outputs split among threads
    CAPTURE(threads);
    thread_pool pool(threads);
    std::vector<float> y(out);
    kernels::linear(x.data(), w.data(), b.data(), int(in), int(out), y.data(), &pool);
    for (std::size_t o = 0; o < out; ++o) {
      double sum = b[o];
      for (std::size_t i = 0; i < in; ++i) sum += double{w[o * in + i]} * x[i];
      CHECK(y[o] == doctest::Approx(sum).epsilon(1e-6));
    }
  }
}

TEST_CASE("chw_to_hwc moves channels last") {
  const std::vector<float> chw{1, 2, 3, 4, 5, 6};  // 2 channels of 1x3
  std::vector<float> hwc(6);
  kernels::chw_to_hwc(chw.data(), 2, 1, 3, hwc.data());
  CHECK(hwc == std::vector<float>{1, 4, 2, 5, 3, 6});
}
