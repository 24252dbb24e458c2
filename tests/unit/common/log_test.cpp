// write_log from many threads at once: each line arrives whole and in its thread's order. Lines up to
// PIPE_BUF share the lock (one write(2) of at most PIPE_BUF octets is atomic on a pipe); a longer one
// holds it alone, so no short line lands inside it.
#include "common/log.hpp"

#include <gtest/gtest.h>
#include <limits.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace chorus {
namespace log_test {

// Runs `body` with stderr going to a pipe, and returns what was written to it.
template <typename Body>
std::string capture_stderr(Body body) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {};
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(pipe_fds[1], STDERR_FILENO);
  ::close(pipe_fds[1]);
  std::string captured;
  std::thread reader([&] {
    char buffer[65536];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) captured.append(buffer, n);
  });
  body();
  ::dup2(saved, STDERR_FILENO);  // the pipe's last writer goes: the reader sees its end
  ::close(saved);
  reader.join();
  ::close(pipe_fds[0]);
  return captured;
}

TEST(Log, LinesFromManyThreadsArriveWhole) {
  constexpr int kThreads = 8;
  constexpr int kLinesEach = 500;
  const std::string long_value(PIPE_BUF, 'x');  // over PIPE_BUF with the rest of the line
  const std::string captured = capture_stderr([&] {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kLinesEach; ++i) {
          if (i % 50 == 0)
            CHORUS_LOG(kWarn, "test", "long", {"thread", t}, {"line", i}, {"value", long_value});
          else
            CHORUS_LOG(kWarn, "test", "short", {"thread", t}, {"line", i}, {"value", "abcdefghijklmnopqrstuvwxyz"});
        }
      });
    for (auto& thread : threads) thread.join();
  });
  std::istringstream lines(captured);
  std::vector<int> next_line(kThreads, 0);
  int total = 0;
  for (std::string line; std::getline(lines, line);) {
    ++total;
    ASSERT_TRUE(line.starts_with("ts=")) << "a line was cut: " << line.substr(0, 80);
    const bool is_long = line.find("msg=long") != std::string::npos;
    ASSERT_TRUE(line.ends_with(is_long ? long_value : std::string("abcdefghijklmnopqrstuvwxyz")))
        << "a line was cut or mixed: " << line.substr(0, 80);
    const auto thread_at = line.find(" thread=");
    ASSERT_NE(thread_at, std::string::npos);
    const int thread = std::stoi(line.substr(thread_at + 8));
    const int number = std::stoi(line.substr(line.find(" line=") + 6));
    EXPECT_EQ(number, next_line[thread]++) << "thread " << thread << "'s lines out of order";
  }
  EXPECT_EQ(total, kThreads * kLinesEach);
}

}  // namespace log_test
}  // namespace chorus
