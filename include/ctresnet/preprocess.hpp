// From 8-bit pixels to a network's input, computed as PyTorch's data pipelines compute it:
// torchvision's ImageNet evaluation transform and the steps it is made of, which other transforms
// (the digits example's) are built from. Pixels in, floats out: nothing here decodes a file (stb_image or any decoder that
// gives interleaved 8-bit pixels will do), and nothing needs more than the standard library.
//
// torchvision 0.14 resizes a PIL image with PIL's Image.resize(..., BILINEAR). PIL filters with a
// triangle whose support widens with the downscaling factor (so it antialiases), one axis at a
// time, horizontal first, in 22-bit fixed point, and rounds the intermediate image to 8 bits.
// resize_bilinear does the same steps in the same arithmetic, so its pixels equal PIL's.
#pragma once

#include <ctresnet/shape.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ctresnet {

/// An image that a conversion or transform cannot take: no pixels, a channel count other than
/// 1, 3 or 4, or a requested size that is not positive. The message says which.
class image_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// 8-bit pixels, row after row from the top, each pixel's channels next to each other:
/// 1 channel is gray (PIL's mode "L"), 3 are RGB, 4 are RGBA. It does not own the pixels; what
/// stb_image's stbi_load returns is such an image.
struct image_view {
  const std::uint8_t* pixels = nullptr;
  int width = 0;
  int height = 0;
  int channels = 0;
};

/// An image that owns its pixels: what the conversions, resizes and crops below return.
struct image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<std::uint8_t> pixels;  // width * height * channels bytes, laid out as in image_view

  image() = default;
  /// A black image.
  image(int width_, int height_, int channels_) : width(width_), height(height_), channels(channels_) {
    if (width < 0 || height < 0 || channels < 0)
      throw image_error("ctresnet::image: the size " + std::to_string(width) + "x" + std::to_string(height) + "x" +
                        std::to_string(channels) + " has a negative side");
    pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                  static_cast<std::size_t>(channels));
  }

  operator image_view() const { return {pixels.data(), width, height, channels}; }
};

