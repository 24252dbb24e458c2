// ConferenceService with video (DESIGN §7): a browser's BUNDLE offer (audio, a simulcast camera,
// nine receive slots) is answered on one transport — one port, one media session with a sink per
// section — with our SSRCs announced for what we send; a SIP room system's unbundled audio+video get
// one transport each; mcu rooms take video for the video MCU (one composite each); and a caller that asked
// for the slot map (Recv-Info) gets it by SIP INFO. Real workers, loopback ports.
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "conference/conference_service.hpp"
#include "media/dtls/dtls_certificate.hpp"
#include "media/dtls/dtls_context.hpp"
#include "signaling/message/message_parser.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "tests/unit/conference/worker_sessions.hpp"
#include "tests/unit/signaling/sdp/video_offers.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"

namespace chorus::conference {
namespace conference_video_test {

using namespace std::chrono_literals;

sip::CallInfo call_to(std::string room, sip::CallHandle handle, bool wants_slots = false) {
  sip::CallInfo info;
  info.handle = handle;
  info.call_id = "video-" + std::to_string(handle);
  info.request_user = std::move(room);
  info.from_uri = "sip:ann@example.com";
  info.from_display = "Ann";
  if (wants_slots) info.recv_info = {"chorus-video-slots"};
  return info;
}

std::vector<std::string> values(const sdp::AttributeList& list, std::string_view name) {
  std::vector<std::string> out;
  for (auto value : list.attribute_values(name)) out.emplace_back(value);
  return out;
}

struct ConferenceVideoTest : ::testing::Test {
  // The control loop of the INFO test (this thread runs what the workers post). First: the hooks
  // that refer to them live on in the workers' routers until the workers are gone.
  std::mutex mutex;
  std::vector<std::string> bodies;
  std::vector<std::function<void()>> queued;

  ConferenceVideoTest() {
    certificate = *media::dtls::DtlsCertificate::generate();
    context = *media::dtls::DtlsContext::create(*certificate);
    workers = std::make_unique<media::MediaWorkerPool>(1, &*context);
    first = chorus::test::free_udp_range(8);
    pool = std::make_unique<media::UdpPortPool>("127.0.0.1", first, static_cast<std::uint16_t>(first + 7));
    rooms.add(default_room());  // 1000, sfu
    Room mcu = default_room();
    mcu.id = "board";
    mcu.dial_in_number = "2000";
    mcu.mode = RoomMode::kMcu;
    rooms.add(mcu);
    SecurityOptions security;
    security.dtls_fingerprint = context->local_fingerprint();
    service = std::make_unique<ConferenceService>(rooms, *pool, sdp::MediaPolicy{}, workers.get(), security);
  }
  ~ConferenceVideoTest() override {
    for (sip::CallHandle handle = 1; handle <= 4; ++handle) service->on_call_ended(handle, "test over");
  }

  sip::CallDecision call(std::string room, sip::CallHandle handle, const std::string& offer, bool wants_slots = false) {
    static const sip::SipMessage invite;
    return service->on_incoming_call(call_to(std::move(room), handle, wants_slots), invite, offer);
  }

  static sdp::SessionDescription answer(const sip::CallDecision& decision) {
    auto parsed = sdp::parse_sdp(decision.sdp, sdp::kVideoSdpLimits);
    EXPECT_TRUE(parsed.has_value()) << decision.sdp;
    return parsed ? *parsed : sdp::SessionDescription{};
  }

  std::uint64_t sessions_when(std::uint64_t expected) {
    return chorus::conference::test_support::sessions_when(*workers, expected);
  }

