// A linear layer with no outputs.
// expected-error {{"ctresnet::linear: in_features and out_features must be positive"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
constexpr int out_features = 0;
#else
constexpr int out_features = 10;
#endif
static_assert(ctresnet::linear<512, out_features>::macs >= 0);
int main() {}
