// Loading and saving a network's state as a .safetensors file whose tensor names are PyTorch's
// state_dict keys. The only ctresnet header that touches files or needs a JSON parser.
//
// Format: an 8-byte little-endian header length, a JSON header mapping each tensor name to
// {dtype, shape, data_offsets}, then the raw little-endian tensor data.
#pragma once

#include <ctresnet/config.hpp>
#include <ctresnet/describe.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "ctresnet/safetensors.hpp reads little-endian data byte for byte; big-endian hosts are not supported yet"
#endif

namespace ctresnet {

/// A weights file that cannot be read, or does not fit the network. The message names the file,
/// and the tensor where one is at fault.
class weights_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace safetensors {

/// The safetensors project's own limit on the JSON header.
inline constexpr std::uint64_t max_header_bytes = 100'000'000;

/// One tensor as the header describes it.
struct entry {
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte range within the data section

  std::string shape_string() const {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  }
};

/// Bytes per element of the dtypes ctresnet knows, 0 for any other.
inline std::size_t dtype_size(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
  return 0;
}

/// The dtypes read_floats converts to float.
inline bool is_float_dtype(const std::string& dtype) { return dtype == "F32" || dtype == "F16" || dtype == "BF16"; }

/// IEEE half to float, exactly (every half is a float).
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1Fu;
  std::uint32_t mantissa = h & 0x3FFu;
  std::uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);  // inf or NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;  // signed zero
  } else {        // subnormal half: normalise it
    exponent = 113;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline float bfloat16_to_float(std::uint16_t b) {
  const std::uint32_t bits = std::uint32_t{b} << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// An open safetensors file: its validated header, and reads of single tensors as floats.
class reader {
 public:
  explicit reader(const std::string& path) : path_(path), file_(path, std::ios::binary) {
    if (!file_) fail("cannot open the file");
    file_.seekg(0, std::ios::end);
    const auto size = static_cast<std::uint64_t>(file_.tellg());
    file_.seekg(0);
    if (size < 8) fail("the file is " + std::to_string(size) + " bytes, too short for a safetensors header");
    unsigned char length_bytes[8];
    file_.read(reinterpret_cast<char*>(length_bytes), 8);
    std::uint64_t header_length = 0;
    for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_bytes[i];
    if (header_length > max_header_bytes)
      fail("the header length " + std::to_string(header_length) + " exceeds the " + std::to_string(max_header_bytes) +
           "-byte limit");
    if (header_length > size - 8)
      fail("the header length " + std::to_string(header_length) + " runs past the end of the " +
           std::to_string(size) + "-byte file");
    data_start_ = 8 + header_length;
    data_size_ = size - data_start_;

    std::string text(static_cast<std::size_t>(header_length), '\0');
    file_.read(text.data(), static_cast<std::streamsize>(header_length));
    if (!file_) fail("cannot read the header");
    parse_header(text);
  }

  const std::string& path() const { return path_; }
  const std::map<std::string, entry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  const entry& at(const std::string& name) const {
    const auto it = entries_.find(name);
    if (it == entries_.end()) fail("there is no tensor '" + name + "'");
    return it->second;
  }

  /// Reads a floating-point tensor (F32, F16 or BF16) into `out`, converted to float, in the
  /// file's element order. `out` must hold every element.
  void read_floats(const std::string& name, float* out) {
    const entry& e = at(name);
    const std::size_t element_size = dtype_size(e.dtype);
    if (!safetensors::is_float_dtype(e.dtype))
      fail("tensor '" + name + "' has dtype " + e.dtype + "; only F32, F16 and BF16 can be read as float");
    const std::uint64_t bytes = e.end - e.begin;
    file_.seekg(static_cast<std::streamoff>(data_start_ + e.begin));
    if (e.dtype == "F32") {  // straight into place: no second copy of the tensor in memory
      file_.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(bytes));
      if (!file_) fail("cannot read the data of tensor '" + name + "'");
    } else {
      bytes_.resize(static_cast<std::size_t>(bytes));
      file_.read(reinterpret_cast<char*>(bytes_.data()), static_cast<std::streamsize>(bytes));
      if (!file_) fail("cannot read the data of tensor '" + name + "'");
      const std::size_t count = static_cast<std::size_t>(bytes) / element_size;
      const bool half = e.dtype == "F16";
      for (std::size_t i = 0; i < count; ++i) {
        const auto bits = static_cast<std::uint16_t>(bytes_[2 * i] | (bytes_[2 * i + 1] << 8));
        out[i] = half ? half_to_float(bits) : bfloat16_to_float(bits);
      }
    }
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw weights_error("ctresnet: " + path_ + ": " + what);
  }

 private:
  void parse_header(const std::string& text) {
    const nlohmann::json header = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (header.is_discarded()) fail("the header is not valid JSON");
    if (!header.is_object()) fail("the header is not a JSON object");
    for (const auto& [name, value] : header.items()) {
      if (name == "__metadata__") {
        if (!value.is_object()) fail("__metadata__ is not a JSON object");
        for (const auto& [key, text_value] : value.items())
          if (text_value.is_string()) metadata_[key] = text_value.get<std::string>();
        continue;
      }
      entries_[name] = parse_entry(name, value);
    }
  }

  entry parse_entry(const std::string& name, const nlohmann::json& value) const {
    const std::string where = "tensor '" + name + "': ";
    if (!value.is_object()) fail(where + "its header entry is not a JSON object");
    entry e;
    const auto dtype = value.find("dtype");
    if (dtype == value.end() || !dtype->is_string()) fail(where + "no dtype string");
    e.dtype = dtype->get<std::string>();
    if (dtype_size(e.dtype) == 0) fail(where + "unknown dtype " + e.dtype);

    const auto shape = value.find("shape");
    if (shape == value.end() || !shape->is_array()) fail(where + "no shape array");
    std::uint64_t count = 1;
    for (const auto& d : *shape) {
      if (!d.is_number_unsigned()) fail(where + "the shape holds something other than a non-negative integer");
      const auto extent = d.get<std::uint64_t>();
      if (extent != 0 && count > std::numeric_limits<std::uint64_t>::max() / extent)
        fail(where + "the element count of its shape overflows");
      count *= extent;
      e.shape.push_back(static_cast<std::int64_t>(std::min<std::uint64_t>(extent, INT64_MAX)));
    }

    const auto offsets = value.find("data_offsets");
    if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
      fail(where + "data_offsets is not a pair of non-negative integers");
    e.begin = (*offsets)[0].get<std::uint64_t>();
    e.end = (*offsets)[1].get<std::uint64_t>();
    if (e.begin > e.end || e.end > data_size_)
      fail(where + "its bytes [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
           ") lie outside the data section of " + std::to_string(data_size_) + " bytes");
    const std::uint64_t element_size = dtype_size(e.dtype);
    if (count > std::numeric_limits<std::uint64_t>::max() / element_size || count * element_size != e.end - e.begin)
      fail(where + "shape " + e.shape_string() + " of " + e.dtype + " needs " +
           (count > std::numeric_limits<std::uint64_t>::max() / element_size
                ? std::string("more bytes than fit in 64 bits")
                : std::to_string(count * element_size) + " bytes") +
           ", its data_offsets hold " + std::to_string(e.end - e.begin));
    return e;
  }

  std::string path_;
  std::ifstream file_;
  std::uint64_t data_start_ = 0, data_size_ = 0;
  std::map<std::string, entry> entries_;
  std::map<std::string, std::string> metadata_;
  std::vector<unsigned char> bytes_;
};

}  // namespace safetensors

