// evict_caches: what another program does to the caches between two calls of a classifier that
// runs now and then. Every CPU writes and reads its share of a buffer of several times the size of
// the last-level cache, so that the L1 and L2 of every core and the shared L3 hold only its lines.
//
//   evict_caches MIB THREADS     prints the checksum of what it read (so the reads cannot be dropped)
//
// bench/run_bench.py --cold runs it before every timed forward pass.
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3 || std::atol(argv[1]) < 1 || std::atoi(argv[2]) < 1) {
    std::fprintf(stderr, "usage: evict_caches MIB THREADS\n");
    return 2;
  }
  const std::size_t bytes = static_cast<std::size_t>(std::atol(argv[1])) << 20;
  const int threads = std::atoi(argv[2]);
  std::vector<unsigned char> buffer(bytes);
  std::vector<unsigned long> sums(static_cast<std::size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      const std::size_t begin = bytes / threads * t, end = t + 1 == threads ? bytes : bytes / threads * (t + 1);
      unsigned long sum = 0;
      for (std::size_t i = begin; i < end; i += 64) buffer[i] = static_cast<unsigned char>(i >> 6);
      for (std::size_t i = begin; i < end; i += 64) sum += buffer[i];
      sums[static_cast<std::size_t>(t)] = sum;
    });
  unsigned long total = 0;
  for (int t = 0; t < threads; ++t) {
    workers[static_cast<std::size_t>(t)].join();
    total += sums[static_cast<std::size_t>(t)];
  }
  std::printf("%lu\n", total);
  return 0;
}
