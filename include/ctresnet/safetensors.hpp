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
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
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

  std::string shape_string() const { return detail::shape_text(shape.data(), shape.size()); }
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

/// Arrays in a header hold a shape's extents or a pair of offsets; ctresnet's tensors have at most
/// 4 dimensions, and this bound keeps a hostile header from making the parser build huge arrays.
inline constexpr std::size_t max_array_length = 64;

/// A safetensors file, opened from a path or read from bytes in memory: its validated header, and
/// reads of single tensors as floats. Every check of the header runs in the constructor: a reader
/// that exists describes a well-formed file (the spec's rules: a JSON object of unique names, known
/// dtypes, shapes that match their byte ranges, and byte ranges that tile the data section exactly,
/// without overlaps, holes or trailing bytes).
class reader {
 public:
  explicit reader(const std::string& path) : path_(path), file_(path, std::ios::binary) {
    if (!file_) fail("cannot open the file");
    file_.seekg(0, std::ios::end);
    const std::streamoff end = file_.tellg();
    file_.seekg(0);
    if (end < 0 || !file_) fail("cannot find the size of the file");
    size_ = static_cast<std::uint64_t>(end);
    read_header();
  }

  /// The file's bytes in memory, which must outlive the reader; `name` stands for the path in
  /// error messages.
  reader(const void* bytes, std::size_t size, std::string name = "(in memory)")
      : path_(std::move(name)), memory_(static_cast<const unsigned char*>(bytes)), size_(size) {
    if (!memory_ && size_ != 0) fail("no bytes given (a null pointer)");
    read_header();
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
    if (e.dtype == "F32") {  // straight into place: no second copy of the tensor in memory
      if (!read_at(data_start_ + e.begin, bytes, out)) fail("cannot read the data of tensor '" + name + "'");
      return;
    }
    bytes_.resize(static_cast<std::size_t>(bytes));
    if (!read_at(data_start_ + e.begin, bytes, bytes_.data())) fail("cannot read the data of tensor '" + name + "'");
    const std::size_t count = static_cast<std::size_t>(bytes) / element_size;
    const bool half = e.dtype == "F16";
    for (std::size_t i = 0; i < count; ++i) {
      const auto bits = static_cast<std::uint16_t>(bytes_[2 * i] | (bytes_[2 * i + 1] << 8));
      out[i] = half ? half_to_float(bits) : bfloat16_to_float(bits);
    }
  }

  /// Reads a tensor's bytes as the file stores them (little-endian, as this host is) into `out`,
  /// which must hold them all, after checking that it has dtype `dtype` and shape `shape`: for
  /// the integer tensors (I8, U8, I32, ...) that read_floats does not convert.
  void read_raw(const std::string& name, const std::string& dtype, const std::vector<std::int64_t>& shape, void* out) {
    const entry& e = at(name);
    if (e.dtype != dtype) fail("tensor '" + name + "' has dtype " + e.dtype + ", expected " + dtype);
    if (e.shape != shape)
      fail("tensor '" + name + "' has shape " + e.shape_string() + ", expected " +
           detail::shape_text(shape.data(), shape.size()));
    if (!read_at(data_start_ + e.begin, e.end - e.begin, out)) fail("cannot read the data of tensor '" + name + "'");
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw weights_error("ctresnet: " + path_ + ": " + what);
  }

 private:
  /// `count` bytes from `offset` of the file into `out`; false if they cannot be read. Callers
  /// stay inside the file, but the check costs nothing and holds even if the file shrank.
  bool read_at(std::uint64_t offset, std::uint64_t count, void* out) {
    if (offset > size_ || count > size_ - offset) return false;
    if (count == 0) return true;
    if (memory_) {
      std::memcpy(out, memory_ + offset, static_cast<std::size_t>(count));
      return true;
    }
    file_.clear();
    file_.seekg(static_cast<std::streamoff>(offset));
    file_.read(static_cast<char*>(out), static_cast<std::streamsize>(count));
    return static_cast<bool>(file_);
  }

  void read_header() {
    if (size_ < 8) fail("the file is " + std::to_string(size_) + " bytes, too short for a safetensors header");
    unsigned char length_bytes[8];
    if (!read_at(0, 8, length_bytes)) fail("cannot read the header length");
    std::uint64_t header_length = 0;
    for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_bytes[i];
    if (header_length > max_header_bytes)
      fail("the header length " + std::to_string(header_length) + " exceeds the " + std::to_string(max_header_bytes) +
           "-byte limit");
    if (header_length > size_ - 8)
      fail("the header length " + std::to_string(header_length) + " runs past the end of the " +
           std::to_string(size_) + "-byte file (is the file truncated?)");
    data_start_ = 8 + header_length;
    data_size_ = size_ - data_start_;

    std::string text(static_cast<std::size_t>(header_length), '\0');
    if (!read_at(8, header_length, text.data())) fail("cannot read the header");
    parse_header(text);
    check_tiling();
  }

