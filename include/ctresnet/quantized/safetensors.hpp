// Loading a quantized model file (docs/int8.md: what tools/quantize.py writes) into a
// ctresnet::quantized<Net>, with the checks of the float loader: the file is checked completely
// before anything is written, and every problem is named in one message.
#pragma once

#include <ctresnet/quantized.hpp>
#include <ctresnet/safetensors.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace ctresnet {

namespace detail::int8 {

/// The metadata `format` and `format_version` of the files this loader reads, and the engine
/// whose arithmetic the kernels follow.
inline constexpr const char* file_format = "ctresnet-int8";
inline constexpr const char* file_format_version = "1";
inline constexpr const char* file_engine = "qnnpack";

/// One tensor a layer has in the file.
struct file_tensor {
  std::string name;
  const char* dtype;
  std::vector<std::int64_t> shape;
};

/// The tensors of one layer, as docs/int8.md lists them.
inline std::vector<file_tensor> tensors_of(const int8_layer_info& layer) {
  const std::string p = layer.name + ".";
  std::vector<file_tensor> tensors;
  if (layer.kind == int8_layer_kind::conv || layer.kind == int8_layer_kind::linear) {
    const std::int64_t o = layer.out_channels, i = layer.in_channels, k = layer.kernel;
    tensors = {{p + "weight", "I8", layer.kind == int8_layer_kind::conv ? std::vector<std::int64_t>{o, i, k, k}
                                                                           : std::vector<std::int64_t>{o, i}},
               {p + "weight_scale", "F32", {o}},
               {p + "weight_zero_point", "I32", {o}},
               {p + "bias", "I32", {o}},
               {p + "bias_float", "F32", {o}},
               {p + "requant_scale", "F32", {o}}};
  }
  tensors.push_back({p + "output_scale", "F32", {}});
  tensors.push_back({p + "output_zero_point", "I32", {}});
  if (layer.kind == int8_layer_kind::add) {
    tensors.push_back({p + "multipliers", "I32", {2}});
    tensors.push_back({p + "shift", "I32", {}});
  }
  return tensors;
}

/// A float as it would be written back exactly ("0.0123456789", "nan").
inline std::string float_text(float v) {
  std::ostringstream text;
  text.precision(9);
  text << v;
  return text.str();
}

/// Checks values and collects problems. Each check reports a tensor's first bad element and how
/// many there are, so that one broken tensor is one line.
class value_checks {
 public:
  explicit value_checks(std::vector<std::string>& problems) : problems_(problems) {}

  /// Whether every element satisfies `good`; otherwise one problem, "tensor 'NAME' holds " +
  /// what(first bad element, where it is).
  template <class T, class Good, class What>
  bool each(const std::string& tensor, const std::vector<T>& values, Good&& good, What&& what) {
    std::size_t bad = 0, first = 0;
    for (std::size_t i = 0; i < values.size(); ++i)
      if (!good(values[i]) && bad++ == 0) first = i;
    if (bad == 0) return true;
    std::string where = values.size() > 1 ? " at element " + std::to_string(first) : "";
    if (bad > 1) where += " (and " + std::to_string(bad - 1) + " more)";
    problems_.push_back("tensor '" + tensor + "' holds " + what(values[first], where));
    return false;
  }
  bool scales(const std::string& tensor, const std::vector<float>& values) {
    return each(tensor, values, [](float s) { return std::isfinite(s) && s > 0; },
                [](float s, const std::string& where) {
                  return "the scale " + float_text(s) + where + "; scales must be positive and finite";
                });
  }
  bool activation_zero_point(const std::string& tensor, std::int32_t z) {
    return each(tensor, std::vector<std::int32_t>{z}, [](std::int32_t v) { return v >= 0 && v <= 255; },
                [](std::int32_t v, const std::string&) {
                  return "the zero point " + std::to_string(v) + "; an activation's (quint8) lies in [0, 255]";
                });
  }

