// CallGate's decisions (issue 14) with a fake conference behind it and a fake placement: which
// INVITEs reach the conference, which are redirected (302 + Contact) or refused (503 +
// Retry-After), and when a room is claimed and released.
#include "conference/cluster/call_gate.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace chorus::conference::cluster {
namespace call_gate_test {

// The conference: answers every INVITE with `answer`; a 200 makes the caller a participant.
class FakeConference final : public sip::CallListener {
 public:
  int answer = 200;
  std::map<sip::CallHandle, std::string> rooms;  // participants' rooms
  int invites = 0;
  sip::CallDecision on_incoming_call(const sip::CallInfo& call, const sip::SipMessage&,
                                     const std::optional<std::string>&) override {
    ++invites;
    if (answer == 200) rooms[call.handle] = room_for(call.request_user);
    return {answer, {}, "v=0", {}};
  }
  bool on_remote_answer(sip::CallHandle, std::string_view) override { return true; }
  sip::OfferDecision on_remote_offer(sip::CallHandle, std::string_view) override { return {}; }
  std::string on_offer_requested(sip::CallHandle) override { return {}; }
  void on_dtmf(sip::CallHandle, char, int) override {}
  void on_call_ended(sip::CallHandle call, std::string_view) override { rooms.erase(call); }
  bool on_outgoing_answered(sip::CallHandle call, const std::optional<std::string>&) override {
    rooms[call] = "dialled";
    return true;
  }
  static std::string room_for(std::string_view user) { return user == "4000" ? "1000" : std::string(user); }
  [[nodiscard]] bool live(std::string_view room) const {
    for (const auto& [call, r] : rooms)
      if (r == room) return true;
    return false;
  }
};

class FakePlacement final : public CallPlacement {
 public:
  ClaimResult next{ClaimStatus::kOurs, {}, {}};
  bool drain = false;
  std::vector<std::string> claims, releases;
  ClaimResult claim(std::string_view room) override {
    claims.emplace_back(room);
    return next;
  }
  void release(std::string_view room) override { releases.emplace_back(room); }
  [[nodiscard]] bool draining() const override { return drain; }
};

class CallGateTest : public ::testing::Test {
 protected:
  CallGate gate_{conference_, placement_,
                 CallGate::Domain{.room_of_dial = [](std::string_view user) -> std::optional<std::string> {
                                    if (user == "nosuch") return std::nullopt;
                                    return FakeConference::room_for(user);
                                  },
                                  .live = [this](std::string_view room) { return conference_.live(room); },
                                  .room_of_call = [this](sip::CallHandle call) -> std::optional<std::string> {
                                    const auto found = conference_.rooms.find(call);
                                    if (found == conference_.rooms.end()) return std::nullopt;
                                    return found->second;
                                  }},
                 CallGate::Settings{.drain_retry_after = std::chrono::seconds(30),
                                    .unavailable_retry_after = std::chrono::seconds(5)}};

  sip::CallDecision invite(sip::CallHandle handle, std::string user) {
    sip::CallInfo info;
    info.handle = handle;
    info.request_user = std::move(user);
    return gate_.on_incoming_call(info, sip::SipMessage{}, std::string("v=0"));
  }
  static std::string header(const sip::CallDecision& decision, std::string_view name) {
    for (const auto& h : decision.extra_headers)
      if (h.name == name) return h.value;
    return {};
  }

