// ctresnet's side of the browser benchmark (bench/web/run.mjs): a WebAssembly module, built for
// the web (ES6 module, single-threaded, wasm SIMD), that holds one network of each benchmarked
// model. JavaScript copies a safetensors file's bytes into the module's memory, the module loads
// them through ctresnet's loader, and JavaScript times ctresnet_web_forward() as it times
// onnxruntime-web's session.run(), on the same input.
//
//   model 0: torchvision resnet18, 1x3x224x224, 1000 classes
//   model 1: the digits model (CIFAR ResNet-20, shortcut A, 1x1x16x16, 10 classes)
//
// Every function returns 0 on success; on failure, ctresnet_web_error() holds the message.
#include <ctresnet/ctresnet.hpp>
#include <ctresnet/safetensors.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

std::string last_error;

/// A network and the buffers of one batch-1 forward pass.
template <class Net>
struct model {
  Net net{ctresnet::uninitialized};
  std::vector<float> input = std::vector<float>(static_cast<std::size_t>(Net::input_shape::size));
  std::vector<float> logits = std::vector<float>(static_cast<std::size_t>(Net::num_classes));
  std::vector<float> workspace = std::vector<float>(static_cast<std::size_t>(Net::workspace_floats));
  bool loaded = false;

  void forward() {
    using shape = typename Net::input_shape;
    const typename Net::input_map x(input.data(), 1, shape::channels, shape::height, shape::width);
    const typename Net::output_map y(logits.data(), 1, Net::num_classes);
    net.forward(x, y, workspace.data());
  }
};

using resnet18_model = model<ctresnet::resnet18<>>;
using digits_model = model<ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>>;

// Made on first use: resnet18's state is 47 MB, which a page that benchmarks only the digits
// model need not hold.
std::unique_ptr<resnet18_model> resnet18;
std::unique_ptr<digits_model> digits;

/// Calls f(model) for model id `which`, turning exceptions into a message; 0 on success.
template <class F>
int with_model(int which, F&& f) {
  try {
    if (which == 0) {
      if (!resnet18) resnet18 = std::make_unique<resnet18_model>();
      f(*resnet18);
    } else if (which == 1) {
      if (!digits) digits = std::make_unique<digits_model>();
      f(*digits);
    } else {
      last_error = "unknown model " + std::to_string(which) + " (0 is resnet18, 1 the digits model)";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    last_error = e.what();
    return 1;
  }
}

}  // namespace

extern "C" {

/// The last failure's message, for JavaScript's UTF8ToString.
const char* ctresnet_web_error() { return last_error.c_str(); }

/// Loads `size` bytes of a safetensors file (in the module's memory, from malloc) into the model.
int ctresnet_web_load(int which, const void* bytes, std::size_t size) {
  return with_model(which, [&](auto& m) {
    ctresnet::load_safetensors_from_memory(m.net, bytes, size, which == 0 ? "resnet18" : "digits");
    m.loaded = true;
  });
}

/// Where JavaScript writes the input image (float32 NCHW) and reads the logits; null on failure.
float* ctresnet_web_input(int which) {
  float* p = nullptr;
  with_model(which, [&](auto& m) { p = m.input.data(); });
  return p;
}
float* ctresnet_web_logits(int which) {
  float* p = nullptr;
  with_model(which, [&](auto& m) { p = m.logits.data(); });
  return p;
}

/// One forward pass of the input into the logits.
int ctresnet_web_forward(int which) {
  return with_model(which, [&](auto& m) {
    if (!m.loaded) throw std::runtime_error("the model's weights are not loaded: call ctresnet_web_load first");
    m.forward();
  });
}

}  // extern "C"
