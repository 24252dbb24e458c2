// A dial-out harness for the trunk features (auth, failover): the real TransactionLayer and
// UserAgent over a sender that records what goes out (parsed back, as the peer reads it) and can
// make chosen destinations unreachable (a transport error), a ManualTimerQueue, a listener that
// records dial outcomes, and a SipLocator answered by hand.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "signaling/ua/user_agent.hpp"
#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::sip::dialtest {

class DialSender final : public MessageSender {
 public:
  struct Sent {
    SipMessage message;
    PeerAddress peer;
  };
  bool send_request(const SipMessage& request, const PeerAddress& destination) override {
    if (unreachable.contains(destination.to_string())) return false;
    sent.push_back(Sent{uatest::parse(request.serialize()), destination});
    return true;
  }
  bool send_response(const SipMessage& response, const PeerAddress& source) override {
    sent.push_back(Sent{uatest::parse(response.serialize()), source});
    return true;
  }
  [[nodiscard]] std::string via_sent_by(TransportKind /*kind*/) const override { return "127.0.0.1:5060"; }

  [[nodiscard]] std::vector<Sent> requests(std::string_view method) const {
    std::vector<Sent> out;
    for (const auto& s : sent)
      if (s.message.is_request && s.message.method == method) out.push_back(s);
    return out;
  }

  std::vector<Sent> sent;
  std::set<std::string> unreachable;  // PeerAddress::to_string() of destinations that fail at once
};

// Records what the UA reports about dials and calls; accepts every answer unless told otherwise.
class DialListener final : public CallListener {
 public:
  CallDecision on_incoming_call(const CallInfo&, const SipMessage&, const std::optional<std::string>&) override {
    return {603, {}, {}, {}};
  }
  bool on_remote_answer(CallHandle, std::string_view) override { return true; }
  OfferDecision on_remote_offer(CallHandle, std::string_view) override { return {488, {}, {}, {}}; }
  std::string on_offer_requested(CallHandle) override { return std::string(uatest::kListenerOffer); }
  void on_dtmf(CallHandle, char, int) override {}
  void on_call_ended(CallHandle call, std::string_view reason) override { ended.emplace_back(call, reason); }
  bool on_outgoing_answered(CallHandle call, const std::optional<std::string>& sdp) override {
    answered.emplace_back(call, sdp);
    return accept;
  }
  void on_outgoing_failed(CallHandle call, int status, std::string_view reason) override {
    failed.push_back({call, status, std::string(reason)});
  }

  struct Failure {
    CallHandle call;
    int status;
    std::string reason;
  };
  bool accept = true;
  std::vector<std::pair<CallHandle, std::optional<std::string>>> answered;  // the call and its 2xx's SDP
  std::vector<Failure> failed;
  std::vector<std::pair<CallHandle, std::string>> ended;
};

// Lookups the test answers by hand, later, as the real resolvers answer from the control loop.
template <typename Result>
struct ManualLookups {
  struct Lookup {
    std::string host;
    std::function<void(Result)> done;
  };
  void answer(std::size_t index, Result result) {
    ASSERT_LT(index, lookups.size());
    auto done = std::move(lookups[index].done);
    done(std::move(result));
  }
  std::vector<Lookup> lookups;
};

class ManualLocator final : public SipLocator, public ManualLookups<LocateResult> {
 public:
  void locate(const SipUri& uri, SipLocator::Done done) override { lookups.push_back({uri.host, std::move(done)}); }
};

inline PeerAddress udp(std::string_view ip, std::uint16_t port = 5060) {
  return uatest::udp_peer(ip, port);
}

inline LocatedHop located(std::string_view ip, std::uint16_t port = 5060) {
  return LocatedHop{udp(ip, port), "trunk.example.net"};
}

struct DialHarness {
  explicit DialHarness(UserAgentConfig config = {}) : ua(timers, sender, listener, std::move(config)) {
    ua.attach(transactions);
  }

  [[nodiscard]] OutgoingCallRequest request(std::string target = "sip:+4930123456@127.0.0.1:5090") const {
    OutgoingCallRequest r{std::move(target), "1000", "Room 1000", std::string(uatest::kListenerOffer), {}};
    return r;
  }
  CallHandle dial(const OutgoingCallRequest& r) {
    auto started = ua.dial(r);
    EXPECT_TRUE(started.has_value()) << (started ? "" : started.error());
    return started ? started->handle : 0;
  }
  // The INVITEs sent, one per transaction (UDP retransmissions, Timer A, left out).
  [[nodiscard]] std::vector<DialSender::Sent> invites() const {
    std::vector<DialSender::Sent> out;
    for (auto& s : sender.requests("INVITE")) {
      const bool seen = std::ranges::any_of(
          out, [&](const DialSender::Sent& o) { return o.message.top_branch() == s.message.top_branch(); });
      if (!seen) out.push_back(std::move(s));
    }
    return out;
  }
  [[nodiscard]] DialSender::Sent last(std::string_view method) const {
    auto all = sender.requests(method);
    EXPECT_FALSE(all.empty()) << "no " << method << " sent";
    return all.empty() ? DialSender::Sent{} : all.back();
  }
  // The peer's response to `sent` (a request we sent), coming from where it went.
  void respond(const DialSender::Sent& sent, int status, std::vector<Header> extra = {}) {
    const SipMessage& request = sent.message;
    SipMessage response = make_response(request, status, status > 100 ? "bob-tag" : "");
    if (request.method == "INVITE" && status >= 200 && status < 300) {
      response.add_header("Contact",
                          "<sip:bob@" + sent.peer.address.to_string() + ":" + std::to_string(sent.peer.port) + ">");
      response.add_header("Content-Type", "application/sdp");
      response.body = std::string(uatest::kCallerOffer);
    }
    for (auto& h : extra) response.add_header(std::move(h.name), std::move(h.value));
    transactions.on_message(uatest::parse(response.serialize()), sent.peer);
  }

  ManualTimerQueue timers;
  DialSender sender;
  DialListener listener;
  UserAgent ua;
  TransactionLayer transactions{timers, sender, ua};
};

}  // namespace chorus::sip::dialtest
