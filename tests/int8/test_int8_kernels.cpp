// The int8 conv and linear kernels against the arithmetic of docs/int8.md written out directly
// (PyTorch's weight order, (q - zp_in) * w summed in int64 over the taps inside the image, then
// requantize), on shapes and values the reference models do not reach: input channels that are
// not a multiple of 4, outputs that are not a multiple of 16, every kernel size, stride and padding
// of a ResNet and a few more, sums as large as 8-bit operands make them (which would saturate
// vpmaddubsw), requantization beyond int32 and ties. Both the kernels this build runs
// (kernels::int8::conv and linear: AVX-512 VNNI, AVX2, NEON with sdot or smlal, or portable, as
// compiled) and the portable ones are checked, on 1 to 3 threads; and the residual add against its
// int64 form. tests/cross runs them for aarch64 with and without the dot product.
#include <ctresnet/quantized.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {
namespace k8 = ctresnet::kernels::int8;
using ctresnet::index_t;
using ctresnet::kernels::conv_geometry;
using ctresnet::kernels::conv_geometry_for;

/// A conv's data as PyTorch holds it, and the same packed for the kernels.
struct conv_case {
  conv_geometry g;
  std::vector<std::uint8_t> input;    // HWC
  std::vector<std::int8_t> weights;   // [O][I][kH][kW]
  std::vector<std::int32_t> bias;     // as the file stores it
  std::vector<float> multipliers;
  std::int32_t input_zero_point, output_zero_point;
  bool relu;

  std::vector<std::int8_t> packed;
  std::vector<std::int32_t> folded_bias;

  /// Input channels of a group: the weights' I.
  index_t group_inputs() const { return g.in_channels / g.groups; }

  /// The weights as windows over each output's block of inputs (zero for the other groups'), in
  /// blocks of g.block_outputs() outputs, as the loader orders them (weights_layout::index), packed.
  void pack() {
    const index_t length = g.patch_length(), k = g.kernel, inputs = group_inputs();
    const ctresnet::detail::int8::weights_layout layout{g.out_channels, inputs, k, g.groups};
    REQUIRE(layout.patch_length() == length);
    std::vector<std::int8_t> rows(std::size_t(g.out_channels * length), 0);
    for (index_t o = 0; o < g.out_channels; ++o)
      for (index_t i = 0; i < inputs; ++i)
        for (index_t y = 0; y < k; ++y)
          for (index_t x = 0; x < k; ++x)
            rows[std::size_t(layout.index(o, i, y, x))] = weights[std::size_t(((o * inputs + i) * k + y) * k + x)];
    packed.assign(rows.size(), 0);
    folded_bias.assign(bias.size(), 0);
    k8::pack_layer(rows.data(), bias.data(), g.out_channels, length, input_zero_point, packed.data(),
                   folded_bias.data(), g.block_outputs());
  }
  k8::layer_weights layer() const { return {packed.data(), folded_bias.data(), multipliers.data()}; }

  /// docs/int8.md's convolution, element by element.
  std::vector<std::uint8_t> expected() const {
    std::vector<std::uint8_t> out(std::size_t(g.out_height) * g.out_width * g.out_channels);
    const std::int32_t low = relu ? output_zero_point : 0;
    for (int oy = 0; oy < g.out_height; ++oy)
      for (int ox = 0; ox < g.out_width; ++ox)
        for (int o = 0; o < g.out_channels; ++o) {
          const index_t inputs = group_inputs(), first = o / (g.out_channels / g.groups) * inputs;
          std::int64_t sum = 0;
          for (index_t i = 0; i < inputs; ++i)
            for (int ky = 0; ky < g.kernel; ++ky)
              for (int kx = 0; kx < g.kernel; ++kx) {
                const int iy = oy * g.stride - g.padding + ky * g.dilation;
                const int ix = ox * g.stride - g.padding + kx * g.dilation;
                if (iy < 0 || iy >= g.in_height || ix < 0 || ix >= g.in_width) continue;
                const std::int64_t q = input[(std::size_t(iy) * g.in_width + ix) * g.in_channels + first + i];
                sum += (q - input_zero_point) *
                       weights[std::size_t(((index_t{o} * inputs + i) * g.kernel + ky) * g.kernel + kx)];
              }
          const auto acc = static_cast<std::int32_t>(static_cast<std::uint32_t>(bias[std::size_t(o)]) +
                                                     static_cast<std::uint32_t>(sum));
          out[(std::size_t(oy) * g.out_width + ox) * g.out_channels + o] =
              k8::requantize(acc, multipliers[std::size_t(o)], output_zero_point, low);
        }
    return out;
  }
};

