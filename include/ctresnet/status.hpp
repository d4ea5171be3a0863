// What a non-throwing forward pass reports: ok, or which of its arguments is wrong. The try_
// forms return it whether or not exceptions are on, so both builds run the same checks.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

namespace ctresnet {

enum class [[nodiscard]] status {
  ok,
  wrong_input_shape,    // the images are not [N, C, H, W] of the network's input shape with N >= 1
  wrong_output_shape,   // the output map is not [N, classes] (a backbone's: [N, C, H, W])
  no_workspace,         // the workspace pointer is null
  no_state,             // a network_view or quantized_view was made from a null state pointer
  state_not_prepared,   // the state was taken for writing through state_data() and prepare() not called since
};

/// A sentence saying what went wrong, for logs: a string literal, so nothing is allocated.
constexpr const char* status_message(status s) noexcept {
  switch (s) {
    case status::ok:
      return "ctresnet: ok";
    case status::wrong_input_shape:
      return "ctresnet::forward: the input's shape is not [N, C, H, W] of the network's input shape with N >= 1";
    case status::wrong_output_shape:
      return "ctresnet::forward: the output's shape is not [N, classes] (a backbone's: [N, C, H, W]) for the "
             "input's N";
    case status::no_workspace:
      return "ctresnet::forward: the workspace is a null pointer; pass workspace_floats floats (an int8 network: "
             "workspace_bytes bytes)";
    case status::no_state:
      return "ctresnet: the view (network_view or quantized_view) was made from a null state pointer";
    case status::state_not_prepared:
      return "ctresnet::forward: the state was taken for writing through state_data(); call prepare() before the "
             "next forward pass";
  }
  return "ctresnet: unknown status";
}

}  // namespace ctresnet
