// What the transport layer counts: messages in, and every message or connection it drops, by reason
// (DESIGN §5: the data path counts what it drops and logs it rate-limited).
// Threading: control loop only, like the TransportLayer that owns it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/timer_queue.hpp"

namespace chorus::sip {

enum class DropReason : std::uint8_t {
  kPerIpCap,         // accept refused: max_connections_per_ip reached
  kGlobalCap,        // accept or connect refused: max_connections reached
  kIdle,             // stream connection closed after idle_timeout without traffic
  kWriteQueue,       // slow reader: more than max_write_queue_bytes queued
  kFraming,          // stream framing lost or message over the size limit; connection closed
  kConnectFailed,    // outgoing connection refused or timed out; its queued messages are lost
  kTlsHandshake,     // TLS handshake failed or timed out
  kUnroutable,       // response or request with no usable destination (hostname, bad Via)
  kSendFailed,       // socket refused the datagram / connection closed under the message
  kForeignResponse,  // response whose top Via is not ours (RFC 3261 §18.1.2)
  kNotSip,           // datagram that cannot be SIP (STUN keepalive, binary)
  // SIP over WebSocket (RFC 7118): refused upgrades and failed WebSocket connections.
  kWsNotHttp,           // bytes on a WS/WSS port that are not an HTTP request (or a header block over the limit)
  kWsNotUpgrade,        // HTTP without a WebSocket upgrade: answered 426
  kWsBadUpgrade,        // malformed upgrade (method, version, Host, key, body): answered 400 or 426
  kWsNoSipProtocol,     // Sec-WebSocket-Protocol does not list "sip" (RFC 7118 §4): answered 400
  kWsOriginRefused,     // Origin not in the allowed list (RFC 6454): answered 403
  kWsHandshakeTimeout,  // TLS, upgrade request and 101 not done within handshake_timeout
  kWsMessageTooBig,     // message or frame over ws_max_message_bytes: closed with 1009 (RFC 6455 §7.4.1)
  kWsProtocolError,     // bad framing, unmasked frame, invalid UTF-8 text (RFC 6455 §5, §8.1)
  kWsNoConnection,      // a send to a WS/WSS peer whose connection is gone: never opened outbound
  kCount
};

inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::kCount);

// Stable snake_case name, used in log lines and metric labels.
std::string_view drop_reason_name(DropReason reason);

struct TransportCounters {
  std::uint64_t datagrams_received = 0;
  std::uint64_t stream_messages_received = 0;
  std::uint64_t bad_messages = 0;  // handed to on_bad_message
  std::uint64_t keepalives = 0;    // CRLF keepalives seen (RFC 5626 §4.4.1)
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_opened = 0;  // outgoing
  std::uint64_t ws_upgrades = 0;         // WS/WSS connections that completed the upgrade with "sip"
  std::uint64_t ws_messages_received = 0;
  std::array<std::uint64_t, kDropReasonCount> drops{};

  [[nodiscard]] std::uint64_t dropped(DropReason reason) const { return drops[static_cast<std::size_t>(reason)]; }
};

// Counts a drop and writes at most one warn line per reason per second; the next line says how
// many were suppressed in between, so a flood costs one line a second and nothing is hidden.
class DropRecorder {
 public:
  explicit DropRecorder(TransportCounters& counters) : counters_(counters) {}

  void record(DropReason reason, std::string_view detail, std::string_view peer);

 private:
  TransportCounters& counters_;
  std::array<TimePoint, kDropReasonCount> last_logged_{};
  std::array<std::uint64_t, kDropReasonCount> suppressed_{};
};

}  // namespace chorus::sip