namespace detail {

inline void check_image(const image_view& image, const char* function) {
  const std::string who = std::string("ctresnet::") + function + ": ";
  if (image.width <= 0 || image.height <= 0)
    throw image_error(who + "the image is " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                      " pixels; it needs at least one pixel");
  if (image.channels != 1 && image.channels != 3 && image.channels != 4)
    throw image_error(who + "the image has " + std::to_string(image.channels) +
                      " channels; only 1 (gray), 3 (RGB) and 4 (RGBA) are supported");
  if (image.pixels == nullptr) throw image_error(who + "the image's pixel pointer is null");
}

inline void check_requested_size(int width, int height, const char* function, const char* what) {
  if (width <= 0 || height <= 0)
    throw image_error(std::string("ctresnet::") + function + ": the " + what + " " + std::to_string(width) + "x" +
                      std::to_string(height) + " is not positive");
}

inline std::size_t pixel_index(const image_view& image, int x, int y) {
  return (static_cast<std::size_t>(y) * static_cast<std::size_t>(image.width) + static_cast<std::size_t>(x)) *
         static_cast<std::size_t>(image.channels);
}

/// PIL's fixed point for 8-bit resampling: 32 bits less 8 for the pixel and 2 for headroom.
inline constexpr int resample_precision_bits = 22;

/// Which input pixels make one output pixel along an axis, and their fixed-point weights.
struct resample_axis {
  int taps = 0;                      // weights per output pixel, some of them zero
  std::vector<int> first, count;     // per output pixel: first input pixel and how many are used
  std::vector<std::int32_t> weights; // per output pixel, `taps` weights summing to about 1 << 22
};

/// PIL's bilinear filter for resizing `in_size` pixels to `out_size` (precompute_coeffs and
/// normalize_coeffs_8bpc in Pillow's Resample.c): a triangle of half-width 1 input pixel, widened
/// by the scale factor when shrinking, centred on each output pixel's centre, weights normalised
/// to sum 1 and rounded to 22 bits. The operations and their order are PIL's, in double, so that
/// every weight rounds as PIL's does.
inline resample_axis bilinear_axis(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = 1.0 * filter_scale;  // the triangle reaches 1 pixel at scale 1
  resample_axis axis;
  axis.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  axis.first.resize(static_cast<std::size_t>(out_size));
  axis.count.resize(static_cast<std::size_t>(out_size));
  axis.weights.assign(static_cast<std::size_t>(out_size) * static_cast<std::size_t>(axis.taps), 0);
  std::vector<double> w(static_cast<std::size_t>(axis.taps));
  for (int out = 0; out < out_size; ++out) {
    const double center = (out + 0.5) * scale;
    const double inverse_scale = 1.0 / filter_scale;
    // Truncation, as PIL's (int) casts do; negative starts are clamped to 0 right after.
    const int first = std::max(0, static_cast<int>(center - support + 0.5));
    const int end = std::min(in_size, static_cast<int>(center + support + 0.5));
    const int count = end - first;
    double sum = 0.0;
    for (int i = 0; i < count; ++i) {
      const double distance = std::abs((i + first - center + 0.5) * inverse_scale);
      w[static_cast<std::size_t>(i)] = distance < 1.0 ? 1.0 - distance : 0.0;
      sum += w[static_cast<std::size_t>(i)];
    }
    std::int32_t* fixed = &axis.weights[static_cast<std::size_t>(out) * static_cast<std::size_t>(axis.taps)];
    for (int i = 0; i < count; ++i) {
      const double normalised = sum != 0.0 ? w[static_cast<std::size_t>(i)] / sum : w[static_cast<std::size_t>(i)];
      fixed[i] = static_cast<std::int32_t>(0.5 + normalised * (1 << resample_precision_bits));  // all >= 0
    }
    axis.first[static_cast<std::size_t>(out)] = first;
    axis.count[static_cast<std::size_t>(out)] = count;
  }
  return axis;
}

/// A weighted sum in PIL's fixed point back to 8 bits: round half up, clamp to 0..255.
inline std::uint8_t fixed_to_pixel(std::int32_t sum) {
  return static_cast<std::uint8_t>(std::clamp(sum >> resample_precision_bits, 0, 255));
}

/// One pass of PIL's resize along x: every row of `in` (all its rows) to `out_width` pixels, of
/// which columns [first, first + columns) are computed and returned (all of them by default).
inline image resample_horizontally(const image_view& in, int out_width, int first = 0, int columns = -1) {
  const resample_axis axis = bilinear_axis(in.width, out_width);
  if (columns < 0) columns = out_width;
  image out(columns, in.height, in.channels);
  const int c_count = in.channels;
  for (int y = 0; y < in.height; ++y) {
    const std::uint8_t* row = in.pixels + pixel_index(in, 0, y);
    std::uint8_t* target = out.pixels.data() + pixel_index(out, 0, y);
    for (int column = 0; column < columns; ++column) {
      const int x = first + column;
      const std::int32_t* w = &axis.weights[static_cast<std::size_t>(x) * static_cast<std::size_t>(axis.taps)];
      const std::uint8_t* source = row + static_cast<std::size_t>(axis.first[static_cast<std::size_t>(x)]) *
                                             static_cast<std::size_t>(c_count);
      const int count = axis.count[static_cast<std::size_t>(x)];
      for (int c = 0; c < c_count; ++c) {
        std::int32_t sum = 1 << (resample_precision_bits - 1);  // the rounding half
        for (int i = 0; i < count; ++i) sum += source[i * c_count + c] * w[i];
        target[column * c_count + c] = fixed_to_pixel(sum);
      }
    }
  }
  return out;
}

/// The other pass, along y: every column of `in` to `out_height` pixels, of which rows
/// [first, first + rows) are computed and returned (all of them by default). `in` may be rows
/// [in_top, in_top + in.height) of an image of `full_height` rows, as long as they hold every row
/// those output rows read.
inline image resample_vertically(const image_view& in, int out_height, int first = 0, int rows = -1,
                                 int full_height = -1, int in_top = 0) {
  const resample_axis axis = bilinear_axis(full_height < 0 ? in.height : full_height, out_height);
  if (rows < 0) rows = out_height;
  image out(in.width, rows, in.channels);
  const std::size_t row_bytes = static_cast<std::size_t>(in.width) * static_cast<std::size_t>(in.channels);
  for (int row = 0; row < rows; ++row) {
    const int y = first + row;
    const std::int32_t* w = &axis.weights[static_cast<std::size_t>(y) * static_cast<std::size_t>(axis.taps)];
    const std::uint8_t* source = in.pixels + pixel_index(in, 0, axis.first[static_cast<std::size_t>(y)] - in_top);
    const int count = axis.count[static_cast<std::size_t>(y)];
    std::uint8_t* target = out.pixels.data() + pixel_index(out, 0, row);
    for (std::size_t i = 0; i < row_bytes; ++i) {
      std::int32_t sum = 1 << (resample_precision_bits - 1);
      for (int k = 0; k < count; ++k) sum += source[static_cast<std::size_t>(k) * row_bytes + i] * w[k];
      target[i] = fixed_to_pixel(sum);
    }
  }
  return out;
}

/// The width x height pixels of `in` from (left, top), which must lie inside it.
inline image window(const image_view& in, int left, int top, int width, int height) {
  image out(width, height, in.channels);
  const std::size_t row_bytes = static_cast<std::size_t>(width) * static_cast<std::size_t>(in.channels);
  for (int y = 0; y < height; ++y)
    std::copy_n(in.pixels + pixel_index(in, left, top + y), row_bytes, out.pixels.data() + pixel_index(out, 0, y));
  return out;
}

/// Python's round() of d / 2 for d >= 0: halves go to the even neighbour (round(79.5) is 80,
/// round(78.5) is 78). torchvision's CenterCrop rounds its offsets so.
inline int half_rounded_to_even(int d) {
  const int half = d / 2;
  return half + (d % 2 == 1 && half % 2 == 1 ? 1 : 0);
}

}  // namespace detail

