// SipTrafficMetrics: SIP requests and responses by method and status code, in and out, for
// /metrics (`chorus_sip_requests_total{direction,method}`, `chorus_sip_responses_total{direction,code}`).
// Outgoing messages are counted by CountingSender, a MessageSender that forwards to the transport;
// incoming ones by whoever relays the transport's messages (ChorusServer::TransportRelay).
// Method labels are bounded: the methods we implement, else "OTHER"; codes are 100..699.
// Threading: control loop (the registry's counters are atomic; lookups are cached here).
#pragma once

#include <array>
#include <string_view>
#include <unordered_map>

#include "rest-api/metrics.hpp"
#include "signaling/message/sip_message.hpp"
#include "signaling/transport/message_sink.hpp"

namespace chorus::server {

class SipTrafficMetrics {
 public:
  // Until attached, nothing is counted (the registry comes with the REST host, after the SIP stack).
  void attach(rest::MetricsRegistry& registry) { registry_ = &registry; }
  void count(const sip::SipMessage& message, bool outgoing);

 private:
  rest::Counter* counter_for(std::string_view family, std::string_view help, std::string_view label, std::string value,
                             bool outgoing);
  rest::MetricsRegistry* registry_ = nullptr;
  std::unordered_map<std::string, rest::Counter*> cache_;
};

class CountingSender final : public sip::MessageSender {
 public:
  CountingSender(sip::MessageSender& next, SipTrafficMetrics& metrics) : next_(next), metrics_(metrics) {}
  bool send_request(const sip::SipMessage& request, const sip::PeerAddress& destination) override;
  bool send_response(const sip::SipMessage& response, const sip::PeerAddress& source) override;
  [[nodiscard]] std::string via_sent_by(sip::TransportKind kind) const override { return next_.via_sent_by(kind); }

 private:
  sip::MessageSender& next_;
  SipTrafficMetrics& metrics_;
};

}  // namespace chorus::server
