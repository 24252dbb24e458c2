// tick_probe: the machine's own late ticks, to set beside the mixer's (bench/soak.py runs both).
//
// One thread wakes on absolute 20 ms deadlines (clock_nanosleep TIMER_ABSTIME on CLOCK_MONOTONIC,
// as the media worker's timers do), optionally at SCHED_RR like `--media-realtime-priority`, does
// `--work-us` of arithmetic (a tick's own cost) and counts the wake-ups more than 10 ms late (the
// mixer's kLateFrameMargin). It does nothing else: what it sees late, no server on this machine can
// send on time, whatever its code does (a descheduled vCPU, an interrupt storm, memory reclaim).
//
// With `--sends N` it also sends N datagrams of an RTP G.711 packet's size (172 bytes) a tick over
// loopback, as the mixer's tick sends one per listener, to a socket of its own that it drains, and
// counts the ticks whose last send left more than 10 ms after the deadline ("late_sends", as the
// mixer counts late frames): that separates a slow kernel send path from a late wake-up. With
// `--cpu C` it runs on that CPU only (soak.py pins the media worker there too, so both see the same
// vCPU).
//
// Prints one JSON line a minute: {"minute", "ticks", "late", "max_late_ms", "late_sends",
// "max_tick_ms"}.
// Usage: tick_probe [--minutes M] [--realtime-priority P] [--work-us U] [--sends N] [--cpu C]
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

constexpr std::int64_t kTickNs = 20'000'000;
constexpr std::int64_t kLateNs = 10'000'000;  // mixer/audio/audio_room.hpp kLateFrameMargin
constexpr std::int64_t kTicksPerMinute = 60'000'000'000 / kTickNs;

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void sleep_until(std::int64_t deadline_ns) {
  timespec ts{static_cast<time_t>(deadline_ns / 1'000'000'000), static_cast<long>(deadline_ns % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// Arithmetic the compiler cannot drop, for about `microseconds`.
void spin_for(std::int64_t microseconds) {
  const std::int64_t until = now_ns() + microseconds * 1000;
  volatile std::uint64_t sink = 0;
  while (now_ns() < until)
    for (int i = 0; i < 256; ++i) sink = sink * 6364136223846793005ULL + 1;
}

struct Options {
  double minutes = 30;
  int realtime_priority = 0;
  std::int64_t work_us = 0;
  int sends = 0;
  int cpu = -1;
};

// A UDP socket bound to an ephemeral loopback port; -1 on failure.
int loopback_socket(sockaddr_in& bound) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  bound = sockaddr_in{};
  bound.sin_family = AF_INET;
  bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof bound;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&bound), sizeof bound) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `count` 172-byte datagrams from `from` to `to`, then reads back what arrived.
void send_burst(int from, int sink, const sockaddr_in& to, int count) {
  static char packet[172] = {};
  for (int i = 0; i < count; ++i)
    ::sendto(from, packet, sizeof packet, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  char buffer[2048];
  for (int i = 0; i < count && ::recv(sink, buffer, sizeof buffer, 0) > 0; ++i) {
  }
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--minutes") {
      options.minutes = std::strtod(argv[i + 1], nullptr);
    } else if (flag == "--realtime-priority") {
      options.realtime_priority = std::atoi(argv[i + 1]);
    } else if (flag == "--work-us") {
      options.work_us = std::strtoll(argv[i + 1], nullptr, 10);
    } else if (flag == "--sends") {
      options.sends = std::clamp(std::atoi(argv[i + 1]), 0, 10'000);
    } else if (flag == "--cpu") {
      options.cpu = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "tick_probe: unknown flag %s\n", argv[i]);
      std::exit(2);
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  if (options.realtime_priority > 0) {
    sched_param param{};
    param.sched_priority = options.realtime_priority;
    if (const int error = ::pthread_setschedparam(::pthread_self(), SCHED_RR, &param); error != 0) {
      std::fprintf(stderr, "tick_probe: SCHED_RR %d refused: %s\n", options.realtime_priority, std::strerror(error));
      return 1;
    }
  }
  if (options.cpu >= 0) {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(options.cpu, &cpus);
    if (const int error = ::pthread_setaffinity_np(::pthread_self(), sizeof cpus, &cpus); error != 0) {
      std::fprintf(stderr, "tick_probe: CPU %d refused: %s\n", options.cpu, std::strerror(error));
      return 1;
    }
  }
  sockaddr_in sink_address{};
  sockaddr_in sender_address{};
  const int sink = options.sends > 0 ? loopback_socket(sink_address) : -1;
  const int sender = options.sends > 0 ? loopback_socket(sender_address) : -1;
  if (options.sends > 0 && (sink < 0 || sender < 0)) {
    std::fprintf(stderr, "tick_probe: no loopback sockets: %s\n", std::strerror(errno));
    return 1;
  }
  const auto total_ticks = static_cast<std::int64_t>(options.minutes * static_cast<double>(kTicksPerMinute));
  std::int64_t deadline = now_ns() + kTickNs;
  std::int64_t late = 0;
  std::int64_t max_late_ns = 0;
  std::int64_t late_sends = 0;
  std::int64_t max_tick_ns = 0;
  for (std::int64_t tick = 1; tick <= total_ticks; ++tick) {
    sleep_until(deadline);
    const std::int64_t woke = now_ns();
    const std::int64_t lateness = woke - deadline;
    if (lateness > kLateNs) ++late;
    max_late_ns = std::max(max_late_ns, lateness);
    if (options.sends > 0) {
      send_burst(sender, sink, sink_address, options.sends);
      if (now_ns() - deadline > kLateNs) ++late_sends;
    }
    if (options.work_us > 0) spin_for(options.work_us);
    max_tick_ns = std::max(max_tick_ns, now_ns() - woke);
    deadline += kTickNs;
    // After a stall longer than 200 ms start afresh, as the mixer's tick does (kMaxTickBacklog).
    if (now_ns() - deadline > 200'000'000) deadline = now_ns() + kTickNs;
    if (tick % kTicksPerMinute == 0) {
      std::printf(
          "{\"minute\": %lld, \"ticks\": %lld, \"late\": %lld, \"max_late_ms\": %.1f, \"late_sends\": %lld, "
          "\"max_tick_ms\": %.1f}\n",
          static_cast<long long>(tick / kTicksPerMinute), static_cast<long long>(kTicksPerMinute),
          static_cast<long long>(late), static_cast<double>(max_late_ns) / 1e6, static_cast<long long>(late_sends),
          static_cast<double>(max_tick_ns) / 1e6);
      std::fflush(stdout);
      late = 0;
      max_late_ns = 0;
      late_sends = 0;
      max_tick_ns = 0;
    }
  }
  return 0;
}