/// The image as RGB, as PIL's convert("RGB") makes it: gray is copied to all three channels,
/// alpha is dropped (not blended with any background).
inline image to_rgb(const image_view& in) {
  detail::check_image(in, "to_rgb");
  image out(in.width, in.height, 3);
  const std::size_t pixels = static_cast<std::size_t>(in.width) * static_cast<std::size_t>(in.height);
  const auto c_in = static_cast<std::size_t>(in.channels);
  for (std::size_t p = 0; p < pixels; ++p)
    for (std::size_t c = 0; c < 3; ++c) out.pixels[3 * p + c] = in.pixels[c_in * p + (in.channels == 1 ? 0 : c)];
  return out;
}

/// The image as gray, as PIL's convert("L") makes it. PIL documents
/// L = R * 299/1000 + G * 587/1000 + B * 114/1000; what it computes is that in 16-bit fixed point,
/// rounded to nearest: (R * 19595 + G * 38470 + B * 7471 + 32768) >> 16. This is the latter (the
/// documented formula, truncated, differs from PIL on about half of all colours). Alpha is ignored.
inline image to_gray(const image_view& in) {
  detail::check_image(in, "to_gray");
  image out(in.width, in.height, 1);
  const std::size_t pixels = static_cast<std::size_t>(in.width) * static_cast<std::size_t>(in.height);
  const auto c_in = static_cast<std::size_t>(in.channels);
  for (std::size_t p = 0; p < pixels; ++p) {
    const std::uint8_t* rgb = in.pixels + c_in * p;
    out.pixels[p] = in.channels == 1
                        ? rgb[0]
                        : static_cast<std::uint8_t>((rgb[0] * 19595u + rgb[1] * 38470u + rgb[2] * 7471u + 0x8000u) >> 16);
  }
  return out;
}

