// Every file in tests/malformed/ (written by tools/make_malformed_weights.py) is rejected with its
// own error, from a path and from memory alike, and leaves the network's weights as they were: the
// float files by load_safetensors into tiny_network, the int8_* files by load_int8_safetensors into
// quantized<tiny_network>.
#include "tiny_network.hpp"

#include <ctresnet/quantized/safetensors.hpp>
#include <ctresnet/safetensors.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace {
using ctresnet_tests::tiny_network;

std::string corpus_path(const std::string& name) { return std::string(CTRESNET_MALFORMED_DIR) + "/" + name + ".safetensors"; }

std::vector<unsigned char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in, "cannot open " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool same_state(const tiny_network& a, const tiny_network& b) {
  return std::equal(a.state_data(), a.state_data() + tiny_network::state_floats, b.state_data());
}

/// Loading corpus file `name` from its path and from its bytes both throw a weights_error whose
/// message contains `expected` and names the file (the path, or `name` for the bytes), the rest
/// of the two messages being the same.
template <class FromPath, class FromMemory>
void check_rejection_messages(const std::string& name, const std::string& expected, FromPath&& from_path_load,
                              FromMemory&& from_memory_load) {
  const std::string path = corpus_path(name);
  std::string from_path = "(no error)", from_memory = "(no error)";
  try {
    from_path_load(path);
  } catch (const ctresnet::weights_error& e) {
    from_path = e.what();
  }
  try {
    from_memory_load(file_bytes(path));
  } catch (const ctresnet::weights_error& e) {
    from_memory = e.what();
  }
  CHECK_MESSAGE(from_path.find(expected) != std::string::npos, from_path);
  CHECK_MESSAGE(from_path.find("ctresnet: " + path + ": ") == 0, from_path);
  CHECK_MESSAGE(from_memory == "ctresnet: " + name + ": " + from_path.substr(("ctresnet: " + path + ": ").size()),
                from_memory);
}

/// The file is rejected, from its path and from its bytes, with an error that contains `expected`
/// and names the file; the network keeps its weights.
void check_rejected(const std::string& name, const std::string& expected) {
  const tiny_network original(11);
  tiny_network net(11);
  check_rejection_messages(
      name, expected, [&](const std::string& path) { ctresnet::load_safetensors(net, path); },
      [&](const std::vector<unsigned char>& bytes) {
        ctresnet::load_safetensors_from_memory(net, bytes.data(), bytes.size(), name);
      });
  CHECK(same_state(original, net));
  // ... and stays usable: a forward pass runs (the state is prepared again) and gives the same logits.
  using shape = tiny_network::input_shape;
  tiny_network::input_tensor x(1, shape::channels, shape::height, shape::width);
  x.setConstant(0.5f);
  const tiny_network::output_tensor want = original.forward(x);
  const tiny_network::output_tensor got = net.forward(x);
  CHECK(std::equal(want.data(), want.data() + want.size(), got.data()));
}

using tiny_int8 = ctresnet::quantized<tiny_network>;

/// The int8 file is rejected, from its path and from its bytes, with an error that contains
/// `expected` and names the file; a network loaded from valid_int8 keeps its state.
void check_int8_rejected(const std::string& name, const std::string& expected) {
  tiny_int8 original, net;
  ctresnet::load_int8_safetensors(original, corpus_path("valid_int8"));
  ctresnet::load_int8_safetensors(net, corpus_path("valid_int8"));
  check_rejection_messages(
      name, expected, [&](const std::string& path) { ctresnet::load_int8_safetensors(net, path); },
      [&](const std::vector<unsigned char>& bytes) {
        ctresnet::load_int8_safetensors_from_memory(net, bytes.data(), bytes.size(), name);
      });
  CHECK(std::memcmp(original.state_data(), net.state_data(), tiny_int8::state_bytes) == 0);
}

/// The names of the files the tests below expect, to find a file without a test.
std::set<std::string>& tested_files() {
  static std::set<std::string> names;
  return names;
}
struct registered {
  explicit registered(const char* name) { tested_files().insert(name); }
};
}  // namespace

// One test case per file: MALFORMED(file name without .safetensors, expected part of the message).
#define MALFORMED(name, expected)                                     \
  static const registered DOCTEST_ANONYMOUS(registered_)(name);       \
  TEST_CASE("malformed/" name ".safetensors is rejected") { check_rejected(name, expected); }

