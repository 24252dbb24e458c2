#include "server/sip_traffic_metrics.hpp"

#include <algorithm>

namespace chorus::server {
namespace {

// The methods the UA implements (RFC 3261, 3262, 3311, 6086): anything else is "OTHER", so a
// peer cannot grow the label set by inventing methods.
constexpr std::array<std::string_view, 10> kKnownMethods{"INVITE", "ACK",  "BYE",   "CANCEL", "OPTIONS",
                                                         "UPDATE", "INFO", "PRACK", "REFER",  "NOTIFY"};

std::string method_label(std::string_view method) {
  return std::ranges::find(kKnownMethods, method) != kKnownMethods.end() ? std::string(method) : "OTHER";
}

}  // namespace

rest::Counter* SipTrafficMetrics::counter_for(std::string_view family, std::string_view help, std::string_view label,
                                              std::string value, bool outgoing) {
  const std::string direction = outgoing ? "out" : "in";
  std::string key = std::string(family) + '|' + direction + '|' + value;
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  rest::Counter& counter =
      registry_->counter(family, help, {{"direction", direction}, {std::string(label), std::move(value)}});
  cache_.emplace(std::move(key), &counter);
  return &counter;
}

void SipTrafficMetrics::count(const sip::SipMessage& message, bool outgoing) {
  if (!registry_) return;
  if (message.is_request) {
    counter_for("chorus_sip_requests_total", "SIP requests by direction and method", "method",
                method_label(message.method), outgoing)
        ->inc();
  } else if (message.status >= 100 && message.status <= 699) {
    counter_for("chorus_sip_responses_total", "SIP responses by direction and status code", "code",
                std::to_string(message.status), outgoing)
        ->inc();
  }
}

bool CountingSender::send_request(const sip::SipMessage& request, const sip::PeerAddress& destination) {
  metrics_.count(request, true);
  return next_.send_request(request, destination);
}

bool CountingSender::send_response(const sip::SipMessage& response, const sip::PeerAddress& source) {
  metrics_.count(response, true);
  return next_.send_response(response, source);
}

}  // namespace chorus::server
