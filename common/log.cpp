#include "common/log.hpp"

#include "common/log_counters.hpp"

#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/priority_inheritance_mutex.hpp"

namespace chorus {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::shared_mutex g_write_mutex;  // shared: a line of at most PIPE_BUF; exclusive: a longer one

// One write(2) a line. Up to PIPE_BUF octets it is atomic on a pipe (pipe(7)), and Linux updates a
// regular file's position under its own lock since 3.14 (write(2), BUGS): such lines never
// interleave with each other, so their writers share the lock and never wait for one another (a
// media worker at SCHED_RR waited on a plain mutex while the control loop held it across its
// write). A longer line is written alone, under the exclusive lock.
void write_line(std::string_view line) {
  if (line.size() <= PIPE_BUF) {
    const std::shared_lock lock(g_write_mutex);
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
    return;
  }
  const std::unique_lock lock(g_write_mutex);
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

thread_local bool t_deferred = false;
// Lines of real-time threads the queue had no room for (log_counters.hpp publishes it).
std::atomic<std::uint64_t> g_deferred_lines_dropped{0};

// The lines of threads that must not block (defer_this_thread_logs), written by one ordinary
// thread. Bounded: past kMaxDeferredLines a line is dropped and counted, and the writer says how
// many it lost before its next line. The queue's lock inherits priority and is held only to push
// or swap; the wake-up is a semaphore release (an atomic). Never destroyed (a worker may log while
// the process exits), its thread detached.
class DeferredLines {
 public:
  static constexpr std::size_t kMaxDeferredLines = 4096;

  static DeferredLines& instance() {
    static auto* lines = [] {
      auto* made = new DeferredLines();
      g_made.store(made, std::memory_order_release);
      return made;
    }();
    return *lines;
  }
  // Null until a thread deferred a line (or asked for the count): flushing then has nothing to wait
  // for and must not start the writer thread.
  static DeferredLines* existing() { return g_made.load(std::memory_order_acquire); }

  void push(std::string line) {
    {
      const std::lock_guard lock(mutex_);
      if (outstanding_ >= kMaxDeferredLines) {  // queued, or taken by the writer and not yet written
        g_deferred_lines_dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      queued_.push_back(std::move(line));
      ++outstanding_;
    }
    ready_.release();
  }

  // Waits (at most 2 s: the disk may be stuck) until every line pushed so far is written.
  void flush() {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < until) {
      {
        const std::lock_guard lock(mutex_);
        if (outstanding_ == 0) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

 private:
  DeferredLines() {
    std::thread([this] { run(); }).detach();
  }

  void run() {
    ::pthread_setname_np(::pthread_self(), "chorus-log");
    std::vector<std::string> writing;
    std::uint64_t dropped_told = 0;
    for (;;) {
      ready_.acquire();
      {
        const std::lock_guard lock(mutex_);
        writing.swap(queued_);
      }
      if (const std::uint64_t dropped = g_deferred_lines_dropped.load(std::memory_order_relaxed);
          dropped != dropped_told) {
        write_log(LogLevel::kWarn, "log", "log lines of real-time threads dropped: queue full",
                  {{"dropped", dropped - dropped_told}});
        dropped_told = dropped;
      }
      for (const std::string& line : writing) write_line(line);
      const std::lock_guard lock(mutex_);
      outstanding_ -= writing.size();
      writing.clear();
    }
  }

  PriorityInheritanceMutex mutex_;
  std::vector<std::string> queued_;  // under mutex_
  std::size_t outstanding_ = 0;      // pushed and not yet written, under mutex_
  std::counting_semaphore<> ready_{0};

  static inline std::atomic<DeferredLines*> g_made{nullptr};
};

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

void append_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "trace") return LogLevel::kTrace;
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn" || text == "warning") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  if (text == "off") return LogLevel::kOff;
  return std::nullopt;
}

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "info";
}

void set_log_level(LogLevel level) {
  g_level.store(static_cast<int>(level));
}

bool log_enabled(LogLevel level) {
  return level != LogLevel::kOff && static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void write_log(LogLevel level, std::string_view component, std::string_view message,
               std::initializer_list<LogField> fields) {
  write_log(level, component, message, std::span<const LogField>(fields.begin(), fields.size()));
}

void write_log(LogLevel level, std::string_view component, std::string_view message, std::span<const LogField> fields) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t secs = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[40];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));

  std::string line;
  line.reserve(128);
  line += "ts=";
  line += stamp;
  line += " level=";
  line += log_level_name(level);
  line += " comp=";
  line += component;
  line += " msg=";
  append_value(line, message);
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    append_value(line, f.value);
  }
  line += '\n';
  if (t_deferred) {
    DeferredLines::instance().push(std::move(line));
    return;
  }
  write_line(line);
}

void defer_this_thread_logs() {
  t_deferred = true;
}

void flush_deferred_logs() {
  if (DeferredLines* lines = DeferredLines::existing()) lines->flush();
}

std::uint64_t deferred_log_lines_dropped() {
  return g_deferred_lines_dropped.load(std::memory_order_relaxed);
}

PublishedCounter deferred_log_lines_dropped_counter() {
  return {"chorus_log_deferred_lines_dropped_total",
          "log lines of real-time threads (media workers) dropped because the log writer's queue was full",
          "log_lines_dropped", &g_deferred_lines_dropped};
}

}  // namespace chorus
