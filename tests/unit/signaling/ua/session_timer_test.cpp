// Session timers (RFC 4028): negotiate_session_timer on its own, then the UserAgent arming them —
// BYE when the caller stops refreshing, 422 for a too small interval, our own refreshes as uas.
#include "signaling/ua/session_timer.hpp"

#include <gtest/gtest.h>

#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::sip {
namespace session_timer_test {

using uatest::kCallerOffer;
using uatest::kListenerOffer;
using uatest::parse;
using uatest::RequestSpec;
using uatest::UaHarness;

SipMessage invite_with(std::vector<std::string> headers) {
  RequestSpec spec;
  spec.headers = std::move(headers);
  return parse(uatest::request_text(spec));
}

std::vector<std::string> header_texts(const std::vector<Header>& headers) {
  std::vector<std::string> out;
  for (const auto& h : headers) out.push_back(h.name + ": " + h.value);
  return out;
}

TEST(NegotiateSessionTimer, NoHeaderAndNoSupportMeansNoTimer) {
  const auto out = negotiate_session_timer(invite_with({}), SessionTimerPolicy{});
  EXPECT_FALSE(out.too_small);
  EXPECT_FALSE(out.interval.has_value());
  EXPECT_TRUE(out.response_headers().empty());
}

TEST(NegotiateSessionTimer, SupportedWithoutHeaderInsertsOurDefaultRefreshedByUac) {
  const auto out = negotiate_session_timer(invite_with({"Supported: timer"}), SessionTimerPolicy{});
  ASSERT_TRUE(out.interval.has_value());
  EXPECT_EQ(*out.interval, 1800u);
  EXPECT_FALSE(out.we_refresh);
  EXPECT_TRUE(out.peer_supports_timer);
  EXPECT_EQ(header_texts(out.response_headers()),
            (std::vector<std::string>{"Session-Expires: 1800;refresher=uac", "Require: timer"}));
}

TEST(NegotiateSessionTimer, IntervalLoweredToOurMaximum) {
  SessionTimerPolicy policy;
  policy.session_expires = 600;
  const auto out = negotiate_session_timer(invite_with({"Supported: timer", "Session-Expires: 3600"}), policy);
  ASSERT_TRUE(out.interval.has_value());
  EXPECT_EQ(*out.interval, 600u);
}

TEST(NegotiateSessionTimer, IntervalNotLoweredBelowRequestMinSe) {
  SessionTimerPolicy policy;
  policy.session_expires = 600;
  const auto out =
      negotiate_session_timer(invite_with({"Supported: timer", "Session-Expires: 3600", "Min-SE: 1200"}), policy);
  ASSERT_TRUE(out.interval.has_value());
  EXPECT_EQ(*out.interval, 1200u);
}

TEST(NegotiateSessionTimer, RefresherUasIsHonoured) {
  const auto out = negotiate_session_timer(invite_with({"Supported: timer", "Session-Expires: 900;refresher=uas"}),
                                           SessionTimerPolicy{});
  ASSERT_TRUE(out.interval.has_value());
  EXPECT_EQ(*out.interval, 900u);
  EXPECT_TRUE(out.we_refresh);
  EXPECT_EQ(out.refresh_after(), std::chrono::seconds(450));
  EXPECT_EQ(header_texts(out.response_headers()),
            (std::vector<std::string>{"Session-Expires: 900;refresher=uas", "Require: timer"}));
}

TEST(NegotiateSessionTimer, HeaderWithoutSupportMakesUsTheRefresher) {
  // §9: a UAC that does not support timers cannot refresh; the UAS does, and no Require is added.
  const auto out = negotiate_session_timer(invite_with({"Session-Expires: 1000"}), SessionTimerPolicy{});
  ASSERT_TRUE(out.interval.has_value());
  EXPECT_TRUE(out.we_refresh);
  EXPECT_EQ(header_texts(out.response_headers()), (std::vector<std::string>{"Session-Expires: 1000;refresher=uas"}));
}

TEST(NegotiateSessionTimer, BelowMinSeIsTooSmall) {
  const auto out =
      negotiate_session_timer(invite_with({"Supported: timer", "Session-Expires: 30"}), SessionTimerPolicy{});
  EXPECT_TRUE(out.too_small);
  EXPECT_EQ(header_texts(out.response_headers()), (std::vector<std::string>{"Min-SE: 90"}));
}

TEST(NegotiateSessionTimer, ExpireAfterLeavesAThirdOrAtMost32Seconds) {
  SessionTimerOutcome out;
  out.interval = 90;
  EXPECT_EQ(out.expire_after(), std::chrono::seconds(60));
  out.interval = 1800;
  EXPECT_EQ(out.expire_after(), std::chrono::seconds(1768));
}

RequestSpec timed_invite(std::string session_expires, std::vector<std::string> more = {}) {
  RequestSpec spec;
  spec.content_type = "application/sdp";
  spec.body = std::string(kCallerOffer);
  spec.headers = {"Supported: timer", "Session-Expires: " + std::move(session_expires)};
  for (auto& h : more) spec.headers.push_back(std::move(h));
  return spec;
}

RequestSpec in_dialog(std::string method, const std::string& to_tag, std::uint32_t cseq,
                      std::vector<std::string> headers = {}) {
  RequestSpec spec;
  spec.method = std::move(method);
  spec.to_tag = to_tag;
  spec.cseq = cseq;
  spec.headers = std::move(headers);
  return spec;
}

TEST(UserAgentSessionTimer, OkCarriesNegotiatedSessionExpiresAndRequire) {
  UaHarness h;
  h.deliver(timed_invite("90;refresher=uac"));
  auto oks = h.sender.responses(200, "INVITE");
  ASSERT_EQ(oks.size(), 1u);
  ASSERT_TRUE(oks[0].has_header("Session-Expires"));
  EXPECT_EQ(*oks[0].header("Session-Expires"), "90;refresher=uac");
  ASSERT_TRUE(oks[0].has_header("Require"));
  EXPECT_EQ(*oks[0].header("Require"), "timer");
}

TEST(UserAgentSessionTimer, NoRefreshSendsByeAfterExpiry) {
  UaHarness h;
  h.establish(timed_invite("90;refresher=uac"));
  // §10: the side that does not refresh sends BYE at interval - min(32, interval / 3) = 60 s.
  h.timers.advance(Millis(59999));
  EXPECT_TRUE(h.sender.requests("BYE").empty());
  h.timers.advance(Millis(1));
  EXPECT_EQ(h.sender.requests("BYE").size(), 1u);
  ASSERT_EQ(h.listener.ended.size(), 1u);
  EXPECT_EQ(h.ua.call_count(), 0u);
}

TEST(UserAgentSessionTimer, RefreshUpdateRearmsTheTimer) {
  UaHarness h;
  const std::string tag = h.establish(timed_invite("90;refresher=uac"));
  h.timers.advance(Millis(50000));
  h.deliver(in_dialog("UPDATE", tag, 2, {"Supported: timer", "Session-Expires: 90;refresher=uac"}));
  auto oks = h.sender.responses(200, "UPDATE");
  ASSERT_EQ(oks.size(), 1u);
  ASSERT_TRUE(oks[0].has_header("Session-Expires"));
  EXPECT_EQ(*oks[0].header("Session-Expires"), "90;refresher=uac");
  h.timers.advance(Millis(59999));  // t = 109.999 s: past the first expiry, before the new one
  EXPECT_TRUE(h.sender.requests("BYE").empty());
  h.timers.advance(Millis(1));
  EXPECT_EQ(h.sender.requests("BYE").size(), 1u);
}

TEST(UserAgentSessionTimer, RefreshReInviteRearmsTheTimerOnAck) {
  UaHarness h;
  const std::string tag = h.establish(timed_invite("90;refresher=uac"));
  h.timers.advance(Millis(50000));
  RequestSpec reinvite = in_dialog("INVITE", tag, 2, {"Supported: timer", "Session-Expires: 90;refresher=uac"});
  reinvite.content_type = "application/sdp";
  reinvite.body = std::string(kCallerOffer);
  h.deliver(reinvite);
  EXPECT_EQ(h.sender.responses(200, "INVITE").size(), 2u);
  h.deliver(in_dialog("ACK", tag, 2));
  h.timers.advance(Millis(59999));
  EXPECT_TRUE(h.sender.requests("BYE").empty());
  h.timers.advance(Millis(1));
  EXPECT_EQ(h.sender.requests("BYE").size(), 1u);
}

TEST(UserAgentSessionTimer, TooSmallIntervalGets422WithMinSe) {
  UaHarness h;
  h.deliver(timed_invite("30"));
  auto refused = h.sender.responses(422, "INVITE");
  ASSERT_EQ(refused.size(), 1u);
  ASSERT_TRUE(refused[0].has_header("Min-SE"));
  EXPECT_EQ(*refused[0].header("Min-SE"), "90");
  EXPECT_TRUE(h.listener.incoming.empty());
  EXPECT_EQ(h.ua.call_count(), 0u);
}

TEST(UserAgentSessionTimer, AsRefresherWeSendUpdateAtHalfTheInterval) {
  UaHarness h;
  const std::string tag =
      h.establish(timed_invite("90;refresher=uas", {"Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE"}));
  auto oks = h.sender.responses(200, "INVITE");
  ASSERT_TRUE(oks[0].has_header("Session-Expires"));
  EXPECT_EQ(*oks[0].header("Session-Expires"), "90;refresher=uas");

  h.timers.advance(Millis(44999));
  EXPECT_TRUE(h.sender.requests("UPDATE").empty());
  h.timers.advance(Millis(1));
  auto updates = h.sender.requests("UPDATE");
  ASSERT_EQ(updates.size(), 1u);
  const SipMessage& update = updates[0];
  EXPECT_EQ(update.to.tag(), "alice-tag");
  EXPECT_EQ(update.from.tag(), tag);
  EXPECT_EQ(update.request_uri_text, "sip:alice@198.51.100.7:5060");
  EXPECT_TRUE(update.body.empty());  // §7.4: a refresh UPDATE needs no offer
  ASSERT_TRUE(update.has_header("Session-Expires"));
  // §7.4: we send the refresh and stay the refresher, which is the UAC of this request.
  EXPECT_EQ(*update.header("Session-Expires"), "90;refresher=uac");
  EXPECT_FALSE(update.contacts.empty());

  // The caller answers; the next refresh comes half an interval later.
  h.answer(update, 200, {{"Session-Expires", "90;refresher=uac"}, {"Require", "timer"}});
  h.timers.advance(Millis(44999));
  EXPECT_EQ(h.sender.requests("UPDATE").size(), 1u);
  h.timers.advance(Millis(1));
  EXPECT_EQ(h.sender.requests("UPDATE").size(), 2u);
  EXPECT_TRUE(h.sender.requests("BYE").empty());
  EXPECT_EQ(h.ua.call_count(), 1u);
}

TEST(UserAgentSessionTimer, AsRefresherWithoutUpdateWeSendReInviteAndAck) {
  UaHarness h;
  h.establish(timed_invite("90;refresher=uas", {"Allow: INVITE, ACK, BYE, CANCEL, OPTIONS"}));
  h.timers.advance(Millis(45000));
  EXPECT_TRUE(h.sender.requests("UPDATE").empty());
  auto invites = h.sender.requests("INVITE");
  ASSERT_EQ(invites.size(), 1u);
  EXPECT_EQ(invites[0].body, kListenerOffer);
  EXPECT_EQ(h.listener.offers_requested, 1);

  h.answer(invites[0], 200, {}, std::string(kCallerOffer));
  auto acks = h.sender.requests("ACK");
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].cseq.number, invites[0].cseq.number);
  EXPECT_EQ(acks[0].cseq.method, "ACK");
  ASSERT_EQ(h.listener.remote_answers.size(), 1u);
  EXPECT_EQ(h.listener.remote_answers[0], kCallerOffer);
  // §13.2.2.4: a retransmitted 2xx gets the same ACK again.
  h.answer(invites[0], 200, {}, std::string(kCallerOffer));
  EXPECT_EQ(h.sender.requests("ACK").size(), 2u);
  EXPECT_EQ(h.ua.call_count(), 1u);
}