  /// Rejects, while parsing, what nlohmann::json would otherwise accept silently (a repeated key:
  /// it keeps one of the values) or build at great cost (deep nesting, long arrays).
  nlohmann::json parse_json(const std::string& text) const {
    using event = nlohmann::json::parse_event_t;
    std::vector<std::set<std::string>> keys_of_open_objects;
    std::string tensor, field;  // the keys at depth 1 and 2 most recently seen
    std::size_t array_length = 0;
    auto check = [&](int depth, event kind, nlohmann::json& parsed) {
      const auto where = [&] { return depth >= 2 ? "the header entry of '" + tensor + "'" : std::string("the header"); };
      // A header is an object (depth 0) of objects (depth 1) of strings and arrays of numbers.
      if ((kind == event::object_start && depth > 1) || (kind == event::array_start && depth > 2))
        fail(where() + " nests deeper than a safetensors header does");
      if (kind == event::object_start) keys_of_open_objects.emplace_back();
      if (kind == event::object_end && !keys_of_open_objects.empty()) keys_of_open_objects.pop_back();
      if (kind == event::array_start) array_length = 0;
      if (kind == event::value && depth == 3 && ++array_length > max_array_length)
        fail(where() + ": its '" + field + "' has more than " + std::to_string(max_array_length) + " entries");
      if (kind == event::key && !keys_of_open_objects.empty()) {
        const auto& key = parsed.get_ref<const std::string&>();
        (depth == 1 ? tensor : field) = key;
        if (!keys_of_open_objects.back().insert(key).second)
          fail(depth == 1 ? "the header names '" + key + "' twice" : where() + " has the key '" + key + "' twice");
      }
      return true;
    };
    return nlohmann::json::parse(text, check, /*allow_exceptions=*/false);
  }

  void parse_header(const std::string& text) {
    const nlohmann::json header = parse_json(text);
    if (header.is_discarded()) fail("the header is not valid JSON");
    if (!header.is_object()) fail("the header is not a JSON object");
    for (const auto& [name, value] : header.items()) {
      if (name == "__metadata__") {
        if (!value.is_object()) fail("__metadata__ is not a JSON object");
        for (const auto& [key, text_value] : value.items()) {
          if (!text_value.is_string()) fail("__metadata__ value '" + key + "' is not a string");
          metadata_[key] = text_value.get<std::string>();
        }
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
    for (const auto& d : *shape) {
      if (!d.is_number_unsigned()) fail(where + "the shape holds something other than a non-negative integer");
      const auto extent = d.get<std::uint64_t>();
      if (extent > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail(where + "the shape extent " + std::to_string(extent) + " exceeds 2^63 - 1");
      e.shape.push_back(static_cast<std::int64_t>(extent));
    }
    // A zero extent makes the tensor empty, whatever the others; otherwise the product must fit.
    std::uint64_t count = std::count(e.shape.begin(), e.shape.end(), 0) ? 0 : 1;
    for (const std::int64_t extent : e.shape) {
      if (count == 0) break;
      const auto n = static_cast<std::uint64_t>(extent);
      if (count > std::numeric_limits<std::uint64_t>::max() / n)
        fail(where + "the element count of its shape " + e.shape_string() + " overflows 64 bits");
      count *= n;
    }

    const auto offsets = value.find("data_offsets");
    if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
      fail(where + "data_offsets is not a pair of non-negative integers");
    e.begin = (*offsets)[0].get<std::uint64_t>();
    e.end = (*offsets)[1].get<std::uint64_t>();
    if (e.begin > e.end)
      fail(where + "its data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
           ") end before they begin");
    if (e.end > data_size_)
      fail(where + "its bytes [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
           ") lie outside the data section of " + std::to_string(data_size_) + " bytes (is the file truncated?)");
    const std::uint64_t element_size = dtype_size(e.dtype);
    const bool too_many = count > std::numeric_limits<std::uint64_t>::max() / element_size;
    if (too_many || count * element_size != e.end - e.begin)
      fail(where + "shape " + e.shape_string() + " of " + e.dtype + " needs " +
           (too_many ? std::string("more bytes than fit in 64 bits") : std::to_string(count * element_size) + " bytes") +
           ", its data_offsets hold " + std::to_string(e.end - e.begin));
    return e;
  }

  /// The spec's rule for the data section: the tensors' byte ranges, in order, cover it exactly.
  void check_tiling() const {
    std::vector<std::pair<const std::string*, const entry*>> by_offset;
    for (const auto& [name, e] : entries_) by_offset.emplace_back(&name, &e);
    std::sort(by_offset.begin(), by_offset.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.second->begin, a.second->end) < std::make_pair(b.second->begin, b.second->end);
    });
    auto range = [](const entry& e) { return "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ")"; };
    std::uint64_t covered = 0;
    const std::pair<const std::string*, const entry*>* previous = nullptr;
    for (const auto& current : by_offset) {
      const entry& e = *current.second;
      if (e.begin < covered)
        fail("tensor '" + *current.first + "': its bytes " + range(e) + " overlap those of tensor '" +
             *previous->first + "', " + range(*previous->second));
      if (e.begin > covered)
        fail("bytes [" + std::to_string(covered) + ", " + std::to_string(e.begin) +
             ") of the data section belong to no tensor (a hole before tensor '" + *current.first + "')");
      covered = e.end;
      previous = &current;
    }
    if (covered != data_size_)
      fail("bytes [" + std::to_string(covered) + ", " + std::to_string(data_size_) +
           ") at the end of the data section belong to no tensor");
  }

  std::string path_;
  std::ifstream file_;                     // a file's bytes, or
  const unsigned char* memory_ = nullptr;  // bytes in memory
  std::uint64_t size_ = 0;
  std::uint64_t data_start_ = 0, data_size_ = 0;
  std::map<std::string, entry> entries_;
  std::map<std::string, std::string> metadata_;
  std::vector<unsigned char> bytes_;
};

}  // namespace safetensors

