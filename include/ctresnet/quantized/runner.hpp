// The run-time driver of a quantized network: lays out the workspace and runs each image through
// the plan's input quantization, stem, stages and head, reading the state the network owns.
// Argument checks are the network's (quantized/network.hpp).
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/detail/cache_lines.hpp>
#include <ctresnet/quantized/kernels.hpp>
#include <ctresnet/quantized/parts.hpp>
#include <ctresnet/quantized/state.hpp>
#include <ctresnet/thread_pool.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>

namespace ctresnet::detail::int8 {

template <class Plan>
struct runner {
  using input_shape = typename Plan::input_shape;

  /// The workspace's buffers, each on a cache line (see Plan::workspace_bytes_for), and the threads
  /// of the kernels (none: the calling thread).
  static image_buffers lay_out(void* workspace, thread_pool* pool) {
    auto* const raw = static_cast<std::uint8_t*>(workspace);
    const std::size_t past = reinterpret_cast<std::uintptr_t>(raw) % cache_line_bytes;
    std::uint8_t* const start = past == 0 ? raw : raw + (cache_line_bytes - past);
    const std::size_t stride = Plan::activation_stride;
    return {start, {}, {start + stride, start + 2 * stride, start + 3 * stride},
            {start + 4 * stride, pool, nullptr, stride}};
  }

  static quantization input_quantization(const std::byte* state) {
    const layer_header h = read_header(state + Plan::state_offsets[0]);
    return {h.output_scale, h.output_zero_point};
  }

  /// One float CHW image quantized into b.x (HWC).
  static void load(const std::byte* state, const float* chw, image_buffers& b) {
    b.q = input_quantization(state);
    kernels::int8::quantize_chw_to_hwc(chw, input_shape::channels, input_shape::height, input_shape::width, b.q.scale,
                                       b.q.zero_point, b.x, b.work.pool);
  }
  /// One quantized CHW image into b.x (HWC).
  static void load(const std::byte* state, const std::uint8_t* chw, image_buffers& b) {
    b.q = input_quantization(state);
    kernels::int8::chw_to_hwc(chw, input_shape::channels, input_shape::height, input_shape::width, b.x);
  }

  /// The image in b.x through the stem and stages 0 ... last, calling after_stage(stage, b) after
  /// each; its activation is then in b.x.
  template <class AfterStage>
  static void run_stages(const std::byte* state, image_buffers& b, int last, AfterStage&& after_stage) {
    Plan::stem_type::forward(state + Plan::state_offsets[1], b);
    Plan::for_each_stage([&](auto stage) {
      constexpr int i = decltype(stage)::value;
      if (i > last) return;
      std::tuple_element_t<i, typename Plan::stage_types>::forward(state + Plan::state_offsets[i + 2], b);
      after_stage(stage, b);
    });
  }

  /// Every image's uint8 output: store(n, output, quantization) for image n of `count`, whose
  /// CHW data (float or uint8) starts at images + n * input_shape::size. The output is the logits,
  /// or a backbone's last map (CHW).
  template <class Element, class Store>
  static void forward(const std::byte* state, const Element* images, index_t count, void* workspace, thread_pool* pool,
                      Store&& store) {
    const image_buffers start = lay_out(workspace, pool);
    for (index_t n = 0; n < count; ++n) {
      image_buffers b = start;
      load(state, images + n * input_shape::size, b);
      run_stages(state, b, Plan::num_stages - 1, [](auto, const image_buffers&) {});
      std::uint8_t* const output = b.spare[1];
      if constexpr (Plan::has_classifier) {
        const quantization q = Plan::head_type::forward(state + Plan::head_offset, b, output);
        store(n, static_cast<const std::uint8_t*>(output), q);
      } else {
        using shape = typename Plan::features_shape;
        kernels::int8::hwc_to_chw(b.x, shape::channels, shape::height, shape::width, output);
        store(n, static_cast<const std::uint8_t*>(output), b.q);
      }
    }
  }

  /// Stage I's uint8 maps, NCHW, to maps[I] (nowhere if nullptr); the stages after the last one
  /// asked for do not run.
  template <class Element>
  static void forward_stages(const std::byte* state, const Element* images, index_t count,
                             const std::array<std::uint8_t*, Plan::num_stages>& maps, void* workspace,
                             thread_pool* pool) {
    const image_buffers start = lay_out(workspace, pool);
    int last = -1;
    for (int i = 0; i < Plan::num_stages; ++i)
      if (maps[std::size_t(i)] != nullptr) last = i;
    if (last < 0) return;
    for (index_t n = 0; n < count; ++n) {
      image_buffers b = start;
      load(state, images + n * input_shape::size, b);
      run_stages(state, b, last, [&](auto stage, const image_buffers& after) {
        using shape = typename Plan::template stage_shape<decltype(stage)::value>;
        if (std::uint8_t* map = maps[stage])
          kernels::int8::hwc_to_chw(after.x, shape::channels, shape::height, shape::width, map + n * shape::size);
      });
    }
  }
};

}  // namespace ctresnet::detail::int8
