// A progress line on stderr for long runs: done/total, images per second and the time left,
// redrawn in place at most a few times a second. Drawn only when stderr is a terminal, so that
// logs and pipes get no control characters.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace examples {

class progress_bar {
 public:
  explicit progress_bar(long total) : total_(total), shown_(isatty(STDERR_FILENO) == 1) {}
  progress_bar(const progress_bar&) = delete;
  progress_bar& operator=(const progress_bar&) = delete;
  ~progress_bar() { clear(); }

  /// Erases the line, leaving the terminal as it was.
  void clear() {
    if (drawn_) std::fputs("\r\033[K", stderr);
    drawn_ = false;
  }

  void update(long done) {
    if (!shown_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && done < total_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    drawn_ = true;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? done / seconds : 0;
    const long left = rate > 0 ? static_cast<long>((total_ - done) / rate + 0.5) : 0;
    constexpr int width = 30;
    const int filled = total_ > 0 ? static_cast<int>(width * done / total_) : width;
    char bar[width + 1];
    for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    std::fprintf(stderr, "\r[%s] %ld/%ld  %.1f images/s  %ld:%02ld left\033[K", bar, done, total_, rate, left / 60,
                 left % 60);
    std::fflush(stderr);
  }

 private:
  long total_;
  bool shown_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_;
};

}  // namespace examples
