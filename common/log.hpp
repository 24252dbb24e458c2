// Structured logging in logfmt (`ts=... level=info comp=sip msg="..." call_id=... room=...`), one
// line per event on stderr, so operators can grep by call-id or room and tools can parse it.
// Threading: safe from any thread (a line is one write(2); lines up to PIPE_BUF share a lock and never
// wait for each other, a longer one excludes them). A thread that must never block on the disk or a
// full pipe — a media worker at SCHED_RR, whose 20 ms tick a write(2) stuck behind the journal or the
// control loop's own write would make late (issue 12) — calls defer_this_thread_logs(): its lines
// go through a bounded queue to a writer thread ("chorus-log"), and are dropped and counted when the
// queue is full.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace chorus {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

std::optional<LogLevel> parse_log_level(std::string_view text);
std::string_view log_level_name(LogLevel level);

void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);

struct LogField {
  std::string_view key;
  std::string value;
  LogField(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename Int>
    requires std::is_integral_v<Int>
  LogField(std::string_view k, Int v) : key(k), value(std::to_string(v)) {}
};

void write_log(LogLevel level, std::string_view component, std::string_view message,
               std::initializer_list<LogField> fields = {});
// The same with fields made at run time (e.g. a status line over counters modules publish).
void write_log(LogLevel level, std::string_view component, std::string_view message, std::span<const LogField> fields);

// From now on the calling thread's lines are written by the log thread, never by this one.
void defer_this_thread_logs();
// Waits (at most 2 s) until the deferred lines pushed so far are written: before the process exits
// and in tests.
void flush_deferred_logs();
// Deferred lines dropped because the queue was full (the log thread also logs each drop).
std::uint64_t deferred_log_lines_dropped();

}  // namespace chorus

// Arguments after the message are LogField initialisers: CHORUS_LOG(kInfo, "sip", "call answered",
// {"call_id", id}, {"room", room}). Fields are not evaluated when the level is off.
#define CHORUS_LOG(level, component, message, ...)                                       \
  do {                                                                                   \
    if (::chorus::log_enabled(::chorus::LogLevel::level))                                \
      ::chorus::write_log(::chorus::LogLevel::level, component, message, {__VA_ARGS__}); \
  } while (0)
