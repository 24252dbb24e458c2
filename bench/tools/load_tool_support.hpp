// What the load generators in bench/tools (srtp_load, mixer_load) share: the monotonic clock they
// pace on, absolute-deadline sleeps, their own CPU time, the kernel's drop count of a socket, and
// the parsing of numeric and HOST:PORT options.
// Threading: plain functions.
#pragma once

#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chorus::bench {

inline std::uint64_t to_ns(const timespec& ts) {
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

inline std::uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return to_ns(ts);
}

// Pacing runs on the monotonic clock.
inline std::uint64_t now_ns() {
  return clock_ns(CLOCK_MONOTONIC);
}

// Sleeps until `until_ns` on the monotonic clock, resuming after signals (at most 100 times).
inline void sleep_until(std::uint64_t until_ns) {
  const timespec deadline{static_cast<time_t>(until_ns / 1'000'000'000u), static_cast<long>(until_ns % 1'000'000'000u)};
  for (int i = 0; i < 100 && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR; ++i) {
  }
}

// User + system CPU seconds this process has used.
inline double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// The kernel's count of datagrams dropped on the socket (a full receive buffer): SK_MEMINFO_DROPS.
inline std::uint64_t socket_drops(int fd) {
  std::array<std::uint32_t, SK_MEMINFO_VARS> info{};
  socklen_t length = sizeof(info);
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info.data(), &length) != 0 || length < sizeof(info)) return 0;
  return info[SK_MEMINFO_DROPS];
}

// The whole of `text` as a number of type T; false (out unspecified) otherwise.
template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

// "IPv4:PORT" (port 1..65535), or nullopt.
inline std::optional<sockaddr_in> parse_address(std::string_view text) {
  const auto colon = text.rfind(':');
  std::uint16_t port = 0;
  if (colon == std::string_view::npos || !parse_number(text.substr(colon + 1), port) || port == 0) return std::nullopt;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  const std::string host(text.substr(0, colon));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) return std::nullopt;
  return address;
}

}  // namespace chorus::bench
