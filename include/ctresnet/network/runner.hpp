// The run-time driver of a network: checks a forward pass's arguments, lays out the workspace, and
// runs each image through the plan's stem, stages and head, reading the state from wherever it
// lies (a network's own buffer, or weights in flash behind a network_view).
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/detail/cache_lines.hpp>
#include <ctresnet/execution.hpp>
#include <ctresnet/status.hpp>

#include <array>
#include <cstddef>
#include <tuple>
#include <utility>

namespace ctresnet::detail {

template <class Plan>
struct runner {
  using input_map = typename Plan::input_map;
  using output_map = typename Plan::output_map;
  using input_shape = typename Plan::input_shape;

  /// Whether `images` is [N, C, H, W] of the input shape with N >= 1, and `output` is the output's
  /// dimensions for N images; of any element type, so that the int8 networks check theirs here too.
  template <class Images>
  static bool input_fits(const Images& images) {
    return images.dimension(0) >= 1 && images.dimension(1) == input_shape::channels &&
           images.dimension(2) == input_shape::height && images.dimension(3) == input_shape::width;
  }

  template <class Images, class Output>
  static bool output_fits(const Images& images, const Output& output) {
    const auto expected = Plan::output_dimensions(images.dimension(0));
    for (std::size_t d = 0; d < expected.size(); ++d)
      if (output.dimension(d) != expected[d]) return false;
    return true;
  }

  /// Logits (or a backbone's features) of every image into `output`.
  static status forward(const float* state, const input_map& images, output_map output, float* workspace,
                        execution on) {
    if (!input_fits(images)) return status::wrong_input_shape;
    if (!output_fits(images, output)) return status::wrong_output_shape;
    if (workspace == nullptr) return status::no_workspace;
    if (thread_pool* pool = on.pool()) pool->wake();  // ready by the time the input is converted
    const image_buffers b = lay_out(workspace, on);
    for (index_t n = 0; n < images.dimension(0); ++n) {
      image_buffers image = b;
      run_image(state, images.data() + n * input_shape::size, image, Plan::num_stages - 1,
                [](auto, const image_buffers&) {});
      Plan::head_type::forward(state + Plan::head_offset, image, output.data() + n * Plan::output_floats);
    }
    return status::ok;
  }

  /// Every stage's feature maps that `maps` asks for, in PyTorch's NCHW order; the stages after
  /// the last one asked for do not run.
  static status forward_stages(const float* state, const input_map& images, const typename Plan::stage_maps& maps,
                               float* workspace, execution on) {
    if (!input_fits(images)) return status::wrong_input_shape;
    if (workspace == nullptr) return status::no_workspace;
    if (thread_pool* pool = on.pool()) pool->wake();
    const image_buffers b = lay_out(workspace, on);
    int last = -1;
    for (int i = 0; i < Plan::num_stages; ++i)
      if (maps[std::size_t(i)] != nullptr) last = i;
    for (index_t n = 0; n < images.dimension(0); ++n) {
      image_buffers image = b;
      run_image(state, images.data() + n * input_shape::size, image, last, [&](auto stage, const image_buffers& after) {
        using shape = typename Plan::template stage_shape<decltype(stage)::value>;
        if (float* map = maps[stage])
          kernels::hwc_to_chw(after.x, shape::channels, shape::height, shape::width, map + n * shape::size);
      });
    }
    return status::ok;
  }

 private:
  /// The workspace's buffers, each on a cache line (see Plan::workspace_floats_for).
  static image_buffers lay_out(float* workspace, execution on) {
    float* const start = align_to_cache_line(workspace);
    const index_t act = Plan::activation_stride;
    float* per_channel = start + 3 * act;
    return {start,
            {start + act, start + 2 * act},
            {per_channel + 2 * Plan::channels_stride, Plan::thread_stride, per_channel,
             per_channel + Plan::channels_stride, on.pool()}};
  }

  /// One CHW image through the stem and stages 0 ... last, calling after_stage(stage, image) after
  /// each; the image's activation is then in image.x.
  template <class AfterStage>
  static void run_image(const float* state, const float* chw, image_buffers& image, int last,
                        AfterStage&& after_stage) {
    Plan::stem_type::forward(state, chw, image);
    Plan::for_each_stage([&](auto stage) {
      constexpr int i = decltype(stage)::value;
      if (i > last) return;
      std::tuple_element_t<i, typename Plan::stage_types>::forward(state + Plan::state_offsets[i + 1], image);
      after_stage(stage, image);
    });
  }
};

}  // namespace ctresnet::detail
