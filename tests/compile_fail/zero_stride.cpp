// A convolution with stride 0.
// expected-error {{"ctresnet::conv2d/pool: kernel size and stride must be positive and padding must not be negative"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
constexpr int stride = 0;
#else
constexpr int stride = 1;
#endif
static_assert(ctresnet::conv2d<3, 16, 3, stride>::num_params == 432);
int main() {}