/// Which elements differ, as "N of M differ; the first at (y, x, o): got, expected".
std::string differences(const std::vector<std::uint8_t>& got, const std::vector<std::uint8_t>& expected,
                        const conv_geometry& g) {
  std::size_t differ = 0, first = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != expected[i] && differ++ == 0) first = i;
  if (differ == 0) return "";
  std::ostringstream text;
  const std::size_t o = first % std::size_t(g.out_channels), pixel = first / std::size_t(g.out_channels);
  text << differ << " of " << got.size() << " differ; the first at (" << pixel / std::size_t(g.out_width) << ", "
       << pixel % std::size_t(g.out_width) << ", " << o << "): " << int(got[first]) << ", expected "
       << int(expected[first]);
  return text.str();
}

std::string describe(const conv_geometry& g) {
  std::ostringstream text;
  text << g.in_height << "x" << g.in_width << "x" << g.in_channels << " -> " << g.out_height << "x" << g.out_width
       << "x" << g.out_channels << ", kernel " << g.kernel << ", stride " << g.stride << ", padding " << g.padding;
  if (g.groups != 1) text << ", " << g.groups << " groups";
  if (g.dilation != 1) text << ", dilation " << g.dilation;
  return text.str();
}

/// Pools of 1, 2 and 3 threads (one without threads when the build has none).
std::vector<std::unique_ptr<ctresnet::thread_pool>> pools() {
  std::vector<std::unique_ptr<ctresnet::thread_pool>> all;
  all.push_back(nullptr);
#if CTRESNET_THREADS
  all.push_back(std::make_unique<ctresnet::thread_pool>(2));
  all.push_back(std::make_unique<ctresnet::thread_pool>(3));
#endif
  return all;
}

/// This build's conv and the portable one, on 1 to 3 threads.
void check_conv(const conv_case& c) {
  std::ostringstream what;
  what << describe(c.g) << (c.relu ? ", ReLU" : "") << ", zero points " << c.input_zero_point << " -> "
       << c.output_zero_point << ", kernels: " << k8::instruction_set;
  const std::string context = what.str();
  INFO(context);
  const std::vector<std::uint8_t> expected = c.expected();
  std::vector<std::uint8_t> scratch(
      std::size_t(std::max(k8::conv_scratch_bytes(c.g, 3), k8::portable_scratch_bytes(c.g.patch_length(), 3))));
  std::vector<std::uint8_t> out(expected.size());
  // A spare buffer of none, 4 MiB and 128 KiB: kernels that use one (AVX2's Winograd transform of
  // 3x3 convs) run in blocks as large as it holds, or not at all.
  std::vector<std::uint8_t> spare(std::size_t{1} << 22);
  for (const auto& pool : pools()) {
    const int threads = pool ? pool->size() : 1;
    for (const std::size_t spare_bytes : {std::size_t{0}, spare.size(), std::size_t{1} << 17}) {
      std::fill(out.begin(), out.end(), std::uint8_t{0xa5});
      k8::conv(c.g, c.input.data(), c.input_zero_point, c.layer(), c.output_zero_point, c.relu, out.data(),
               k8::workers{scratch.data(), pool.get(), spare_bytes ? spare.data() : nullptr, spare_bytes});
      CHECK_MESSAGE(out == expected, "conv, " << threads << " thread(s), " << spare_bytes
                                              << " spare bytes: " << differences(out, expected, c.g));
    }
    std::fill(out.begin(), out.end(), std::uint8_t{0x5a});
    k8::run_parts(pool.get(), [&](int thread, int count) {
      k8::conv_portable(c.g, c.input.data(), c.input_zero_point, c.layer(), c.output_zero_point, c.relu, out.data(),
                        scratch.data(), thread, count);
    });
    CHECK_MESSAGE(out == expected, "conv_portable, " << threads << " thread(s): " << differences(out, expected, c.g));
  }
}