 private:
  std::vector<std::string>& problems_;
};

/// A conv's or linear layer's state at `at`: PyTorch's [O][I][kH][kW] weights to windows in
/// (ky, kx, c) order (a grouped conv's over its blocks' inputs, zero between groups), then packed
/// for the kernels with the input's zero point folded into the biases, and the requantization
/// multipliers.
inline void write_conv_layer(const weights_layout& w, const std::vector<std::int8_t>& weights,
                             const std::vector<std::int32_t>& bias, const std::vector<float>& multipliers,
                             std::int32_t input_zero_point, std::byte* at) {
  std::vector<std::int8_t> rows(w.weight_bytes(), 0);
  std::size_t from = 0;
  for (index_t out = 0; out < w.out_channels; ++out)
    for (index_t i = 0; i < w.in_channels; ++i)
      for (index_t y = 0; y < w.kernel; ++y)
        for (index_t x = 0; x < w.kernel; ++x) rows[std::size_t(w.index(out, i, y, x))] = weights[from++];
  std::vector<std::int32_t> folded_bias(bias.size());
  kernels::int8::pack_layer(rows.data(), bias.data(), w.out_channels, w.patch_length(), input_zero_point,
                            reinterpret_cast<std::int8_t*>(at + w.weights_offset()), folded_bias.data(),
                            w.block_outputs());
  std::memcpy(at + w.bias_offset(), folded_bias.data(), bias.size() * sizeof(std::int32_t));
  std::memcpy(at + w.multipliers_offset(), multipliers.data(), multipliers.size() * sizeof(float));
}

/// Which of Net's stages after the first (layer2, layer3, layer4, as far as Net has them) are
/// dilated: torchvision's replace_stride_with_dilation, which tools/quantize.py records in a file's
/// metadata. Dilation changes no tensor's shape, so only the metadata tells such files apart.
template <class Net>
std::vector<bool> dilated_stages() {
  using plan = typename Net::plan_type;
  std::vector<bool> dilated;
  for (int stage = 1; stage < plan::num_stages && stage < 4; ++stage)
    dilated.push_back(plan::layout::stage_dilated(stage));
  return dilated;
}

/// "layer3 and layer4", "no stage".
inline std::string dilated_names(const std::vector<bool>& dilated) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < dilated.size(); ++i)
    if (dilated[i]) names.push_back("layer" + std::to_string(i + 2));
  if (names.empty()) return "no stage";
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i)
    text += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  return text;
}

