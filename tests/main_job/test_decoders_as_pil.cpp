// ctresnet-classify's decoders (examples/image_file.hpp) against PIL on JPEG and PNG files of every
// kind that tools/make_decoder_refs.py (a CTest fixture) writes: the pixels of PIL's
// convert("RGB"), and torchvision's transforms of them, each to the last bit. Truncated and
// corrupt files must fail with a message naming the file.
#include "digits_transform.hpp"
#include "image_file.hpp"

#include <ctresnet/preprocess.hpp>
#include <ctresnet/safetensors.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string refdata_dir() {
  const char* dir = std::getenv("CTRESNET_DECODER_REFDATA");
  REQUIRE_MESSAGE(dir != nullptr, "CTRESNET_DECODER_REFDATA names the directory tools/make_decoder_refs.py wrote");
  return dir;
}

std::vector<float> tensor(ctresnet::safetensors::reader& reader, const std::string& name) {
  const auto& shape = reader.at(name).shape;
  std::size_t size = 1;
  for (const auto extent : shape) size *= static_cast<std::size_t>(extent);
  std::vector<float> values(size);
  reader.read_floats(name, values.data());
  return values;
}

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double largest = 0;
  for (std::size_t i = 0; i < a.size(); ++i) largest = std::max(largest, std::abs(double{a[i]} - double{b[i]}));
  return largest;
}

}  // namespace

TEST_CASE("JPEG and PNG files decode to PIL's pixels and torchvision's tensors, to the last bit") {
  ctresnet::safetensors::reader reader(refdata_dir() + "/references.safetensors");
  std::stringstream names(reader.metadata().at("cases"));
  int cases = 0;
  for (std::string name; std::getline(names, name, ','); ++cases) {
    CAPTURE(name);
    const ctresnet::image decoded = examples::read_image_file(reader.metadata().at(name + ".file"));
    const ctresnet::image rgb = ctresnet::to_rgb(decoded);
    const std::vector<float> expected_rgb = tensor(reader, name + ".rgb");
    std::vector<float> rgb_values(rgb.pixels.begin(), rgb.pixels.end());
    CHECK(max_difference(rgb_values, expected_rgb) == 0);

    std::vector<float> imagenet(3 * 224 * 224), digits(16 * 16);
    ctresnet::imagenet_eval_transform{}(decoded, imagenet.data());
    digits_transform{}(decoded, digits.data());
    CHECK(max_difference(imagenet, tensor(reader, name + ".imagenet")) == 0);
    CHECK(max_difference(digits, tensor(reader, name + ".digits")) == 0);
  }
  CHECK(cases == 31);  // every case that make_decoder_refs.py lists
}

TEST_CASE("truncated and corrupt JPEG and PNG files are errors that name the file") {
  const std::string dir = refdata_dir();
  const std::pair<const char*, const char*> failures[] = {
      {"truncated.jpg", "Premature end of JPEG file (libjpeg-turbo)"},
      {"corrupt.jpg", "Corrupt JPEG data: "},  // a warning of libjpeg's: PIL would decode this file
      {"truncated.png", "the file ends early (truncated PNG) (libpng)"},
      {"bad_crc.png", "IHDR: CRC error (libpng)"},
  };
  for (const auto& [file, reason] : failures) {
    CAPTURE(file);
    const std::string path = dir + "/" + file;
    std::string message;
    try {
      examples::read_image_file(path);
    } catch (const examples::image_file_error& e) {
      message = e.what();
    }
    CHECK(message.rfind("cannot decode image '" + path + "': ", 0) == 0);
    CHECK(message.find(reason) != std::string::npos);
  }
}
