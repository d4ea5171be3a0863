// At 256x256 the stage-projection layout's fixed 7x7 average pool leaves a 2x2 map: 8192 flattened
// features where its fc takes 2048. PyTorch finds this at run time; ctresnet at compile time.
// expected-error {{"ctresnet::linear: in_features differ from the flattened features of the previous layer"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using in = ctresnet::shape<3, 256, 256>;
#else
using in = ctresnet::shape<3, 224, 224>;
#endif
static_assert(ctresnet::stage_projection::resnet50<5, in>::num_params > 0);
int main() {}
