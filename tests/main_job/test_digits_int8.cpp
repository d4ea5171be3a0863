// The main job in int8: the committed int8 digits model (tools/quantize.py --model digits) computes
// on the 360 held-out images what PyTorch's quantized model computes from the same file
// (tools/make_int8_digits_refs.py): the same uint8 input and the same uint8 logits, image by image.
// The images go through ctresnet-classify's own path: stb_image decodes the PGM files,
// digits_transform preprocesses them, ctresnet::quantized<Net> runs them.
#include "digits_transform.hpp"
#include "digits_test_set.hpp"
#include "image_file.hpp"

#include <ctresnet/preprocess.hpp>
#include <ctresnet/quantized/safetensors.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#ifndef CTRESNET_DIGITS_DIR
#error "CTRESNET_DIGITS_DIR must name examples/digits"
#endif

namespace {
using net_type = ctresnet::quantized<ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>>;
const std::string digits_dir = CTRESNET_DIGITS_DIR;
constexpr int count = 360, classes = 10;

using test_image = digits_test_image;
std::vector<test_image> read_labels() { return read_digits_labels(digits_dir); }

/// The reference file that the fixture main_job.generate_int8_digits_references writes.
std::string reference_path() {
  const char* path = std::getenv("CTRESNET_INT8_DIGITS_REFERENCE");
  REQUIRE_MESSAGE(path != nullptr, "CTRESNET_INT8_DIGITS_REFERENCE must name tools/make_int8_digits_refs.py's output");
  return path;
}

/// The first largest element's index, as PyTorch's argmax and ctresnet-classify pick it.
template <class T>
int argmax(const T* row) {
  return static_cast<int>(std::max_element(row, row + classes) - row);
}
}  // namespace

TEST_CASE("the int8 digits model computes PyTorch's quantized logits on every held-out image") {
  const std::vector<test_image> images = read_labels();
  REQUIRE(images.size() == count);

  ctresnet::safetensors::reader reference(reference_path());
  std::vector<std::int32_t> torch_labels(count);
  std::vector<std::uint8_t> torch_quant(count * digits_transform::output_shape::size), torch_output(count * classes);
  std::vector<float> torch_logits(count * classes), output_scale(1);
  std::int32_t output_zero_point = 0;
  reference.read_raw("labels", "I32", {count}, torch_labels.data());
  reference.read_raw("quant", "U8", {count, 1, 16, 16}, torch_quant.data());
  reference.read_raw("output", "U8", {count, classes}, torch_output.data());
  reference.read_raw("output_zero_point", "I32", {}, &output_zero_point);
  reference.read_floats("output_scale", output_scale.data());
  reference.read_floats("logits", torch_logits.data());

  // The float model's PyTorch logits, to count where int8 and float32 choose the same class.
  ctresnet::safetensors::reader float_reference(digits_dir + "/reference_logits.safetensors");
  std::vector<float> float_logits(count * classes);
  float_reference.read_floats("logits", float_logits.data());

  net_type net;
  ctresnet::load_int8_safetensors(net, digits_dir + "/resnet20_digits.int8.safetensors");
  CHECK(net.output_quantization().scale == output_scale[0]);
  CHECK(net.output_quantization().zero_point == output_zero_point);

  net_type::input_tensor x(count, 1, 16, 16);
  using input = digits_transform::output_shape;
  for (std::size_t i = 0; i < images.size(); ++i) {
    CHECK(images[i].label == torch_labels[i]);
    const ctresnet::image pixels = examples::read_image_file(digits_dir + "/test/" + images[i].file);
    REQUIRE(pixels.width == 8);
    REQUIRE(pixels.height == 8);
    REQUIRE(pixels.channels == 1);
    digits_transform{}(pixels, x.data() + static_cast<std::ptrdiff_t>(i) * input::size);
  }
  const net_type::uint8_images_tensor quant = net.quantize(x);
  std::vector<std::byte> workspace(net_type::workspace_bytes);
  net_type::uint8_output_tensor output(count, classes);
  net.forward(x, net_type::uint8_output_map(output.data(), count, classes), workspace.data());
  const net_type::output_tensor logits = net.forward(x);  // dequantized

  int same_input = 0, same_output = 0, same_logit_bits = 0, same_as_float = 0, correct = 0, torch_correct = 0;
  for (int i = 0; i < count; ++i) {
    const std::size_t row = static_cast<std::size_t>(i) * classes;
    const auto pixels = static_cast<std::size_t>(input::size);
    const bool input_equal = std::equal(quant.data() + i * input::size, quant.data() + (i + 1) * input::size,
                                        torch_quant.begin() + static_cast<std::ptrdiff_t>(i * pixels));
    const bool output_equal = std::equal(output.data() + row, output.data() + row + classes, torch_output.data() + row);
    same_input += input_equal;
    same_output += output_equal;
    same_logit_bits += std::memcmp(logits.data() + row, torch_logits.data() + row, classes * sizeof(float)) == 0;
    const std::string& file = images[static_cast<std::size_t>(i)].file;
    if (!input_equal) FAIL_CHECK(file << ": the quantized input differs from PyTorch's");
    if (!output_equal) {
      std::string ours, theirs;
      for (int c = 0; c < classes; ++c) {
        ours += " " + std::to_string(output.data()[row + static_cast<std::size_t>(c)]);
        theirs += " " + std::to_string(torch_output[row + static_cast<std::size_t>(c)]);
      }
      FAIL_CHECK(file << ": uint8 logits" << ours << ", PyTorch's" << theirs);
    }
    const int guess = argmax(output.data() + row);
    correct += guess == images[static_cast<std::size_t>(i)].label;
    torch_correct += argmax(torch_output.data() + row) == images[static_cast<std::size_t>(i)].label;
    same_as_float += guess == argmax(float_logits.data() + row);
  }
  MESSAGE("images whose quantized input equals PyTorch's: " << same_input << "/360; uint8 logits equal: " << same_output
                                                            << "/360; dequantized logits equal in their bits: "
                                                            << same_logit_bits << "/360");
  MESSAGE("accuracy: int8 " << correct << "/360 (PyTorch's int8 " << torch_correct << "/360); the same class as "
                            << "PyTorch's float32 model on " << same_as_float << "/360");
  CHECK(same_input == count);
  CHECK(same_output == count);
  CHECK(same_logit_bits == count);
  CHECK(correct >= 353);  // 98 % of 360 is 352.8
}