MALFORMED("empty_file", "the file is 0 bytes, too short for a safetensors header")
MALFORMED("shorter_than_length_prefix", "the file is 3 bytes, too short for a safetensors header")
MALFORMED("header_length_past_end", "the header length 4096 runs past the end of the 16-byte file (is the file truncated?)")
MALFORMED("header_length_over_cap", "the header length 100000001 exceeds the 100000000-byte limit")
MALFORMED("header_length_huge", "the header length 18446744073709551615 exceeds the 100000000-byte limit")
MALFORMED("header_not_json", "the header is not valid JSON")
MALFORMED("header_invalid_utf8", "the header is not valid JSON")
MALFORMED("header_not_object", "the header is not a JSON object")
MALFORMED("header_nested_too_deep", "the header entry of 'x' nests deeper than a safetensors header does")
MALFORMED("duplicate_tensor_name", "the header names 'x' twice")
MALFORMED("duplicate_key_in_entry", "the header entry of 'x' has the key 'dtype' twice")
MALFORMED("metadata_not_string", "__metadata__ value 'epochs' is not a string")
MALFORMED("entry_not_object", "tensor 'x': its header entry is not a JSON object")
MALFORMED("dtype_missing", "tensor 'x': no dtype string")
MALFORMED("dtype_unknown", "tensor 'x': unknown dtype F8_E4M3")
MALFORMED("shape_negative", "tensor 'x': the shape holds something other than a non-negative integer")
MALFORMED("shape_extent_over_int64", "tensor 'x': the shape extent 9223372036854775808 exceeds 2^63 - 1")
MALFORMED("shape_count_overflows", "tensor 'x': the element count of its shape [4294967296, 4294967296, 16] overflows 64 bits")
MALFORMED("shape_bytes_overflow", "tensor 'x': shape [4611686018427387904] of F64 needs more bytes than fit in 64 bits, its data_offsets hold 4")
MALFORMED("shape_too_many_dimensions", "the header entry of 'x': its 'shape' has more than 64 entries")
MALFORMED("shape_disagrees_with_bytes", "tensor 'x': shape [3, 3] of F32 needs 36 bytes, its data_offsets hold 40")
MALFORMED("offsets_not_pair", "tensor 'x': data_offsets is not a pair of non-negative integers")
MALFORMED("offsets_reversed", "tensor 'x': its data_offsets [8, 4) end before they begin")
MALFORMED("offsets_past_data", "tensor 'x': its bytes [0, 16) lie outside the data section of 8 bytes (is the file truncated?)")
MALFORMED("ranges_overlap", "tensor 'b': its bytes [4, 12) overlap those of tensor 'a', [0, 8)")
MALFORMED("ranges_leave_hole", "bytes [8, 12) of the data section belong to no tensor (a hole before tensor 'b')")
MALFORMED("trailing_bytes", "bytes [16, 20) at the end of the data section belong to no tensor")
MALFORMED("truncated_in_data", "lie outside the data section of 1428 bytes (is the file truncated?)")
MALFORMED("truncated_in_header", "runs past the end of the 40-byte file (is the file truncated?)")
MALFORMED("weight_nan", "1 tensor(s) hold values that cannot be weights:\n  tensor 'layer1.0.conv2.weight' holds NaN at element 5; ctresnet loads only finite weights")
MALFORMED("weight_infinite", "tensor 'fc.bias' holds -infinity at element 1; ctresnet loads only finite weights")
MALFORMED("running_var_negative", "tensor 'layer1.0.bn1.running_var' holds the negative variance -0.25 at element 2")
MALFORMED("running_var_nan", "tensor 'bn1.running_var' holds NaN at element 0")
MALFORMED("tensor_missing", "1 tensor(s) do not fit this network:\n  missing tensor 'layer1.0.bn2.bias' (expected shape [4])")
MALFORMED("tensor_unexpected", "unexpected tensor 'layer2.0.conv1.weight' with shape [1]")
MALFORMED("tensor_wrong_shape", "tensor 'fc.weight' has shape [4, 2], expected [2, 4]")
MALFORMED("tensor_integer_dtype", "tensor 'fc.bias' has dtype I32, expected F32, F16 or BF16")

// One test case per int8 file: MALFORMED_INT8(file name without .safetensors, expected part of the message).
#define MALFORMED_INT8(name, expected)                                \
  static const registered DOCTEST_ANONYMOUS(registered_)(name);       \
  TEST_CASE("malformed/" name ".safetensors is rejected by the int8 loader") { check_int8_rejected(name, expected); }

MALFORMED_INT8("int8_metadata_missing", "3 metadata problem(s): not an int8 model file as tools/quantize.py writes it:\n"
               "  its metadata's format is (none), expected 'ctresnet-int8'")
MALFORMED_INT8("int8_dilation_not_booleans", "its metadata's replace_stride_with_dilation is '[1, 0]', not a list of "
               "three booleans (layer2, layer3, layer4)")
