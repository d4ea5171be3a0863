// Weights compiled in: the header that ctresnet-embed wrote at build time from the digits model's
// file (digits_weights.hpp) runs through a network_view exactly as the file-loaded network runs,
// and the try_ forms report errors by status.
#include "digits_vectors.hpp"
#include "digits_weights.hpp"

#include <ctresnet/ctresnet.hpp>
#include <ctresnet/embed.hpp>
#include <ctresnet/safetensors.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#ifndef CTRESNET_DIGITS_DIR
#error "CTRESNET_DIGITS_DIR must name examples/digits"
#endif

namespace {
using net_type = ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>;
using input = net_type::input_shape;
const std::string weights_file = std::string(CTRESNET_DIGITS_DIR) + "/resnet20_digits.safetensors";

net_type::input_map all_images() {
  return net_type::input_map(digits_vectors::images, digits_vectors::count, input::channels, input::height,
                             input::width);
}
}  // namespace

TEST_CASE("the generated header is bound to the digits model and holds its prepared state, bit for bit") {
  static_assert(std::is_same_v<digits_weights::network, net_type>);
  static_assert(decltype(digits_weights::state)::state_floats == net_type::state_floats);
  static_assert(decltype(digits_weights::state)::fingerprint == net_type::state_fingerprint);
  CHECK(reinterpret_cast<std::uintptr_t>(digits_weights::state_data) % ctresnet::cache_line_bytes == 0);
  net_type net(ctresnet::uninitialized);
  ctresnet::load_safetensors(net, weights_file);
  CHECK(std::memcmp(net.state_data(), digits_weights::state_data, sizeof digits_weights::state_data) == 0);
}

TEST_CASE("a network_view of the compiled-in weights gives the file-loaded network's logits, bit for bit") {
  net_type net(ctresnet::uninitialized);
  ctresnet::load_safetensors(net, weights_file);
  const net_type::output_tensor from_file = net.forward(all_images());

  const ctresnet::network_view<net_type> view(digits_weights::state);
  CHECK(view.state_data() == digits_weights::state_data);  // read in place, not copied
  std::vector<float> workspace(static_cast<std::size_t>(net_type::workspace_floats));
  std::vector<float> logits(static_cast<std::size_t>(digits_vectors::count * 10), -1.0f);
  const ctresnet::status s = view.try_forward(
      all_images(), net_type::output_map(logits.data(), digits_vectors::count, 10), workspace.data());
  REQUIRE(s == ctresnet::status::ok);
  CHECK(std::memcmp(logits.data(), from_file.data(), logits.size() * sizeof(float)) == 0);
  // The build's test vectors came from the same file-loaded network.
  CHECK(std::memcmp(logits.data(), digits_vectors::logits, logits.size() * sizeof(float)) == 0);

  // The throwing form and a thread pool give the same numbers.
  const net_type::output_tensor thrown = view.forward(all_images());
  CHECK(std::memcmp(thrown.data(), from_file.data(), logits.size() * sizeof(float)) == 0);
  ctresnet::thread_pool pool(2);
  std::vector<float> pooled_workspace(static_cast<std::size_t>(net_type::workspace_floats_for(2)));
  REQUIRE(view.try_forward(all_images(), net_type::output_map(logits.data(), digits_vectors::count, 10),
                           pooled_workspace.data(), pool) == ctresnet::status::ok);
  CHECK(std::memcmp(logits.data(), from_file.data(), logits.size() * sizeof(float)) == 0);
}

TEST_CASE("a network_view over a network's own state runs as the network does") {
  const net_type net(5);
  const ctresnet::network_view<net_type> view(net.state_data());
  const net_type::output_tensor expected = net.forward(all_images());
  const net_type::output_tensor actual = view.forward(all_images());
  CHECK(std::memcmp(actual.data(), expected.data(), sizeof(float) * std::size_t(expected.size())) == 0);
}

