// Loading and saving safetensors: round trips, dtype conversion, and the errors for files that do
// not fit the network.
#include <ctresnet/ctresnet.hpp>
#include <ctresnet/safetensors.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {
using namespace ctresnet;
using small_net = resnet18<10, shape<3, 32, 32>>;

/// A file name of this process's own: ctest runs the test cases as parallel processes.
std::string temp_path(const std::string& name) {
  static const std::string run = std::to_string(std::random_device{}());
  return "ctresnet_test_" + name + "_" + run + ".safetensors";
}

/// A tensor to write as it is, however wrong: the tests build malformed files from these.
struct raw_tensor {
  std::string name, dtype;
  std::vector<std::int64_t> shape;
  std::vector<unsigned char> bytes;
};

void write_file(const std::string& path, const std::vector<raw_tensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::size_t offset = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  const std::string text = header.dump();
  std::ofstream out(path, std::ios::binary);
  const auto length = static_cast<std::uint64_t>(text.size());  // size_t may have 32 bits (wasm32)
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((length >> (8 * i)) & 0xFF));
  out << text;
  for (const auto& t : tensors) out.write(reinterpret_cast<const char*>(t.bytes.data()), std::streamsize(t.bytes.size()));
}

/// The network's own tensors, as PyTorch would save them (F32, OIHW), to corrupt one at a time.
std::vector<raw_tensor> tensors_of(const small_net& net) {
  const std::string path = temp_path("source");
  save_safetensors(net, path);
  safetensors::reader file(path);
  std::vector<raw_tensor> tensors;
  for (const auto& t : small_net::tensors()) {
    const auto& e = file.at(t.name);
    std::vector<float> values(static_cast<std::size_t>(t.elements()));
    file.read_floats(t.name, values.data());
    raw_tensor raw{t.name, "F32", e.shape, std::vector<unsigned char>(values.size() * 4)};
    std::memcpy(raw.bytes.data(), values.data(), raw.bytes.size());
    tensors.push_back(std::move(raw));
  }
  std::remove(path.c_str());
  return tensors;
}

std::string load_error(const std::string& path) {
  small_net net;
  try {
    load_safetensors(net, path);
  } catch (const weights_error& e) {
    return e.what();
  }
  return "(no error)";
}

bool same_state(const small_net& a, const small_net& b) {
  return std::equal(a.state_data(), a.state_data() + small_net::state_floats, b.state_data());
}
}  // namespace

TEST_CASE("save then load restores every float exactly") {
  const small_net original(7);
  small_net loaded(8);
  REQUIRE_FALSE(same_state(original, loaded));
  const std::string path = temp_path("round_trip");
  save_safetensors(original, path);
  load_safetensors(loaded, path);
  CHECK(same_state(original, loaded));

  SUBCASE("the file holds PyTorch's names, shapes and layout") {
    safetensors::reader file(path);
    CHECK(file.entries().size() == small_net::tensors().size());
    CHECK(file.at("conv1.weight").shape == std::vector<std::int64_t>{64, 3, 7, 7});
    CHECK(file.at("fc.weight").shape == std::vector<std::int64_t>{10, 512});
    CHECK(file.metadata().at("format") == "pt");
    // conv1.weight[33, 1, 2, 3] in PyTorch's order is in ctresnet's second panel of 32 output
    // channels ([2][7][7][3][32] for 64 channels), at [1][2][3][1][1].
    std::vector<float> conv1(64 * 3 * 7 * 7);
    file.read_floats("conv1.weight", conv1.data());
    CHECK(conv1[((33 * 3 + 1) * 7 + 2) * 7 + 3] ==
          original.state_data()[1 * (7 * 7 * 3 * 32) + ((2 * 7 + 3) * 3 + 1) * 32 + 1]);
  }
  std::remove(path.c_str());
}

TEST_CASE("F16 and BF16 tensors are converted to float") {
  const small_net original(1);
  auto tensors = tensors_of(original);
  // fc.bias as F16 holding 1.5, -2, 65504 (largest half), 2^-24 (smallest subnormal), and as BF16.
  const std::vector<std::uint16_t> half{0x3E00, 0xC000, 0x7BFF, 0x0001, 0, 0, 0, 0, 0, 0x8000};
  const std::vector<std::uint16_t> bfloat{0x3FC0, 0xC000, 0x4780, 0, 0, 0, 0, 0, 0, 0};
  for (const bool is_half : {true, false}) {
    CAPTURE(is_half);
    const auto& bits = is_half ? half : bfloat;
    raw_tensor& bias = tensors.back();
    REQUIRE(bias.name == "fc.bias");
    bias.dtype = is_half ? "F16" : "BF16";
    bias.bytes.clear();
    for (const auto b : bits) bias.bytes.insert(bias.bytes.end(), {static_cast<unsigned char>(b & 0xFF), static_cast<unsigned char>(b >> 8)});
    const std::string path = temp_path("half");
    write_file(path, tensors);
    small_net net;
    load_safetensors(net, path);
    const float* loaded = net.state_data() + small_net::tensors().back().offset;
    CHECK(loaded[0] == 1.5f);
    CHECK(loaded[1] == -2.0f);
    if (is_half) {
      CHECK(loaded[2] == 65504.0f);
      CHECK(loaded[3] == std::ldexp(1.0f, -24));
      CHECK(std::signbit(loaded[9]));
    } else {
      CHECK(loaded[2] == 65536.0f);
    }
    std::remove(path.c_str());
  }
}