namespace detail {

/// PyTorch's conv weight [O, I / groups, kH, kW] to ctresnet's panels (conv_weight_layout), and back.
inline void oihw_to_panels(const float* from, const tensor_info& t, float* to) {
  for_each_conv_weight(t, [&](index_t pytorch, index_t stored) { to[stored] = from[pytorch]; });
}
inline void panels_to_oihw(const float* from, const tensor_info& t, float* to) {
  for_each_conv_weight(t, [&](index_t pytorch, index_t stored) { to[pytorch] = from[stored]; });
}

inline bool same_shape(const tensor_info& expected, const safetensors::entry& actual) {
  if (actual.shape.size() != static_cast<std::size_t>(expected.rank)) return false;
  for (int d = 0; d < expected.rank; ++d)
    if (actual.shape[static_cast<std::size_t>(d)] != expected.shape[static_cast<std::size_t>(d)]) return false;
  return true;
}

/// "layer1.0.bn1.running_var" -> "layer1.0.bn1."
inline std::string module_prefix(const std::string& name) { return name.substr(0, name.rfind('.') + 1); }

/// The first problem with a tensor's values, or "": NaN or infinity anywhere (a NaN weight makes
/// every output NaN), and a negative BatchNorm running variance (sqrt(var + eps) would be NaN).
inline std::string value_problem(const tensor_info& t, const float* values) {
  const auto count = static_cast<std::size_t>(t.elements());
  // First a scan of the bits without early exits, which the compiler vectorizes; the values are
  // searched for the culprit only if it finds one.
  const bool variance = t.role == tensor_role::norm_running_var;
  std::uint32_t not_finite = 0, negative = 0;
  for (std::size_t i = 0; i < count; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, values + i, sizeof bits);
    not_finite |= (bits & 0x7fffffffu) > 0x7f7fffffu;  // the exponent all ones: infinity or NaN
    negative |= bits > 0x80000000u;                     // the sign of a number other than -0
  }
  if (!not_finite && !(variance && negative)) return "";
  for (std::size_t i = 0; i < count; ++i) {
    const float v = values[i];
    if (std::isnan(v) || std::isinf(v))
      return "tensor '" + t.name + "' holds " + (std::isnan(v) ? "NaN" : v > 0 ? "+infinity" : "-infinity") +
             " at element " + std::to_string(i) + "; ctresnet loads only finite weights";
    if (variance && v < 0) {
      std::ostringstream value;
      value << v;
      return "tensor '" + t.name + "' holds the negative variance " + value.str() + " at element " +
             std::to_string(i);
    }
  }
  return "";
}

/// One message listing every problem (the first 8 of them).
inline std::string problems_message(const std::string& what, const std::vector<std::string>& problems) {
  std::string message = std::to_string(problems.size()) + " " + what;
  const std::size_t shown = std::min<std::size_t>(problems.size(), 8);
  for (std::size_t i = 0; i < shown; ++i) message += "\n  " + problems[i];
  if (shown < problems.size()) message += "\n  ... and " + std::to_string(problems.size() - shown) + " more";
  return message;
}