/// The image resized to width x height as PIL's Image.resize((width, height), Image.BILINEAR)
/// resizes an "L" or "RGB" image: with antialiasing when shrinking, pixel for pixel equal to PIL.
/// Each channel is filtered on its own; for RGBA, PIL would premultiply by alpha first, which this
/// does not do (the transforms below convert to RGB or gray before they resize).
inline image resize_bilinear(const image_view& in, int width, int height) {
  detail::check_image(in, "resize_bilinear");
  detail::check_requested_size(width, height, "resize_bilinear", "requested size");
  // PIL skips a pass whose axis keeps its size; that pass would copy the pixels unchanged.
  image horizontal;
  image_view source = in;
  if (width != in.width) {
    horizontal = detail::resample_horizontally(in, width);
    source = horizontal;
  }
  if (height != in.height) return detail::resample_vertically(source, height);
  if (width != in.width) return horizontal;
  image copy(in.width, in.height, in.channels);
  std::copy(in.pixels, in.pixels + copy.pixels.size(), copy.pixels.begin());
  return copy;
}

/// The size torchvision's Resize(size) gives a width x height image: the shorter side becomes
/// `size`, the longer one int(size * longer / shorter), truncated as Python's int() does.
struct image_size {
  int width = 0;
  int height = 0;
};
inline image_size shorter_side_resized(int width, int height, int size) {
  detail::check_requested_size(width, height, "shorter_side_resized", "image size");
  detail::check_requested_size(size, size, "shorter_side_resized", "requested shorter side");
  const bool portrait = width <= height;  // torchvision's test: a square image counts as portrait
  const int shorter = portrait ? width : height;
  const int longer = portrait ? height : width;
  const double exact_longer = static_cast<double>(size) * longer / shorter;
  if (exact_longer > 1 << 20)
    throw image_error("ctresnet::shorter_side_resized: a " + std::to_string(width) + "x" + std::to_string(height) +
                      " image would be resized to a longer side of more than 2^20 pixels; its aspect ratio is "
                      "too extreme");
  const int new_longer = static_cast<int>(exact_longer);
  return portrait ? image_size{size, new_longer} : image_size{new_longer, size};
}

/// torchvision's Resize(size) for a PIL image: the shorter side to `size`, bilinear as PIL does it.
inline image resize_shorter_side(const image_view& in, int size) {
  detail::check_image(in, "resize_shorter_side");
  const image_size target = shorter_side_resized(in.width, in.height, size);
  return resize_bilinear(in, target.width, target.height);
}

/// resize_shorter_side(in, size) followed by center_crop(crop, crop), for crop <= size, computing
/// only the pixels the crop keeps. They are the same pixels (each pixel of PIL's resize depends
/// only on its own filter window), but the whole resized image is never made: for an elongated
/// image (say 7x17000 pixels, whose shorter side becomes 256) it would be hundreds of megabytes.
inline image resize_shorter_side_and_center_crop(const image_view& in, int size, int crop) {
  detail::check_image(in, "resize_shorter_side_and_center_crop");
  detail::check_requested_size(crop, crop, "resize_shorter_side_and_center_crop", "crop size");
  if (crop > size)
    throw image_error("ctresnet::resize_shorter_side_and_center_crop: the crop size " + std::to_string(crop) +
                      " exceeds the shorter side " + std::to_string(size));
  const image_size target = shorter_side_resized(in.width, in.height, size);
  const int left = detail::half_rounded_to_even(target.width - crop);
  const int top = detail::half_rounded_to_even(target.height - crop);
  // The input rows that the crop's rows read: all of them for a shrinking resize, a few for an
  // elongated image's long side.
  int first_row = top, end_row = top + crop;
  if (target.height != in.height) {
    const detail::resample_axis rows = detail::bilinear_axis(in.height, target.height);
    first_row = rows.first[static_cast<std::size_t>(top)];
    end_row = 0;
    for (int y = top; y < top + crop; ++y)
      end_row = std::max(end_row, rows.first[static_cast<std::size_t>(y)] + rows.count[static_cast<std::size_t>(y)]);
  }
  image_view needed = in;
  needed.pixels = in.pixels + detail::pixel_index(in, 0, first_row);
  needed.height = end_row - first_row;
  // PIL's order: along x, then along y; a pass whose axis keeps its size is skipped, as PIL does.
  const image columns = target.width != in.width ? detail::resample_horizontally(needed, target.width, left, crop)
                                                 : detail::window(needed, left, 0, crop, needed.height);
  return target.height != in.height
             ? detail::resample_vertically(columns, target.height, top, crop, in.height, first_row)
             : detail::window(columns, 0, 0, crop, crop);
}