/// A case with seeded random data: activations and weights over their whole ranges, biases and
/// multipliers that keep most outputs inside (0, 255).
conv_case random_case(const conv_geometry& g, std::uint64_t seed) {
  ctresnet::random_generator random(seed);
  conv_case c{g, {}, {}, {}, {}, 0, 0, false, {}, {}};
  c.input.resize(std::size_t(g.in_height) * g.in_width * g.in_channels);
  for (auto& q : c.input) q = static_cast<std::uint8_t>(random.next() % 256);
  c.weights.resize(std::size_t(g.out_channels * (g.in_channels / g.groups) * g.kernel * g.kernel));
  for (auto& w : c.weights) w = static_cast<std::int8_t>(static_cast<int>(random.next() % 256) - 128);
  c.input_zero_point = static_cast<std::int32_t>(random.next() % 256);
  c.output_zero_point = static_cast<std::int32_t>(random.next() % 256);
  c.relu = random.next() % 2 == 0;
  for (int o = 0; o < g.out_channels; ++o) {
    c.bias.push_back(static_cast<std::int32_t>(random.next() % 200001) - 100000);
    const double window = double(g.kernel * g.kernel * (g.in_channels / g.groups));
    c.multipliers.push_back(static_cast<float>(random.uniform(0.5, 2.0) / (74.0 * std::sqrt(window))));
  }
  c.pack();
  return c;
}

}  // namespace

TEST_CASE("tile and packing: those the instruction set of the build calls for") {
  const std::string tile = k8::instruction_set;
  INFO("kernels: " << tile);
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
  CHECK(tile == "AVX-512 VNNI");
  CHECK(k8::build_weight_packing == k8::weight_packing::panels);
#elif defined(__AVX2__)
  CHECK(tile == "AVX2");
  CHECK(k8::build_weight_packing == k8::weight_packing::panels);
#elif defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD)
  CHECK(tile == "NEON sdot");
  CHECK(k8::build_weight_packing == k8::weight_packing::panels_sdot);
#elif defined(__aarch64__) && defined(__ARM_NEON)
  CHECK(tile == "NEON");
  CHECK(k8::build_weight_packing == k8::weight_packing::panels);
#else
  CHECK(tile == "portable");
  CHECK(k8::build_weight_packing == k8::weight_packing::rows);
#endif
#ifdef CTRESNET_EXPECTED_INT8_KERNELS  // a build for other kernels than the compiler's default (tests/int8)
  CHECK(tile == CTRESNET_EXPECTED_INT8_KERNELS);
#endif
  CHECK(k8::activation_offset == k8::activation_offset_of(k8::build_weight_packing));
  // A bias folded for one packing moves to another's offset by (offset_to - offset_from) x sum of w.
  const std::int32_t bias = -123456, zero_point = 77, weight_sum = -5000;
  const auto moved = static_cast<std::uint32_t>(k8::fold_bias(bias, zero_point, weight_sum, 0)) +
                     static_cast<std::uint32_t>(128 * weight_sum);
  CHECK(static_cast<std::int32_t>(moved) == k8::fold_bias(bias, zero_point, weight_sum, 128));
  CHECK(k8::fold_bias(bias, zero_point, weight_sum, 128) == bias + (128 - zero_point) * weight_sum);
}

TEST_CASE("panel_index and packed_index place every weight once") {
  for (const index_t out_channels : {1, 10, 16, 37, 64})
    for (const index_t length : {1, 3, 4, 9, 27, 147, 576}) {
      std::vector<int> panels(std::size_t(out_channels * length), 0), packed(panels.size(), 0);
      for (index_t o = 0; o < out_channels; ++o)
        for (index_t k = 0; k < length; ++k) {
          ++panels[std::size_t(k8::panel_index(o, k, out_channels, length))];
          ++packed[std::size_t(k8::packed_index(o, k, out_channels, length))];
        }
      CHECK_MESSAGE(std::count(panels.begin(), panels.end(), 1) == out_channels * length,
                    out_channels << " outputs, windows of " << length);
      CHECK(panels == packed);
    }
  // A grouped conv's blocks: each packed as a layer of its own, one after another.
  for (const index_t block_outputs : {16, 32, 24})
    for (const index_t length : {9, 36, 144}) {
      const index_t out_channels = 3 * block_outputs;
      std::vector<int> placed(std::size_t(out_channels * length), 0);
      for (index_t o = 0; o < out_channels; ++o)
        for (index_t k = 0; k < length; ++k) {
          const index_t at = k8::packed_index(o, k, out_channels, length, block_outputs);
          const index_t block = o / block_outputs;
          CHECK(at == block * block_outputs * length +
                          k8::packed_index(o % block_outputs, k, block_outputs, length));
          ++placed[std::size_t(at)];
        }
      CHECK(std::count(placed.begin(), placed.end(), 1) == out_channels * length);
    }
}