  FakeConference conference_;
  FakePlacement placement_;
};

TEST_F(CallGateTest, TheFirstCallClaimsTheRoomAndLaterOnesDoNot) {
  EXPECT_EQ(invite(1, "1000").status, 200);
  EXPECT_EQ(invite(2, "1000").status, 200);
  EXPECT_EQ(placement_.claims, std::vector<std::string>{"1000"});
  EXPECT_TRUE(placement_.releases.empty());
}

TEST_F(CallGateTest, ARoomHeldByAnotherNodeIsRedirectedToItsSipAddress) {
  placement_.next = {ClaimStatus::kElsewhere, {"node-a", "127.0.0.2:5070", "http://127.0.0.2:8080"}, {}};
  const auto decision = invite(1, "4000");  // dialled by its number
  EXPECT_EQ(decision.status, 302);
  EXPECT_EQ(decision.reason, "Moved Temporarily");
  EXPECT_EQ(header(decision, "Contact"), "<sip:4000@127.0.0.2:5070>");
  EXPECT_EQ(placement_.claims, std::vector<std::string>{"1000"});  // claimed by its id
  EXPECT_EQ(conference_.invites, 0);
}

TEST_F(CallGateTest, AFailedClaimIsAnswered503WithRetryAfterAndStartsNothing) {
  placement_.next = {ClaimStatus::kUnavailable, {}, "connection refused"};
  const auto decision = invite(1, "1000");
  EXPECT_EQ(decision.status, 503);
  EXPECT_EQ(header(decision, "Retry-After"), "5");
  EXPECT_EQ(conference_.invites, 0);
  // A holder that never wrote its chorus_nodes row: nowhere to redirect to, so 503 as well.
  placement_.next = {ClaimStatus::kElsewhere, {"ghost", "", ""}, {}};
  EXPECT_EQ(invite(2, "1000").status, 503);
  EXPECT_EQ(conference_.invites, 0);
}

TEST_F(CallGateTest, DrainingRefusesRoomsNotLiveHereButTakesCallsForLiveOnes) {
  EXPECT_EQ(invite(1, "1000").status, 200);
  placement_.drain = true;
  EXPECT_EQ(invite(2, "1000").status, 200) << "its own live room still takes callers";
  const auto refused = invite(3, "2000");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.reason, "Draining");
  EXPECT_EQ(header(refused, "Retry-After"), "30");
  EXPECT_EQ(placement_.claims, std::vector<std::string>{"1000"});
  EXPECT_EQ(gate_.refused_draining(), 1U);
}

TEST_F(CallGateTest, AClaimThatStartedNothingIsReleasedAtOnce) {
  conference_.answer = 486;
  EXPECT_EQ(invite(1, "1000").status, 486);
  EXPECT_EQ(placement_.releases, std::vector<std::string>{"1000"});
  conference_.answer = 183;  // early media only ("this meeting has not started")
  EXPECT_EQ(invite(2, "2000").status, 183);
  EXPECT_EQ(placement_.releases, (std::vector<std::string>{"1000", "2000"}));
}

TEST_F(CallGateTest, TheLastCallToLeaveReleasesTheRoom) {
  invite(1, "1000");
  invite(2, "1000");
  gate_.on_call_ended(1, "bye");
  EXPECT_TRUE(placement_.releases.empty());
  gate_.on_call_ended(2, "bye");
  EXPECT_EQ(placement_.releases, std::vector<std::string>{"1000"});
}

TEST_F(CallGateTest, UnknownRoomsGoStraightToTheConference) {
  conference_.answer = 404;
  EXPECT_EQ(invite(1, "nosuch").status, 404);
  EXPECT_TRUE(placement_.claims.empty());
}

TEST_F(CallGateTest, AnAnsweredDialOutClaimsItsRoomOrIsHungUp) {
  EXPECT_TRUE(gate_.on_outgoing_answered(7, std::nullopt));
  EXPECT_EQ(placement_.claims, std::vector<std::string>{"dialled"});
  placement_.next = {ClaimStatus::kElsewhere, {"node-a", "h:1", "http://h:2"}, {}};
  EXPECT_FALSE(gate_.on_outgoing_answered(8, std::nullopt)) << "the UA then hangs it up";
}

TEST(CallDecisions, RedirectAndUnavailableFollowRfc3261) {
  const auto redirect = redirect_decision("1000", {"n", "10.0.0.7:5060", "http://10.0.0.7:8080"});
  EXPECT_EQ(redirect.status, 302);
  ASSERT_EQ(redirect.extra_headers.size(), 1U);
  EXPECT_EQ(redirect.extra_headers[0].name, "Contact");
  EXPECT_EQ(redirect.extra_headers[0].value, "<sip:1000@10.0.0.7:5060>");
  EXPECT_TRUE(redirect.sdp.empty());
  const auto busy = unavailable_decision("Draining", std::chrono::seconds(30));
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.extra_headers[0].name, "Retry-After");
  EXPECT_EQ(busy.extra_headers[0].value, "30");
}

}  // namespace call_gate_test
}  // namespace chorus::conference::cluster
