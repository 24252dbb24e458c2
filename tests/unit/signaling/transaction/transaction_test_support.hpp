// Test doubles for the transaction layer: a sender that records what would go on the wire, an
// owner that records terminations, and a TU that records what it is told. Messages are built by
// parsing literal wire text with parse_message, the path real traffic takes.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/timer_queue.hpp"
#include "signaling/message/message_parser.hpp"
#include "signaling/message/sip_message.hpp"
#include "signaling/transaction/transaction.hpp"
#include "signaling/transaction/transaction_layer.hpp"
#include "signaling/transport/message_sink.hpp"

namespace chorus::sip::test {

// Wire text written with "\n" line ends in the tests (or already CRLF); SIP wants CRLF.
inline SipMessage parse(std::string_view text) {
  std::string wire;
  for (char c : text) {
    if (c == '\n' && (wire.empty() || wire.back() != '\r')) wire.push_back('\r');
    wire.push_back(c);
  }
  auto parsed = parse_message(wire);
  if (!parsed) {
    ADD_FAILURE() << "test message does not parse: " << parsed.error().reason << "\n" << text;
    return SipMessage{};
  }
  return std::move(*parsed);
}

// Round-trips a message through its wire form, as the peer would see it.
inline SipMessage on_the_wire(const SipMessage& message) {
  return parse(message.serialize());
}

inline PeerAddress udp_peer(std::string_view ip = "198.51.100.7", std::uint16_t port = 5060) {
  return PeerAddress{TransportKind::kUdp, boost::asio::ip::make_address(std::string(ip)), port, 0};
}

inline PeerAddress tcp_peer(ConnectionId connection = 7, std::string_view ip = "198.51.100.7",
                            std::uint16_t port = 40123) {
  return PeerAddress{TransportKind::kTcp, boost::asio::ip::make_address(std::string(ip)), port, connection};
}

class FakeSender final : public MessageSender {
 public:
  struct Sent {
    SipMessage message;
    PeerAddress peer;
  };

  bool send_request(const SipMessage& request, const PeerAddress& destination) override {
    if (fail) return false;
    sent.push_back(Sent{request, destination});
    return true;
  }
  bool send_response(const SipMessage& response, const PeerAddress& source) override {
    if (fail) return false;
    sent.push_back(Sent{response, source});
    return true;
  }
  [[nodiscard]] std::string via_sent_by(TransportKind /*kind*/) const override { return "192.0.2.1:5060"; }

  [[nodiscard]] std::size_t count() const { return sent.size(); }
  [[nodiscard]] const SipMessage& last() const { return sent.back().message; }
  // The last message as the peer parses it.
  [[nodiscard]] SipMessage last_on_wire() const { return on_the_wire(sent.back().message); }

  std::vector<Sent> sent;
  bool fail = false;
};

class FakeOwner final : public TransactionOwner {
 public:
  void on_terminated(ServerTransaction& /*transaction*/, bool was_timed_out) override {
    ++server_terminations;
    timed_out = was_timed_out;
  }
  void on_terminated(ClientTransaction& /*transaction*/) override { ++client_terminations; }

  int server_terminations = 0;
  int client_terminations = 0;
  bool timed_out = false;
};

class FakeUser final : public TransactionUser {
 public:
  struct Request {
    TransactionId id;
    SipMessage message;
    PeerAddress source;
  };

  void on_request(TransactionId id, const SipMessage& request, const PeerAddress& source) override {
    requests.push_back(Request{id, request, source});
    if (answer_at_once) answer_at_once(id, request);
  }
  void on_ack(const SipMessage& ack, const PeerAddress& /*source*/) override { acks.push_back(ack); }
  void on_invite_retransmitted(TransactionId id, const SipMessage& /*invite*/, const PeerAddress& /*source*/) override {
    retransmitted_invites.push_back(id);
  }
  void on_cancel(TransactionId invite, const SipMessage& /*cancel*/) override { cancels.push_back(invite); }
  void on_server_transaction_ended(TransactionId id, bool timed_out) override { ended.emplace_back(id, timed_out); }
  void on_stray_response(const SipMessage& response, const PeerAddress& /*source*/) override {
    strays.push_back(response);
  }

  // When set, the TU answers from inside on_request.
  std::function<void(TransactionId, const SipMessage&)> answer_at_once;
  std::vector<Request> requests;
  std::vector<SipMessage> acks;
  std::vector<TransactionId> cancels;
  std::vector<TransactionId> retransmitted_invites;  // INVITE retransmissions after our 2xx (RFC 6026)
  std::vector<std::pair<TransactionId, bool>> ended;
  std::vector<SipMessage> strays;
};

// A TransactionContext over fakes, for driving one transaction class directly.
struct TransactionHarness {
  ManualTimerQueue timers;
  FakeSender sender;
  FakeOwner owner;
  TimerConfig config;
  TransactionContext context{timers, sender, config, owner};
};

// Records each response a client transaction reports.
struct ResponseLog {
  std::vector<SipMessage> responses;
  ResponseCallback callback() {
    return [this](const SipMessage& response) { responses.push_back(response); };
  }
  [[nodiscard]] std::vector<int> statuses() const {
    std::vector<int> out;
    for (const auto& response : responses) out.push_back(response.status);
    return out;
  }
};

}  // namespace chorus::sip::test
