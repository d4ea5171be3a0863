// Units of a job that its threads take one at a time: each thread its own share first, then what
// is left of the others'. The kernels divide a layer's rows among the pool's threads with it.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>

#if CTRESNET_THREADS
#include <atomic>
#endif

namespace ctresnet::detail {

#if CTRESNET_THREADS
/// The units 0 ... count - 1 of a job, divided among its threads. Each thread takes the units of
/// its own even share in order (so that it reads what it wrote in the layer before, in its own
/// cache), then helps with the others' shares. A thread whose CPU runs slower, or is shared with
/// another process, then does fewer units instead of holding up the job.
class work_queue {
 public:
  work_queue(index_t count, int threads) : shares_(threads < 1 ? 1 : threads < max_shares ? threads : max_shares) {
    for (int s = 0; s < shares_; ++s) {
      share_[s].next.store(count * s / shares_, std::memory_order_relaxed);
      share_[s].end = count * (s + 1) / shares_;
    }
  }
  work_queue(const work_queue&) = delete;
  work_queue& operator=(const work_queue&) = delete;

  /// Thread `thread`'s next unit, or -1 once every unit has been handed out.
  index_t next(int thread) {
    for (int i = 0; i < shares_; ++i) {
      share& s = share_[(thread + i) % shares_];
      if (s.next.load(std::memory_order_relaxed) >= s.end) continue;
      // Relaxed: the units' outputs reach the caller through thread_pool::run's own ordering.
      const index_t unit = s.next.fetch_add(1, std::memory_order_relaxed);
      if (unit < s.end) return unit;
    }
    return -1;
  }

 private:
  /// Threads beyond this many share the shares (thread t takes share t % max_shares first).
  static constexpr int max_shares = 8;
  struct alignas(64) share {  // a cache line each: the threads update them at the same time
    std::atomic<index_t> next{0};
    index_t end = 0;
  };
  int shares_;
  share share_[max_shares];
};
#else
/// Without threads, the calling thread takes the units 0 ... count - 1 in order.
class work_queue {
 public:
  work_queue(index_t count, int) : count_(count) {}
  index_t next(int) { return next_ < count_ ? next_++ : -1; }

 private:
  index_t next_ = 0;
  index_t count_;
};
#endif

}  // namespace ctresnet::detail