  std::optional<media::dtls::DtlsCertificate> certificate;
  std::optional<media::dtls::DtlsContext> context;
  std::unique_ptr<media::MediaWorkerPool> workers;
  std::uint16_t first = 0;
  std::unique_ptr<media::UdpPortPool> pool;
  RoomDirectory rooms;
  std::unique_ptr<ConferenceService> service;
};

TEST_F(ConferenceVideoTest, ABrowsersBundleOfferIsAnsweredOnOneTransport) {
  auto decision = call("1000", 1, sdp::test::chrome_room_offer());
  ASSERT_EQ(decision.status, 200) << decision.reason;
  const auto sdp = answer(decision);
  ASSERT_EQ(sdp.media.size(), 11U);
  const std::uint16_t port = sdp.media[0].port;
  for (const auto& m : sdp.media) EXPECT_EQ(m.port, port) << "every bundled section on the BUNDLE transport";
  EXPECT_EQ(values(sdp, "group"), std::vector<std::string>{"BUNDLE 0 1 2 3 4 5 6 7 8 9 10"});
  EXPECT_TRUE(sdp.has_attribute("ice-lite"));
  // The camera: we receive its three layers.
  EXPECT_EQ(sdp.effective_direction(sdp.media[1]), sdp::Direction::kRecvOnly);
  EXPECT_EQ(values(sdp.media[1], "simulcast"), std::vector<std::string>{"recv q;h;f"});
  EXPECT_TRUE(values(sdp.media[1], "ssrc").empty()) << "we send nothing in the camera's section";
  // Each slot: we send, from our own SSRC with an RTX SSRC, its own stream and track.
  for (std::size_t i = 2; i < 11; ++i) {
    const auto& slot = sdp.media[i];
    EXPECT_EQ(sdp.effective_direction(slot), sdp::Direction::kSendOnly);
    const auto group = values(slot, "ssrc-group");
    ASSERT_EQ(group.size(), 1U);
    EXPECT_TRUE(group[0].starts_with("FID "));
    EXPECT_EQ(values(slot, "msid").size(), 1U);
    EXPECT_GE(values(slot, "ssrc").size(), 2U);
  }
  EXPECT_EQ(pool->bound_ports(), 2U) << "one RTP/RTCP port pair for the whole call";
  EXPECT_EQ(sessions_when(1), 1U);
  const auto* participant = service->participant(1);
  ASSERT_NE(participant, nullptr);
  ASSERT_EQ(participant->media.size(), 1U);
  EXPECT_EQ(participant->media[0].sections.size(), 11U);
}

TEST_F(ConferenceVideoTest, ARoomSystemsAudioAndVideoGetATransportEach) {
  auto decision = call("1000", 1, std::string(sdp::test::kBaresipVideoOffer));
  ASSERT_EQ(decision.status, 200) << decision.reason;
  const auto sdp = answer(decision);
  ASSERT_EQ(sdp.media.size(), 2U);
  EXPECT_NE(sdp.media[0].port, 0);
  EXPECT_NE(sdp.media[1].port, 0);
  EXPECT_NE(sdp.media[0].port, sdp.media[1].port);
  EXPECT_EQ(sdp.effective_direction(sdp.media[1]), sdp::Direction::kSendRecv);
  EXPECT_FALSE(values(sdp.media[1], "ssrc").empty()) << "our video slot's SSRC is announced";
  EXPECT_EQ(sessions_when(2), 2U);
}

TEST_F(ConferenceVideoTest, AnMcuRoomAnswersARoomSystemsVideoBothWays) {
  auto decision = call("2000", 1, std::string(sdp::test::kBaresipVideoOffer));
  ASSERT_EQ(decision.status, 200) << decision.reason;
  const auto sdp = answer(decision);
  ASSERT_EQ(sdp.media.size(), 2U);
  EXPECT_NE(sdp.media[0].port, 0) << "audio goes on";
  EXPECT_NE(sdp.media[1].port, 0) << "the video MCU takes its camera and sends it the composite";
  EXPECT_EQ(sdp.effective_direction(sdp.media[1]), sdp::Direction::kSendRecv);
  EXPECT_FALSE(values(sdp.media[1], "ssrc").empty()) << "the composite's SSRC is announced";
  EXPECT_TRUE(service->video_mcu().has_member(service->participant(1)->id));
  EXPECT_FALSE(service->video().has_member(service->participant(1)->id)) << "no SFU in an mcu room";
}

TEST_F(ConferenceVideoTest, AnMcuRoomSendsABrowserOneCompositeAndRefusesItsOtherSlots) {
  auto decision = call("2000", 1, sdp::test::chrome_room_offer());
  ASSERT_EQ(decision.status, 200) << decision.reason;
  const auto sdp = answer(decision);
  ASSERT_EQ(sdp.media.size(), 11U);
  EXPECT_EQ(sdp.effective_direction(sdp.media[1]), sdp::Direction::kRecvOnly) << "its camera comes to us";
  EXPECT_NE(sdp.media[2].port, 0);
  EXPECT_EQ(sdp.effective_direction(sdp.media[2]), sdp::Direction::kSendOnly) << "the composite";
  for (std::size_t i = 3; i < 11; ++i) EXPECT_EQ(sdp.media[i].port, 0) << "slot " << i << ": one composite is enough";
}

TEST_F(ConferenceVideoTest, ACallerThatAskedForTheSlotMapGetsItByInfo) {
  ConferenceService::AudioHooks audio;
  audio.post_to_control = [&](std::function<void()> work) {
    const std::lock_guard lock(mutex);
    queued.push_back(std::move(work));
  };
  service->set_audio_hooks(audio);
  ConferenceService::VideoHooks hooks;
  hooks.post_to_control = audio.post_to_control;
  hooks.send_info = [&](sip::CallHandle call, std::string_view package, std::string_view type, std::string body) {
    EXPECT_EQ(call, 1U);
    EXPECT_EQ(package, kVideoSlotsInfoPackage);
    EXPECT_EQ(type, kVideoSlotsContentType);
    bodies.push_back(std::move(body));
    return true;
  };
  service->set_video(VideoSettings{}, hooks);
  ASSERT_EQ(call("1000", 1, sdp::test::chrome_room_offer(), /*wants_slots=*/true).status, 200);
  // The control loop is this thread: run what the workers posted until the map arrived.
  for (int i = 0; i < 200 && bodies.empty(); ++i) {
    std::vector<std::function<void()>> now;
    {
      const std::lock_guard lock(mutex);
      now.swap(queued);
    }
    for (auto& work : now) work();
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(bodies.empty());
  const auto map = nlohmann::json::parse(bodies.back());
  EXPECT_EQ(map["admission"], "admitted");
  ASSERT_EQ(map["slots"].size(), 9U);
  EXPECT_EQ(map["slots"][0]["mid"], "2");
  EXPECT_TRUE(map["slots"][0]["participant_id"].is_null()) << "alone in the room: every slot is dark";
  EXPECT_GE(map["version"].get<int>(), 1);
}

// A plain-RTP audio section "a0" in `group`, and a video section after it (`video_m` its m= line).
std::string audio_and_video(std::string_view group, std::string_view video_m, std::string_view video_mid,
                            std::string_view video_extra = {}) {
  return "v=0\r\no=- 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\na=group:" + std::string(group) +
         "\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=mid:a0\r\na=sendrecv\r\n" + std::string(video_m) +
         "\r\na=rtpmap:100 VP8/90000\r\na=mid:" + std::string(video_mid) + "\r\na=sendonly\r\n" +
         std::string(video_extra);
}

// The answer to audio_and_video(): the video accepted on a transport of its own, outside the group.
sdp::SessionDescription expect_video_moved_out(const sip::CallDecision& decision) {
  EXPECT_EQ(decision.status, 200) << decision.reason;
  auto sdp = ConferenceVideoTest::answer(decision);
  if (sdp.media.size() != 2U) {
    ADD_FAILURE() << "two sections expected: " << decision.sdp;
    return sdp;
  }
  EXPECT_NE(sdp.media[0].port, 0);
  EXPECT_NE(sdp.media[1].port, 0);
  EXPECT_NE(sdp.media[0].port, sdp.media[1].port) << "the video has a transport of its own";
  EXPECT_EQ(values(sdp, "group"), std::vector<std::string>{"BUNDLE a0"});
  return sdp;
}

// An offer that bundles a plain-RTP audio with an SDES-keyed video (found by sdp_offer_fuzz): one
// transport has one keying, so the video is moved out of the group onto its own keyed transport
// (RFC 8843 §7.3.3). Before, the shared transport was keyed by the audio (none) and the call got 500.
TEST_F(ConferenceVideoTest, ASectionKeyedUnlikeItsBundleIsMovedOutOfTheGroup) {
  const auto sdp = expect_video_moved_out(
      call("1000", 1,
           audio_and_video("BUNDLE a0 v1", "m=video 4000 RTP/SAVP 100", "v1",
                           "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n")));
  ASSERT_EQ(sdp.media.size(), 2U);
  EXPECT_EQ(values(sdp.media[1], "crypto").size(), 1U) << "keyed as it was offered";
  EXPECT_TRUE(values(sdp.media[0], "crypto").empty());
}

// RFC 5888 §4: a MID is unique in a description. A second section repeating one bundles nothing.
TEST_F(ConferenceVideoTest, ASectionRepeatingAMidIsNotBundled) {
  expect_video_moved_out(call("1000", 1, audio_and_video("BUNDLE a0", "m=video 4002 RTP/AVP 100", "a0")));
}

}  // namespace conference_video_test
}  // namespace chorus::conference