TEST_CASE("num_batches_tracked may be present or absent") {
  const small_net original(2);
  auto tensors = tensors_of(original);
  tensors.push_back({"bn1.num_batches_tracked", "I64", {}, std::vector<unsigned char>(8, 0)});
  tensors.push_back({"layer1.0.bn2.num_batches_tracked", "I64", {}, std::vector<unsigned char>(8, 0)});
  const std::string path = temp_path("batches_tracked");
  write_file(path, tensors);
  small_net loaded;
  load_safetensors(loaded, path);
  CHECK(same_state(original, loaded));
  std::remove(path.c_str());
}

TEST_CASE("a file that does not fit the network is rejected with a message naming the tensor") {
  const small_net original(3);
  const auto good = tensors_of(original);
  const std::string path = temp_path("bad");
  auto expect_error = [&](const std::vector<raw_tensor>& tensors, const std::string& fragment) {
    write_file(path, tensors);
    const std::string message = load_error(path);
    CHECK_MESSAGE(message.find(fragment) != std::string::npos, message);
    CHECK_MESSAGE(message.find(path) != std::string::npos, message);
  };

  SUBCASE("missing tensor") {
    auto tensors = good;
    tensors.erase(tensors.begin() + 5);
    expect_error(tensors, "missing tensor '" + good[5].name + "'");
  }
  SUBCASE("unexpected tensor") {
    auto tensors = good;
    tensors.push_back({"layer5.0.conv1.weight", "F32", {1}, std::vector<unsigned char>(4)});
    expect_error(tensors, "unexpected tensor 'layer5.0.conv1.weight' with shape [1]");
  }
  SUBCASE("num_batches_tracked of a module that is no BatchNorm") {
    auto tensors = good;
    tensors.push_back({"fc.num_batches_tracked", "I64", {}, std::vector<unsigned char>(8)});
    expect_error(tensors, "unexpected tensor 'fc.num_batches_tracked'");
  }
  SUBCASE("wrong shape: weights of a 1000-class network") {
    auto tensors = good;
    tensors[tensors.size() - 2] = {"fc.weight", "F32", {1000, 512}, std::vector<unsigned char>(1000 * 512 * 4)};
    expect_error(tensors, "tensor 'fc.weight' has shape [1000, 512], expected [10, 512]");
  }
  SUBCASE("wrong dtype") {
    auto tensors = good;
    tensors.back().dtype = "I32";
    expect_error(tensors, "tensor 'fc.bias' has dtype I32, expected F32, F16 or BF16");
  }
  SUBCASE("byte count disagreeing with the shape") {
    auto tensors = good;
    tensors.back().bytes.resize(tensors.back().bytes.size() - 4);
    expect_error(tensors, "tensor 'fc.bias': shape [10] of F32 needs 40 bytes, its data_offsets hold 36");
  }
  SUBCASE("unknown dtype") {
    auto tensors = good;
    tensors.back().dtype = "F8";
    expect_error(tensors, "tensor 'fc.bias': unknown dtype F8");
  }
  std::remove(path.c_str());
}

TEST_CASE("a broken file is rejected, and the network keeps its weights") {
  const std::string path = temp_path("broken");
  auto write_bytes = [&](const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; };
  auto length_prefix = [](std::uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[std::size_t(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
    return s;
  };

  SUBCASE("no such file") { CHECK(load_error("no/such/file.safetensors").find("cannot open the file") != std::string::npos); }
  SUBCASE("shorter than the length prefix") {
    write_bytes("abc");
    CHECK(load_error(path).find("too short for a safetensors header") != std::string::npos);
  }
  SUBCASE("header length past the end of the file") {
    write_bytes(length_prefix(1000) + "{}");
    CHECK(load_error(path).find("runs past the end of the 10-byte file") != std::string::npos);
  }
  SUBCASE("header not JSON") {
    write_bytes(length_prefix(5) + "{oops");
    CHECK(load_error(path).find("the header is not valid JSON") != std::string::npos);
  }
  SUBCASE("header not an object") {
    write_bytes(length_prefix(2) + "[]");
    CHECK(load_error(path).find("the header is not a JSON object") != std::string::npos);
  }
  SUBCASE("data past the end of the file") {
    const std::string header = R"({"fc.bias":{"dtype":"F32","shape":[10],"data_offsets":[0,40]}})";
    write_bytes(length_prefix(header.size()) + header + std::string(8, '\0'));
    CHECK(load_error(path).find("lie outside the data section of 8 bytes") != std::string::npos);
  }
  SUBCASE("a rejected file leaves the weights untouched") {
    const small_net original(4);
    auto tensors = tensors_of(original);
    tensors.pop_back();
    write_file(path, tensors);
    small_net net(4);
    CHECK_THROWS_AS(load_safetensors(net, path), weights_error);
    CHECK(same_state(original, net));
  }
  std::remove(path.c_str());
}
