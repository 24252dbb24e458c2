#include "signaling/transport/transport_counters.hpp"

#include <chrono>

#include "common/log.hpp"

namespace chorus::sip {

namespace {
constexpr auto kLogInterval = std::chrono::seconds(1);
}

std::string_view drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::kPerIpCap:
      return "per_ip_cap";
    case DropReason::kGlobalCap:
      return "global_cap";
    case DropReason::kIdle:
      return "idle_timeout";
    case DropReason::kWriteQueue:
      return "write_queue_full";
    case DropReason::kFraming:
      return "framing_error";
    case DropReason::kConnectFailed:
      return "connect_failed";
    case DropReason::kTlsHandshake:
      return "tls_handshake_failed";
    case DropReason::kUnroutable:
      return "unroutable";
    case DropReason::kSendFailed:
      return "send_failed";
    case DropReason::kForeignResponse:
      return "foreign_response";
    case DropReason::kNotSip:
      return "not_sip";
    case DropReason::kWsNotHttp:
      return "ws_not_http";
    case DropReason::kWsNotUpgrade:
      return "ws_not_upgrade";
    case DropReason::kWsBadUpgrade:
      return "ws_bad_upgrade";
    case DropReason::kWsNoSipProtocol:
      return "ws_no_sip_subprotocol";
    case DropReason::kWsOriginRefused:
      return "ws_origin_refused";
    case DropReason::kWsHandshakeTimeout:
      return "ws_handshake_timeout";
    case DropReason::kWsMessageTooBig:
      return "ws_message_too_big";
    case DropReason::kWsProtocolError:
      return "ws_protocol_error";
    case DropReason::kWsNoConnection:
      return "ws_no_connection";
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

void DropRecorder::record(DropReason reason, std::string_view detail, std::string_view peer) {
  const auto index = static_cast<std::size_t>(reason);
  ++counters_.drops[index];
  const TimePoint now = SteadyClock::now();
  if (last_logged_[index] != TimePoint{} && now - last_logged_[index] < kLogInterval) {
    ++suppressed_[index];
    return;
  }
  last_logged_[index] = now;
  CHORUS_LOG(kWarn, "transport", "dropped", {"reason", drop_reason_name(reason)}, {"detail", detail}, {"peer", peer},
             {"suppressed", suppressed_[index]}, {"total", counters_.drops[index]});
  suppressed_[index] = 0;
}

}  // namespace chorus::sip