TEST(UserAgentSessionTimer, RefreshAnswered481EndsCallWithoutBye) {
  UaHarness h;
  h.establish(timed_invite("90;refresher=uas", {"Allow: INVITE, ACK, BYE, UPDATE"}));
  h.timers.advance(Millis(45000));
  auto updates = h.sender.requests("UPDATE");
  ASSERT_EQ(updates.size(), 1u);
  h.answer(updates[0], 481);
  EXPECT_EQ(h.listener.ended.size(), 1u);
  EXPECT_TRUE(h.sender.requests("BYE").empty());
  EXPECT_EQ(h.ua.call_count(), 0u);
}

TEST(UserAgentSessionTimer, ReInviteDuringOurRefreshGets491) {
  UaHarness h;
  const std::string tag = h.establish(timed_invite("90;refresher=uas", {"Allow: INVITE, ACK, BYE, UPDATE"}));
  h.timers.advance(Millis(45000));
  ASSERT_EQ(h.sender.requests("UPDATE").size(), 1u);
  RequestSpec reinvite = in_dialog("INVITE", tag, 2);
  reinvite.content_type = "application/sdp";
  reinvite.body = std::string(kCallerOffer);
  h.deliver(reinvite);
  EXPECT_EQ(h.sender.responses(491, "INVITE").size(), 1u);
}

}  // namespace session_timer_test
}  // namespace chorus::sip