namespace detail {

/// PyTorch's conv weight [O, I / groups, kH, kW] to ctresnet's panels (conv_weight_layout), and back.
inline void oihw_to_panels(const float* from, const tensor_info& t, float* to) {
  const conv_weight_layout layout = t.conv_layout();
  const index_t o = t.shape[0], i = t.shape[1], k = t.shape[2];
  for (index_t a = 0; a < o; ++a)
    for (index_t b = 0; b < i; ++b)
      for (index_t y = 0; y < k; ++y)
        for (index_t x = 0; x < k; ++x) to[layout.index(a, b, y, x)] = from[((a * i + b) * k + y) * k + x];
}
inline void panels_to_oihw(const float* from, const tensor_info& t, float* to) {
  const conv_weight_layout layout = t.conv_layout();
  const index_t o = t.shape[0], i = t.shape[1], k = t.shape[2];
  for (index_t a = 0; a < o; ++a)
    for (index_t b = 0; b < i; ++b)
      for (index_t y = 0; y < k; ++y)
        for (index_t x = 0; x < k; ++x) to[((a * i + b) * k + y) * k + x] = from[layout.index(a, b, y, x)];
}

inline bool same_shape(const tensor_info& expected, const safetensors::entry& actual) {
  if (actual.shape.size() != static_cast<std::size_t>(expected.rank)) return false;
  for (int d = 0; d < expected.rank; ++d)
    if (actual.shape[static_cast<std::size_t>(d)] != expected.shape[static_cast<std::size_t>(d)]) return false;
  return true;
}

/// "layer1.0.bn1.running_var" -> "layer1.0.bn1."
inline std::string module_prefix(const std::string& name) { return name.substr(0, name.rfind('.') + 1); }

/// The body of load_safetensors, once for every network type.
CTRESNET_KERNEL void load_state(const std::vector<tensor_info>& expected, float* state, const std::string& path,
                                bool ignore_unexpected) {
  safetensors::reader file(path);

  std::vector<std::string> problems;
  std::set<std::string> known;
  std::set<std::string> norm_modules;
  for (const tensor_info& t : expected) {
    known.insert(t.name);
    if (t.role == tensor_role::norm_running_var) norm_modules.insert(module_prefix(t.name));
    if (!file.contains(t.name)) {
      problems.push_back("missing tensor '" + t.name + "' (expected shape " + t.shape_string() + ")");
      continue;
    }
    const safetensors::entry& e = file.at(t.name);
    if (!same_shape(t, e))
      problems.push_back("tensor '" + t.name + "' has shape " + e.shape_string() + ", expected " + t.shape_string());
    else if (!safetensors::is_float_dtype(e.dtype))
      problems.push_back("tensor '" + t.name + "' has dtype " + e.dtype + ", expected F32, F16 or BF16");
  }
  for (const auto& [name, e] : file.entries()) {
    if (known.count(name)) continue;
    const bool batch_counter = name.size() > 19 && name.compare(name.size() - 19, 19, "num_batches_tracked") == 0 &&
                               norm_modules.count(module_prefix(name));
    if (!batch_counter && !ignore_unexpected)
      problems.push_back("unexpected tensor '" + name + "' with shape " + e.shape_string());
  }
  if (!problems.empty()) {
    std::string message = std::to_string(problems.size()) + " tensor(s) do not fit this network:";
    const bool only_unexpected = std::all_of(problems.begin(), problems.end(), [](const std::string& problem) {
      return problem.compare(0, 11, "unexpected ") == 0;
    });
    const std::size_t shown = std::min<std::size_t>(problems.size(), 8);
    for (std::size_t i = 0; i < shown; ++i) message += "\n  " + problems[i];
    if (shown < problems.size()) message += "\n  ... and " + std::to_string(problems.size() - shown) + " more";
    if (only_unexpected)
      message += "\n  (every expected tensor is there; to load a larger network's file into a backbone, pass "
                 "unexpected_tensors::ignore)";
    file.fail(message);
  }

  std::vector<float> staging;
  for (const tensor_info& t : expected) {
    float* destination = state + t.offset;
    if (!stored_in_panels(t.role)) {
      file.read_floats(t.name, destination);
      continue;
    }
    staging.resize(static_cast<std::size_t>(t.elements()));
    file.read_floats(t.name, staging.data());
    oihw_to_panels(staging.data(), t, destination);
  }
}

/// The body of save_safetensors, once for every network type.
CTRESNET_KERNEL void save_state(const std::vector<tensor_info>& tensors, const float* state, const std::string& path) {
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}, {"producer", "ctresnet " CTRESNET_VERSION_STRING}};
  std::uint64_t offset = 0;
  for (const tensor_info& t : tensors) {
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.elements()) * sizeof(float);
    header[t.name] = {{"dtype", "F32"},
                      {"shape", std::vector<index_t>(t.shape.begin(), t.shape.begin() + t.rank)},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data section starts 8-byte aligned

  const std::string temporary = path + ".partial";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw weights_error("ctresnet: " + path + ": cannot open the file for writing");
    unsigned char length_bytes[8];
    for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<unsigned char>(text.size() >> (8 * i));
    out.write(reinterpret_cast<const char*>(length_bytes), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    std::vector<float> staging;
    for (const tensor_info& t : tensors) {
      const float* source = state + t.offset;
      if (stored_in_panels(t.role)) {
        staging.resize(static_cast<std::size_t>(t.elements()));
        panels_to_oihw(source, t, staging.data());
        source = staging.data();
      }
      out.write(reinterpret_cast<const char*>(source), static_cast<std::streamsize>(t.elements() * sizeof(float)));
    }
    if (!out.flush()) throw weights_error("ctresnet: " + path + ": writing failed");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    throw weights_error("ctresnet: " + path + ": cannot move the written file into place");
}

}  // namespace detail

