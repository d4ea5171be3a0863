// <ctresnet/quantized.hpp> built with -fno-exceptions (a syntax check): the try_ forms remain and
// report through ctresnet::status.
#include <ctresnet/quantized.hpp>

#include <cstddef>
#include <vector>

static_assert(CTRESNET_EXCEPTIONS == 0, "this check is compiled with -fno-exceptions");
using net = ctresnet::quantized<ctresnet::cifar::resnet20<>>;

int main() {
  const net q;
  net::input_tensor images(1, 3, 32, 32);
  images.setZero();
  net::output_tensor logits(1, 10);
  net::stage_maps maps{};
  std::vector<std::byte> workspace(net::workspace_bytes);
  const bool ok = q.try_forward(images, logits, workspace.data()) == ctresnet::status::ok &&
                  q.try_forward_stages(images, maps, workspace.data()) == ctresnet::status::ok;
  return ok ? 0 : 1;
}
