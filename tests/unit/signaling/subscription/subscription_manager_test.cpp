// SubscriptionManager (RFC 6665 notifier) over the real UserAgent and TransactionLayer, from wire
// text: SUBSCRIBE answered 200 then a full NOTIFY, refresh, unsubscribe, fetch, expiry on a
// ManualTimerQueue, 423/489/406/481, NOTIFY failures, rate limiting, a call's shared dialog, limits
// and where NOTIFYs may go.
#include "signaling/subscription/subscription_manager.hpp"

#include <gtest/gtest.h>

#include <set>

#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::sip {
namespace subscription_manager_test {

using namespace std::chrono_literals;
using uatest::RequestSpec;
using uatest::UaHarness;

// A package whose state is a string; partial documents only when it changed.
class FakePackage final : public SubscriptionPackage {
 public:
  SubscribeDecision on_subscribe(const SubscribeContext& context) override {
    calls.push_back(context.call);
    refreshes.emplace_back(context.resource);
    return decision;
  }
  std::optional<std::string> state_for(SubscriptionId id, const std::string& resource, std::uint32_t version,
                                       bool full) override {
    if (!full && known[id] == state) return std::nullopt;
    known[id] = state;
    return resource + " v" + std::to_string(version) + (full ? " full " : " partial ") + state;
  }
  void on_subscription_ended(SubscriptionId id) override { ended.push_back(id); }

  SubscribeDecision decision{200, {}, "1000"};
  std::string state = "empty";
  std::map<SubscriptionId, std::string> known;
  std::vector<std::optional<CallHandle>> calls;
  std::vector<std::string> refreshes;
  std::vector<SubscriptionId> ended;
};

RequestSpec subscribe(std::string expires = "600", std::string to_tag = {}, std::uint32_t cseq = 1) {
  RequestSpec spec;
  spec.method = "SUBSCRIBE";
  spec.call_id = "sub-1@198.51.100.7";
  spec.to_tag = std::move(to_tag);
  spec.cseq = cseq;
  spec.headers = {"Contact: <sip:alice@198.51.100.7:5060>", "Event: conference",
                  "Accept: application/conference-info+xml"};
  if (!expires.empty()) spec.headers.push_back("Expires: " + expires);
  return spec;
}

struct SubscriptionManagerTest : ::testing::Test {
  SubscriptionManagerTest() : manager(h.ua, h.timers, package, config()) {}
  static SubscriptionConfig config() {
    SubscriptionConfig c;
    c.max_per_source = 3;
    return c;
  }
  std::vector<SipMessage> notifies() const { return h.sender.requests("NOTIFY"); }
  // NOTIFYs as the subscriber sees them: UDP retransmissions (same CSeq) counted once.
  std::vector<SipMessage> distinct_notifies() const {
    std::vector<SipMessage> out;
    std::set<std::uint32_t> seen;
    for (auto& notify : notifies())
      if (seen.insert(notify.cseq.number).second) out.push_back(notify);
    return out;
  }
  // Subscribes and answers the first NOTIFY 200; returns our To tag.
  std::string subscribed() {
    h.deliver(subscribe());
    const auto oks = h.sender.responses(200, "SUBSCRIBE");
    EXPECT_EQ(oks.size(), 1U);
    EXPECT_EQ(notifies().size(), 1U);
    if (oks.empty() || notifies().empty()) return {};
    h.answer(notifies().back(), 200);
    return oks.back().to.tag();
  }

