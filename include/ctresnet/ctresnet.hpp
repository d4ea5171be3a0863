// ctresnet: every ResNet a C++ type. The umbrella header, in dependency order (like Eigen/Core).
// Loading and saving weights is separate, in <ctresnet/safetensors.hpp>, so that this header needs
// nothing but Eigen.
#pragma once

#include <ctresnet/config.hpp>
#include <ctresnet/shape.hpp>
#include <ctresnet/layers.hpp>
#include <ctresnet/describe.hpp>
#include <ctresnet/thread_pool.hpp>
#include <ctresnet/tensor_ops.hpp>
#include <ctresnet/winograd.hpp>
#include <ctresnet/blocks.hpp>
#include <ctresnet/layout.hpp>
#include <ctresnet/init.hpp>
#include <ctresnet/status.hpp>
#include <ctresnet/network.hpp>
#include <ctresnet/network_view.hpp>
#include <ctresnet/summary.hpp>
#include <ctresnet/graph.hpp>
