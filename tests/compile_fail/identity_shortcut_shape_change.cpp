// A layout that never projects the shortcut: the first block of layer2 halves the resolution and
// doubles the channels, so its identity shortcut cannot be added to the main branch.
// expected-error {{"ctresnet::residual_add: the shortcut and the main branch have different shapes"}}
#include <ctresnet/ctresnet.hpp>

struct never_projecting_layout : ctresnet::torchvision_layout {
  static constexpr ctresnet::shortcut_kind shortcut(int stride, int in_channels, int out_channels) {
#ifdef CTRESNET_SHOULD_FAIL
    return (void)stride, (void)in_channels, (void)out_channels, ctresnet::shortcut_kind::identity;
#else
    return ctresnet::torchvision_layout::shortcut(stride, in_channels, out_channels);
#endif
  }
};
using net = ctresnet::resnet<ctresnet::basic_block, ctresnet::stages<2, 2>, 10, ctresnet::imagenet_input,
                             never_projecting_layout>;
static_assert(net::num_params > 0);
int main() {}