TEST_CASE("conv kernels: the shapes of ResNets' convs and odd ones, random data") {
  struct geometry {
    int height, width, in_channels, out_channels, kernel, stride, padding;
  };
  const geometry geometries[] = {
      {23, 21, 3, 64, 7, 2, 3},   // an ImageNet stem
      {16, 16, 1, 16, 3, 1, 1},   // the digits model's stem
      {9, 9, 3, 16, 3, 1, 1},     // a CIFAR stem
      {11, 13, 64, 64, 3, 1, 1},  // basic block
      {12, 10, 64, 128, 3, 2, 1}, // its first conv in a new stage
      {9, 7, 64, 256, 1, 1, 0},   // bottleneck
      {10, 9, 64, 128, 1, 2, 0},  // projection
      {7, 7, 512, 48, 3, 1, 1},   // long windows, 3 panels
      {5, 6, 8, 80, 5, 1, 2},     // 5 panels: a group of 4 and one of 1
      {6, 5, 12, 32, 3, 2, 0},
      {8, 8, 4, 16, 7, 1, 3},     // every tap of a pixel outside the image for some
      {5, 5, 5, 20, 3, 1, 1},     // 20 outputs: the portable form
      {4, 9, 6, 10, 2, 2, 1},
      {3, 3, 2, 16, 3, 1, 2},     // padding wider than the image's border
      {1, 1, 20, 16, 1, 1, 0},
      {9, 9, 16, 16, 3, 1, 1},    // 3x3, stride 1: with AVX2 the Winograd transform, odd sizes
      {1, 1, 32, 32, 3, 1, 1},
      {2, 3, 16, 32, 3, 1, 1},
      {6, 5, 48, 16, 3, 1, 1},
      {14, 14, 256, 32, 3, 1, 1},
  };
  std::uint64_t seed = 100;
  for (const geometry& s : geometries)
    check_conv(random_case(
        conv_geometry_for(s.height, s.width, s.in_channels, s.out_channels, s.kernel, s.stride, s.padding), seed++));
}

TEST_CASE("conv kernels: grouped and dilated convs, random data") {
  struct geometry {
    int height, width, in_channels, out_channels, kernel, stride, padding, groups, dilation;
  };
  const geometry geometries[] = {
      {9, 8, 128, 128, 3, 1, 1, 32, 1},   // ResNeXt-50's 4-channel groups: blocks of 4 groups
      {10, 9, 128, 128, 3, 2, 1, 32, 1},  // and the first conv of a stage
      {7, 7, 256, 256, 3, 1, 1, 32, 1},   // 8-channel groups: blocks of 2
      {6, 5, 512, 512, 3, 2, 1, 32, 1},   // 16-channel groups: a block each
      {5, 5, 256, 256, 3, 1, 1, 8, 1},    // 32-channel groups: blocks of 2 panels
      {5, 4, 192, 192, 3, 1, 1, 4, 1},    // 48-channel groups: blocks of 3 panels
      {6, 6, 24, 24, 3, 1, 1, 8, 1},      // 3-channel groups: one block of 24, the portable form
      {6, 6, 48, 48, 3, 1, 1, 2, 1},      // blocks of 24 outputs: the portable form
      {5, 5, 12, 32, 1, 1, 0, 4, 1},      // 1x1, 3 inputs per group
      {12, 11, 32, 32, 3, 1, 2, 1, 2},    // a dilated stage's 3x3 conv
      {13, 13, 16, 48, 3, 1, 4, 1, 4},    // dilation 4: most taps outside for the border pixels
      {9, 9, 5, 16, 3, 1, 2, 1, 2},       // dilated, windows copied (5 channels)
      {10, 10, 64, 64, 3, 1, 2, 16, 2},   // grouped and dilated
      {11, 11, 32, 32, 3, 2, 2, 1, 2},    // dilated with stride 2 (a stage after a dilated one)
      {11, 11, 64, 64, 3, 2, 2, 4, 2},    // the same, grouped
      {5, 5, 256, 256, 3, 1, 1, 2, 1},    // blocks of 8 panels: two tiles of 4 panels each
      {4, 4, 160, 160, 3, 1, 1, 2, 1},    // blocks of 5 panels: one at a time
  };
  std::uint64_t seed = 300;
  for (const geometry& s : geometries)
    check_conv(random_case(conv_geometry_for(s.height, s.width, s.in_channels, s.out_channels, s.kernel, s.stride,
                                             s.padding, s.groups, s.dilation),
                           seed++));
}