/// The body of load_safetensors, once for every network type. The file is checked completely,
/// its values included, before the first weight is written: a rejected file leaves the state as it
/// was. That takes two passes over the data (check, then write), with one tensor's worth of memory.
CTRESNET_NOINLINE void load_state(const std::vector<tensor_info>& expected, float* state, safetensors::reader& file,
                                bool ignore_unexpected) {
  std::vector<std::string> problems;
  std::size_t unexpected = 0;  // of the problems, tensors the network does not have
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
    if (!batch_counter && !ignore_unexpected) {
      problems.push_back("unexpected tensor '" + name + "' with shape " + e.shape_string());
      ++unexpected;
    }
  }
  if (!problems.empty()) {
    std::string message = problems_message("tensor(s) do not fit this network:", problems);
    if (unexpected == problems.size())
      message += "\n  (every expected tensor is there; to load a larger network's file into a backbone, pass "
                 "unexpected_tensors::ignore)";
    file.fail(message);
  }

  // Pass 1: every value, before any lands in the network.
  std::vector<float> staging;
  for (const tensor_info& t : expected) {
    staging.resize(static_cast<std::size_t>(t.elements()));
    file.read_floats(t.name, staging.data());
    const std::string problem = value_problem(t, staging.data());
    if (!problem.empty()) problems.push_back(problem);
  }
  if (!problems.empty()) file.fail(problems_message("tensor(s) hold values that cannot be weights:", problems));

  // Pass 2: into place. The file can only fail now if it changed or became unreadable since pass 1,
  // and then the error says that the state is partly overwritten.
  const auto changed = [&](const std::string& what) {
    file.fail(what + "; the file changed or became unreadable while loading, and the network's weights are "
                     "now partly overwritten");
  };
  for (const tensor_info& t : expected) {
    float* destination = state + t.offset;
    float* values = destination;
    if (stored_in_panels(t.role)) {
      staging.resize(static_cast<std::size_t>(t.elements()));
      values = staging.data();
    }
    try {
      file.read_floats(t.name, values);
    } catch (const weights_error&) {
      changed("cannot read the data of tensor '" + t.name + "' a second time");
    }
    const std::string problem = value_problem(t, values);
    if (!problem.empty()) changed(problem);
    if (values != destination) oihw_to_panels(values, t, destination);
  }
}

/// The body of save_safetensors, once for every network type.
CTRESNET_NOINLINE void save_state(const std::vector<tensor_info>& tensors, const float* state, const std::string& path) {
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
    const auto length = static_cast<std::uint64_t>(text.size());  // size_t may have 32 bits (wasm32)
    for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<unsigned char>(length >> (8 * i));
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

namespace detail {
/// Loads an open file into `net` and prepares it, also when the file is rejected: taking the state
/// for writing marks the network unprepared, and a rejected file must leave it usable.
template <class Net>
void load_into(Net& net, safetensors::reader& file, unexpected_tensors unexpected) {
  try {
    load_state(Net::tensors(), net.state_data(), file, unexpected == unexpected_tensors::ignore);
  } catch (...) {
    net.prepare();
    throw;
  }
  net.prepare();
}
}  // namespace detail

/// Loads Net's state from a safetensors file of PyTorch state_dict keys (torchvision's names for
/// torchvision-layout nets, nn.Sequential names for stage_projection_layout). Every expected tensor
/// must be present with its exact shape and a float dtype (F16 and BF16 are converted); BatchNorm
/// `num_batches_tracked` may be present or not; any other tensor is an error. Every weight must be
/// finite, and a BatchNorm running_var not negative. Every problem is found before any weight is
/// written, so a rejected file leaves the network as it was. With
/// unexpected_tensors::ignore, tensors the network does not have are skipped instead.
template <class Net>
void load_safetensors(Net& net, const std::string& path, unexpected_tensors unexpected = unexpected_tensors::reject) {
  safetensors::reader file(path);
  detail::load_into(net, file, unexpected);
}

/// The same from a safetensors file's bytes in memory; `name` stands for the path in error messages.
template <class Net>
void load_safetensors_from_memory(Net& net, const void* bytes, std::size_t size, const std::string& name = "(in memory)",
                                  unexpected_tensors unexpected = unexpected_tensors::reject) {
  safetensors::reader file(bytes, size, name);
  detail::load_into(net, file, unexpected);
}

/// Saves Net's state as F32 tensors under PyTorch's state_dict keys, so that PyTorch (or
/// load_safetensors) reads it back. `num_batches_tracked` is not written: ctresnet does not train,
/// and PyTorch supplies it when a state dict lacks it.
template <class Net>
void save_safetensors(const Net& net, const std::string& path) {
  detail::save_state(Net::tensors(), net.state_data(), path);
}

}  // namespace ctresnet
