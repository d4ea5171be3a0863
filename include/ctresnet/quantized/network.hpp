// ctresnet::quantized<Net>: the int8 twin of a float network type, computing what PyTorch's
// quantized model of Net computes (engine qnnpack), bit for bit. It owns its state (load it with
// <ctresnet/quantized/safetensors.hpp>); its shapes and names are Net's.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/detail/cache_lines.hpp>
#include <ctresnet/quantized/api.hpp>
#include <ctresnet/status.hpp>

#include <cstddef>
#include <vector>

namespace ctresnet {

/// Net quantized as docs/int8.md describes: uint8 activations, int8 weights, int32 sums, the
/// arithmetic of PyTorch's quantized ResNets. Net is a float network type of any layout
/// (torchvision, stage projection, v1, CIFAR with option A or B, Wide ResNets, ResNeXts, dilated
/// stages) and its backbones (backbone<Net, Stages>).
///
/// A new network's state is all zeros (every output is then 0); load_int8_safetensors fills it.
/// Its forward passes are quantized_api's (quantized/api.hpp); quantized_view<Net> runs the same
/// from a state it borrows (quantized/view.hpp).
template <class Net>
class quantized : public quantized_api<quantized<Net>, Net> {
  using plan = quantized_plan<Net>;

 public:
  /// A network whose state is all zeros, for weights you load next.
  quantized() : state_(plan::state_bytes) {}

  /// The state buffer, `state_bytes` bytes laid out as quantized/state.hpp describes.
  std::byte* state_data() { return state_.data(); }
  const std::byte* state_data() const { return state_.data(); }
  /// Always status::ok: an owned state is always there.
  constexpr status state_status() const noexcept { return status::ok; }

 private:
  std::vector<std::byte, detail::cache_aligned_allocator<std::byte>> state_;
};

}  // namespace ctresnet
