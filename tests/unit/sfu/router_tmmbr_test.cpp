// A receiver's TMMBR (RFC 5104 §4.2.1) reaches its slot like PLI and FIR do (its entry names the
// slot's SSRC), but the SFU does not take it: a slot forwards a publisher's layers, which the
// receiver's bandwidth estimate chooses among. Above all it is not a key frame request.
#include <array>

#include "media/rtcp/payload_feedback.hpp"
#include "media/rtcp/tmmbr.hpp"
#include "tests/unit/sfu/router_test_support.hpp"

namespace chorus::sfu::test {
namespace router_tmmbr_test {

using chorus::test::wait_until;

constexpr ParticipantId kAnn = 1;
constexpr ParticipantId kBob = 2;

TEST_F(RouterTest, AReceiversTmmbrIsNotAKeyframeRequest) {
  join(kAnn, "Ann");
  join(kBob, "Bob");
  add_video(kAnn, /*produce=*/true, /*slot=*/false);
  add_video(kBob, false, true);
  send(kAnn, vp8_packet(publisher_ssrc(kAnn), 1, 3000, 1000, true));
  ASSERT_TRUE(wait_until([&] { return listener_->map_of(kBob) && (*listener_->map_of(kBob))[0].participant == kAnn; }));
  // A key frame after the slot took Ann: the switch is done, so no request of its own is pending.
  send(kAnn, vp8_packet(publisher_ssrc(kAnn), 2, 6000, 1001, true));
  send(kAnn, vp8_packet(publisher_ssrc(kAnn), 3, 9000, 1002, false));
  (void)receive(kAnn, 400ms);  // the slot's own first request, and the interval after it
  std::array<std::uint8_t, 32> tmmbr{};
  const auto length = media::rtcp::Tmmbr{0x1234, {media::rtcp::TmmbItem{slot_ssrc(kBob), 300000, 40}}}.write(tmmbr);
  ASSERT_TRUE(length.has_value());
  send(kBob, std::span(tmmbr).first(*length));
  EXPECT_EQ(plis_in(receive(kAnn, 300ms)), 0) << "a TMMBR asked the publisher for a key frame";
  // The path is live: a PLI on the same slot does reach Ann.
  std::array<std::uint8_t, 16> pli{};
  const auto pli_length = media::rtcp::Pli{0x1234, slot_ssrc(kBob)}.write(pli);
  ASSERT_TRUE(pli_length.has_value());
  send(kBob, std::span(pli).first(*pli_length));
  EXPECT_EQ(plis_in(receive(kAnn, 300ms)), 1);
}

}  // namespace router_tmmbr_test
}  // namespace chorus::sfu::test
