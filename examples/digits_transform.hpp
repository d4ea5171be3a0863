// The digits model's own preprocessing, shared by the examples and their tests: the transform that
// tools/train_digits.py trains with.
#pragma once

#include <ctresnet/preprocess.hpp>

#include <cstdint>

/// The transform of the digits model that tools/train_digits.py trains (a CIFAR ResNet-20 on
/// scikit-learn's 8x8 handwritten digits, white on black): 8x8 gray pixels, p / 255, repeated
/// nearest-neighbour to 16x16, then (x - 0.5) / 0.5. Writes output_shape::size floats.
///
/// Colour images are made gray first as PIL's convert("L") does (to_gray). An image that is not
/// 8x8 is resized to 8x8 with resize_bilinear, whatever its aspect ratio, as torchvision's
/// Resize((8, 8)) would; so in torchvision's terms the transform is
///   Grayscale() -> Resize((8, 8)) -> ToTensor() -> nearest x2 -> Normalize([0.5], [0.5]).
struct digits_transform {
  using output_shape = ctresnet::shape<1, 16, 16>;
  static constexpr int source_size = 8;  // the data set's images are 8x8
  static constexpr int repeat = output_shape::width / source_size;

  void operator()(const ctresnet::image_view& in, float* chw) const {
    ctresnet::detail::check_image(in, "digits_transform");
    ctresnet::image converted;
    ctresnet::image_view gray = in;
    if (in.channels != 1) gray = converted = ctresnet::to_gray(in);
    if (gray.width != source_size || gray.height != source_size)
      gray = converted = ctresnet::resize_bilinear(gray, source_size, source_size);
    for (int y = 0; y < output_shape::height; ++y)
      for (int x = 0; x < output_shape::width; ++x) {
        const std::uint8_t pixel = gray.pixels[ctresnet::detail::pixel_index(gray, x / repeat, y / repeat)];
        const float value = static_cast<float>(pixel) / 255.0f;
        chw[y * output_shape::width + x] = (value - 0.5f) / 0.5f;
      }
  }
};