/// The body of load_int8_safetensors, once for every network type: `layers` are the network's
/// (quantized_plan::layers()), `state` its state of `state_bytes`, `dilated` its dilated_stages().
CTRESNET_NOINLINE void load_state(const std::vector<int8_layer_info>& layers, std::byte* state, std::size_t state_bytes,
                                safetensors::reader& file, bool ignore_unexpected, const std::vector<bool>& dilated) {
  std::vector<std::string> problems;
  const auto metadata = [&](const std::string& key) {
    const auto it = file.metadata().find(key);
    return it == file.metadata().end() ? std::string("(none)") : "'" + it->second + "'";
  };
  const auto expect_metadata = [&](const std::string& key, const std::string& expected) {
    if (metadata(key) != "'" + expected + "'")
      problems.push_back("its metadata's " + key + " is " + metadata(key) + ", expected '" + expected + "'");
  };
  expect_metadata("format", file_format);
  expect_metadata("format_version", file_format_version);
  expect_metadata("engine", file_engine);
  if (!problems.empty())
    file.fail(problems_message("metadata problem(s): not an int8 model file as tools/quantize.py writes it:", problems));
  // The dilated stages the file was quantized for: none unless its metadata names them.
  std::vector<bool> recorded(3, false);
  if (const auto it = file.metadata().find("replace_stride_with_dilation"); it != file.metadata().end()) {
    const nlohmann::json list = nlohmann::json::parse(it->second, nullptr, false);
    const auto boolean = [](const nlohmann::json& v) { return v.is_boolean(); };
    const bool three_booleans = list.is_array() && list.size() == 3 && std::all_of(list.begin(), list.end(), boolean);
    if (!three_booleans)
      file.fail("its metadata's replace_stride_with_dilation is " + metadata("replace_stride_with_dilation") +
                ", not a list of three booleans (layer2, layer3, layer4)");
    for (std::size_t i = 0; i < 3; ++i) recorded[i] = list[i].get<bool>();
  }
  if (!std::equal(dilated.begin(), dilated.end(), recorded.begin()))
    file.fail("it was quantized for a network that dilates " + dilated_names(recorded) + " (metadata " +
              "replace_stride_with_dilation " + metadata("replace_stride_with_dilation") + "), and this network " +
              "dilates " + dilated_names(dilated));

  // Every tensor there, with its dtype and shape, and nothing else.
  std::set<std::string> known;
  for (const int8_layer_info& layer : layers)
    for (const file_tensor& t : tensors_of(layer)) {
      known.insert(t.name);
      const std::string shape = detail::shape_text(t.shape.data(), t.shape.size());
      if (!file.contains(t.name)) {
        problems.push_back("missing tensor '" + t.name + "' (expected " + t.dtype + " " + shape + ")");
        continue;
      }
      const safetensors::entry& e = file.at(t.name);
      if (e.dtype != t.dtype)
        problems.push_back("tensor '" + t.name + "' has dtype " + e.dtype + ", expected " + t.dtype);
      else if (e.shape != t.shape)
        problems.push_back("tensor '" + t.name + "' has shape " + e.shape_string() + ", expected " + shape);
    }
  for (const auto& [name, e] : file.entries())
    if (!known.count(name) && !ignore_unexpected)
      problems.push_back("unexpected tensor '" + name + "' with shape " + e.shape_string());
  if (!problems.empty()) file.fail(problems_message("tensor(s) do not fit this network:", problems));

  // Every value, in two passes over the file: the first checks them all, the second, only if all
  // are good, writes the network's state (so a rejected file leaves it as it was, with one layer's
  // worth of memory instead of a second state).
  value_checks check(problems);
  std::map<std::string, quantization> outputs;  // each layer's output quantization, where valid
  const auto floats = [&](const std::string& name, std::size_t count) {
    std::vector<float> v(count);
    file.read_floats(name, v.data());
    return v;
  };
  const auto ints = [&](const std::string& name, const std::vector<std::int64_t>& shape, std::size_t count) {
    std::vector<std::int32_t> v(count);
    file.read_raw(name, "I32", shape, v.data());
    return v;
  };
  const auto input_of = [&](const std::string& name, quantization& q) {
    const auto it = outputs.find(name);
    if (it != outputs.end()) q = it->second;
    return it != outputs.end();
  };

  // One pass over the layers: checks every value, and writes the state at `state` unless null.
  const auto each_layer = [&](std::byte* destination) {
    outputs.clear();
    for (const int8_layer_info& layer : layers) {
      const std::string p = layer.name + ".";
      std::byte* const at = destination == nullptr ? nullptr : destination + layer.offset;
      const float scale = floats(p + "output_scale", 1)[0];
      const std::int32_t zero_point = ints(p + "output_zero_point", {}, 1)[0];
      bool valid = check.scales(p + "output_scale", {scale});
      valid &= check.activation_zero_point(p + "output_zero_point", zero_point);
      layer_header header{scale, zero_point, 0, 0, 0};

      if (layer.kind == int8_layer_kind::conv || layer.kind == int8_layer_kind::linear) {
        const weights_layout w{layer.out_channels, layer.in_channels, layer.kernel, layer.groups};
        const auto o = static_cast<std::size_t>(w.out_channels);
        std::vector<std::int64_t> shape{w.out_channels, w.in_channels};
        if (layer.kind == int8_layer_kind::conv) shape.insert(shape.end(), {w.kernel, w.kernel});
        std::vector<std::int8_t> weights(w.file_weights());
        file.read_raw(p + "weight", "I8", shape, weights.data());
        const std::vector<float> weight_scales = floats(p + "weight_scale", o);
        const std::vector<std::int32_t> weight_zero_points = ints(p + "weight_zero_point", {w.out_channels}, o);
        const std::vector<std::int32_t> bias = ints(p + "bias", {w.out_channels}, o);
        const std::vector<float> bias_float = floats(p + "bias_float", o);
        const std::vector<float> multipliers = floats(p + "requant_scale", o);

        bool derivable = valid & check.scales(p + "weight_scale", weight_scales);
        check.each(p + "weight_zero_point", weight_zero_points, [](std::int32_t z) { return z == 0; },
                   [](std::int32_t z, const std::string& where) {
                     return "the zero point " + std::to_string(z) + where + "; weights must be symmetric (zero point 0)";
                   });
        derivable &= check.each(p + "bias_float", bias_float, [](float b) { return std::isfinite(b); },
                                [](float b, const std::string& where) {
                                  return float_text(b) + where + "; biases must be finite";
                                });
        quantization in{};
        if (derivable && input_of(layer.input, in)) {
          // What PyTorch computes from the scales must be what the file stores.
          std::vector<std::int32_t> expected_bias(o);
          std::vector<float> expected_multipliers(o);
          for (std::size_t c = 0; c < o; ++c) {
            expected_bias[c] = kernels::int8::quantized_bias(bias_float[c], weight_scales[c], in.scale);
            expected_multipliers[c] = kernels::int8::requantization_scale(weight_scales[c], in.scale, scale);
          }
          std::vector<std::size_t> index(o);
          for (std::size_t c = 0; c < o; ++c) index[c] = c;
          check.each(p + "bias", index, [&](std::size_t c) { return bias[c] == expected_bias[c]; },
                     [&](std::size_t c, const std::string& where) {
                       return std::to_string(bias[c]) + where + ", which does not follow from bias_float and the " +
                              "scales (they give " + std::to_string(expected_bias[c]) + ")";
                     });
          check.each(p + "requant_scale", index,
                     [&](std::size_t c) {
                       return std::memcmp(&multipliers[c], &expected_multipliers[c], sizeof(float)) == 0;
                     },
                     [&](std::size_t c, const std::string& where) {
                       return float_text(multipliers[c]) + where + ", which does not follow from the scales (they " +
                              "give " + float_text(expected_multipliers[c]) + ")";
                     });
        }
        if (at != nullptr) write_conv_layer(w, weights, bias, multipliers, in.zero_point, at);
      } else if (layer.kind == int8_layer_kind::add) {
        const std::vector<std::int32_t> stored = ints(p + "multipliers", {2}, 2);
        const std::int32_t shift = ints(p + "shift", {}, 1)[0];
        header.branch_multiplier = stored[0];
        header.shortcut_multiplier = stored[1];
        header.shift = shift;
        quantization branch{}, side{};
        if (valid && input_of(layer.input, branch) && input_of(layer.shortcut, side)) {
          const bool in_range = kernels::int8::add_ratio_valid(branch.scale, scale) &&
                                kernels::int8::add_ratio_valid(side.scale, scale);
          const kernels::int8::add_multipliers expected =
              kernels::int8::add_parameters_for(branch.scale, side.scale, scale);
          if (!in_range)
            problems.push_back("layer '" + layer.name + "': the ratios of its inputs' scales (" +
                               float_text(branch.scale) + ", " + float_text(side.scale) + ") to its output's (" +
                               float_text(scale) + ") must lie in qnnpack's [2^-14, 2^8)");
          else if (stored[0] != expected.branch || stored[1] != expected.shortcut || shift != expected.shift)
            problems.push_back("tensors '" + p + "multipliers' and '" + p + "shift' hold [" + std::to_string(stored[0]) +
                               ", " + std::to_string(stored[1]) + "] and " + std::to_string(shift) +
                               ", which do not follow from the scales ([" + std::to_string(expected.branch) + ", " +
                               std::to_string(expected.shortcut) + "] and " + std::to_string(expected.shift) + ")");
        }
      }
      if (at != nullptr) std::memcpy(at, &header, sizeof header);
      if (valid) outputs[layer.name] = quantization{scale, zero_point};
    }
  };
  each_layer(nullptr);
  if (!problems.empty()) file.fail(problems_message("tensor(s) hold values that cannot be used:", problems));
  // The second pass can only fail if the file changed or became unreadable since the first.
  std::memset(state, 0, state_bytes);
  std::string failure;
  try {
    each_layer(state);
  } catch (const weights_error&) {
    failure = "cannot read its data a second time";
  }
  if (failure.empty() && !problems.empty()) failure = problems.front();
  if (!failure.empty())
    file.fail(failure + "; the file changed or became unreadable while loading, and the network's state is now partly "
              "overwritten");
}

}  // namespace detail::int8

