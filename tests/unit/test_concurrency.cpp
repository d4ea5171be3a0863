// One loaded network shared by many threads, each with its own workspace, gives exactly the
// single-threaded results: a forward pass reads the state and writes only the caller's buffers.
// Also: what bad numbers in the input do.
#include <ctresnet/ctresnet.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {
using namespace ctresnet;

template <class Net>
typename Net::input_tensor seeded_input(std::uint64_t seed) {
  typename Net::input_tensor x(1, Net::input_shape::channels, Net::input_shape::height, Net::input_shape::width);
  random_generator generator(seed);
  for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(generator.normal());
  return x;
}

/// `threads` threads each run `runs` forward passes of their own inputs on one shared network, and
/// every result must equal, bit for bit, the same input's result computed alone.
template <class Net>
void check_shared_network(int threads, int runs) {
  const Net net(3);
  constexpr int inputs = 4;
  std::vector<typename Net::input_tensor> x;
  std::vector<typename Net::output_tensor> expected;
  for (int i = 0; i < inputs; ++i) {
    x.push_back(seeded_input<Net>(100 + std::uint64_t(i)));
    expected.push_back(net.forward(x.back()));
  }

  std::atomic<int> mismatches{0}, completed{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<float> workspace(static_cast<std::size_t>(Net::workspace_floats));
      std::vector<float> logits(Net::num_classes);
      for (int run = 0; run < runs; ++run) {
        const auto& input = x[std::size_t((t + run) % inputs)];
        net.forward(typename Net::input_map(input.data(), input.dimensions()),
                    typename Net::output_map(logits.data(), 1, Net::num_classes), workspace.data());
        const auto& want = expected[std::size_t((t + run) % inputs)];
        for (int c = 0; c < Net::num_classes; ++c)
          if (logits[std::size_t(c)] != want.data()[c]) ++mismatches;
        ++completed;
      }
    });
  }
  for (auto& worker : workers) worker.join();
  CHECK(completed == threads * runs);
  CHECK(mismatches == 0);
}
}  // namespace

TEST_CASE("8 threads x 20 forward passes on one shared network give the single-threaded logits") {
  check_shared_network<cifar::resnet20<>>(8, 20);
  check_shared_network<resnet18<10, shape<3, 64, 64>>>(8, 20);
}

TEST_CASE("NaN and infinity in the input run through without a crash") {
  using net_type = cifar::resnet20<>;
  const net_type net(5);
  auto x = seeded_input<net_type>(9);
  x(0, 0, 3, 4) = std::numeric_limits<float>::quiet_NaN();
  x(0, 1, 10, 10) = std::numeric_limits<float>::infinity();
  const auto logits = net.forward(x);
  REQUIRE(logits.dimension(1) == 10);
  // Some logit carries the NaN; none of the arithmetic traps or reads out of bounds.
  bool any_nan = false;
  for (int c = 0; c < 10; ++c) any_nan = any_nan || std::isnan(logits(0, c));
  CHECK(any_nan);
}

TEST_CASE("a work queue hands out every unit once, each thread's own share first") {
  // Alone, thread 2 of 4 takes its share (units 5 and 6 of 0 ... 9), then shares 3, 0 and 1.
  detail::work_queue alone(10, 4);
  std::vector<index_t> order;
  for (index_t unit = alone.next(2); unit >= 0; unit = alone.next(2)) order.push_back(unit);
  CHECK(order == std::vector<index_t>{5, 6, 7, 8, 9, 0, 1, 2, 3, 4});
  CHECK(alone.next(0) == -1);

  // Threads that race for the units, more of them than the queue has shares too.
  for (int threads : {1, 2, 3, 8, 11}) {
    for (index_t count : {0, 1, 5, 97, 1000}) {
      CAPTURE(threads);
      CAPTURE(count);
      thread_pool pool(threads);
      detail::work_queue queue(count, threads);
      std::vector<std::atomic<int>> taken(static_cast<std::size_t>(count));
      pool.run([&](int thread, int) {
        for (index_t unit = queue.next(thread); unit >= 0; unit = queue.next(thread)) ++taken[std::size_t(unit)];
      });
      int wrong = 0;
      for (const auto& times : taken) wrong += times != 1;
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("a thread pool runs each thread index of a job once, on the caller's thread if its worker is late") {
  for (int threads : {2, 3, 8}) {
    CAPTURE(threads);
    thread_pool pool(threads);
    const std::thread::id caller = std::this_thread::get_id();
    int wrong = 0, late = 0;  // indices not run exactly once; indices >= 1 that the caller ran
    for (int job = 0; job < 300; ++job) {
      // Now and then the workers fall asleep, and a job's caller is done before they wake.
      if (job % 30 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      std::vector<int> runs(static_cast<std::size_t>(threads), 0);
      std::vector<std::thread::id> ran_on(static_cast<std::size_t>(threads));
      pool.run([&](int thread, int count) {
        runs[std::size_t(thread)] += count == threads ? 1 : 100;
        ran_on[std::size_t(thread)] = std::this_thread::get_id();
      });
      for (int t = 0; t < threads; ++t) {
        wrong += runs[std::size_t(t)] != 1;
        late += t >= 1 && ran_on[std::size_t(t)] == caller;
      }
    }
    CHECK(wrong == 0);
    CHECK(late > 0);
  }
}

TEST_CASE("waking a pool runs no job: each index of the jobs around it runs once") {
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    thread_pool pool(threads);
    std::vector<std::atomic<int>> runs(static_cast<std::size_t>(threads));
    const auto job = [&](int thread, int) { ++runs[std::size_t(thread)]; };
    int wrong = 0;  // indices of a job not run exactly once, counted after every job
    for (int job_number = 0; job_number < 300; ++job_number) {
      // Asleep, spinning, or woken a moment ago: each wake finds the workers in another state.
      if (job_number % 30 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      pool.wake();
      if (job_number % 3 == 1) std::this_thread::sleep_for(std::chrono::microseconds(100));
      if (job_number % 3 == 2) pool.wake();
      pool.run(job);
      for (auto& count : runs) wrong += count.exchange(0) != 1;
    }
    pool.wake();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a woken worker would run a job now
    for (auto& count : runs) wrong += count.load() != 0;
    CHECK(wrong == 0);
  }
}

TEST_CASE("a job whose caller's share throws: the exception comes back, no index runs after, the pool still works") {
  thread_pool pool(3);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the workers are asleep
  std::atomic<bool> returned{false};
  std::atomic<int> after{0};  // indices that began after run() had returned
  const auto failing_job = [&](int thread, int) {
    if (thread == 0) throw std::runtime_error("the caller's share failed");
    if (returned) ++after;
  };
  CHECK_THROWS_AS(pool.run(failing_job), std::runtime_error);
  returned = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // time for a late worker to wake
  CHECK(after == 0);

  std::atomic<int> runs{0};
  pool.run([&](int, int) { ++runs; });
  CHECK(runs == 3);
}