TEST_CASE("conv kernels: tiles of 1 to 13 pixels, batches of panels, windows of every length modulo 4") {
  std::uint64_t seed = 200;
  // Output pixels that fill no tile (AVX2: 6 pixels, AVX-512 VNNI: 6, NEON: 4), or several.
  for (int width = 1; width <= 13; ++width)
    check_conv(random_case(conv_geometry_for(1, width, 8, 32, 1, 1, 0), seed++));
  // Windows of 1 to 7 elements and a remainder of 1, 2 or 3 after whole groups of 4.
  for (int channels = 1; channels <= 7; ++channels)
    check_conv(random_case(conv_geometry_for(3, 5, channels, 16, 1, 1, 0), seed++));
  check_conv(random_case(conv_geometry_for(5, 4, 5, 32, 3, 1, 1), seed++));  // 45 = 11 x 4 + 1
  check_conv(random_case(conv_geometry_for(4, 5, 2, 16, 3, 2, 1), seed++));  // 18 = 4 x 4 + 2
  // Long windows: AVX2 widens as many panels at a time as fit 128 KiB, so these run as batches of
  // 3, 3 and 1 panels; 2 and 1; 1 and 1 (split among the threads inside a batch).
  check_conv(random_case(conv_geometry_for(5, 7, 128, 112, 3, 2, 1), seed++));
  check_conv(random_case(conv_geometry_for(3, 3, 2048, 48, 1, 1, 0), seed++));
  check_conv(random_case(conv_geometry_for(4, 4, 512, 32, 3, 2, 1), seed++));
}

TEST_CASE("conv kernels: the largest sums 8-bit operands give") {
  // 255 x 127 + 255 x 127 = 64,770 and 255 x -128 x 2 = -65,280: pairs of products that overflow
  // int16, which vpmaddubsw would saturate. Windows of 3x3x512 sum 4,608 of them.
  for (const std::int8_t w : {std::int8_t{127}, std::int8_t{-128}})
    for (const std::int32_t zero_point : {0, 255}) {
      conv_case c = random_case(conv_geometry_for(5, 5, 512, 32, 3, 1, 1), 7);
      std::fill(c.input.begin(), c.input.end(), std::uint8_t{255});
      std::fill(c.weights.begin(), c.weights.end(), w);
      c.input_zero_point = zero_point;
      c.output_zero_point = 100;
      c.relu = false;
      std::fill(c.multipliers.begin(), c.multipliers.end(), 1.0f / 8388608);  // 2^-23: the sums map into range
      c.pack();
      check_conv(c);
    }
}

