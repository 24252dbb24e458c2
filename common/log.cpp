#include "common/log.hpp"

#include <limits.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <shared_mutex>

namespace chorus {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::shared_mutex g_write_mutex;  // shared: a line of at most PIPE_BUF; exclusive: a longer one

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
  // One write(2) a line. Up to PIPE_BUF octets it is atomic on a pipe (pipe(7)), and Linux updates a
  // regular file's position under its own lock since 3.14 (write(2), BUGS): such lines never
  // interleave with each other, so their writers share the lock and never wait for one another (a
  // media worker at SCHED_RR waited on a plain mutex while the control loop held it across its
  // write). A longer line is written alone, under the exclusive lock.
  if (line.size() <= PIPE_BUF) {
    std::shared_lock lock(g_write_mutex);
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
    return;
  }
  std::unique_lock lock(g_write_mutex);
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace chorus
