// The preprocessing steps on small hand-made images: PIL's and torchvision's rules one by one
// (the expected pixels were computed with PIL 9.4), and the errors for images they cannot take.
// tests/main_job/test_preprocess_torchvision.cpp compares whole transforms on real photographs.
#include <ctresnet/preprocess.hpp>

#include "digits_transform.hpp"  // the digits example's transform, built on the steps tested here

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace {
using namespace ctresnet;

image gray_image(int width, int height, const std::vector<int>& values) {
  image made(width, height, 1);
  for (std::size_t i = 0; i < values.size(); ++i) made.pixels[i] = static_cast<std::uint8_t>(values[i]);
  return made;
}

std::vector<int> values_of(const image& picture) { return {picture.pixels.begin(), picture.pixels.end()}; }

/// An image whose pixel at (x, y) is x, in every channel.
image x_ramp(int width, int height, int channels) {
  image made(width, height, channels);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c)
        made.pixels[static_cast<std::size_t>((y * width + x) * channels + c)] = static_cast<std::uint8_t>(x);
  return made;
}
}  // namespace

TEST_CASE("to_gray rounds as PIL's convert(\"L\") does, not as its documented formula truncates") {
  image rgb(5, 1, 3);
  const std::vector<int> colours = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 200, 30, 3, 5, 250};
  for (std::size_t i = 0; i < colours.size(); ++i) rgb.pixels[i] = static_cast<std::uint8_t>(colours[i]);
  // PIL gives 150 for pure green and 124 for (10, 200, 30); R*299/1000 + ... truncated gives 149 and 123.
  CHECK(values_of(to_gray(rgb)) == std::vector<int>{76, 150, 29, 124, 32});

  image rgba(1, 1, 4);
  rgba.pixels = {0, 255, 0, 7};
  CHECK(values_of(to_gray(rgba)) == std::vector<int>{150});  // alpha plays no part
}

TEST_CASE("to_rgb copies gray to every channel and drops alpha, as convert(\"RGB\") does") {
  CHECK(values_of(to_rgb(gray_image(2, 1, {7, 200}))) == std::vector<int>{7, 7, 7, 200, 200, 200});
  image rgba(1, 1, 4);
  rgba.pixels = {1, 2, 3, 0};
  CHECK(values_of(to_rgb(rgba)) == std::vector<int>{1, 2, 3});
}

TEST_CASE("resize_bilinear gives PIL's pixels") {
  const image row = gray_image(5, 1, {0, 50, 100, 150, 250});
  SUBCASE("shrinking: the triangle widens with the scale") {
    CHECK(values_of(resize_bilinear(row, 3, 1)) == std::vector<int>{21, 100, 207});
  }
  SUBCASE("enlarging") { CHECK(values_of(resize_bilinear(row, 7, 1)) == std::vector<int>{0, 29, 64, 100, 136, 193, 250}); }
  SUBCASE("halves round up") { CHECK(values_of(resize_bilinear(gray_image(2, 1, {10, 21}), 1, 1)) == std::vector<int>{16}); }
  SUBCASE("both axes") {
    const image grid = gray_image(4, 3, {0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220});
    CHECK(values_of(resize_bilinear(grid, 2, 2)) == std::vector<int>{44, 76, 144, 176});
  }
  SUBCASE("the same size copies") { CHECK(values_of(resize_bilinear(row, 5, 1)) == values_of(row)); }
  SUBCASE("a flat image stays flat, whatever the scale") {
    image flat(37, 23, 3);
    std::fill(flat.pixels.begin(), flat.pixels.end(), std::uint8_t{173});
    for (const auto& [width, height] : {std::pair{5, 3}, std::pair{100, 61}, std::pair{37, 1}}) {
      const image resized = resize_bilinear(flat, width, height);
      CHECK(resized.width == width);
      CHECK(resized.height == height);
      CHECK(resized.channels == 3);
      for (const std::uint8_t value : resized.pixels) REQUIRE(value == 173);
    }
  }
}

