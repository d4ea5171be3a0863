// What every int8 network offers, written once for the one that owns its state (quantized) and the
// one that borrows it (quantized_view), as network_api is for the float networks: the plan's
// compile-time facts, the quantizations the state holds, and the forward passes. The network says
// where its state is and whether it can be used (`state_status()`); the runner does the rest.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/execution.hpp>
#include <ctresnet/network/network_api.hpp>
#include <ctresnet/quantized/kernels.hpp>
#include <ctresnet/quantized/plan.hpp>
#include <ctresnet/quantized/runner.hpp>
#include <ctresnet/quantized/state.hpp>
#include <ctresnet/status.hpp>

#include <unsupported/Eigen/CXX11/Tensor>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>
#if CTRESNET_EXCEPTIONS
#include <memory>
#include <stdexcept>
#include <string>
#endif

namespace ctresnet {

/// Network is the class that derives from it; Net the float network type it quantizes.
///
/// Forward passes take images as floats (quantized first, as QuantStub does) or already quantized
/// uint8, both NCHW, and give logits as floats (dequantized, as DeQuantStub does) or as the uint8
/// values with output_quantization(). They need `workspace_bytes` of scratch, which calls that do
/// not overlap in time may share. A thread pool passed as `execution` splits each conv, the
/// classifier and each residual add among its threads (the caller is one of them), which gives
/// the same bits as one thread; the workspace must then hold `workspace_bytes_for(pool.size())`.
template <class Network, class Net>
class quantized_api : public quantized_plan<Net> {
  using plan = quantized_plan<Net>;
  using run = detail::int8::runner<plan>;
  using float_run = detail::runner<typename Net::plan_type>;  // its argument checks: the shapes are Net's
  using input_shape_ = typename plan::input_shape;
  static constexpr int output_rank_ = plan::output_rank;

 public:
  using input_map = Eigen::TensorMap<const Eigen::Tensor<float, 4, Eigen::RowMajor>>;
  using output_map = Eigen::TensorMap<Eigen::Tensor<float, output_rank_, Eigen::RowMajor>>;
  using uint8_input_map = Eigen::TensorMap<const Eigen::Tensor<std::uint8_t, 4, Eigen::RowMajor>>;
  using uint8_output_map = Eigen::TensorMap<Eigen::Tensor<std::uint8_t, output_rank_, Eigen::RowMajor>>;
  /// Where try_quantize writes: quantized images, NCHW.
  using uint8_images_map = Eigen::TensorMap<Eigen::Tensor<std::uint8_t, 4, Eigen::RowMajor>>;
  using input_tensor = Eigen::Tensor<float, 4, Eigen::RowMajor>;
  using output_tensor = Eigen::Tensor<float, output_rank_, Eigen::RowMajor>;
  using uint8_images_tensor = Eigen::Tensor<std::uint8_t, 4, Eigen::RowMajor>;
  using uint8_output_tensor = Eigen::Tensor<std::uint8_t, output_rank_, Eigen::RowMajor>;
  /// Where try_forward_stages writes: stage I's uint8 maps (N x C x H x W of stage_shape<I>) to
  /// [I], or nowhere if it is nullptr.
  using stage_maps = std::array<std::uint8_t*, plan::num_stages>;

  /// The input's quantization (QuantStub's scale and zero point).
  quantization input_quantization() const { return header_quantization(plan::state_offsets[0]); }
  /// The uint8 output's quantization: the logits', or a backbone's last stage's.
  quantization output_quantization() const {
    if constexpr (plan::has_classifier)
      return header_quantization(plan::head_offset);
    else
      return stage_quantization<plan::num_stages - 1>();
  }
  /// Stage I's output's quantization (its last residual add's).
  template <int I>
  quantization stage_quantization() const {
    return header_quantization(plan::state_offsets[I + 2] +
                               std::tuple_element_t<I, typename plan::stage_types>::output_header_offset);
  }

