// PIN security through ConferenceService, as the SIP path drives it (digits by SIP INFO, no media
// workers): the PIN entry timeout on the control loop's timers (a ManualTimerQueue, so no test
// sleeps), wrong PINs counted across parallel calls from one source, the lockout's event and
// counters, refused callers hung up without their digits being checked, and the right PIN from
// another source still admitted.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "conference/conference_service.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"

namespace chorus::conference {
namespace pin_security_test {

using namespace std::chrono_literals;

constexpr std::string_view kOffer =
    "v=0\r\n"
    "o=alice 1 1 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

constexpr std::string_view kGuesser = "192.0.2.7";
constexpr std::string_view kOwner = "198.51.100.20";
constexpr std::string_view kRightPin = "482915";

struct PinSecurityTest : ::testing::Test {
  PinSecurityTest() {
    Room room = default_room();
    room.pin = std::string(kRightPin);
    rooms.add(room);
    service.set_event_log(&events);
    ConferenceService::AudioHooks hooks;
    hooks.post_to_control = [this](std::function<void()> work) { posted.push_back(std::move(work)); };
    hooks.hang_up = [this](sip::CallHandle call, std::string_view reason) {
      hung_up.emplace_back(call, std::string(reason));
      service.on_call_ended(call, reason);
      return true;
    };
    hooks.timers = &timers;
    service.set_audio_hooks(std::move(hooks));
    PinSecuritySettings settings;
    settings.entry_timeout = 30s;
    settings.guard.max_failures = 3;
    settings.guard.room_max_failures = 100;
    service.audio().set_pin_security(settings);
  }

  int call(sip::CallHandle handle, std::string_view source) {
    sip::CallInfo info;
    info.handle = handle;
    info.call_id = "pin-" + std::to_string(handle);
    info.request_user = "1000";
    info.from_uri = "sip:caller@example.com";
    info.source.address = boost::asio::ip::make_address(std::string(source));
    info.source.port = 5060;
    return service.on_incoming_call(info, sip::SipMessage{}, std::string(kOffer)).status;
  }
  void type(sip::CallHandle handle, std::string_view keys) {
    for (char key : keys) service.on_dtmf(handle, key, 160);
    run_posted();
  }
  void run_posted() {
    while (!posted.empty()) {
      auto work = std::move(posted.front());
      posted.pop_front();
      work();
    }
  }
  void advance(Millis by) {
    timers.advance(by);
    run_posted();
  }
  [[nodiscard]] std::string hang_up_reason(sip::CallHandle handle) const {
    for (const auto& [call, reason] : hung_up)
      if (call == handle) return reason;
    return {};
  }
  [[nodiscard]] std::vector<Event> events_of(std::string_view type) const {
    std::vector<Event> out;
    for (auto& event : events.since(0, 1000).events)
      if (event.type == type) out.push_back(event);
    return out;
  }

