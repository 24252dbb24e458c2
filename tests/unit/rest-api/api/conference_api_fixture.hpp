// The live-conference routes (conference_routes, dial_out_route) through the Router with the real
// ConferenceService and a real UserAgent/TransactionLayer whose sender records the wire. Tests get a
// participant into a conference by dialling out to a callee whose answers they script.
#pragma once

#include <gtest/gtest.h>

#include "rest-api/api/conference_routes.hpp"
#include "rest-api/api/dial_out_route.hpp"
#include "signaling/transaction/transaction_layer.hpp"
#include "signaling/ua/user_agent.hpp"
#include "tests/unit/rest-api/api/api_test_fixture.hpp"
#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::rest::api_test {

inline constexpr std::string_view kCalleeAnswer =
    "v=0\r\no=alice 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

class ConferenceApiTest : public ApiRoutesTest {
 protected:
  ConferenceApiTest() {
    ua_.attach(transactions_);
    conference_->set_event_log(&events_);
    conference_->set_dialer([this](const sip::OutgoingCallRequest& request) { return ua_.dial(request); });
    // The tests' callee is on loopback: listed explicitly, as the integration harness does.
    const std::vector<std::string> allow{"127.0.0.1", "192.0.2.0/24", "pbx.example.com"};
    conference_->set_dial_out_policy(conference::DialOutPolicy(conference::parse_dial_out_allow(allow).value()));
    services_->dial_out = [this](const conference::DialOutRequest& request) { return conference_->dial_out(request); };
    services_->hang_up = [this](sip::CallHandle call, std::string_view reason) { return ua_.hang_up(call, reason); };
    add_conference_routes(router_, *services_);
    add_dial_out_route(router_, *services_);
  }

  HttpResponse dial(json body, std::string room = "1000", std::string token = {}) {
    return post("/v1/conferences/" + room + "/participants", std::move(body), std::move(token));
  }
  sip::SipMessage last_invite() {
    auto invites = sender_.requests("INVITE");
    if (invites.empty()) ADD_FAILURE() << "no INVITE was sent";
    return invites.empty() ? sip::SipMessage{} : invites.back();
  }
  // The callee answers `request` with `status` (and, for a 2xx to the INVITE, its SDP answer).
  void callee_responds(const sip::SipMessage& request, int status) {
    sip::SipMessage response = sip::make_response(request, status, "callee-tag");
    if (status >= 200 && status < 300 && request.method == "INVITE") {
      response.add_header("Contact", "<sip:alice@127.0.0.1:5090>");
      response.add_header("Content-Type", "application/sdp");
      response.body = std::string(kCalleeAnswer);
    }
    transactions_.on_message(sip::uatest::parse(response.serialize()), callee_);
  }
  json last_event_of(std::string_view type) const {
    json found;
    for (const auto& event : events_.since(0, 1000).events)
      if (event.type == type) found = event.data;
    return found;
  }

  ManualTimerQueue timers_;
  sip::uatest::RecordingSender sender_;
  sip::UserAgent ua_{timers_, sender_, *conference_};
  sip::TransactionLayer transactions_{timers_, sender_, ua_};
  sip::PeerAddress callee_ = sip::uatest::udp_peer("127.0.0.1", 5090);
};

}  // namespace chorus::rest::api_test