MALFORMED_INT8("int8_scale_zero", "1 tensor(s) hold values that cannot be used:\n  tensor 'conv1.weight_scale' holds "
               "the scale 0 at element 2; scales must be positive and finite")
MALFORMED_INT8("int8_scale_negative", "1 tensor(s) hold values that cannot be used:\n  tensor 'quant.output_scale' "
               "holds the scale -0.015625; scales must be positive and finite")
MALFORMED_INT8("int8_scale_nan", "1 tensor(s) hold values that cannot be used:\n  tensor 'layer1.0.conv2.output_scale' "
               "holds the scale nan; scales must be positive and finite")
MALFORMED_INT8("int8_scale_infinite", "1 tensor(s) hold values that cannot be used:\n  tensor 'fc.weight_scale' holds "
               "the scale inf at element 1; scales must be positive and finite")
MALFORMED_INT8("int8_zero_point_out_of_range", "1 tensor(s) hold values that cannot be used:\n  tensor "
               "'layer1.0.add.output_zero_point' holds the zero point 256; an activation's (quint8) lies in [0, 255]")
MALFORMED_INT8("int8_weight_zero_point_not_zero", "1 tensor(s) hold values that cannot be used:\n  tensor "
               "'layer1.0.conv1.weight_zero_point' holds the zero point 2 at element 3; weights must be symmetric "
               "(zero point 0)")
MALFORMED_INT8("int8_weight_f32", "1 tensor(s) do not fit this network:\n  tensor 'layer1.0.conv1.weight' has dtype "
               "F32, expected I8")
MALFORMED_INT8("int8_weight_u8", "1 tensor(s) do not fit this network:\n  tensor 'fc.weight' has dtype U8, expected I8")
MALFORMED_INT8("int8_bias_inconsistent", "1 tensor(s) hold values that cannot be used:\n  tensor 'layer1.0.conv2.bias' "
               "holds 513 at element 1, which does not follow from bias_float and the scales (they give 512)")
MALFORMED_INT8("int8_add_shift_inconsistent", "1 tensor(s) hold values that cannot be used:\n  tensors "
               "'layer1.0.add.multipliers' and 'layer1.0.add.shift' hold [2097152, 2097152] and 21, which do not "
               "follow from the scales ([2097152, 2097152] and 22)")

TEST_CASE("malformed/valid_int8.safetensors loads into the int8 network, which then runs") {
  tiny_int8 net;
  ctresnet::load_int8_safetensors(net, corpus_path("valid_int8"));
  CHECK(net.input_quantization().scale == 1.0f / 64);
  CHECK(net.input_quantization().zero_point == 128);
  CHECK(net.output_quantization().zero_point == 100);
  tiny_int8::input_tensor x(1, 1, 8, 8);
  x.setConstant(0.5f);
  const tiny_int8::output_tensor logits = net.forward(x);
  REQUIRE(logits.size() == 2);
  CHECK(logits(0, 0) != logits(0, 1));  // the file's weights, not a state of zeros
}

TEST_CASE("the valid files of tests/malformed/ load, as F32 and as F16 with a batch counter") {
  tiny_network from_f32(ctresnet::uninitialized), from_f16(ctresnet::uninitialized);
  ctresnet::load_safetensors(from_f32, corpus_path("valid_f32"));
  ctresnet::load_safetensors(from_f16, corpus_path("valid_f16_with_batch_counter"));
  CHECK(same_state(from_f32, from_f16));  // the script's weights are exact in F16
  // The weights are the script's: k/16 for k in -8..8, variances 0.5, 0.75 or 1.
  std::size_t nonzero = 0;
  for (const auto& t : tiny_network::tensors())
    for (ctresnet::index_t i = 0; i < t.elements(); ++i) {
      const float v = from_f32.state_data()[t.offset + i];
      CHECK(v * 16 == static_cast<float>(static_cast<int>(v * 16)));
      CHECK(std::abs(v) <= 1.0f);
      nonzero += v != 0.0f;
    }
  CHECK(nonzero > tiny_network::num_params * 3 / 4);
}

TEST_CASE("every file in tests/malformed/ has a test") {
  std::vector<std::string> untested;
  std::size_t files = 0;
  for (const auto& item : std::filesystem::directory_iterator(CTRESNET_MALFORMED_DIR)) {
    const std::string stem = item.path().stem().string();
    if (item.path().extension() != ".safetensors") continue;
    ++files;
    if (stem.rfind("valid_", 0) != 0 && !tested_files().count(stem)) untested.push_back(stem);
  }
  CHECK(files >= 22);
  CHECK_MESSAGE(untested.empty(), "files without a test: " << doctest::toString(untested.size()));
  for (const auto& name : untested) MESSAGE(name);
}
