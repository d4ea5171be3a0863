// A fixed set of worker threads that run one job at a time, each thread taking its own share, or
// the caller a share that its worker has not begun in time. The pool is made once at set-up;
// running a job allocates nothing, so a forward pass with a pool stays allocation-free. Workers
// spin briefly between jobs (a forward pass posts one job per convolution, microseconds apart)
// and then sleep until the next job, or until a forward pass wakes them as it begins.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>

#if CTRESNET_THREADS
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>
#endif

namespace ctresnet {

#if !CTRESNET_THREADS
/// Without threads (CTRESNET_THREADS is 0, as on bare-metal newlib) there is no pool to make: the
/// type exists so that code naming it compiles, and every forward pass runs on the calling thread.
class thread_pool {
 public:
  thread_pool() = delete;
  int size() const { return 1; }
  void wake() {}
  template <class Job>
  void run(Job&& job) {
    job(0, 1);
  }
};
#else

namespace detail {

/// Tells the CPU that this thread is waiting, so that a spinning worker does not starve its sibling.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// A non-owning reference to a callable `void(int thread, int threads)`.
class job_ref {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, job_ref>>>
  job_ref(F& f)
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* object, int thread, int threads) { (*static_cast<F*>(object))(thread, threads); }) {}
  void operator()(int thread, int threads) const { call_(object_, thread, threads); }

 private:
  void* object_;
  void (*call_)(void*, int, int);
};

}  // namespace detail

/// Threads for one forward pass at a time: `thread_pool pool(2); net.forward(x, y, workspace, pool);`.
/// The calling thread is thread 0 and works too, so a pool of N starts N - 1 threads. One pool
/// serves one caller at a time; give each concurrent caller its own pool.
///
/// A thread count below 1 throws std::invalid_argument; built without exceptions, where a
/// constructor cannot report it, such a pool has one thread (size() says so).
class thread_pool {
 public:
  explicit thread_pool(int threads = 1)
      : threads_(threads < 1 ? 1 : threads), slots_(static_cast<std::size_t>(threads_)) {
#if CTRESNET_EXCEPTIONS
    if (threads < 1)
      throw std::invalid_argument("ctresnet::thread_pool: the thread count is " + std::to_string(threads) +
                                  "; it must be at least 1");
    workers_.reserve(static_cast<std::size_t>(threads_ - 1));
    try {
      for (int t = 1; t < threads_; ++t) workers_.emplace_back([this, t] { work(t); });
    } catch (...) {  // the system refused a thread: stop the ones that started
      stop();
      throw;
    }
#else
    workers_.reserve(static_cast<std::size_t>(threads_ - 1));
    for (int t = 1; t < threads_; ++t) workers_.emplace_back([this, t] { work(t); });
#endif
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() { stop(); }

  /// Threads that take part in a job, the caller included.
  int size() const { return threads_; }

  /// Wakes the workers if they sleep, so that they spin, ready, when the next job comes: a forward
  /// pass calls it before it converts its input, which takes about as long as a sleeping thread
  /// takes to wake. Workers that wake find no job of their own and wait for the next.
  void wake() {
    if (threads_ == 1) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
  }

  /// Calls job(thread, size()) once for every thread index and returns when all calls have
  /// returned. The caller runs index 0, and each worker its own index, unless it has not begun it
  /// by the time the caller is done with index 0 (it was asleep, or its CPU busy with another
  /// process): the caller then runs that index itself, so that a late thread cannot hold up the
  /// job. So a job must not depend on which thread runs an index (no thread_local state). An
  /// exception from a call on the caller's thread is rethrown once the workers are done; one on a
  /// worker thread ends the program, as from any std::thread.
  template <class Job>
  void run(Job&& job) {
    if (threads_ == 1) {
      job(0, 1);
      return;
    }
    job_ = detail::job_ref(job);
    const std::uint64_t generation = generation_.load(std::memory_order_relaxed) + 1;
    for (slot& s : slots_) s.state.store(slot_state(generation, unclaimed), std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.store(generation, std::memory_order_release);
    }
    wake_.notify_all();
#if CTRESNET_EXCEPTIONS
    try {
      run_parts_not_begun(job, generation);
    } catch (...) {
      close_slots(generation);  // no worker may begin `job` once run() has returned
      wait_for_workers(generation);
      throw;
    }
#else
    run_parts_not_begun(job, generation);
#endif
    wait_for_workers(generation);
  }

 private:
  /// What a thread index of the current job is at: unclaimed (no thread has begun it), being run
  /// by its worker, finished by its worker, or taken by the caller. The job's generation is in the
  /// upper bits, so that a worker that wakes late cannot take an index of an earlier job.
  enum : std::uint64_t { unclaimed, running, finished, taken_by_caller };
  static constexpr std::uint64_t slot_state(std::uint64_t generation, std::uint64_t what) {
    return generation * 4 + what;
  }

  struct alignas(64) slot {  // a cache line each: workers and the caller update them at the same time
    std::atomic<std::uint64_t> state{0};
  };

  /// The caller's own index, then each index that its worker has not begun.
  template <class Job>
  void run_parts_not_begun(Job& job, std::uint64_t generation) {
    job(0, threads_);
    for (int t = 1; t < threads_; ++t)
      if (take(t, generation, taken_by_caller)) job(t, threads_);
  }

  /// Moves index t of the job from unclaimed to `what`; false if a thread has taken it already.
  bool take(int t, std::uint64_t generation, std::uint64_t what) {
    std::uint64_t expected = slot_state(generation, unclaimed);
    return slots_[std::size_t(t)].state.compare_exchange_strong(expected, slot_state(generation, what),
                                                                std::memory_order_acq_rel);
  }

  void close_slots(std::uint64_t generation) {
    for (int t = 1; t < threads_; ++t) take(t, generation, taken_by_caller);
  }

  void wait_for_workers(std::uint64_t generation) const {
    for (int t = 1; t < threads_; ++t)
      while (slots_[std::size_t(t)].state.load(std::memory_order_acquire) == slot_state(generation, running))
        detail::cpu_relax();
  }

  void stop() {
    stopping_.store(true, std::memory_order_relaxed);  // published by wake()'s release of the generation
    wake();
    for (std::thread& worker : workers_) worker.join();
  }

  void work(int thread) {
    std::uint64_t seen = 0;
    for (;;) {
      std::uint64_t now = generation_.load(std::memory_order_acquire);
      // Spinning covers the gap between two layers' jobs: 20,000 pauses take 0.4 ms on a Zen 5
      // and 0.7-1 ms at 3-4 GHz where a pause is 140 cycles (Intel since Skylake).
      for (int spin = 0; now == seen && spin < spin_limit; ++spin) {
        detail::cpu_relax();
        now = generation_.load(std::memory_order_acquire);
      }
      if (now == seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        now = generation_.load(std::memory_order_acquire);
      }
      if (stopping_.load(std::memory_order_relaxed)) return;
      seen = now;
      if (!take(thread, now, running)) continue;  // the caller has run this index already
      job_(thread, threads_);
      slots_[std::size_t(thread)].state.store(slot_state(now, finished), std::memory_order_release);
    }
  }

  static constexpr int spin_limit = 20000;

  int threads_;
  std::vector<slot> slots_;  // one per thread index; index 0 (the caller's) unused
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  static inline void (*no_job_)(int, int) = [](int, int) {};
  detail::job_ref job_{no_job_};  // the job of the current run()
};
#endif  // CTRESNET_THREADS

}  // namespace ctresnet
