// Where a forward pass runs: on the calling thread, or split among the threads of a pool.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/thread_pool.hpp>

namespace ctresnet {

/// The last argument of every forward pass. Default: the calling thread alone. A thread_pool
/// converts to it, so `net.forward(images, pool)` splits each layer among the pool's threads (the
/// caller is one of them); the workspace must then hold `workspace_floats_for(pool.size())` floats.
class execution {
 public:
  constexpr execution() noexcept = default;
  execution(thread_pool& pool) noexcept : pool_(&pool) {}  // NOLINT: implicit on purpose

  thread_pool* pool() const noexcept { return pool_; }
  int threads() const { return pool_ ? pool_->size() : 1; }

 private:
  thread_pool* pool_ = nullptr;
};

}  // namespace ctresnet