  /// The non-throwing, allocation-free forward passes, in every build: images (N, C, H, W) as
  /// floats or quantized uint8; logits (N, classes), or a backbone's maps (N, C, H, W) of
  /// features_shape, as floats (dequantized) or uint8. Returns status::ok, or what is wrong (and
  /// then computes nothing).
  status try_forward(const input_map& images, output_map logits, void* workspace, execution on = {}) const {
    return forward_to(images, logits, workspace, on);
  }
  status try_forward(const input_map& images, uint8_output_map logits, void* workspace, execution on = {}) const {
    return forward_to(images, logits, workspace, on);
  }
  status try_forward(const uint8_input_map& images, output_map logits, void* workspace, execution on = {}) const {
    return forward_to(images, logits, workspace, on);
  }
  status try_forward(const uint8_input_map& images, uint8_output_map logits, void* workspace,
                     execution on = {}) const {
    return forward_to(images, logits, workspace, on);
  }

  /// Every stage's uint8 maps that `maps` asks for, NCHW; the stages after the last one asked for
  /// do not run, nor does the classifier.
  status try_forward_stages(const input_map& images, const stage_maps& maps, void* workspace,
                            execution on = {}) const {
    return stages_to(images, maps, workspace, on);
  }
  status try_forward_stages(const uint8_input_map& images, const stage_maps& maps, void* workspace,
                            execution on = {}) const {
    return stages_to(images, maps, workspace, on);
  }

  /// The images quantized with input_quantization(), NCHW, as the forward passes quantize them.
  status try_quantize(const input_map& images, uint8_images_map quantized_images) const {
    if (!float_run::input_fits(images)) return status::wrong_input_shape;
    for (int d = 0; d < 4; ++d)
      if (quantized_images.dimension(d) != images.dimension(d)) return status::wrong_output_shape;
    const status state = self().state_status();
    if (state != status::ok) return state;
    const quantization q = input_quantization();
    kernels::int8::quantize(images.data(), images.size(), q.scale, q.zero_point, quantized_images.data());
    return status::ok;
  }

#if CTRESNET_EXCEPTIONS
  /// Logits (N, classes), or a backbone's maps, of an NCHW batch of floats or quantized images;
  /// allocates the output and the workspace.
  output_tensor forward(const input_map& images, execution on = {}) const { return forward_allocating(images, on); }
  output_tensor forward(const uint8_input_map& images, execution on = {}) const {
    return forward_allocating(images, on);
  }
  /// The allocation-free forms: try_forward, throwing std::invalid_argument for a wrong shape or a
  /// null workspace or state.
  template <class Images, class Logits>
  void forward(const Images& images, Logits&& logits, void* workspace, execution on = {}) const {
    throw_if_error(try_forward(images, std::forward<Logits>(logits), workspace, on), images.dimensions().data(),
                   logits.dimensions().data(), output_rank_);
  }

  /// Every stage's uint8 maps (N, C, H, W); the classifier does not run.
  std::array<uint8_images_tensor, plan::num_stages> forward_stages(const input_map& images, execution on = {}) const {
    return stages_allocating(images, on);
  }
  std::array<uint8_images_tensor, plan::num_stages> forward_stages(const uint8_input_map& images,
                                                                   execution on = {}) const {
    return stages_allocating(images, on);
  }
  /// The allocation-free forms: try_forward_stages, throwing as forward() does.
  template <class Images>
  void forward_stages(const Images& images, const stage_maps& maps, void* workspace, execution on = {}) const {
    throw_if_error(try_forward_stages(images, maps, workspace, on), images.dimensions().data(), nullptr, 0);
  }

  /// The images quantized (N, C, H, W), as the forward passes quantize them.
  uint8_images_tensor quantize(const input_map& images) const {
    uint8_images_tensor q(images.dimensions());
    throw_if_error(try_quantize(images, q), images.dimensions().data(), q.dimensions().data(), 4, true);
    return q;
  }
#endif

 protected:
  quantized_api() = default;

