// The int8 network's API and its loader: files that must be rejected, each made in memory from the
// digits model's valid file (tools/make_int8_references.py, in CTRESNET_INT8_REFDATA), the forms of
// the forward pass, and their argument checks.
#include <ctresnet/quantized/safetensors.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace {
using namespace ctresnet;
using digits = cifar::resnet20<10, shape<1, 16, 16>>;
using q_digits = quantized<digits>;

std::string reference_file(const std::string& kind) {
  const char* dir = std::getenv("CTRESNET_INT8_REFDATA");
  REQUIRE_MESSAGE(dir != nullptr, "set CTRESNET_INT8_REFDATA to the directory tools/make_int8_references.py wrote");
  return std::string(dir) + "/digits.int8." + kind + ".safetensors";
}

/// A safetensors file in memory, to be changed and written back as bytes.
struct file_bytes {
  nlohmann::json header;
  std::vector<char> data;

  explicit file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in, "cannot open " << path);
    const std::vector<char> all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(all[std::size_t(i)]);
    header = nlohmann::json::parse(all.begin() + 8, all.begin() + 8 + static_cast<std::ptrdiff_t>(length));
    data.assign(all.begin() + 8 + static_cast<std::ptrdiff_t>(length), all.end());
  }
  std::vector<char> bytes() const {
    const std::string text = header.dump();
    std::vector<char> out(8);
    for (int i = 0; i < 8; ++i) out[std::size_t(i)] = static_cast<char>(text.size() >> (8 * i));
    out.insert(out.end(), text.begin(), text.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
  }
  /// Element `i` of tensor `name`, as T.
  template <class T>
  void set(const std::string& name, std::size_t i, T value) {
    const std::size_t begin = header.at(name).at("data_offsets")[0].get<std::size_t>();
    std::memcpy(data.data() + begin + i * sizeof(T), &value, sizeof(T));
  }
  template <class T>
  T get(const std::string& name, std::size_t i) const {
    T value;
    std::memcpy(&value, data.data() + header.at(name).at("data_offsets")[0].get<std::size_t>() + i * sizeof(T),
                sizeof(T));
    return value;
  }
  void rename(const std::string& from, const std::string& to) {
    header[to] = header.at(from);
    header.erase(from);
  }
};

/// The message with which loading `file` into `net` fails ("" if it loads).
std::string load_error(q_digits& net, const file_bytes& file) {
  const std::vector<char> bytes = file.bytes();
  try {
    load_int8_safetensors_from_memory(net, bytes.data(), bytes.size(), "changed.safetensors");
  } catch (const weights_error& e) {
    return e.what();
  }
  return "";
}

q_digits::input_tensor digits_input() {
  safetensors::reader io(reference_file("io"));
  q_digits::input_tensor input(2, 1, 16, 16);
  io.read_floats("input", input.data());
  return input;
}

bool same_bits(const q_digits::output_tensor& a, const q_digits::output_tensor& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * std::size_t(a.size())) == 0;
}

/// A loaded network, its input and logits; each case then tries to load a broken file.
struct loaded {
  q_digits net;
  q_digits::input_tensor input = digits_input();
  q_digits::output_tensor logits;
  file_bytes file{reference_file("weights")};

  loaded() {
    load_int8_safetensors(net, reference_file("weights"));
    logits = net.forward(input);
  }
  /// Loading the changed file fails with a message containing each of `parts`, and the network
  /// computes what it computed before.
  void require_rejected(const std::vector<std::string>& parts) {
    const std::string message = load_error(net, file);
    REQUIRE_MESSAGE(!message.empty(), "the changed file was accepted");
    for (const std::string& part : parts) CHECK_MESSAGE(message.find(part) != std::string::npos, message);
    CHECK(same_bits(net.forward(input), logits));
  }
};

}  // namespace

