// ctresnet: every ResNet a C++ type. The umbrella header, in dependency order (like Eigen/Core).
// Loading and saving weights is separate, in <ctresnet/safetensors.hpp>, so that this header needs
// nothing but Eigen.
#pragma once

#include <ctresnet/config.hpp>
#include <ctresnet/shape.hpp>
#include <ctresnet/layers.hpp>
#include <ctresnet/describe.hpp>
#include <ctresnet/thread_pool.hpp>
#include <ctresnet/kernels/tensor_ops.hpp>
#include <ctresnet/kernels/winograd.hpp>
#include <ctresnet/kernels/conv_max_pool.hpp>
#include <ctresnet/blocks.hpp>
#include <ctresnet/layout.hpp>
#include <ctresnet/init.hpp>
#include <ctresnet/status.hpp>
#include <ctresnet/execution.hpp>
#include <ctresnet/network/parts.hpp>
#include <ctresnet/network/plan.hpp>
#include <ctresnet/network/runner.hpp>
#include <ctresnet/network/network_api.hpp>
#include <ctresnet/network.hpp>
#include <ctresnet/models.hpp>
#include <ctresnet/summary.hpp>
#include <ctresnet/graph.hpp>
#include <ctresnet/network_view.hpp>
