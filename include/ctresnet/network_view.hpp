// A network that runs from a state it does not own: weights compiled into read-only memory
// (<ctresnet/embed.hpp> writes them), or any buffer laid out as Net's state. It copies nothing and
// allocates nothing; its plan and its forward passes are Net's own.
#pragma once

#include <ctresnet/ctresnet.hpp>

#include <cstdint>

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
/// that Net prepared (load, then state_data()). The state must outlive the view. Its compile-time
/// facts and its forward passes (forward, try_forward, forward_stages, try_forward_stages, on the
/// calling thread or a pool) are Net's.
template <class Net>
class network_view : public network_api<network_view<Net>, typename Net::plan_type> {
 public:
  using network_type = Net;

  /// `state` holds Net::state_floats floats of a prepared state (Winograd's weights included).
  constexpr explicit network_view(const float* state) noexcept : state_(state) {}
  /// A generated header's state; another network type's does not compile.
  template <index_t StateFloats, std::uint64_t Fingerprint>
  constexpr network_view(const embedded_state<StateFloats, Fingerprint>& embedded) noexcept : state_(embedded.data) {
    static_assert(detail::check_embedded_state_floats<Net::state_floats, StateFloats>::value);
    static_assert(detail::check_embedded_state_fingerprint<Net::state_fingerprint, Fingerprint>::value);
  }

  constexpr const float* state_data() const noexcept { return state_; }
  /// status::no_state for a view of a null pointer.
  constexpr status state_status() const noexcept { return state_ == nullptr ? status::no_state : status::ok; }

 private:
  const float* state_;
};

}  // namespace ctresnet
