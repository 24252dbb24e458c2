// Test doubles for the UA core: the real TransactionLayer and UserAgent over a sender that records
// what would go on the wire (each message parsed back, as the peer reads it), a ManualTimerQueue,
// and a CallListener that records what it is told and answers as the test says. Requests come
// from literal wire text through parse_message and TransactionLayer::on_message, the path real
// traffic takes.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/timer_queue.hpp"
#include "signaling/message/message_parser.hpp"
#include "signaling/message/sip_message.hpp"
#include "signaling/transaction/transaction_layer.hpp"
#include "signaling/transport/message_sink.hpp"
#include "signaling/ua/call_listener.hpp"
#include "signaling/ua/user_agent.hpp"

namespace chorus::sip::uatest {

// Wire text written with "\n" line ends; SIP wants CRLF. Bodies given with "\r\n" stay as they are.
inline std::string crlf(std::string_view text) {
  std::string wire;
  wire.reserve(text.size() + 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) wire.push_back('\r');
    wire.push_back(text[i]);
  }
  return wire;
}

inline SipMessage parse(std::string_view text) {
  auto parsed = parse_message(crlf(text));
  if (!parsed) {
    ADD_FAILURE() << "message does not parse: " << parsed.error().reason << "\n" << text;
    return SipMessage{};
  }
  return std::move(*parsed);
}

inline PeerAddress udp_peer(std::string_view ip = "198.51.100.7", std::uint16_t port = 5060) {
  return PeerAddress{TransportKind::kUdp, boost::asio::ip::make_address(std::string(ip)), port, 0};
}

inline PeerAddress tcp_peer(ConnectionId connection = 7, std::string_view ip = "198.51.100.7",
                            std::uint16_t port = 40123) {
  return PeerAddress{TransportKind::kTcp, boost::asio::ip::make_address(std::string(ip)), port, connection};
}

// An offer from the caller: one audio stream, PCMU and PCMA, telephone-event.
inline constexpr std::string_view kCallerOffer =
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=sendrecv\r\n";

// The caller puts us on hold (RFC 3264 §8.4).
inline constexpr std::string_view kCallerHoldOffer =
    "v=0\r\n"
    "o=alice 2890844526 2890844527 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=sendonly\r\n";

// What the fake listener answers with; tests only check it arrives unchanged.
inline constexpr std::string_view kListenerAnswer =
    "v=0\r\n"
    "o=chorus 1 1 IN IP4 127.0.0.1\r\n"
    "s=Chorus\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 40000 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

inline constexpr std::string_view kListenerOffer =
    "v=0\r\n"
    "o=chorus 2 1 IN IP4 127.0.0.1\r\n"
    "s=Chorus\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 40002 RTP/AVP 0 8\r\n";

inline constexpr std::string_view kListenerReAnswer =
    "v=0\r\n"
    "o=chorus 1 2 IN IP4 127.0.0.1\r\n"
    "s=Chorus\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 40000 RTP/AVP 0\r\n"
    "a=recvonly\r\n";

// One request from the caller Alice (198.51.100.7) to room 1000, described field by field.
struct RequestSpec {
  std::string method = "INVITE";
  std::string uri = "sip:1000@127.0.0.1";
  std::string transport = "UDP";
  std::string branch;  // empty: a fresh one
  std::string call_id = "call-1@198.51.100.7";
  std::string from_tag = "alice-tag";
  std::string to_tag;
  std::uint32_t cseq = 1;
  std::string cseq_method;           // empty: the method
  std::string contact;               // INVITE, UPDATE, OPTIONS; empty: sip:alice@198.51.100.7:5060
  std::vector<std::string> headers;  // extra lines, e.g. "Supported: timer"
  std::string content_type;          // empty: none
  std::string body;
};

inline std::string request_text(const RequestSpec& spec) {
  static int branch_counter = 0;
  const std::string branch = spec.branch.empty() ? "z9hG4bKalice" + std::to_string(++branch_counter) : spec.branch;
  std::string text = spec.method + " " + spec.uri + " SIP/2.0\r\n";
  text += "Via: SIP/2.0/" + spec.transport + " 198.51.100.7:5060;branch=" + branch + "\r\n";
  text += "Max-Forwards: 70\r\n";
  text += "From: \"Alice\" <sip:alice@example.com>;tag=" + spec.from_tag + "\r\n";
  text += "To: <sip:1000@127.0.0.1>" + (spec.to_tag.empty() ? "" : ";tag=" + spec.to_tag) + "\r\n";
  text += "Call-ID: " + spec.call_id + "\r\n";
  text +=
      "CSeq: " + std::to_string(spec.cseq) + " " + (spec.cseq_method.empty() ? spec.method : spec.cseq_method) + "\r\n";
  if (spec.method == "INVITE" || spec.method == "UPDATE" || spec.method == "OPTIONS")
    text += "Contact: <" +
            (spec.contact.empty() ? "sip:alice@198.51.100.7:5060" +
                                        std::string(spec.transport == "UDP" ? "" : ";transport=" + spec.transport)
                                  : spec.contact) +
            ">\r\n";
  for (const auto& h : spec.headers) text += h + "\r\n";
  if (!spec.content_type.empty()) text += "Content-Type: " + spec.content_type + "\r\n";
  text += "Content-Length: " + std::to_string(spec.body.size()) + "\r\n\r\n";
  text += spec.body;
  return text;
}

