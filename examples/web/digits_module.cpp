// The digits model for a web page: a small C API over ctresnet, compiled to WebAssembly with SIMD
// (examples/web/CMakeLists.txt) and called from main.js. The page fetches the weights file and
// hands its bytes to ctresnet_digits_load, so the weights go through ctresnet's own safetensors
// loader. Single-threaded: a page without cross-origin isolation has no shared memory for threads.
#include "digits_model.hpp"

#include <emscripten/emscripten.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {
using input = digits_transform::output_shape;
constexpr int classes = 10;
constexpr int source_pixels = digits_transform::source_size * digits_transform::source_size;

// The network and its scratch live as long as the module: a forward pass allocates nothing.
struct loaded_model {
  digits_net net{ctresnet::uninitialized};
  std::vector<float> workspace = std::vector<float>(static_cast<std::size_t>(digits_net::workspace_floats));
};
loaded_model* model = nullptr;
std::string last_error;

// Softmax of the logits into `probabilities`; returns the most probable class.
int softmax(const float* logits, float* probabilities) {
  const float largest = *std::max_element(logits, logits + classes);
  float sum = 0;
  for (int c = 0; c < classes; ++c) sum += probabilities[c] = std::exp(logits[c] - largest);
  for (int c = 0; c < classes; ++c) probabilities[c] /= sum;
  return static_cast<int>(std::max_element(logits, logits + classes) - logits);
}
}  // namespace

extern "C" {

/// Loads the digits model from a safetensors file's bytes. Returns 1, or 0 with the loader's
/// message in ctresnet_digits_error(); a rejected file leaves the model as it was (or none).
EMSCRIPTEN_KEEPALIVE int ctresnet_digits_load(const std::uint8_t* bytes, std::size_t size) {
  auto loaded = new loaded_model;
  last_error = load_digits_weights(loaded->net, bytes, size);
  if (!last_error.empty()) {
    delete loaded;
    return 0;
  }
  delete model;
  model = loaded;
  return 1;
}

/// The message of the last failed call.
EMSCRIPTEN_KEEPALIVE const char* ctresnet_digits_error() { return last_error.c_str(); }

/// Classifies one 8x8 gray image (64 bytes, row by row, white digit on black, as scikit-learn's
/// digits scaled to 0..255): its 10 class probabilities go to `probabilities`. Returns the class,
/// or -1 with a message in ctresnet_digits_error().
EMSCRIPTEN_KEEPALIVE int ctresnet_digits_classify(const std::uint8_t* gray, float* probabilities) {
  if (!model) {
    last_error = "no digits model is loaded: call ctresnet_digits_load first";
    return -1;
  }
  float x[input::size];
  float logits[classes];
  const ctresnet::image_view image{gray, digits_transform::source_size, digits_transform::source_size, 1};
  digits_transform{}(image, x);
  const digits_net::input_map images(x, 1, input::channels, input::height, input::width);
  const ctresnet::status status =
      model->net.try_forward(images, digits_net::output_map(logits, 1, classes), model->workspace.data());
  if (status != ctresnet::status::ok) {
    last_error = std::string("the forward pass failed: ") + ctresnet::status_message(status);
    return -1;
  }
  return softmax(logits, probabilities);
}

// Compile-time facts of the network's type, for the page to show.
EMSCRIPTEN_KEEPALIVE double ctresnet_digits_num_params() { return digits_net::num_params; }
EMSCRIPTEN_KEEPALIVE double ctresnet_digits_num_macs() { return digits_net::num_macs; }
EMSCRIPTEN_KEEPALIVE double ctresnet_digits_state_bytes() { return sizeof(float) * double{digits_net::state_floats}; }
EMSCRIPTEN_KEEPALIVE double ctresnet_digits_weights_bytes() { return sizeof(float) * double{digits_net::tensor_floats}; }
EMSCRIPTEN_KEEPALIVE double ctresnet_digits_workspace_bytes() { return double{digits_net::workspace_bytes}; }
EMSCRIPTEN_KEEPALIVE int ctresnet_digits_source_pixels() { return source_pixels; }

}  // extern "C"
