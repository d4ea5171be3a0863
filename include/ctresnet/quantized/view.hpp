// An int8 network that runs from a state it does not own: weights compiled into read-only memory
// (<ctresnet/embed.hpp> writes them, ctresnet-embed --precision int8), or any buffer laid out as
// quantized<Net>'s state. It copies nothing and allocates nothing; its plan and its forward passes
// are quantized<Net>'s own (quantized/api.hpp). The int8 twin of network_view.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/quantized/api.hpp>
#include <ctresnet/quantized/network.hpp>
#include <ctresnet/quantized/weight_order.hpp>
#include <ctresnet/status.hpp>

#include <cstddef>
#include <cstdint>

namespace ctresnet {

/// An int8 state compiled into a program, as the headers that write_embedded_int8_state writes
/// define it: its size, its network's state_fingerprint and the order of its weights are part of
/// its type, so that a quantized_view of another network type, or in a build whose kernels read
/// the weights in another order, does not compile.
template <std::size_t StateBytes, std::uint64_t Fingerprint, int8_weight_order Order>
struct embedded_int8_state {
  const unsigned char* data;
  static constexpr std::size_t state_bytes = StateBytes;
  static constexpr std::uint64_t fingerprint = Fingerprint;
  static constexpr int8_weight_order weight_order = Order;
};

namespace detail {
template <std::size_t Expected, std::size_t Actual>
struct check_embedded_int8_state_bytes {
  static_assert(Expected == Actual,
                "ctresnet::quantized_view: the embedded int8 state has another size than this network's state; the "
                "weights header was generated for another network type");
  static constexpr bool value = true;
};
template <std::uint64_t Expected, std::uint64_t Actual>
struct check_embedded_int8_state_fingerprint {
  static_assert(Expected == Actual,
                "ctresnet::quantized_view: the embedded int8 state's fingerprint differs from this network's "
                "state_fingerprint; the weights header was generated for another network type (or another "
                "ctresnet version)");
  static constexpr bool value = true;
};
template <int8_weight_order Build, int8_weight_order Header>
struct check_embedded_int8_weight_order {
  static_assert(Build == Header || Header != int8_weight_order::panels,
                "ctresnet::quantized_view: the embedded int8 state holds its weights in panels (the order of "
                "builds with AVX2, AVX-512 VNNI or aarch64 NEON tiles), but this build's kernels read them in "
                "another packing (ctresnet::build_int8_weight_order); write the header again with ctresnet-embed "
                "--precision int8 --int8-order rows (no vector tiles) or panels_sdot (aarch64 with the dot product)");
  static_assert(Build == Header || Header != int8_weight_order::rows,
                "ctresnet::quantized_view: the embedded int8 state holds its weights in rows (the order of "
                "builds without vector tiles), but this build's kernels read them in another packing "
                "(ctresnet::build_int8_weight_order); write the header again with ctresnet-embed --precision int8 "
                "--int8-order panels (AVX2, AVX-512 VNNI, aarch64 NEON) or panels_sdot (aarch64 with the dot product)");
  static_assert(Build == Header || Header != int8_weight_order::panels_sdot,
                "ctresnet::quantized_view: the embedded int8 state holds its weights in panels_sdot (the order of "
                "builds with aarch64's dot product tile), but this build's kernels read them in another packing "
                "(ctresnet::build_int8_weight_order); write the header again with ctresnet-embed --precision int8 "
                "--int8-order rows (no vector tiles) or panels (AVX2, AVX-512 VNNI, aarch64 NEON)");
  static constexpr bool value = true;
};
}  // namespace detail

/// quantized<Net> run from a state it does not own: `quantized_view<Net> net(name::state);` with
/// `name::state` from a generated header, or `quantized_view<Net> net(pointer)` for
/// `state_bytes` bytes of a state laid out for this build (quantized<Net>::state_data() after
/// loading a file), starting on a 4-byte boundary (on a cache line, for speed). The state must
/// outlive the view. Its compile-time facts and its forward passes (forward, try_forward,
/// forward_stages, try_forward_stages, try_quantize, on the calling thread or a pool) are
/// quantized<Net>'s.
template <class Net>
class quantized_view : public quantized_api<quantized_view<Net>, Net> {
 public:
  using network_type = quantized<Net>;

  constexpr explicit quantized_view(const std::byte* state) noexcept : state_(state) {}
  /// A generated header's state; another network type's, or another build's order, does not compile.
  template <std::size_t StateBytes, std::uint64_t Fingerprint, int8_weight_order Order>
  quantized_view(const embedded_int8_state<StateBytes, Fingerprint, Order>& embedded) noexcept
      : state_(reinterpret_cast<const std::byte*>(embedded.data)) {
    static_assert(detail::check_embedded_int8_state_bytes<quantized_plan<Net>::state_bytes, StateBytes>::value);
    static_assert(
        detail::check_embedded_int8_state_fingerprint<quantized_plan<Net>::state_fingerprint, Fingerprint>::value);
    static_assert(detail::check_embedded_int8_weight_order<build_int8_weight_order, Order>::value);
  }

  constexpr const std::byte* state_data() const noexcept { return state_; }
  /// status::no_state for a view of a null pointer.
  constexpr status state_status() const noexcept { return state_ == nullptr ? status::no_state : status::ok; }

 private:
  const std::byte* state_;
};

}  // namespace ctresnet