TEST_CASE("a network_view has the network's forward passes, each with and without a thread pool") {
  const net_type net(7);
  const ctresnet::network_view<net_type> view(net.state_data());
  static_assert(ctresnet::network_view<net_type>::state_floats == net_type::state_floats);
  static_assert(ctresnet::network_view<net_type>::workspace_floats_for(3) == net_type::workspace_floats_for(3));
  static_assert(std::is_same_v<ctresnet::network_view<net_type>::stage_shape<1>, net_type::stage_shape<1>>);
  ctresnet::thread_pool pool(2);
  const auto same = [](const auto& a, const auto& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * std::size_t(a.size())) == 0;
  };

  const net_type::output_tensor expected = net.forward(all_images());
  CHECK(same(view.forward(all_images()), expected));
  CHECK(same(view.forward(all_images(), pool), expected));
  CHECK(same(net.forward(all_images(), pool), expected));

  const auto net_maps = net.forward_stages(all_images());
  const auto view_maps = view.forward_stages(all_images(), pool);
  for (std::size_t stage = 0; stage < net_maps.size(); ++stage) CHECK(same(view_maps[stage], net_maps[stage]));

  // The allocation-free forms, on the pool: every stage, and the logits.
  std::vector<float> workspace(static_cast<std::size_t>(net_type::workspace_floats_for(pool.size())));
  std::vector<float> last(static_cast<std::size_t>(net_maps.back().size()), -1.0f);
  REQUIRE(view.try_forward_stages(all_images(), {nullptr, nullptr, last.data()}, workspace.data(), pool) ==
          ctresnet::status::ok);
  CHECK(std::memcmp(last.data(), net_maps.back().data(), sizeof(float) * last.size()) == 0);
  std::vector<float> logits(static_cast<std::size_t>(expected.size()), -1.0f);
  view.forward(all_images(), net_type::output_map(logits.data(), digits_vectors::count, 10), workspace.data(), pool);
  CHECK(std::memcmp(logits.data(), expected.data(), sizeof(float) * logits.size()) == 0);
  view.forward_stages(all_images(), {nullptr, nullptr, last.data()}, workspace.data(), pool);
  CHECK(std::memcmp(last.data(), net_maps.back().data(), sizeof(float) * last.size()) == 0);
}

TEST_CASE("wrong arguments give a status, or with the throwing forms an exception naming the problem") {
  const ctresnet::network_view<net_type> view(digits_weights::state);
  std::vector<float> workspace(static_cast<std::size_t>(net_type::workspace_floats));
  float logits[20];
  const net_type::output_map one(logits, 1, 10);
  const net_type::input_map image(digits_vectors::images, 1, 1, 16, 16);
  CHECK(view.try_forward(image, one, workspace.data()) == ctresnet::status::ok);

  const net_type::input_map narrow(digits_vectors::images, 1, 1, 16, 8);
  CHECK(view.try_forward(narrow, one, workspace.data()) == ctresnet::status::wrong_input_shape);
  CHECK_THROWS_WITH_AS(view.forward(narrow, one, workspace.data()),
                       "ctresnet::forward: the input has shape [1, 1, 16, 8], expected [N, 1, 16, 16] with N >= 1",
                       std::invalid_argument);
  const net_type::input_map none(digits_vectors::images, 0, 1, 16, 16);
  CHECK(view.try_forward(none, one, workspace.data()) == ctresnet::status::wrong_input_shape);
  const net_type::input_map two(digits_vectors::images, 2, 1, 16, 16);
  CHECK(view.try_forward(two, one, workspace.data()) == ctresnet::status::wrong_output_shape);
  CHECK_THROWS_WITH_AS(view.forward(two, one, workspace.data()),
                       "ctresnet::forward: the logits tensor has shape [1, 10], expected [2, 10]",
                       std::invalid_argument);
  CHECK(view.try_forward(image, one, nullptr) == ctresnet::status::no_workspace);
  CHECK_THROWS_AS(view.forward(image, one, nullptr), std::invalid_argument);
  const ctresnet::network_view<net_type> nothing(static_cast<const float*>(nullptr));
  CHECK(nothing.try_forward(image, one, workspace.data()) == ctresnet::status::no_state);
  CHECK(std::string(ctresnet::status_message(ctresnet::status::no_state)) ==
        "ctresnet: the view (network_view or quantized_view) was made from a null state pointer");

  // An owning network reports a state written but not prepared the same way.
  net_type net(1);
  net.state_data()[0] = 0.5f;
  CHECK(net.try_forward(image, one, workspace.data()) == ctresnet::status::state_not_prepared);
  net.prepare();
  CHECK(net.try_forward(image, one, workspace.data()) == ctresnet::status::ok);
}

TEST_CASE("write_embedded_state refuses a namespace that is not an identifier and a weight that is not finite") {
  net_type net(ctresnet::uninitialized);
  std::ostringstream out;
  CHECK_THROWS_WITH_AS(ctresnet::write_embedded_state(out, net, "my-weights"),
                       "ctresnet::write_embedded_state: 'my-weights' is not a C++ identifier and cannot name the "
                       "namespace",
                       std::invalid_argument);
  net.state_data()[7] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH_AS(ctresnet::write_embedded_state(out, net, "w"),
                       "ctresnet::write_float_literals: float 7 is not finite and has no C++ literal",
                       std::invalid_argument);
  const float values[] = {0.1f, -2.5f, 1e-40f, 0.0f};
  std::ostringstream literals;
  ctresnet::write_float_literals(literals, values, 4);
  CHECK(literals.str() == "\n    0x1.99999ap-4f, -0x1.4p+1f, 0x1.16c2p-133f, 0x0p+0f");
}
