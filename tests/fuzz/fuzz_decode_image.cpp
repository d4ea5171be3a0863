// libFuzzer target: any bytes as an image file, through ctresnet-classify's path: decode_image
// (examples/image_file.hpp: libjpeg-turbo, libpng or stb_image, by the file's signature), then
// both models' preprocessing. Each step either succeeds or throws its error type; nothing else
// may happen.
#include "digits_transform.hpp"
#include "image_file.hpp"

#include <ctresnet/preprocess.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ctresnet::image decoded;
  try {
    // At most a million pixels: under the sanitizers, decoding the 179 million the CLI allows takes
    // minutes, and a few bytes can announce that many (regressions/decode_image/png_chunk_*).
    decoded = examples::decode_image(std::vector<unsigned char>(data, data + size), "fuzz input", 1 << 20);
  } catch (const examples::image_file_error&) {
    return 0;
  }
  const ctresnet::image_view view{decoded.pixels.data(), decoded.width, decoded.height, decoded.channels};
  static std::vector<float> digits(16 * 16), imagenet(3 * 224 * 224);
  try {
    digits_transform{}(view, digits.data());
    // The ImageNet transform costs ten times the decoding, the same for any input: on one input
    // in eight (chosen by length, so that a rerun does the same), and on small images only.
    if (size % 8 == 0 && static_cast<long long>(decoded.width) * decoded.height <= 512 * 512)
      ctresnet::imagenet_eval_transform{}(view, imagenet.data());
  } catch (const ctresnet::image_error&) {  // e.g. an image too elongated to resize
  }
  return 0;
}