 private:
  const Network& self() const { return static_cast<const Network&>(*this); }

  /// A null state (a view of nullptr) has no quantizations: scale 0, zero point 0.
  quantization header_quantization(std::size_t offset) const {
    if (self().state_data() == nullptr) return {0.0f, 0};
    const detail::int8::layer_header h = detail::int8::read_header(self().state_data() + offset);
    return {h.output_scale, h.output_zero_point};
  }

  template <class Images, class Logits>
  status forward_to(const Images& images, Logits& logits, void* workspace, execution on) const {
    if (!float_run::input_fits(images)) return status::wrong_input_shape;
    if (!float_run::output_fits(images, logits)) return status::wrong_output_shape;
    if (workspace == nullptr) return status::no_workspace;
    const status state = self().state_status();
    if (state != status::ok) return state;
    using element = typename Logits::Scalar;
    element* const out = logits.data();
    run::forward(self().state_data(), images.data(), images.dimension(0), workspace, on.pool(),
                 [&](index_t n, const std::uint8_t* q, quantization output) {
                   element* const row = out + n * plan::output_elements;
                   if constexpr (std::is_same_v<element, float>)
                     kernels::int8::dequantize(q, plan::output_elements, output.scale, output.zero_point, row);
                   else
                     std::memcpy(row, q, std::size_t(plan::output_elements));
                 });
    return status::ok;
  }

  template <class Images>
  status stages_to(const Images& images, const stage_maps& maps, void* workspace, execution on) const {
    if (!float_run::input_fits(images)) return status::wrong_input_shape;
    if (workspace == nullptr) return status::no_workspace;
    const status state = self().state_status();
    if (state != status::ok) return state;
    run::forward_stages(self().state_data(), images.data(), images.dimension(0), maps, workspace, on.pool());
    return status::ok;
  }

#if CTRESNET_EXCEPTIONS
  template <class Images>
  output_tensor forward_allocating(const Images& images, execution on) const {
    output_tensor logits(plan::output_dimensions(images.dimension(0)));
    const auto workspace = detail::workspace_buffer<std::byte>(plan::workspace_bytes_for(on.threads()));
    forward(images, output_map(logits.data(), logits.dimensions()), workspace.get(), on);
    return logits;
  }

  template <class Images>
  std::array<uint8_images_tensor, plan::num_stages> stages_allocating(const Images& images, execution on) const {
    stage_maps targets{};
    std::array<uint8_images_tensor, plan::num_stages> maps =
        detail::stage_tensors<plan, uint8_images_tensor>(images.dimension(0), targets);
    const auto workspace = detail::workspace_buffer<std::byte>(plan::workspace_bytes_for(on.threads()));
    forward_stages(images, targets, workspace.get(), on);
    return maps;
  }

  /// Turns a status into the exception the throwing API documents; a wrong shape names the shapes.
  /// `output` is the network's output, or with `quantized_images` try_quantize's images.
  static void throw_if_error(status s, const index_t* input, const index_t* output, std::size_t output_rank,
                             bool quantized_images = false) {
    switch (s) {
      case status::ok:
        return;
      case status::wrong_input_shape:
        throw std::invalid_argument("ctresnet::quantized::forward: the input has shape " +
                                    detail::shape_text(input, 4) + ", expected [N, " +
                                    std::to_string(input_shape_::channels) + ", " +
                                    std::to_string(input_shape_::height) + ", " + std::to_string(input_shape_::width) +
                                    "] with N >= 1");
      case status::wrong_output_shape: {
        const auto dimensions = plan::output_dimensions(input[0]);
        const std::string expected = quantized_images ? detail::shape_text(input, 4)
                                                      : detail::shape_text(dimensions.data(), dimensions.size());
        throw std::invalid_argument("ctresnet::quantized::forward: the output has shape " +
                                    detail::shape_text(output, output_rank) + ", expected " + expected);
      }
      default:
        throw std::invalid_argument(status_message(s));
    }
  }
#endif
};

}  // namespace ctresnet
