// torchvision's ResNets, the stage-projection layout's and the original paper's bottleneck placement
// against PyTorch (see check_parity.hpp).
#include "check_parity.hpp"

using parity::check_parity;
using namespace ctresnet;

TEST_CASE("torchvision_resnet18") { check_parity<resnet18<>>("torchvision_resnet18"); }
TEST_CASE("torchvision_resnet34") { check_parity<resnet34<>>("torchvision_resnet34"); }
TEST_CASE("torchvision_resnet50") { check_parity<resnet50<>>("torchvision_resnet50"); }
TEST_CASE("torchvision_resnet101") { check_parity<resnet101<>>("torchvision_resnet101"); }
TEST_CASE("torchvision_resnet152") { check_parity<resnet152<>>("torchvision_resnet152"); }
TEST_CASE("stage_projection_resnet18") { check_parity<stage_projection::resnet18<>>("stage_projection_resnet18"); }
TEST_CASE("stage_projection_resnet34") { check_parity<stage_projection::resnet34<>>("stage_projection_resnet34"); }
TEST_CASE("stage_projection_resnet50") { check_parity<stage_projection::resnet50<>>("stage_projection_resnet50"); }
TEST_CASE("stage_projection_resnet101") { check_parity<stage_projection::resnet101<>>("stage_projection_resnet101"); }
TEST_CASE("stage_projection_resnet152") { check_parity<stage_projection::resnet152<>>("stage_projection_resnet152"); }
TEST_CASE("v1_resnet50") { check_parity<v1::resnet50<>>("v1_resnet50"); }
TEST_CASE("v1_resnet101") { check_parity<v1::resnet101<>>("v1_resnet101"); }