TEST_CASE("shorter_side_resized follows torchvision's Resize(int)") {
  const auto size = [](int width, int height, int target) {
    const image_size s = shorter_side_resized(width, height, target);
    return std::pair{s.width, s.height};
  };
  CHECK(size(640, 427, 256) == std::pair{383, 256});  // int(256 * 640 / 427) = int(383.7)
  CHECK(size(427, 640, 256) == std::pair{256, 383});
  CHECK(size(300, 300, 256) == std::pair{256, 256});
  CHECK(size(150, 101, 256) == std::pair{380, 256});  // enlarges
  CHECK(size(640, 427, 232) == std::pair{347, 232});
}

TEST_CASE("center_crop rounds a half-pixel offset as Python's round() does, to even") {
  // (383 - 224) / 2 = 79.5 -> 80 and (381 - 224) / 2 = 78.5 -> 78.
  CHECK(center_crop(x_ramp(383, 2, 1), 224, 2).pixels[0] == 80);
  CHECK(center_crop(x_ramp(381, 2, 1), 224, 2).pixels[0] == 78);
  CHECK(center_crop(x_ramp(226, 2, 3), 224, 2).pixels[0] == 1);
  SUBCASE("an image smaller than the crop is padded with zeros, the odd column on the right") {
    const image padded = center_crop(gray_image(2, 1, {5, 6}), 5, 1);
    CHECK(values_of(padded) == std::vector<int>{0, 5, 6, 0, 0});
  }
}

TEST_CASE("to_normalized_chw writes planes in float, as ToTensor and Normalize compute") {
  image rgb(2, 1, 3);
  rgb.pixels = {0, 128, 255, 10, 20, 30};
  const float mean[3] = {0.5f, 0.25f, 0.0f};
  const float stddev[3] = {0.5f, 2.0f, 1.0f};
  float chw[6] = {};
  to_normalized_chw(rgb, mean, stddev, chw);
  CHECK(chw[0] == (0.0f / 255.0f - 0.5f) / 0.5f);  // channel 0, pixel 0
  CHECK(chw[1] == (10.0f / 255.0f - 0.5f) / 0.5f);  // channel 0, pixel 1
  CHECK(chw[2] == (128.0f / 255.0f - 0.25f) / 2.0f);
  CHECK(chw[5] == 30.0f / 255.0f);
}

TEST_CASE("the digits transform: gray 8x8, each pixel repeated 2x2, scaled to [-1, 1]") {
  static_assert(std::is_same_v<digits_transform::output_shape, shape<1, 16, 16>>);
  image digit(8, 8, 1);
  for (int i = 0; i < 64; ++i) digit.pixels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(4 * i);
  std::vector<float> x(256);
  digits_transform{}(digit, x.data());
  for (int y = 0; y < 16; ++y)
    for (int col = 0; col < 16; ++col) {
      const float pixel = static_cast<float>(4 * ((y / 2) * 8 + col / 2));
      REQUIRE(x[static_cast<std::size_t>(y * 16 + col)] == (pixel / 255.0f - 0.5f) / 0.5f);
    }

  SUBCASE("a colour image is made gray first") {
    image rgb(8, 8, 3);
    for (std::size_t i = 0; i < 64; ++i) {
      rgb.pixels[3 * i] = 0;
      rgb.pixels[3 * i + 1] = 255;
      rgb.pixels[3 * i + 2] = 0;
    }
    digits_transform{}(rgb, x.data());
    CHECK(x[0] == (150.0f / 255.0f - 0.5f) / 0.5f);
  }
  SUBCASE("another size is resized to 8x8 first") {
    image big(24, 40, 1);
    std::fill(big.pixels.begin(), big.pixels.end(), std::uint8_t{255});
    digits_transform{}(big, x.data());
    for (const float value : x) REQUIRE(value == 1.0f);
  }
}

