// Option-A shortcuts only add channels: a stage that narrows the network cannot use them.
// expected-error {{"ctresnet::shortcut_kind::zero_padded: zero padding can only add channels"}}
#include <ctresnet/ctresnet.hpp>

struct narrowing_layout : ctresnet::cifar_layout {
  static constexpr int stage_width(int stage) {
#ifdef CTRESNET_SHOULD_FAIL
    return 64 >> stage;
#else
    return 16 << stage;
#endif
  }
};
static_assert(ctresnet::cifar::resnet<20, 10, ctresnet::cifar_input, narrowing_layout>::num_params > 0);
int main() {}