TEST_CASE("the layers are named as the file names them, in the order they run") {
  const auto layers = q_digits::layers();
  REQUIRE(layers.size() == 1 + 1 + 9 * 3 + 1);  // quant, conv1, 9 blocks of two convs and an add, fc
  CHECK(layers[0].name == "quant");
  CHECK(layers[1].name == "conv1");
  CHECK(layers[1].input == "quant");
  CHECK(layers[2].name == "layer1.0.conv1");
  CHECK(layers[4].name == "layer1.0.add");
  CHECK(layers[4].input == "layer1.0.conv2");
  CHECK(layers[4].shortcut == "conv1");  // the identity: the block's input
  CHECK(layers[13].name == "layer2.0.add");
  CHECK(layers[13].shortcut == "layer1.2.add");  // option A keeps its input's quantization
  CHECK(layers.back().name == "fc");
  CHECK(layers.back().input == "layer3.2.add");  // the average pool keeps it too
  CHECK(layers.back().offset + 3 * cache_line_bytes <= q_digits::state_bytes);
}

TEST_CASE("a valid file loads, and the float and uint8 forms of input and output agree") {
  loaded l;
  safetensors::reader io(reference_file("io"));
  q_digits::uint8_images_tensor quantized_input(2, 1, 16, 16);
  io.read_raw("quant", "U8", {2, 1, 16, 16}, quantized_input.data());

  std::vector<std::byte> workspace(q_digits::workspace_bytes);
  q_digits::uint8_output_tensor raw(2, 10), raw_from_uint8(2, 10);
  REQUIRE(l.net.try_forward(l.input, raw, workspace.data()) == status::ok);
  REQUIRE(l.net.try_forward(q_digits::uint8_input_map(quantized_input.data(), quantized_input.dimensions()),
                            raw_from_uint8, workspace.data()) == status::ok);
  CHECK(std::memcmp(raw.data(), raw_from_uint8.data(), 20) == 0);
  const quantization q = l.net.output_quantization();
  for (int i = 0; i < 20; ++i)
    CHECK(l.logits.data()[i] == static_cast<float>(int(raw.data()[i]) - q.zero_point) * q.scale);

  // The last stage's maps are what the classifier reads: pooled and classified they give the logits.
  const auto stages = l.net.forward_stages(l.input);
  CHECK(stages[2].dimension(1) == 64);
  CHECK(l.net.stage_quantization<2>().scale > 0.0f);
  CHECK(l.net.input_quantization().scale > 0.0f);
}

TEST_CASE("a network not loaded yet computes zeros") {
  const q_digits net;
  q_digits::input_tensor input(1, 1, 16, 16);
  input.setConstant(0.5f);
  const auto logits = net.forward(input);
  for (int i = 0; i < 10; ++i) CHECK(logits.data()[i] == 0.0f);
}

