// A grouped conv (as in ResNeXt) splits its inputs and outputs into groups: the group count must
// divide both channel counts.
// expected-error {{"ctresnet::conv2d: the number of groups must divide both the input and the output channels"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
constexpr int groups = 24;  // divides 96 outputs, not 64 inputs
#else
constexpr int groups = 32;
#endif
using conv = ctresnet::conv2d<64, 96, 3, 1, 1, groups>;
static_assert(conv::num_params > 0);
int main() {}