/// What load_safetensors does with a tensor the network does not have: a backbone ignores the
/// layers a full network's file has beyond it; anything else rejects the file.
enum class unexpected_tensors { reject, ignore };

/// Loads Net's state from a safetensors file of PyTorch state_dict keys (torchvision's names for
/// torchvision-layout nets, the reference example's for reference_layout). Every expected tensor
/// must be present with its exact shape and a float dtype (F16 and BF16 are converted); BatchNorm
/// `num_batches_tracked` may be present or not; any other tensor is an error. Every problem is
/// found before any weight is written, so a rejected file leaves the network as it was. With
/// unexpected_tensors::ignore, tensors the network does not have are skipped instead.
template <class Net>
void load_safetensors(Net& net, const std::string& path, unexpected_tensors unexpected = unexpected_tensors::reject) {
  detail::load_state(Net::tensors(), net.state_data(), path, unexpected == unexpected_tensors::ignore);
  net.prepare();
}

/// Saves Net's state as F32 tensors under PyTorch's state_dict keys, so that PyTorch (or
/// load_safetensors) reads it back. `num_batches_tracked` is not written: ctresnet does not train,
/// and PyTorch supplies it when a state dict lacks it.
template <class Net>
void save_safetensors(const Net& net, const std::string& path) {
  detail::save_state(Net::tensors(), net.state_data(), path);
}

}  // namespace ctresnet
