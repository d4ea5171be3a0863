// A printed summary of a network: every stage, block and layer with its output shape,
// parameters and multiply-adds, all compile-time facts of the type.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/describe.hpp>

#include <cstdio>
#include <ostream>
#include <string>

namespace ctresnet {

namespace detail {
/// 25557032 -> "25,557,032"
inline std::string with_thousands(index_t value) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}
}  // namespace detail

/// Prints Net's layers down to `max_depth` (1: stem, stages and head; 2: blocks; 3: every layer),
/// then the totals, in the manner of torchinfo.
template <class Net>
void print_summary(std::ostream& out, int max_depth = 3) {
  char line[160];
  std::snprintf(line, sizeof line, "%-34s %-22s %-18s %14s %16s\n", "Layer", "Type", "Output shape", "Params",
                "MACs");
  out << line << std::string(108, '-') << '\n';
  std::snprintf(line, sizeof line, "%-34s %-22s [%d, %d, %d]\n", "input", "", Net::input_shape::channels,
                Net::input_shape::height, Net::input_shape::width);
  out << line;
  Net::visit_layers([&](const layer_info& layer) {
    if (layer.depth > max_depth) return;
    const std::string indent(static_cast<std::size_t>(2 * (layer.depth - 1)), ' ');
    const int extents[] = {layer.channels, layer.height, layer.width};
    const std::string shape = detail::shape_text(extents, 3);
    std::snprintf(line, sizeof line, "%-34s %-22s %-18s %14s %16s\n", (indent + layer.name).c_str(), layer.type.c_str(),
                  shape.c_str(), layer.params ? detail::with_thousands(layer.params).c_str() : "-",
                  layer.macs ? detail::with_thousands(layer.macs).c_str() : "-");
    out << line;
  });
  out << std::string(108, '-') << '\n';
  out << "Total params: " << detail::with_thousands(Net::num_params) << '\n';
  out << "Total MACs:   " << detail::with_thousands(Net::num_macs) << " (" << static_cast<double>(Net::num_macs) / 1e9
      << " G)\n";
  const auto mib = [](index_t floats) { return static_cast<double>(floats) * 4 / (1 << 20); };
  out << "State:        " << detail::with_thousands(Net::state_floats) << " floats (" << mib(Net::state_floats)
      << " MiB: " << mib(Net::tensor_floats) << " MiB of state-dict tensors as stored, " << mib(Net::derived_floats)
      << " MiB of Winograd-transformed weights)\n";
  out << "Workspace:    " << static_cast<double>(Net::workspace_bytes) / (1 << 20) << " MiB per forward call\n";
}

}  // namespace ctresnet