TEST_CASE("the ImageNet transform writes 3x224x224 for any input size and channel count") {
  static_assert(std::is_same_v<imagenet_eval_transform::output_shape, shape<3, 224, 224>>);
  std::vector<float> x(3 * 224 * 224);
  for (const int channels : {1, 3, 4}) {
    image flat(300, 250, channels);
    std::fill(flat.pixels.begin(), flat.pixels.end(), std::uint8_t{255});
    imagenet_eval_transform{}(flat, x.data());
    CHECK(x.front() == (1.0f - imagenet_eval_transform::mean[0]) / imagenet_eval_transform::stddev[0]);
    CHECK(x.back() == (1.0f - imagenet_eval_transform::mean[2]) / imagenet_eval_transform::stddev[2]);
  }
}

TEST_CASE("images the steps cannot take are refused with a sentence that names the problem") {
  const image two_channels(4, 4, 2);
  CHECK_THROWS_WITH_AS(to_rgb(two_channels),
                       "ctresnet::to_rgb: the image has 2 channels; only 1 (gray), 3 (RGB) and 4 (RGBA) are supported",
                       image_error);
  CHECK_THROWS_WITH_AS(to_gray(image_view{nullptr, 0, 5, 3}),
                       "ctresnet::to_gray: the image is 0x5 pixels; it needs at least one pixel", image_error);
  CHECK_THROWS_WITH_AS(resize_bilinear(image_view{nullptr, 4, 4, 3}, 2, 2),
                       "ctresnet::resize_bilinear: the image's pixel pointer is null", image_error);
  const image small(4, 4, 3);
  CHECK_THROWS_WITH_AS(resize_bilinear(small, 0, 2),
                       "ctresnet::resize_bilinear: the requested size 0x2 is not positive", image_error);
  CHECK_THROWS_WITH_AS(center_crop(small, 3, -1), "ctresnet::center_crop: the crop size 3x-1 is not positive",
                       image_error);
  CHECK_THROWS_WITH_AS(image(-3, 2, 1), "ctresnet::image: the size -3x2x1 has a negative side", image_error);
  std::vector<float> x(3 * 224 * 224);
  CHECK_THROWS_WITH_AS(imagenet_eval_transform{200}(small, x.data()),
                       "ctresnet::imagenet_eval_transform: resize_size is 200; it must be at least the crop size 224",
                       image_error);
  CHECK_THROWS_WITH_AS(digits_transform{}(two_channels, x.data()),
                       "ctresnet::digits_transform: the image has 2 channels; only 1 (gray), 3 (RGB) and 4 (RGBA) "
                       "are supported",
                       image_error);
}

TEST_CASE("an image too elongated to resize is refused, not overflowed") {
  CHECK_THROWS_AS(ctresnet::shorter_side_resized(1, 1 << 24, 256), ctresnet::image_error);
  CHECK(ctresnet::shorter_side_resized(640, 427, 256).width == 383);
}

TEST_CASE("resize_shorter_side_and_center_crop gives the pixels of the whole resize, cropped") {
  // Sizes that shrink, enlarge, keep an axis, and elongated ones (the fuzzer's 7x17413 BMP made the
  // whole resize take half a gigabyte; the cropped one computes 224 x 224 pixels).
  const int sizes[][2] = {{7, 2000}, {2000, 7}, {300, 224}, {256, 256}, {256, 400}, {225, 300}, {1, 1}, {640, 427}};
  std::uint32_t state = 12345;
  for (const auto& size : sizes)
    for (const int shorter : {256, 232, 224}) {
      image picture(size[0], size[1], 3);
      for (auto& p : picture.pixels) p = static_cast<std::uint8_t>((state = state * 1664525u + 1013904223u) >> 24);
      const image whole = center_crop(resize_shorter_side(picture, shorter), 224, 224);
      const image cropped = resize_shorter_side_and_center_crop(picture, shorter, 224);
      CHECK_MESSAGE(cropped.pixels == whole.pixels, size[0] << "x" << size[1] << " to " << shorter);
    }
  const image elongated(7, 17413, 3);
  CHECK(resize_shorter_side_and_center_crop(elongated, 256, 224).pixels.size() == 224u * 224u * 3u);
  CHECK_THROWS_WITH_AS(resize_shorter_side_and_center_crop(elongated, 200, 224),
                       "ctresnet::resize_shorter_side_and_center_crop: the crop size 224 exceeds the shorter side 200",
                       image_error);
}
