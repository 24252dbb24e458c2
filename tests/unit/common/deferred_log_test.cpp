// defer_this_thread_logs: a thread that must not block (a media worker at SCHED_RR) hands its lines
// to the log thread. Shown against stderr as a full pipe nobody reads yet: a plain write(2) blocks
// there for as long as the reader stays away.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include "common/log.hpp"
#include "common/log_counters.hpp"

namespace chorus {
namespace deferred_log_test {

// stderr on a full pipe until drain(); finish() puts stderr back and returns what went through.
class StuckStderr {
 public:
  StuckStderr() {
    if (::pipe(fds_) != 0) throw std::runtime_error("pipe");
    saved_ = ::dup(STDERR_FILENO);
    ::fcntl(fds_[1], F_SETFL, O_NONBLOCK);
    const std::string filler(4096, '.');
    while (::write(fds_[1], filler.data(), filler.size()) > 0) {
    }
    while (::write(fds_[1], filler.data(), 1) > 0) {  // the last bytes a page-sized write left free
    }
    ::fcntl(fds_[1], F_SETFL, 0);  // blocking again: the next write(2) waits for a reader
    ::dup2(fds_[1], STDERR_FILENO);
    ::close(fds_[1]);
  }
  StuckStderr(const StuckStderr&) = delete;
  StuckStderr& operator=(const StuckStderr&) = delete;
  ~StuckStderr() { finish(); }

  void drain() {
    if (reader_.joinable()) return;
    reader_ = std::thread([this] {
      char buffer[65536];
      for (ssize_t n; (n = ::read(fds_[0], buffer, sizeof buffer)) > 0;) read_.append(buffer, n);
    });
  }

  std::string finish() {
    if (saved_ < 0) return read_;
    drain();
    ::dup2(saved_, STDERR_FILENO);  // the pipe's last writer goes: the reader sees its end
    ::close(saved_);
    saved_ = -1;
    reader_.join();
    ::close(fds_[0]);
    return read_;
  }

 private:
  int fds_[2] = {-1, -1};
  int saved_ = -1;
  std::thread reader_;
  std::string read_;
};

constexpr auto kBound = std::chrono::seconds(10);  // a safety bound: each step takes microseconds

// Runs `body` on a new thread that defers its logs; true when it returned within kBound. Drains the
// pipe afterwards either way, so a body that did block finishes too.
template <typename Body>
bool returns_while_stderr_is_stuck(StuckStderr& stderr_pipe, Body body) {
  auto logged = std::async(std::launch::async, [&body] {
    defer_this_thread_logs();
    body();
  });
  const bool returned = logged.wait_for(kBound) == std::future_status::ready;
  stderr_pipe.drain();
  logged.wait();
  return returned;
}

TEST(DeferredLog, AThreadThatDefersNeverWaitsForAStuckStderrAndItsLinesArriveLater) {
  StuckStderr stderr_pipe;
  const bool returned = returns_while_stderr_is_stuck(stderr_pipe, [] {
    for (int i = 0; i < 10; ++i) CHORUS_LOG(kWarn, "test", "deferred line", {"n", i});
  });
  flush_deferred_logs();
  const std::string written = stderr_pipe.finish();
  EXPECT_TRUE(returned) << "logging blocked on stderr";
  for (int i = 0; i < 10; ++i)
    EXPECT_NE(written.find("msg=\"deferred line\" n=" + std::to_string(i) + "\n"), std::string::npos) << i;
}

TEST(DeferredLog, LinesPastTheQueueAreDroppedCountedAndReported) {
  const std::uint64_t dropped_before = deferred_log_lines_dropped();
  StuckStderr stderr_pipe;
  constexpr int kLines = 5000;  // more than the queue holds while the log thread is stuck in write(2)
  const bool returned = returns_while_stderr_is_stuck(stderr_pipe, [] {
    for (int i = 0; i < kLines; ++i) CHORUS_LOG(kWarn, "test", "flood", {"n", i});
  });
  flush_deferred_logs();
  const std::string written = stderr_pipe.finish();
  EXPECT_TRUE(returned) << "logging blocked on stderr";
  const std::uint64_t dropped = deferred_log_lines_dropped() - dropped_before;
  EXPECT_GE(dropped, 1U);
  EXPECT_LT(dropped, static_cast<std::uint64_t>(kLines));
  // The same count is what /metrics shows (the server publishes this counter).
  const PublishedCounter published = deferred_log_lines_dropped_counter();
  EXPECT_EQ(published.metric, "chorus_log_deferred_lines_dropped_total");
  EXPECT_EQ(published.value->load(), deferred_log_lines_dropped());
  EXPECT_NE(written.find("log lines of real-time threads dropped: queue full\" dropped="), std::string::npos);
  EXPECT_NE(written.find("msg=flood n=0\n"), std::string::npos) << "the first lines were kept";
}

}  // namespace deferred_log_test
}  // namespace chorus