/// Loads a quantized model file (docs/int8.md; tools/quantize.py writes them) into `net`. The file
/// must say it is one (metadata format 'ctresnet-int8', format_version '1', engine 'qnnpack'),
/// record the network's dilated stages (metadata replace_stride_with_dilation, absent for none) and
/// hold exactly the network's tensors, each with its dtype and shape; every scale must be positive
/// and finite, every activation's zero point in [0, 255], every weight's zero point 0 (symmetric),
/// and the biases, multipliers and add parameters must be those PyTorch derives from the scales.
/// Throws weights_error naming every problem; a rejected file leaves the network as it was. With
/// unexpected_tensors::ignore, tensors the network does not have are skipped instead: a backbone
/// (quantized<backbone<Net, Stages>>) loads the file of the whole quantized Net that way.
template <class Net>
void load_int8_safetensors(quantized<Net>& net, const std::string& path,
                           unexpected_tensors unexpected = unexpected_tensors::reject) {
  safetensors::reader file(path);
  detail::int8::load_state(quantized<Net>::layers(), net.state_data(), quantized<Net>::state_bytes, file,
                           unexpected == unexpected_tensors::ignore, detail::int8::dilated_stages<Net>());
}

/// The same from a file's bytes in memory; `name` stands for the path in error messages.
template <class Net>
void load_int8_safetensors_from_memory(quantized<Net>& net, const void* bytes, std::size_t size,
                                       const std::string& name = "(in memory)",
                                       unexpected_tensors unexpected = unexpected_tensors::reject) {
  safetensors::reader file(bytes, size, name);
  detail::int8::load_state(quantized<Net>::layers(), net.state_data(), quantized<Net>::state_bytes, file,
                           unexpected == unexpected_tensors::ignore, detail::int8::dilated_stages<Net>());
}

}  // namespace ctresnet
