// A network that runs from a state it does not own: weights compiled into read-only memory
// (<ctresnet/embed.hpp> writes them), or any buffer laid out as Net's state. It copies nothing and
// allocates nothing; its forward pass is Net's own.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/detail/checks.hpp>
#include <ctresnet/network.hpp>
#include <ctresnet/status.hpp>

#include <array>
#include <cstdint>
#if CTRESNET_EXCEPTIONS
#include <vector>
#endif

namespace ctresnet {

/// A prepared state compiled into a program, as the headers that <ctresnet/embed.hpp> writes define
/// it: its size and its network's state_fingerprint are part of its type, so that a network_view
/// of another network type does not compile.
template <index_t StateFloats, std::uint64_t Fingerprint>
struct embedded_state {
  const float* data;
  static constexpr index_t state_floats = StateFloats;
  static constexpr std::uint64_t fingerprint = Fingerprint;
};

namespace detail {
template <index_t Expected, index_t Actual>
struct check_embedded_state_floats {
  static_assert(Expected == Actual,
                "ctresnet::network_view: the embedded state has another size than this network's state; the weights "
                "header was generated for another network type");
  static constexpr bool value = true;
};
template <std::uint64_t Expected, std::uint64_t Actual>
struct check_embedded_state_fingerprint {
  static_assert(Expected == Actual,
                "ctresnet::network_view: the embedded state's fingerprint differs from this network's "
                "state_fingerprint; the weights header was generated for another network type (or another "
                "ctresnet version)");
  static constexpr bool value = true;
};
}  // namespace detail

/// Net run from a state it does not own: `network_view<Net> net(weights);` with `weights` from a
/// generated header, or `network_view<Net> net(pointer)` for `Net::state_floats` floats of a state
/// that Net prepared (load, then state_data()). The state must outlive the view.
template <class Net>
class network_view {
 public:
  using network_type = Net;
  using input_shape = typename Net::input_shape;
  using input_map = typename Net::input_map;
  using output_map = typename Net::output_map;
  static constexpr int num_classes = Net::num_classes;
  static constexpr int num_stages = Net::num_stages;
  static constexpr index_t state_floats = Net::state_floats;
  static constexpr index_t workspace_floats = Net::workspace_floats;
  static constexpr std::size_t workspace_bytes = Net::workspace_bytes;
  static constexpr index_t workspace_floats_for(int threads) { return Net::workspace_floats_for(threads); }

  /// `state` holds Net::state_floats floats of a prepared state (Winograd's weights included).
  constexpr explicit network_view(const float* state) noexcept : state_(state) {}
  /// A generated header's state; another network type's does not compile.
  template <index_t StateFloats, std::uint64_t Fingerprint>
  constexpr network_view(const embedded_state<StateFloats, Fingerprint>& embedded) noexcept : state_(embedded.data) {
    static_assert(detail::check_embedded_state_floats<Net::state_floats, StateFloats>::value);
    static_assert(detail::check_embedded_state_fingerprint<Net::state_fingerprint, Fingerprint>::value);
  }

  constexpr const float* state_data() const noexcept { return state_; }

  /// As Net::try_forward: the output to `output`, scratch to `workspace` (workspace_floats floats),
  /// status::ok or what is wrong.
  status try_forward(const input_map& images, output_map output, float* workspace) const {
    return state_ == nullptr ? status::no_state : Net::forward_state(state_, images, output, workspace, nullptr);
  }
  status try_forward(const input_map& images, output_map output, float* workspace, thread_pool& pool) const {
    return state_ == nullptr ? status::no_state : Net::forward_state(state_, images, output, workspace, &pool);
  }
  status try_forward_stages(const input_map& images, const std::array<float*, Net::num_stages>& maps,
                            float* workspace) const {
    return state_ == nullptr ? status::no_state
                             : Net::forward_stages_state(state_, images, maps, workspace, nullptr);
  }

#if CTRESNET_EXCEPTIONS
  /// As Net::forward: throws std::invalid_argument for a wrong shape, a null workspace or state.
  void forward(const input_map& images, output_map output, float* workspace) const {
    Net::throw_if_error(try_forward(images, output, workspace), images, &output);
  }
  typename Net::output_tensor forward(const input_map& images) const {
    typename Net::output_tensor output(Net::output_dimensions(images.dimension(0)));
    std::vector<float> workspace(static_cast<std::size_t>(workspace_floats));
    forward(images, output_map(output.data(), output.dimensions()), workspace.data());
    return output;
  }
#endif

 private:
  const float* state_;
};

}  // namespace ctresnet