  RoomDirectory rooms;
  const std::uint16_t first_port = chorus::test::free_udp_range(16);
  media::UdpPortPool pool{"127.0.0.1", first_port, static_cast<std::uint16_t>(first_port + 15)};
  ConferenceService service{rooms, pool, sdp::MediaPolicy{}};
  EventLog events;
  ManualTimerQueue timers;
  std::deque<std::function<void()>> posted;
  std::vector<std::pair<sip::CallHandle, std::string>> hung_up;
};

TEST_F(PinSecurityTest, SilentCallerIsHungUpWhenPinEntryTimesOut) {
  ASSERT_EQ(call(1, kOwner), 200);
  advance(29s);
  EXPECT_TRUE(hung_up.empty());
  EXPECT_EQ(service.participants_in("1000"), 1u);
  advance(1s);
  EXPECT_EQ(hang_up_reason(1), "PIN entry timed out");
  EXPECT_EQ(service.participants_in("1000"), 0u);
  EXPECT_EQ(pool.bound_ports(), 0u) << "its ports went back with it";
  EXPECT_EQ(service.audio().pin_counters().timeouts.load(), 1u);
  EXPECT_EQ(service.audio().pin_counters().failures.load(), 0u) << "silence is not a wrong PIN";
}

TEST_F(PinSecurityTest, CallerTypingSlowlyButRightIsNotHungUpLater) {
  ASSERT_EQ(call(1, kOwner), 200);
  advance(20s);
  type(1, std::string(kRightPin) + "#");
  ASSERT_NE(service.participant(1), nullptr);
  EXPECT_TRUE(service.participant(1)->admitted);
  EXPECT_EQ(timers.pending(), 0u) << "admission cancels the timeout";
  advance(60s);
  EXPECT_TRUE(hung_up.empty());
}

TEST_F(PinSecurityTest, CallerWhoHangsUpFirstLeavesNoTimerBehind) {
  ASSERT_EQ(call(1, kOwner), 200);
  service.on_call_ended(1, "BYE");
  EXPECT_EQ(timers.pending(), 0u);
  advance(60s);
  EXPECT_TRUE(hung_up.empty());
}

TEST_F(PinSecurityTest, GuesserOnParallelCallsIsLockedOutAfterTheLimitAcrossCalls) {
  // Five calls from one source, all answered before any guess: each guesses once.
  for (sip::CallHandle handle = 1; handle <= 5; ++handle) ASSERT_EQ(call(handle, kGuesser), 200);
  for (sip::CallHandle handle = 1; handle <= 5; ++handle) type(handle, "111111#");
  EXPECT_EQ(service.audio().pin_counters().failures.load(), 3u) << "only three guesses were checked";
  EXPECT_EQ(service.audio().pin_counters().lockouts.load(), 1u);
  EXPECT_EQ(service.audio().pin_counters().refused.load(), 3u)
      << "the call whose guess locked it out, and the two after";
  EXPECT_EQ(hang_up_reason(3), "PIN entry locked out") << "the call whose guess locked the source out";
  EXPECT_EQ(hang_up_reason(4), "PIN entry locked out");
  EXPECT_EQ(hang_up_reason(5), "PIN entry locked out");
  EXPECT_TRUE(hang_up_reason(1).empty()) << "a call with attempts left is re-prompted";

  const auto lockouts = events_of(event_type::kSecurityPinLockout);
  ASSERT_EQ(lockouts.size(), 1u);
  EXPECT_EQ(lockouts[0].data.at("room_id"), "1000");
  EXPECT_EQ(lockouts[0].data.at("source"), std::string(kGuesser));
  EXPECT_EQ(lockouts[0].data.at("scope"), "source");
  EXPECT_EQ(lockouts[0].data.at("failures"), 3);
  EXPECT_EQ(lockouts[0].data.at("lockout_seconds"), 60);
  EXPECT_TRUE(lockouts[0].data.at("until").is_string());
}

TEST_F(PinSecurityTest, LockedOutSourceIsRefusedEvenWithTheRightPin) {
  for (sip::CallHandle handle = 1; handle <= 3; ++handle) {
    ASSERT_EQ(call(handle, kGuesser), 200);
    type(handle, "111111#");
  }
  ASSERT_EQ(call(10, kGuesser), 200);  // a new call: told and hung up before any digit
  run_posted();
  EXPECT_EQ(hang_up_reason(10), "PIN entry locked out");
  EXPECT_EQ(service.participant(10), nullptr);
}

TEST_F(PinSecurityTest, RightPinFromAnotherSourceStillGetsInDuringTheLockout) {
  for (sip::CallHandle handle = 1; handle <= 3; ++handle) {
    ASSERT_EQ(call(handle, kGuesser), 200);
    type(handle, "111111#");
  }
  ASSERT_EQ(call(20, kOwner), 200);
  type(20, std::string(kRightPin) + "#");
  ASSERT_NE(service.participant(20), nullptr);
  EXPECT_TRUE(service.participant(20)->admitted);
}

TEST_F(PinSecurityTest, LockoutEndsAndTheSourceMayTryAgain) {
  for (sip::CallHandle handle = 1; handle <= 3; ++handle) {
    ASSERT_EQ(call(handle, kGuesser), 200);
    type(handle, "111111#");
  }
  advance(61s);
  ASSERT_EQ(call(30, kGuesser), 200);
  type(30, std::string(kRightPin) + "#");
  ASSERT_NE(service.participant(30), nullptr);
  EXPECT_TRUE(service.participant(30)->admitted);
}

}  // namespace pin_security_test
}  // namespace chorus::conference
