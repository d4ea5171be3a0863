// What every network offers, written once for the network that owns its state (resnet) and the one
// that borrows it (network_view), so that both have the same API by construction: its plan's
// compile-time facts, and the forward passes. The network says where its state is and whether it
// can be used (`state_status()`); the runner does the rest.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/execution.hpp>
#include <ctresnet/network/plan.hpp>
#include <ctresnet/network/runner.hpp>
#include <ctresnet/status.hpp>

#include <array>
#include <string>
#if CTRESNET_EXCEPTIONS
#include <memory>
#include <stdexcept>
#endif

namespace ctresnet {

#if CTRESNET_EXCEPTIONS
namespace detail {
/// Every stage's maps for `batch` images as Tensors (N, C, H, W), and in `targets` where a
/// try_forward_stages call writes them: the allocating forward_stages of the float and the int8
/// networks.
template <class Plan, class Tensor, class Targets>
std::array<Tensor, Plan::num_stages> stage_tensors(index_t batch, Targets& targets) {
  std::array<Tensor, Plan::num_stages> maps;
  Plan::for_each_stage([&](auto stage) {
    using shape = typename Plan::template stage_shape<decltype(stage)::value>;
    maps[stage] = Tensor(batch, shape::channels, shape::height, shape::width);
    targets[stage] = maps[stage].data();
  });
  return maps;
}

/// The workspace of an allocating forward pass, left uninitialized: a pass writes each element
/// before it reads it, and zeroing resnet50's 12 MiB of floats took 1.4-2 % of a pass.
template <class T>
std::unique_ptr<T[]> workspace_buffer(std::size_t size) {
  return std::unique_ptr<T[]>(new T[size]);
}
}  // namespace detail
#endif

/// Network is the class that derives from it; Plan its network_plan.
template <class Network, class Plan>
class network_api : public Plan {
  using run = detail::runner<Plan>;

 public:
  using typename Plan::feature_tensor;
  using typename Plan::input_map;
  using typename Plan::output_map;
  using typename Plan::output_tensor;
  using typename Plan::stage_maps;

  /// The non-throwing, allocation-free forward pass, in every build: logits (N, classes), or a
  /// backbone's features (N, C, H, W), go to `output`, scratch to `workspace`, which must hold
  /// `workspace_floats_for(on.threads())` floats and may be shared by calls that do not overlap in
  /// time. Returns status::ok, or what is wrong (and then computes nothing).
  status try_forward(const input_map& images, output_map output, float* workspace, execution on = {}) const {
    const status state = self().state_status();
    return state != status::ok ? state : run::forward(self().state_data(), images, output, workspace, on);
  }
  /// Stage I's feature maps (N x C x H x W floats of stage_shape<I>, NCHW) go to maps[I], or
  /// nowhere if it is nullptr; the stages after the last one asked for do not run.
  status try_forward_stages(const input_map& images, const stage_maps& maps, float* workspace,
                            execution on = {}) const {
    const status state = self().state_status();
    return state != status::ok ? state : run::forward_stages(self().state_data(), images, maps, workspace, on);
  }

#if CTRESNET_EXCEPTIONS
  /// Logits (N, classes) for an NCHW batch (N, C, H, W); N >= 1 is chosen at run time. A backbone
  /// gives its feature maps (N, C, H, W) instead. Allocates the output and the workspace.
  output_tensor forward(const input_map& images, execution on = {}) const {
    output_tensor output(Plan::output_dimensions(images.dimension(0)));
    const auto workspace = detail::workspace_buffer<float>(std::size_t(Plan::workspace_floats_for(on.threads())));
    forward(images, output_map(output.data(), output.dimensions()), workspace.get(), on);
    return output;
  }
  /// The allocation-free form: try_forward, throwing std::invalid_argument for a wrong shape or a
  /// null workspace or state, and std::logic_error for a state not prepared.
  void forward(const input_map& images, output_map output, float* workspace, execution on = {}) const {
    throw_if_error(try_forward(images, output, workspace, on), images, &output);
  }

  /// Every stage's feature map (N, C, H, W), as torchvision's IntermediateLayerGetter returns them
  /// (what a detection or segmentation head takes); the classifier does not run.
  std::array<feature_tensor, Plan::num_stages> forward_stages(const input_map& images, execution on = {}) const {
    stage_maps targets{};
    std::array<feature_tensor, Plan::num_stages> maps =
        detail::stage_tensors<Plan, feature_tensor>(images.dimension(0), targets);
    const auto workspace = detail::workspace_buffer<float>(std::size_t(Plan::workspace_floats_for(on.threads())));
    forward_stages(images, targets, workspace.get(), on);
    return maps;
  }
  /// The allocation-free form: try_forward_stages, throwing as forward() does.
  void forward_stages(const input_map& images, const stage_maps& maps, float* workspace, execution on = {}) const {
    throw_if_error(try_forward_stages(images, maps, workspace, on), images, nullptr);
  }
#endif

 protected:
  network_api() = default;

 private:
  const Network& self() const { return static_cast<const Network&>(*this); }

#if CTRESNET_EXCEPTIONS
  /// Turns a status into the exception the throwing API documents; a wrong shape names the
  /// shapes involved.
  static void throw_if_error(status s, const input_map& images, const output_map* output) {
    using shape = typename Plan::input_shape;
    switch (s) {
      case status::ok:
        return;
      case status::wrong_input_shape:
        throw std::invalid_argument("ctresnet::forward: the input has shape " +
                                    detail::shape_text(images.dimensions().data(), 4) + ", expected [N, " +
                                    std::to_string(shape::channels) + ", " + std::to_string(shape::height) + ", " +
                                    std::to_string(shape::width) + "] with N >= 1");
      case status::wrong_output_shape: {
        const auto expected = Plan::output_dimensions(images.dimension(0));
        throw std::invalid_argument(
            std::string("ctresnet::forward: the ") + (Plan::has_classifier ? "logits" : "feature") +
            " tensor has shape " + (output ? detail::shape_text(output->dimensions().data(), Plan::output_rank) : "?") +
            ", expected " + detail::shape_text(expected.data(), expected.size()));
      }
      case status::no_workspace:
      case status::no_state:
        throw std::invalid_argument(status_message(s));
      case status::state_not_prepared:
        throw std::logic_error(status_message(s));
    }
    throw std::invalid_argument(status_message(s));  // a status value not named above
  }
#endif
};

}  // namespace ctresnet
