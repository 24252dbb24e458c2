// ConferenceService outside a meeting window (conference/meeting_not_started.cpp), on a real media
// worker and mixer with the build's spoken prompts: a caller offering PCMU is answered 183 with an
// SDP answer, held apart from the room (not counted, not listed), and refused 480 with a Warning
// through AudioHooks::reject_early once "meeting_not_started" has played; its ports go back when
// the call ends. Without an offer, or without prompts, the 480 comes at once and leases nothing.
#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "conference/conference_service.hpp"
#include "mixer/prompt_library.hpp"
#include "signaling/message/message_parser.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "tests/unit/conference/worker_sessions.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"
#include "tests/unit/test_support/wait_until.hpp"

namespace chorus::conference {
namespace meeting_not_started_test {

using namespace std::chrono_literals;

sip::SipMessage any_invite() {
  auto parsed = sip::parse_message(
      "INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKearly\r\n"
      "From: <sip:alice@example.com>;tag=a\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: early-1\r\n"
      "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  return parsed ? *parsed : sip::SipMessage{};
}

struct Rejection {
  sip::CallHandle call = 0;
  int status = 0;
  std::string reason;
  std::vector<sip::Header> headers;
};

struct MeetingNotStartedTest : ::testing::Test {
  MeetingNotStartedTest() {
    rooms.add(default_room());  // "1000", the audio mixer
    Meeting later;
    later.id = "m1";
    later.room_id = "1000";
    later.title = "in two days";
    later.start = std::chrono::system_clock::now() + std::chrono::hours(48);
    later.end = later.start + std::chrono::hours(1);
    calendar.put(later);
    service.set_calendar(&calendar);
  }

  // The hooks chorusd wires, with this thread as the control loop and the UA's part played here.
  void wire(const mixer::PromptLibrary* library) {
    ConferenceService::AudioHooks hooks;
    hooks.post_to_control = [this](std::function<void()> work) {
      std::lock_guard lock(mutex);
      posted.push_back(std::move(work));
    };
    hooks.hang_up = [](sip::CallHandle, std::string_view) { return false; };
    hooks.reject_early = [this](sip::CallHandle call, int status, std::string_view reason,
                                const std::vector<sip::Header>& headers) {
      rejections.push_back({call, status, std::string(reason), headers});
      service.on_call_ended(call, reason);  // what sip::UserAgent::reject_after_early_media does
      return true;
    };
    hooks.prompts = library;
    service.set_audio_hooks(std::move(hooks));
  }

  // Runs what the workers posted to the control loop until `done` or `limit` passes.
  void pump(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < until) {
      std::deque<std::function<void()>> batch;
      {
        std::lock_guard lock(mutex);
        batch.swap(posted);
      }
      for (auto& work : batch) work();
      std::this_thread::sleep_for(10ms);
    }
  }

  std::string offer() const {
    return "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio " +
           std::to_string(phone.local_endpoint().port()) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  }
  sip::CallDecision call(sip::CallHandle handle, const std::optional<std::string>& sdp) {
    sip::CallInfo info;
    info.handle = handle;
    info.call_id = "early-" + std::to_string(handle);
    info.request_user = "1000";
    info.from_uri = "sip:alice@example.com";
    return service.on_incoming_call(info, any_invite(), sdp);
  }
  // The ports go back once the call and the worker's session have both let go of them.
  std::size_t ports_when(std::size_t expected) {
    (void)chorus::test::wait_until([&] { return pool.bound_ports() == expected; });
    return pool.bound_ports();
  }
  std::uint64_t sessions_when(std::uint64_t expected) {
    return chorus::conference::test_support::sessions_when(workers, expected);
  }
  static std::optional<mixer::PromptLibrary> load_prompts() {
    auto library = mixer::PromptLibrary::load(mixer::PromptLibrary::default_dir(),
                                              std::array<std::string_view, 1>{"meeting_not_started"});
    if (!library) return std::nullopt;
    return std::move(*library);
  }

  boost::asio::io_context io;
  boost::asio::ip::udp::socket phone{io, {boost::asio::ip::make_address("127.0.0.1"), 0}};  // the caller's RTP port
  RoomDirectory rooms;
  MeetingCalendar calendar;
  const std::uint16_t first = chorus::test::free_udp_range(8);
  media::UdpPortPool pool{"127.0.0.1", first, static_cast<std::uint16_t>(first + 7)};
  media::MediaWorkerPool workers{1, nullptr};
  ConferenceService service{rooms, pool, sdp::MediaPolicy{}, &workers};
  std::mutex mutex;
  std::deque<std::function<void()>> posted;
  std::vector<Rejection> rejections;
};

TEST_F(MeetingNotStartedTest, CallerWithAudioHearsThePromptOverEarlyMediaThenGets480) {
  auto library = load_prompts();
  if (!library) GTEST_SKIP() << "no built prompts in " << mixer::PromptLibrary::default_dir();
  wire(&*library);
  const sip::CallDecision decision = call(7, offer());
  ASSERT_EQ(decision.status, 183) << decision.reason;
  auto answer = sdp::parse_sdp(decision.sdp);
  ASSERT_TRUE(answer.has_value()) << decision.sdp;
  ASSERT_EQ(answer->media.size(), 1u);
  EXPECT_NE(answer->media[0].port, 0);
  EXPECT_EQ(pool.bound_ports(), 2u) << "the early call's media really runs";
  EXPECT_EQ(sessions_when(1), 1u);
  EXPECT_EQ(service.participants_in("1000"), 0u) << "held apart: not in the conference";
  EXPECT_EQ(service.participant_count(), 0u);
  EXPECT_EQ(service.participant(7), nullptr);

  pump([&] { return !rejections.empty(); }, 20s);  // the prompt is a few seconds
  ASSERT_EQ(rejections.size(), 1u) << "the prompt never reported done";
  EXPECT_EQ(rejections[0].call, 7u);
  EXPECT_EQ(rejections[0].status, 480);
  EXPECT_EQ(rejections[0].reason, "Meeting Not Started");
  ASSERT_EQ(rejections[0].headers.size(), 1u);
  EXPECT_EQ(rejections[0].headers[0].name, "Warning");
  EXPECT_TRUE(rejections[0].headers[0].value.starts_with("399 chorus "));
  EXPECT_EQ(sessions_when(0), 0u);
  EXPECT_EQ(ports_when(0), 0u);
}

TEST_F(MeetingNotStartedTest, CancelWhileEarlyReleasesTheMediaAndNothingIsSentAfter) {
  auto library = load_prompts();
  if (!library) GTEST_SKIP() << "no built prompts in " << mixer::PromptLibrary::default_dir();
  wire(&*library);
  ASSERT_EQ(call(8, offer()).status, 183);
  service.on_call_ended(8, "CANCEL from caller");  // the UA answered the CANCEL and the INVITE 487
  EXPECT_EQ(sessions_when(0), 0u);
  EXPECT_EQ(ports_when(0), 0u);
  pump([] { return false; }, 500ms);
  EXPECT_TRUE(rejections.empty());
}

TEST_F(MeetingNotStartedTest, InviteWithoutOfferGets480AtOnce) {
  auto library = load_prompts();
  if (!library) GTEST_SKIP() << "no built prompts in " << mixer::PromptLibrary::default_dir();
  wire(&*library);
  const sip::CallDecision decision = call(9, std::nullopt);
  EXPECT_EQ(decision.status, 480);
  ASSERT_EQ(decision.extra_headers.size(), 1u);
  EXPECT_EQ(decision.extra_headers[0].name, "Warning");
  EXPECT_EQ(pool.bound_ports(), 0u);
}

TEST_F(MeetingNotStartedTest, WithoutPromptsTheRefusalIsImmediateAndLeasesNothing) {
  wire(nullptr);
  const sip::CallDecision decision = call(10, offer());
  EXPECT_EQ(decision.status, 480);
  EXPECT_EQ(decision.reason, "Meeting Not Started");
  ASSERT_EQ(decision.extra_headers.size(), 1u);
  EXPECT_EQ(decision.extra_headers[0].value, "399 chorus \"This meeting has not started\"");
  EXPECT_EQ(pool.bound_ports(), 0u);
  EXPECT_EQ(sessions_when(0), 0u);
}

TEST_F(MeetingNotStartedTest, OfferWithoutAudioTheMixerTakesGets480AndGivesThePortsBack) {
  auto library = load_prompts();
  if (!library) GTEST_SKIP() << "no built prompts in " << mixer::PromptLibrary::default_dir();
  wire(&*library);
  const std::string video_only =
      "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=video " +
      std::to_string(phone.local_endpoint().port()) + " RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n";
  const sip::CallDecision decision = call(11, video_only);
  EXPECT_EQ(decision.status, 480) << decision.reason;
  EXPECT_EQ(sessions_when(0), 0u);
  EXPECT_EQ(ports_when(0), 0u);
}

}  // namespace meeting_not_started_test
}  // namespace chorus::conference
