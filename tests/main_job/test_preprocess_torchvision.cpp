// ctresnet's preprocessing against torchvision's on real photographs. tools/make_preprocess_refs.py
// (a CTest fixture) writes torchvision's outputs and the pixels PIL decodes; this test decodes the
// same files as ctresnet-classify does (examples/image_file.hpp). It checks the two steps apart:
// the decoders (PIL's pixels) and the transform (torchvision's output to the last bit, given the
// same pixels), then both together.
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

std::string references_path(const std::string& file = "references.safetensors") {
  const char* dir = std::getenv("CTRESNET_PREPROCESS_REFDATA");
  REQUIRE_MESSAGE(dir != nullptr, "CTRESNET_PREPROCESS_REFDATA names the directory tools/make_preprocess_refs.py wrote");
  return std::string(dir) + "/" + file;
}

/// An [H, W, C] tensor of pixel values stored as floats, as an image.
ctresnet::image read_pixels(ctresnet::safetensors::reader& reader, const std::string& name) {
  const auto& shape = reader.at(name).shape;
  std::vector<float> values(static_cast<std::size_t>(shape[0] * shape[1] * shape[2]));
  reader.read_floats(name, values.data());
  ctresnet::image pixels(static_cast<int>(shape[1]), static_cast<int>(shape[0]), static_cast<int>(shape[2]));
  std::transform(values.begin(), values.end(), pixels.pixels.begin(),
                 [](float v) { return static_cast<std::uint8_t>(v); });
  return pixels;
}

struct reference_case {
  std::string name, file, transform;
  ctresnet::image pixels;       // as PIL decodes the file
  std::vector<float> expected;  // torchvision's output
};

std::vector<reference_case> read_cases() {
  ctresnet::safetensors::reader reader(references_path());
  std::vector<reference_case> cases;
  std::stringstream names(reader.metadata().at("cases"));
  for (std::string name; std::getline(names, name, ',');) {
    reference_case c;
    c.name = name;
    c.file = reader.metadata().at(name + ".file");
    c.transform = reader.metadata().at(name + ".transform");
    c.pixels = read_pixels(reader, name + ".pixels");
    const auto& out = reader.at(name + ".output").shape;
    c.expected.resize(static_cast<std::size_t>(out[0] * out[1] * out[2]));
    reader.read_floats(name + ".output", c.expected.data());
    cases.push_back(std::move(c));
  }
  return cases;
}

std::vector<float> transformed(const reference_case& c, const ctresnet::image& pixels) {
  std::vector<float> x(c.expected.size());
  if (c.transform == "digits") {
    digits_transform{}(pixels, x.data());
  } else {
    REQUIRE((c.transform == "imagenet256" || c.transform == "imagenet232"));
    ctresnet::imagenet_eval_transform{c.transform == "imagenet256" ? 256 : 232}(pixels, x.data());
  }
  return x;
}

/// Whether this build decodes the file: a cross build without libjpeg and libpng for its target
/// (examples/CMakeLists.txt) reads only the PGM here; its transforms are tested from PIL's pixels.
bool decodable(const std::string& file) {
#ifdef CTRESNET_NO_JPEG_PNG
  return file.size() > 4 && file.compare(file.size() - 4, 4, ".pgm") == 0;
#else
  (void)file;
  return true;
#endif
}

struct difference {
  double max = 0, mean = 0;
  double differing = 0;  // fraction of values that are not equal
};

template <class A, class B>
difference compare(const A& a, const B& b) {
  REQUIRE(a.size() == b.size());
  difference d;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double gap = std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    d.max = std::max(d.max, gap);
    d.mean += gap;
    d.differing += gap != 0;
  }
  d.mean /= static_cast<double>(a.size());
  d.differing /= static_cast<double>(a.size());
  return d;
}

}  // namespace

TEST_CASE("JPEG, PNG and PGM files decode to PIL's pixels") {
  int decoded_cases = 0;
  for (const reference_case& c : read_cases()) {
    CAPTURE(c.name);
    if (!decodable(c.file)) continue;
    ++decoded_cases;
    const ctresnet::image decoded = examples::read_image_file(c.file);
    REQUIRE(decoded.width == c.pixels.width);
    REQUIRE(decoded.height == c.pixels.height);
    REQUIRE(decoded.channels == c.pixels.channels);
    const difference d = compare(decoded.pixels, c.pixels.pixels);
    MESSAGE(c.name << ": decoded vs PIL pixels: max " << d.max << " levels, "
                   << 100 * d.differing << " % of the values differ");
    CHECK(d.max == 0);
  }
  CHECK(decoded_cases > 0);
}

TEST_CASE("given PIL's pixels, the transforms give torchvision's outputs to the last bit") {
  for (const reference_case& c : read_cases()) {
    CAPTURE(c.name);
    const difference d = compare(transformed(c, c.pixels), c.expected);
    MESSAGE(c.name << ": " << c.transform << " of PIL's pixels vs torchvision: max " << d.max);
    CHECK(d.max == 0);
  }
}

TEST_CASE("from the file, as ctresnet-classify reads it: torchvision's tensor to the last bit") {
  for (const reference_case& c : read_cases()) {
    CAPTURE(c.name);
    if (!decodable(c.file)) continue;
    const difference d = compare(transformed(c, examples::read_image_file(c.file)), c.expected);
    MESSAGE(c.name << ": decode_image + " << c.transform << " vs PIL + torchvision: max " << d.max);
    CHECK(d.max == 0);
  }
}

TEST_CASE("resize_bilinear gives PIL's pixels on random images of random sizes") {
  ctresnet::safetensors::reader reader(references_path("resize_references.safetensors"));
  int cases = 0;
  for (; reader.contains(std::to_string(cases) + ".input"); ++cases) {
    const std::string name = std::to_string(cases);
    const ctresnet::image input = read_pixels(reader, name + ".input");
    const ctresnet::image expected = read_pixels(reader, name + ".output");
    CAPTURE(name);
    CAPTURE(input.width);
    CAPTURE(input.height);
    CAPTURE(expected.width);
    CAPTURE(expected.height);
    const ctresnet::image resized = ctresnet::resize_bilinear(input, expected.width, expected.height);
    CHECK(resized.pixels == expected.pixels);
  }
  CHECK(cases == 60);
}
