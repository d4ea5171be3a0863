// He et al.'s CIFAR ResNets against the PyTorch definitions in tools/resnet_models.py (see
// check_parity.hpp), with both shortcut options; resnet1202 shows that depth costs nothing but time.
#include "check_parity.hpp"

using parity::check_parity;
using namespace ctresnet;
using option_b = cifar_projection_layout;

TEST_CASE("cifar_resnet20_A") { check_parity<cifar::resnet20<>>("cifar_resnet20_A"); }
TEST_CASE("cifar_resnet20_B") { check_parity<cifar::resnet20<10, cifar_input, option_b>>("cifar_resnet20_B"); }
TEST_CASE("cifar_resnet56_A") { check_parity<cifar::resnet56<>>("cifar_resnet56_A"); }
TEST_CASE("cifar_resnet56_B") { check_parity<cifar::resnet56<10, cifar_input, option_b>>("cifar_resnet56_B"); }
TEST_CASE("cifar_resnet110_A") { check_parity<cifar::resnet110<>>("cifar_resnet110_A"); }
TEST_CASE("cifar_resnet1202_A") { check_parity<cifar::resnet1202<>>("cifar_resnet1202_A"); }