TEST_CASE("wrong shapes and a null workspace are reported, and the throwing forms name the shapes") {
  loaded l;
  std::vector<std::byte> workspace(q_digits::workspace_bytes);
  q_digits::input_tensor wrong(2, 3, 16, 16);
  q_digits::output_tensor logits(2, 10), wrong_logits(3, 10);
  CHECK(l.net.try_forward(wrong, logits, workspace.data()) == status::wrong_input_shape);
  CHECK(l.net.try_forward(l.input, wrong_logits, workspace.data()) == status::wrong_output_shape);
  CHECK(l.net.try_forward(l.input, logits, nullptr) == status::no_workspace);
  q_digits::stage_maps maps{};
  CHECK(l.net.try_forward_stages(wrong, maps, workspace.data()) == status::wrong_input_shape);
  q_digits::uint8_images_tensor wrong_images(2, 1, 16, 15);
  CHECK(l.net.try_quantize(l.input, wrong_images) == status::wrong_output_shape);

  CHECK_THROWS_WITH_AS(l.net.forward(wrong),
                       "ctresnet::quantized::forward: the input has shape [2, 3, 16, 16], expected [N, 1, 16, 16] "
                       "with N >= 1",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(l.net.forward(l.input, wrong_logits, workspace.data()),
                       "ctresnet::quantized::forward: the output has shape [3, 10], expected [2, 10]",
                       std::invalid_argument);
}

TEST_CASE("a workspace that does not start on a cache line works, and nothing is written past its end") {
  loaded l;
  std::vector<std::byte> workspace(q_digits::workspace_bytes + 1 + 64, std::byte{0x5a});
  q_digits::output_tensor logits(2, 10);
  REQUIRE(l.net.try_forward(l.input, logits, workspace.data() + 1) == status::ok);
  CHECK(same_bits(logits, l.logits));
  for (std::size_t i = q_digits::workspace_bytes + 1; i < workspace.size(); ++i) CHECK(workspace[i] == std::byte{0x5a});
}

TEST_CASE("a file with a wrong dtype is rejected, and the network keeps its weights") {
  loaded l;
  l.file.header["layer2.1.conv1.output_zero_point"]["dtype"] = "F32";
  l.require_rejected({"changed.safetensors: 1 tensor(s) do not fit this network:",
                      "tensor 'layer2.1.conv1.output_zero_point' has dtype F32, expected I32"});
}

TEST_CASE("a scale that is not positive and finite is rejected") {
  loaded l;
  l.file.set("layer1.1.conv2.output_scale", 0, 0.0f);
  l.require_rejected({"1 tensor(s) hold values that cannot be used:",
                      "tensor 'layer1.1.conv2.output_scale' holds the scale 0; scales must be positive and finite"});
  loaded m;
  m.file.set("layer3.0.conv1.weight_scale", 5, -0.5f);
  m.file.set("layer3.0.conv1.weight_scale", 9, std::numeric_limits<float>::infinity());
  m.require_rejected({"tensor 'layer3.0.conv1.weight_scale' holds the scale -0.5 at element 5 (and 1 more); scales "
                      "must be positive and finite"});
}

TEST_CASE("a zero point out of range is rejected: activations' in [0, 255], weights' 0") {
  loaded l;
  l.file.set("quant.output_zero_point", 0, std::int32_t{256});
  l.file.set("layer2.0.add.output_zero_point", 0, std::int32_t{-1});
  l.file.set("fc.weight_zero_point", 3, std::int32_t{1});
  l.require_rejected({"3 tensor(s) hold values that cannot be used:",
                      "tensor 'quant.output_zero_point' holds the zero point 256; an activation's (quint8) lies in "
                      "[0, 255]",
                      "tensor 'layer2.0.add.output_zero_point' holds the zero point -1;",
                      "tensor 'fc.weight_zero_point' holds the zero point 1 at element 3; weights must be symmetric "
                      "(zero point 0)"});
}

TEST_CASE("biases, multipliers and add parameters must follow from the scales") {
  loaded l;
  l.file.set("layer1.0.conv1.bias", 2, l.file.get<std::int32_t>("layer1.0.conv1.bias", 2) + 1);
  l.file.set("fc.requant_scale", 7, std::nextafter(l.file.get<float>("fc.requant_scale", 7), 1.0f));
  l.file.set("layer3.2.add.shift", 0, l.file.get<std::int32_t>("layer3.2.add.shift", 0) + 1);
  l.require_rejected({"3 tensor(s) hold values that cannot be used:",
                      "tensor 'layer1.0.conv1.bias' holds ", " at element 2, which does not follow from bias_float",
                      "tensor 'fc.requant_scale' holds ", " at element 7, which does not follow from the scales",
                      "tensors 'layer3.2.add.multipliers' and 'layer3.2.add.shift' hold "});
}

TEST_CASE("missing, unexpected and misshapen tensors are rejected") {
  loaded l;
  l.file.rename("layer1.2.conv2.bias_float", "layer1.2.conv2.bias_floats");
  l.file.header["fc.weight"]["shape"] = {64, 10};
  l.require_rejected({"3 tensor(s) do not fit this network:",
                      "missing tensor 'layer1.2.conv2.bias_float' (expected F32 [16])",
                      "tensor 'fc.weight' has shape [64, 10], expected [10, 64]",
                      "unexpected tensor 'layer1.2.conv2.bias_floats' with shape [16]"});
}

TEST_CASE("a file that is not an int8 model file is rejected by its metadata") {
  loaded l;
  l.file.header["__metadata__"]["format"] = "pt";
  l.file.header["__metadata__"].erase("engine");
  l.require_rejected({"2 metadata problem(s): not an int8 model file as tools/quantize.py writes it:",
                      "its metadata's format is 'pt', expected 'ctresnet-int8'",
                      "its metadata's engine is (none), expected 'qnnpack'"});
}
