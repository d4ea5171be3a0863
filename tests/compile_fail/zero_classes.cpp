// A classifier with no classes.
// expected-error {{"ctresnet::resnet: the number of classes must be positive"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
constexpr int classes = 0;
#else
constexpr int classes = 10;
#endif
static_assert(ctresnet::resnet18<classes>::num_params > 0);
int main() {}
