// Small compile-time arithmetic that the block, stage and network types share.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>

#include <algorithm>
#include <array>

namespace ctresnet::detail {

/// The largest of some compile-time sizes (0 for none).
template <class... Values>
constexpr index_t max_of(Values... values) {
  index_t m = 0;
  ((m = std::max<index_t>(m, values)), ...);
  return m;
}

/// Where each part's state starts when the parts lie one after another, and last the total.
template <class... Parts>
constexpr std::array<index_t, sizeof...(Parts) + 1> state_offsets() {
  std::array<index_t, sizeof...(Parts) + 1> offsets{};
  const index_t sizes[] = {Parts::state_floats..., 0};
  for (std::size_t i = 1; i < offsets.size(); ++i) offsets[i] = offsets[i - 1] + sizes[i - 1];
  return offsets;
}

}  // namespace ctresnet::detail
