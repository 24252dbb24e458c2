// DSCP marking of what Chorus sends (issue 15, QoS): SIP, audio and video each get a class so a
// network that honours DiffServ queues them apart (RFC 2474 §3: the code point is the upper six
// bits of the IPv4 TOS octet / IPv6 Traffic Class; the lower two are ECN, RFC 3168 §5, left 0).
// The defaults follow RFC 4594 (§4.2 Signaling CS3, §4.3 Telephony EF, §4.4 Multimedia
// Conferencing AF41) as RFC 8837 §5 does for WebRTC.
//
// A socket is marked once (IP_TOS; IPV6_TCLASS and IP_TOS on an IPv6 socket, whose IPv4-mapped
// peers take the IPv4 option); a datagram that needs another class than its socket's carries the
// class in its own ancillary data (media/transport/media_component.cpp). A mark the kernel refuses
// (EPERM from a seccomp or SELinux policy, a platform without the option) is never fatal: the
// traffic goes out unmarked, DscpFailures counts it and logs the first.
// Threading: the functions are plain system calls; DscpFailures may be used from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/published_counter.hpp"

namespace chorus {

inline constexpr std::uint8_t kDscpCs3 = 24;   // RFC 4594 §4.2: signaling
inline constexpr std::uint8_t kDscpAf41 = 34;  // RFC 4594 §4.4: interactive video
inline constexpr std::uint8_t kDscpEf = 46;    // RFC 3246, RFC 4594 §4.3: telephony
inline constexpr std::uint8_t kDscpMax = 63;   // six bits

// The TOS / Traffic Class octet carrying `dscp`, ECN bits zero.
constexpr int traffic_class_octet(std::uint8_t dscp) {
  return (dscp & kDscpMax) << 2;
}

// The address family `fd` is bound in (AF_INET, AF_INET6), AF_UNSPEC (0) when getsockname fails.
int socket_family(int fd) noexcept;

// Marks everything `fd` (a UDP or TCP socket, IPv4 or IPv6) sends with `dscp`; 0, or the errno of
// the option the kernel refused. `family` (AF_INET, AF_INET6) when the caller knows it; 0: asked of
// the kernel (getsockname).
int set_socket_dscp(int fd, std::uint8_t dscp, int family = 0) noexcept;

// The code point `fd` marks its packets with (IPv6 sockets: their Traffic Class), nullopt when the
// kernel does not say.
std::optional<std::uint8_t> socket_dscp(int fd) noexcept;

// Refused marks of the whole process, shared by signaling and media (the server owns it).
class DscpFailures {
 public:
  // Counts a refused mark; the first one is logged (warn), the rest only counted.
  void record(int error, std::string_view traffic);
  [[nodiscard]] std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::array<PublishedCounter, 1> published() const {
    return {PublishedCounter{"chorus_dscp_mark_failures_total",
                             "sockets or datagrams the kernel would not mark with their DSCP (sent unmarked)",
                             "dscp_mark_failures", &count_}};
  }

 private:
  std::atomic<std::uint64_t> count_{0};
  std::atomic<bool> logged_{false};
};

// set_socket_dscp, a refusal recorded in `failures` (may be null); true when the mark is set.
bool mark_socket(int fd, std::uint8_t dscp, DscpFailures* failures, std::string_view traffic, int family = 0);

// How a module marks its sockets, as it travels in a config object: the code point (nullopt: leave
// the kernel's default, 0) and where refusals are counted (null: nowhere). `failures` belongs to
// the server and outlives every socket.
struct SocketMarking {
  std::optional<std::uint8_t> dscp;
  DscpFailures* failures = nullptr;

  // Marks `fd` when a code point is set; false only when the kernel refused it (recorded). `family`
  // as set_socket_dscp takes it.
  bool apply(int fd, std::string_view traffic, int family = 0) const {
    return !dscp || mark_socket(fd, *dscp, failures, traffic, family);
  }
};

}  // namespace chorus