TEST_CASE("conv kernels: requantization beyond int32, at its bounds and on ties") {
  conv_case c = random_case(conv_geometry_for(6, 6, 16, 64, 3, 1, 1), 8);
  c.output_zero_point = 17;
  for (int o = 0; o < 64; ++o) {
    const int kind = o % 8;
    float& m = c.multipliers[std::size_t(o)];
    if (kind == 0) m = 3e38f;             // products beyond float's range: inf, to INT32_MIN
    if (kind == 1) m = 1e6f;              // beyond int32: INT32_MIN, clamped to the lower bound
    if (kind == 2) m = 0.5f;              // odd sums tie: to even
    if (kind == 3) m = 0.25f;             // .25, .5, .75
    if (kind == 4) m = 1.0f;              // the sums themselves
    if (kind == 5) m = 1e-9f;             // all 0
    if (kind == 6) m = 2147483520.0f / 1e6f;
  }
  for (const bool relu : {false, true}) {
    c.relu = relu;
    check_conv(c);
  }
  // Sums that are exact ties of 0.5 for every output.
  conv_case t = random_case(conv_geometry_for(4, 4, 4, 16, 1, 1, 0), 9);
  std::fill(t.multipliers.begin(), t.multipliers.end(), 0.5f);
  for (auto& w : t.weights) w = static_cast<std::int8_t>(w % 3);
  t.input_zero_point = 0;
  t.output_zero_point = 128;
  t.pack();
  check_conv(t);
}

TEST_CASE("linear kernels: whole and partial panels") {
  for (const int in_features : {512, 100, 10, 3})
    for (const int out_features : {1000, 64, 10, 5}) {
      conv_case c = random_case(conv_geometry_for(1, 1, in_features, out_features, 1, 1, 0),
                                std::uint64_t(in_features) * 7 + std::uint64_t(out_features));
      c.relu = false;
      const std::vector<std::uint8_t> expected = c.expected();
      for (const auto& pool : pools()) {
        std::vector<std::uint8_t> out(expected.size(), 0xa5);
        k8::linear(c.input.data(), in_features, out_features, c.layer(), c.output_zero_point, out.data(), pool.get());
        CHECK_MESSAGE(out == expected, in_features << " -> " << out_features << ", " << (pool ? pool->size() : 1)
                                                   << " thread(s): " << differences(out, expected, c.g));
      }
    }
}

TEST_CASE("add_relu: the fixed-point sum written out in int64, on 1 to 3 threads") {
  ctresnet::random_generator random(11);
  const index_t count = 1000;
  std::vector<std::uint8_t> a(count), b(count);
  for (int trial = 0; trial < 200; ++trial) {
    for (auto& v : a) v = static_cast<std::uint8_t>(random.next() % 256);
    for (auto& v : b) v = static_cast<std::uint8_t>(random.next() % 256);
    if (trial == 0) std::fill(a.begin(), a.end(), std::uint8_t{255});
    if (trial == 0) std::fill(b.begin(), b.end(), std::uint8_t{255});
    // Scale ratios over qnnpack's whole range [2^-14, 2^8), the larger one near its top in trial 1.
    const float out_scale = 0.01f;
    const float sa = out_scale * static_cast<float>(std::exp2(random.uniform(-14.0, 7.99)));
    const float sb = trial == 1 ? out_scale * 255.99f : out_scale * static_cast<float>(std::exp2(random.uniform(-14.0, 7.99)));
    const k8::add_multipliers m = k8::add_parameters_for(sa, sb, out_scale);
    const k8::add_parameters p{static_cast<std::int32_t>(random.next() % 256), static_cast<std::int32_t>(random.next() % 256),
                               m.branch, m.shortcut, m.shift, static_cast<std::int32_t>(random.next() % 256)};
    std::vector<std::uint8_t> expected(count);
    for (index_t i = 0; i < count; ++i) {
      const std::int64_t acc = std::int64_t{a[std::size_t(i)]} * m.branch + std::int64_t{b[std::size_t(i)]} * m.shortcut -
                               (std::int64_t{p.branch_zero_point} * m.branch + std::int64_t{p.shortcut_zero_point} * m.shortcut);
      const std::int64_t mask = (std::int64_t{1} << m.shift) - 1;
      const std::int64_t remainder = (acc & mask) - (acc < 0 ? 1 : 0);
      const std::int64_t r = (acc >> m.shift) + (remainder > (mask >> 1) ? 1 : 0);
      expected[std::size_t(i)] = k8::clamp_to_uint8(r + p.output_zero_point, p.output_zero_point);
    }
    for (const auto& pool : pools()) {
      std::vector<std::uint8_t> out(count);
      k8::add_relu(a.data(), b.data(), count, p, out.data(), pool.get());
      REQUIRE_MESSAGE(out == expected, "trial " << trial << ", shift " << m.shift << ", multipliers " << m.branch << ", "
                                                << m.shortcut);
    }
  }
}
