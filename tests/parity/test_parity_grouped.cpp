// torchvision's ResNeXt (grouped 3x3 convs) and Wide ResNets against PyTorch (see check_parity.hpp).
#include "check_parity.hpp"

using parity::check_parity;
using namespace ctresnet;

TEST_CASE("torchvision_resnext50_32x4d") { check_parity<resnext50_32x4d<>>("torchvision_resnext50_32x4d"); }
TEST_CASE("torchvision_resnext101_32x8d") { check_parity<resnext101_32x8d<>>("torchvision_resnext101_32x8d"); }
TEST_CASE("torchvision_wide_resnet50_2") { check_parity<wide_resnet50_2<>>("torchvision_wide_resnet50_2"); }
TEST_CASE("torchvision_wide_resnet101_2") { check_parity<wide_resnet101_2<>>("torchvision_wide_resnet101_2"); }
