// The network that owns its state: resnet<Block, stages<...>, Classes, Input, Layout>. Its shapes,
// counts and sizes are its plan's (network/plan.hpp), its forward passes the shared ones
// (network/network_api.hpp); what it adds is the state buffer, its initialisation, and keeping the
// derived weights in step with it.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/detail/cache_lines.hpp>
#include <ctresnet/init.hpp>
#include <ctresnet/network/network_api.hpp>
#include <ctresnet/network/plan.hpp>
#include <ctresnet/status.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace ctresnet {

/// Tag for a network constructed without random weights: `resnet50<> net(ctresnet::uninitialized);`.
struct uninitialized_t {
  explicit uninitialized_t() = default;
};
inline constexpr uninitialized_t uninitialized{};

/// A ResNet as a type (see network_plan for the parameters), owning its state. A forward pass
/// needs `workspace_floats` of scratch per call; it is allocated for you unless you pass your own.
template <class Block, class Stages, int Classes, class Input, class Layout>
class resnet : public network_api<resnet<Block, Stages, Classes, Input, Layout>,
                                  network_plan<Block, Stages, Classes, Input, Layout>> {
  using plan = network_plan<Block, Stages, Classes, Input, Layout>;

 public:
  /// A network initialised as torchvision does it (Kaiming-normal convs, BatchNorm weight 1 and
  /// bias 0, PyTorch's default Linear), from a seeded generator.
  explicit resnet(std::uint64_t seed = 0) : state_(static_cast<std::size_t>(plan::state_floats)) { initialize(seed); }
  /// A network whose state is all zeros, for weights you load next: it skips drawing random
  /// weights, which takes about a second per 100 million parameters.
  explicit resnet(uninitialized_t) : state_(static_cast<std::size_t>(plan::state_floats)) {}

  /// Re-initialise every tensor from `seed`.
  void initialize(std::uint64_t seed) {
    pytorch_initializer init(seed);
    plan::visit_tensors([&](const tensor_info& t) { init(t, state_.data()); });
    prepare();
  }

  /// The state buffer, `state_floats` floats; `visit_tensors` tells where each tensor is. After
  /// writing through it, call prepare(): until then a forward pass throws std::logic_error
  /// (try_forward returns status::state_not_prepared) rather than run on outdated derived weights.
  /// (A pointer kept and written after prepare() escapes this check; take it anew.)
  float* state_data() {
    stale_ = true;
    return state_.data();
  }
  const float* state_data() const { return state_.data(); }

  /// Rederives the Winograd-transformed weights from the state. The constructor, initialize() and
  /// load_safetensors() call it; call it yourself after writing through state_data().
  void prepare() {
    plan::prepare(state_.data());
    stale_ = false;
  }

  /// Whether the state can run: status::state_not_prepared after a write through state_data()
  /// until prepare() is called.
  status state_status() const { return stale_ ? status::state_not_prepared : status::ok; }

 private:
  std::vector<float, detail::cache_aligned_allocator<float>> state_;
  bool stale_ = false;  // the state was handed out for writing since the last prepare()
};

namespace detail {
template <class Net, int Stages>
struct backbone_of {
  static_assert(check_backbone_stages<Stages, Net::num_stages>::value);
  template <std::size_t... I>
  static auto truncate(std::index_sequence<I...>)
      -> resnet<typename Net::block_type, stages<Net::blocks_per_stage[I]...>, 1, typename Net::input_shape,
                without_classifier<typename Net::layout>>;
  using type = decltype(truncate(std::make_index_sequence<(Stages >= 1 && Stages <= Net::num_stages ? Stages : 1)>{}));
};
}  // namespace detail

/// Net's stem and first `Stages` stages, without pool or classifier: a backbone whose output, its
/// last stage's feature map, has the compile-time shape `features_shape` (backbone<resnet50<>, 3>:
/// layer3's [1024, 14, 14]). Its state-dict names are Net's, so Net's weights file loads into it
/// with load_safetensors(backbone, path, unexpected_tensors::ignore).
template <class Net, int Stages>
using backbone = typename detail::backbone_of<Net, Stages>::type;


}  // namespace ctresnet