  UaHarness h;
  FakePackage package;
  SubscriptionManager manager;
};

TEST_F(SubscriptionManagerTest, AcceptsWith200ThenSendsTheFullStateAtOnce) {
  h.deliver(subscribe());
  const auto oks = h.sender.responses(200, "SUBSCRIBE");
  ASSERT_EQ(oks.size(), 1U) << "RFC 6665 §4.2.1.1: 200, not the deprecated 202";
  EXPECT_FALSE(oks[0].to.tag().empty());
  EXPECT_EQ(*oks[0].header("Expires"), "600");
  ASSERT_NE(oks[0].header("Contact"), nullptr);
  ASSERT_EQ(notifies().size(), 1U);
  const SipMessage notify = notifies()[0];
  EXPECT_EQ(notify.request_uri_text, "sip:alice@198.51.100.7:5060") << "the subscriber's Contact";
  EXPECT_EQ(notify.call_id, "sub-1@198.51.100.7");
  EXPECT_EQ(notify.from.tag(), oks[0].to.tag());
  EXPECT_EQ(notify.to.tag(), "alice-tag");
  EXPECT_EQ(*notify.header("Event"), "conference");
  EXPECT_EQ(*notify.header("Subscription-State"), "active;expires=600");
  EXPECT_EQ(*notify.header("Content-Type"), "application/conference-info+xml");
  ASSERT_NE(notify.header("Contact"), nullptr);
  EXPECT_EQ(notify.body, "1000 v1 full empty");
  EXPECT_EQ(manager.count(), 1U);
  EXPECT_EQ(manager.count_for("1000"), 1U);
}

TEST_F(SubscriptionManagerTest, ExpiresIsDefaultedAndCappedAndTooShortIs423) {
  h.deliver(subscribe(""));
  EXPECT_EQ(*h.sender.responses(200, "SUBSCRIBE").back().header("Expires"), "3600");
  RequestSpec longer = subscribe("86400");
  longer.call_id = "sub-2@198.51.100.7";
  h.deliver(longer);
  EXPECT_EQ(*h.sender.responses(200, "SUBSCRIBE").back().header("Expires"), "3600");
  RequestSpec brief = subscribe("59");
  brief.call_id = "sub-3@198.51.100.7";
  h.deliver(brief);
  ASSERT_EQ(h.sender.responses(423).size(), 1U);
  EXPECT_EQ(*h.sender.responses(423)[0].header("Min-Expires"), "60");
  EXPECT_EQ(manager.count(), 2U);
}

TEST_F(SubscriptionManagerTest, AnotherEventIs489WithAllowEventsAndAWrongAcceptIs406) {
  RequestSpec presence = subscribe();
  presence.headers[1] = "Event: presence";
  h.deliver(presence);
  ASSERT_EQ(h.sender.responses(489).size(), 1U);
  EXPECT_EQ(*h.sender.responses(489)[0].header("Allow-Events"), "conference");
  RequestSpec none = subscribe();
  none.headers.erase(none.headers.begin() + 1);
  h.deliver(none);
  EXPECT_EQ(h.sender.responses(489).size(), 2U) << "no Event header: no package we serve";
  RequestSpec html = subscribe();
  html.headers[2] = "Accept: text/html";
  h.deliver(html);
  EXPECT_EQ(h.sender.responses(406).size(), 1U);
  RequestSpec wildcard = subscribe();
  wildcard.headers[1] = "Event: Conference;id=7";
  wildcard.headers[2] = "Accept: text/plain, application/*";
  h.deliver(wildcard);
  EXPECT_EQ(h.sender.responses(200, "SUBSCRIBE").size(), 1U);
  EXPECT_EQ(*notifies().back().header("Event"), "conference;id=7") << "RFC 6665 §8.2.1: the id comes back";
  EXPECT_EQ(manager.count(), 1U);
}

TEST_F(SubscriptionManagerTest, ThePackagesRefusalIsTheAnswer) {
  package.decision = {403, "Only Participants May Subscribe", {}};
  h.deliver(subscribe());
  ASSERT_EQ(h.sender.responses(403).size(), 1U);
  EXPECT_EQ(h.sender.responses(403)[0].reason, "Only Participants May Subscribe");
  EXPECT_TRUE(notifies().empty());
  EXPECT_EQ(manager.count(), 0U);
}

TEST_F(SubscriptionManagerTest, ChangesWithinTheIntervalAreCoalescedIntoOnePartialNotify) {
  subscribed();
  package.state = "alice";
  manager.notify_changed("1000", 0ms);
  package.state = "alice bob";
  manager.notify_changed("1000", 0ms);
  manager.notify_changed("other-room", 0ms);
  h.timers.advance(999ms);
  EXPECT_EQ(distinct_notifies().size(), 1U) << "no second NOTIFY within min_notify_interval";
  h.timers.advance(1ms);
  ASSERT_EQ(distinct_notifies().size(), 2U);
  EXPECT_EQ(distinct_notifies()[1].body, "1000 v2 partial alice bob");
  EXPECT_EQ(*distinct_notifies()[1].header("Subscription-State"), "active;expires=599");
  h.answer(distinct_notifies()[1], 200);
  manager.notify_changed("1000", 0ms);  // nothing new: no NOTIFY
  h.timers.advance(5s);
  EXPECT_EQ(distinct_notifies().size(), 2U);
}

TEST_F(SubscriptionManagerTest, AChangesOwnGapIsHonouredUnlessAnUrgentOneComes) {
  subscribed();
  package.state = "alice talking";
  manager.notify_changed("1000", 3000ms);
  h.timers.advance(2999ms);
  EXPECT_EQ(distinct_notifies().size(), 1U);
  h.timers.advance(1ms);
  ASSERT_EQ(distinct_notifies().size(), 2U);
  h.answer(distinct_notifies()[1], 200);
  package.state = "alice quiet";
  manager.notify_changed("1000", 3000ms);
  h.timers.advance(500ms);
  package.state = "alice quiet, bob joined";
  manager.notify_changed("1000", 0ms);  // a join is more urgent: after the 1 s minimum
  h.timers.advance(500ms);
  ASSERT_EQ(distinct_notifies().size(), 3U);
  EXPECT_EQ(distinct_notifies()[2].body, "1000 v3 partial alice quiet, bob joined");
}

TEST_F(SubscriptionManagerTest, OneNotifyInFlightAtATime) {
  h.deliver(subscribe());
  ASSERT_EQ(distinct_notifies().size(), 1U);
  package.state = "alice";
  manager.notify_changed("1000", 0ms);
  h.timers.advance(2s);
  EXPECT_EQ(distinct_notifies().size(), 1U) << "the first is unanswered: the change waits";
  h.answer(distinct_notifies()[0], 200);
  h.timers.advance(0ms);
  ASSERT_EQ(distinct_notifies().size(), 2U);
  EXPECT_GT(distinct_notifies()[1].cseq.number, distinct_notifies()[0].cseq.number);
}

TEST_F(SubscriptionManagerTest, ARefreshInTheDialogIsAnsweredAndFollowedByTheFullState) {
  const std::string tag = subscribed();
  h.timers.advance(100s);
  h.deliver(subscribe("900", tag, 2));
  ASSERT_EQ(h.sender.responses(200, "SUBSCRIBE").size(), 2U);
  EXPECT_EQ(h.sender.responses(200, "SUBSCRIBE")[1].to.tag(), tag);
  EXPECT_EQ(*h.sender.responses(200, "SUBSCRIBE")[1].header("Expires"), "900");
  ASSERT_EQ(package.refreshes.size(), 2U);
  EXPECT_EQ(package.refreshes[1], "1000") << "re-authorised for what it watches";
  h.timers.advance(0ms);
  ASSERT_EQ(distinct_notifies().size(), 2U);
  EXPECT_EQ(distinct_notifies()[1].body, "1000 v2 full empty");
  EXPECT_EQ(*distinct_notifies()[1].header("Subscription-State"), "active;expires=900");
  h.answer(distinct_notifies()[1], 200);
  h.timers.advance(600s);  // past the first Expires: refreshed, still there
  EXPECT_EQ(manager.count(), 1U);
}

TEST_F(SubscriptionManagerTest, ARefreshBelowTheMinimumIs423AndChangesNothing) {
  const std::string tag = subscribed();
  h.deliver(subscribe("30", tag, 2));
  ASSERT_EQ(h.sender.responses(423).size(), 1U);
  EXPECT_EQ(manager.count(), 1U);
}

TEST_F(SubscriptionManagerTest, ARefreshTheNewPolicyRefusesEndsItRejected) {
  const std::string tag = subscribed();
  package.decision = {403, "Only Participants May Subscribe", {}};
  h.deliver(subscribe("600", tag, 2));
  EXPECT_EQ(h.sender.responses(403).size(), 1U);
  EXPECT_EQ(*notifies().back().header("Subscription-State"), "terminated;reason=rejected");
  EXPECT_EQ(manager.count(), 0U);
}

TEST_F(SubscriptionManagerTest, ExpiresZeroUnsubscribesWithAFinalNotify) {
  const std::string tag = subscribed();
  h.deliver(subscribe("0", tag, 2));
  ASSERT_EQ(h.sender.responses(200, "SUBSCRIBE").size(), 2U);
  EXPECT_EQ(*h.sender.responses(200, "SUBSCRIBE")[1].header("Expires"), "0");
  ASSERT_EQ(distinct_notifies().size(), 2U);
  EXPECT_EQ(*distinct_notifies()[1].header("Subscription-State"), "terminated;reason=timeout");
  EXPECT_EQ(manager.count(), 0U);
  EXPECT_EQ(package.ended.size(), 1U);
  h.deliver(subscribe("600", tag, 3));
  EXPECT_EQ(h.sender.responses(481).size(), 1U) << "the dialog's subscription is gone";
}

TEST_F(SubscriptionManagerTest, AnInitialExpiresZeroIsAFetch) {
  h.deliver(subscribe("0"));
  ASSERT_EQ(h.sender.responses(200, "SUBSCRIBE").size(), 1U);
  ASSERT_EQ(notifies().size(), 1U);
  EXPECT_EQ(*notifies()[0].header("Subscription-State"), "terminated;reason=timeout");
  EXPECT_EQ(notifies()[0].body, "1000 v1 full empty") << "RFC 6665 §4.4.3: the state, once";
  EXPECT_EQ(manager.count(), 0U);
}

TEST_F(SubscriptionManagerTest, ExpiryEndsItWithTimeout) {
  subscribed();
  h.timers.advance(599s);
  EXPECT_EQ(manager.count(), 1U);
  h.timers.advance(1s);
  ASSERT_EQ(distinct_notifies().size(), 2U);
  EXPECT_EQ(*distinct_notifies()[1].header("Subscription-State"), "terminated;reason=timeout");
  EXPECT_EQ(manager.count(), 0U);
}

TEST_F(SubscriptionManagerTest, ANotifyAnswered481RemovesTheSubscription) {
  h.deliver(subscribe());
  h.answer(notifies()[0], 481);
  EXPECT_EQ(manager.count(), 0U);
  EXPECT_EQ(package.ended.size(), 1U);
  package.state = "alice";
  manager.notify_changed("1000", 0ms);
  h.timers.advance(5s);
  EXPECT_EQ(distinct_notifies().size(), 1U);
}

TEST_F(SubscriptionManagerTest, ANotifyThatTimesOutRemovesTheSubscription) {
  h.deliver(subscribe());
  h.timers.advance(33s);  // RFC 3261 Timer F (64*T1) fires: the layer's own 408
  EXPECT_EQ(manager.count(), 0U);
}

TEST_F(SubscriptionManagerTest, AServerErrorIsRetriedWithTheFullStateThenGivenUp) {
  h.deliver(subscribe());
  h.answer(distinct_notifies()[0], 500);
  EXPECT_EQ(manager.count(), 1U);
  h.timers.advance(2s);
  ASSERT_EQ(distinct_notifies().size(), 2U);
  EXPECT_EQ(distinct_notifies()[1].body, "1000 v2 full empty");
  h.answer(distinct_notifies()[1], 503);
  h.timers.advance(2s);
  ASSERT_EQ(distinct_notifies().size(), 3U);
  h.answer(distinct_notifies()[2], 500);
  EXPECT_EQ(manager.count(), 0U) << "max_notify_retries (2) spent";
}

TEST_F(SubscriptionManagerTest, AnUnknownDialogIs481) {
  h.deliver(subscribe("600", "no-such-tag", 2));
  EXPECT_EQ(h.sender.responses(481).size(), 1U);
}

TEST_F(SubscriptionManagerTest, TheResourceGoingEndsItsSubscriptionsWithNoresource) {
  subscribed();
  manager.terminate_resource("1000");
  EXPECT_EQ(*notifies().back().header("Subscription-State"), "terminated;reason=noresource");
  EXPECT_EQ(manager.count(), 0U);
}

TEST_F(SubscriptionManagerTest, SubscriptionsPerSourceAreLimited) {
  for (int i = 0; i < 4; ++i) {
    RequestSpec spec = subscribe();
    spec.call_id = "sub-" + std::to_string(i) + "@198.51.100.7";
    h.deliver(spec);
  }
  EXPECT_EQ(manager.count(), 3U);
  EXPECT_EQ(h.sender.responses(486).size(), 1U);
  EXPECT_EQ(manager.counters().limited.load(), 1U);
  EXPECT_EQ(manager.counters().accepted.load(), 3U);
  RequestSpec other = subscribe();
  other.call_id = "sub-other@198.51.100.8";
  h.deliver(other, uatest::udp_peer("198.51.100.8"));
  EXPECT_EQ(manager.count(), 4U);
}

TEST_F(SubscriptionManagerTest, ShutdownDeactivatesEverySubscriptionAndRefusesNewOnes) {
  subscribed();
  manager.shutdown();
  EXPECT_EQ(*notifies().back().header("Subscription-State"), "terminated;reason=deactivated")
      << "RFC 6665 §4.2.2: subscribe again at once (through a SIP front, to another node)";
  EXPECT_EQ(manager.count(), 0U);
  RequestSpec again = subscribe();
  again.call_id = "sub-again@198.51.100.7";
  h.deliver(again);
  ASSERT_EQ(h.sender.responses(503).size(), 1U);
  EXPECT_NE(h.sender.responses(503)[0].header("Retry-After"), nullptr);
}

TEST_F(SubscriptionManagerTest, AContactElsewhereDoesNotAimNotifiesAtAThirdParty) {
  RequestSpec spec = subscribe();
  spec.headers[0] = "Contact: <sip:victim@203.0.113.9:5060>";
  h.deliver(spec);
  ASSERT_EQ(h.sender.sent.size(), 2U);
  const auto& sent = h.sender.sent.back();
  ASSERT_TRUE(sent.message.is_request);
  EXPECT_EQ(sent.peer.address.to_string(), "198.51.100.7") << "back to the SUBSCRIBE's source";
}

TEST_F(SubscriptionManagerTest, InACallsDialogTheSubscriptionSharesIt) {
  const std::string tag = h.establish();
  const CallHandle call = h.listener.incoming.at(0).handle;
  RequestSpec spec = subscribe("600", tag, 2);
  spec.call_id = "call-1@198.51.100.7";  // the INVITE's
  h.deliver(spec);
  ASSERT_EQ(package.calls.size(), 1U);
  EXPECT_EQ(package.calls[0], call);
  ASSERT_EQ(h.sender.responses(200, "SUBSCRIBE").size(), 1U);
  EXPECT_EQ(h.sender.responses(200, "SUBSCRIBE")[0].to.tag(), tag);
  ASSERT_EQ(notifies().size(), 1U);
  EXPECT_EQ(notifies()[0].call_id, "call-1@198.51.100.7");
  EXPECT_EQ(notifies()[0].to.tag(), "alice-tag");
  EXPECT_EQ(notifies()[0].from.tag(), tag);
  h.answer(notifies()[0], 200);
  RequestSpec refresh = subscribe("1200", tag, 3);  // a refresh in the call's dialog
  refresh.call_id = "call-1@198.51.100.7";
  h.deliver(refresh);
  ASSERT_EQ(h.sender.responses(200, "SUBSCRIBE").size(), 2U);
  EXPECT_EQ(*h.sender.responses(200, "SUBSCRIBE")[1].header("Expires"), "1200");
  EXPECT_EQ(manager.count(), 1U);
}

}  // namespace subscription_manager_test
}  // namespace chorus::sip