/// torchvision's CenterCrop((height, width)): the middle width x height pixels, the offsets
/// int(round((side - crop) / 2.0)) with Python's rounding of halves to even. Where the image is
/// smaller than the crop, it is first padded with zeros as torchvision pads it (the odd pixel on
/// the right or bottom).
inline image center_crop(const image_view& in, int width, int height) {
  detail::check_image(in, "center_crop");
  detail::check_requested_size(width, height, "center_crop", "crop size");
  const int left = width > in.width ? -((width - in.width) / 2) : detail::half_rounded_to_even(in.width - width);
  const int top = height > in.height ? -((height - in.height) / 2) : detail::half_rounded_to_even(in.height - height);
  image out(width, height, in.channels);
  const auto c_count = static_cast<std::size_t>(in.channels);
  for (int y = 0; y < height; ++y) {
    const int source_y = y + top;
    if (source_y < 0 || source_y >= in.height) continue;
    for (int x = 0; x < width; ++x) {
      const int source_x = x + left;
      if (source_x < 0 || source_x >= in.width) continue;
      std::copy_n(in.pixels + detail::pixel_index(in, source_x, source_y), c_count,
                  out.pixels.data() + detail::pixel_index(out, x, y));
    }
  }
  return out;
}

/// torchvision's ToTensor followed by Normalize(mean, std): channel c of pixel p becomes
/// (p / 255 - mean[c]) / std[c], in float and in that order, written planar (CHW) to `chw`, which
/// must hold channels x height x width floats. `mean` and `std` hold one value per channel.
inline void to_normalized_chw(const image_view& in, const float* mean, const float* std, float* chw) {
  detail::check_image(in, "to_normalized_chw");
  const std::size_t plane = static_cast<std::size_t>(in.width) * static_cast<std::size_t>(in.height);
  const auto c_count = static_cast<std::size_t>(in.channels);
  for (std::size_t c = 0; c < c_count; ++c)
    for (std::size_t p = 0; p < plane; ++p)
      chw[c * plane + p] = (static_cast<float>(in.pixels[p * c_count + c]) / 255.0f - mean[c]) / std[c];
}

/// torchvision's ImageNet evaluation transform for its ResNet weights, on an image converted to
/// RGB as torchvision's image loader converts it (Image.open(path).convert("RGB")):
///   Resize(resize_size) -> CenterCrop(224) -> ToTensor() -> Normalize(mean, std)
/// resize_size is 256 for the IMAGENET1K_V1 weights and 232 for IMAGENET1K_V2 (see the weights'
/// transforms()). Writes output_shape::size floats, CHW, e.g. to one image of Net::input_tensor.
struct imagenet_eval_transform {
  using output_shape = shape<3, 224, 224>;
  static constexpr int crop_size = 224;
  // Normalize's mean and std; torchvision makes float32 tensors of them, with these very values.
  static constexpr float mean[3] = {0.485f, 0.456f, 0.406f};
  static constexpr float stddev[3] = {0.229f, 0.224f, 0.225f};

  int resize_size = 256;

  void operator()(const image_view& in, float* chw) const {
    detail::check_image(in, "imagenet_eval_transform");
    if (resize_size < crop_size)
      throw image_error("ctresnet::imagenet_eval_transform: resize_size is " + std::to_string(resize_size) +
                        "; it must be at least the crop size " + std::to_string(crop_size));
    const image rgb = to_rgb(in);
    const image cropped = resize_shorter_side_and_center_crop(rgb, resize_size, crop_size);
    to_normalized_chw(cropped, mean, stddev, chw);
  }
};

}  // namespace ctresnet