class RecordingSender final : public MessageSender {
 public:
  struct Sent {
    SipMessage message;  // parsed back from its wire form
    PeerAddress peer;
  };

  bool send_request(const SipMessage& request, const PeerAddress& destination) override {
    sent.push_back(Sent{parse(request.serialize()), destination});
    return true;
  }
  bool send_response(const SipMessage& response, const PeerAddress& source) override {
    sent.push_back(Sent{parse(response.serialize()), source});
    return true;
  }
  [[nodiscard]] std::string via_sent_by(TransportKind /*kind*/) const override { return "127.0.0.1:5060"; }

  // Responses with `status` (0: any) to requests of `method` (empty: any), in the order sent.
  [[nodiscard]] std::vector<SipMessage> responses(int status = 0, std::string_view method = {}) const {
    std::vector<SipMessage> out;
    for (const auto& s : sent)
      if (s.message.is_response() && (status == 0 || s.message.status == status) &&
          (method.empty() || s.message.cseq.method == method))
        out.push_back(s.message);
    return out;
  }
  [[nodiscard]] std::vector<SipMessage> requests(std::string_view method) const {
    std::vector<SipMessage> out;
    for (const auto& s : sent)
      if (s.message.is_request && s.message.method == method) out.push_back(s.message);
    return out;
  }
  [[nodiscard]] const SipMessage& last() const { return sent.back().message; }

  std::vector<Sent> sent;
};

class FakeListener final : public CallListener {
 public:
  CallDecision on_incoming_call(const CallInfo& call, const SipMessage& /*invite*/,
                                const std::optional<std::string>& offer) override {
    incoming.push_back(call);
    offers.push_back(offer);
    return decision;
  }
  bool on_remote_answer(CallHandle /*call*/, std::string_view sdp) override {
    remote_answers.emplace_back(sdp);
    return accept_answer;
  }
  OfferDecision on_remote_offer(CallHandle /*call*/, std::string_view sdp) override {
    remote_offers.emplace_back(sdp);
    return offer_decision;
  }
  std::string on_offer_requested(CallHandle /*call*/) override {
    ++offers_requested;
    return std::string(kListenerOffer);
  }
  void on_dtmf(CallHandle /*call*/, char digit, int duration_ms) override { dtmf.emplace_back(digit, duration_ms); }
  void on_call_ended(CallHandle call, std::string_view reason) override { ended.emplace_back(call, reason); }
  void on_acknowledged(CallHandle call) override { acknowledged.push_back(call); }

  CallDecision decision{200, {}, std::string(kListenerAnswer), {}};
  OfferDecision offer_decision{200, {}, std::string(kListenerReAnswer), {}};
  bool accept_answer = true;

  std::vector<CallInfo> incoming;
  std::vector<CallHandle> acknowledged;
  std::vector<std::optional<std::string>> offers;
  std::vector<std::string> remote_answers;
  std::vector<std::string> remote_offers;
  int offers_requested = 0;
  std::vector<std::pair<char, int>> dtmf;
  std::vector<std::pair<CallHandle, std::string>> ended;
};

// The UA stack as chorusd wires it, over fakes at the edges.
struct UaHarness {
  explicit UaHarness(UserAgentConfig config = {}) : ua(timers, sender, listener, std::move(config)) {
    ua.attach(transactions);
  }

  void deliver(const std::string& text, const PeerAddress& from = udp_peer()) {
    transactions.on_message(parse(text), from);
  }
  void deliver(const RequestSpec& spec, const PeerAddress& from = udp_peer()) { deliver(request_text(spec), from); }

  // Sends an INVITE (with the caller's offer unless `spec` says otherwise) and returns the To tag
  // of the 200, so the test can continue the dialog.
  std::string establish(RequestSpec spec = {}, const PeerAddress& from = udp_peer(), bool ack = true) {
    if (spec.body.empty() && spec.content_type.empty()) {
      spec.content_type = "application/sdp";
      spec.body = std::string(kCallerOffer);
    }
    deliver(spec, from);
    auto oks = sender.responses(200, "INVITE");
    if (oks.empty()) {
      ADD_FAILURE() << "INVITE was not answered 200";
      return {};
    }
    std::string tag = oks.back().to.tag();
    if (ack) {
      RequestSpec a = spec;
      a.method = "ACK";
      a.to_tag = tag;
      a.branch.clear();
      a.headers.clear();
      a.content_type.clear();
      a.body.clear();
      deliver(a, from);
    }
    return tag;
  }

  // A response from the caller to a request the UA sent (matched by its Via branch).
  void answer(const SipMessage& request, int status, std::vector<Header> extra = {}, std::string body = {},
              const PeerAddress& from = udp_peer()) {
    SipMessage response = make_response(request, status);
    for (auto& h : extra) response.add_header(std::move(h.name), std::move(h.value));
    if (!body.empty()) {
      response.add_header("Content-Type", "application/sdp");
      response.body = std::move(body);
    }
    transactions.on_message(parse(response.serialize()), from);
  }

  ManualTimerQueue timers;
  RecordingSender sender;
  FakeListener listener;
  UserAgent ua;
  TransactionLayer transactions{timers, sender, ua};
};

}  // namespace chorus::sip::uatest
