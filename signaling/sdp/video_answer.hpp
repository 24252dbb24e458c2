// The video half of plan_answer() (offer_answer.hpp), for the SFU. Internal (namespace detail).
//
// A video section passes offer_answer.cpp's admission (port, RTP profile, SRTP rules, address)
// and then:
// - Formats: every offered format we support, in VideoPolicy::codecs order (the SFU forwards
//   whichever codec a sender uses), offered payload numbers kept (RFC 3264 §6.1). VP8/90000
//   (RFC 7741) as is; H264/90000 (RFC 6184) only with packetization-mode=1 and a Constrained
//   Baseline or Baseline profile-level-id (absent: 42000a, Baseline level 1, §8.1). Baseline is
//   taken because every Baseline decoder decodes Constrained Baseline, and the senders that
//   offer it (room systems' "42801f", browsers' "42001f") send streams a Constrained Baseline
//   receiver decodes; the profile bytes are answered as offered (§8.2.2: the profile is
//   symmetric), the level is ours (h264_max_level_idc) when the offer has
//   level-asymmetry-allowed=1, else the lower of both.
// - Each format's rtx (RFC 4588 §8.1: the rtx/90000 format whose apt= names it), and its offered
//   rtcp-fb of nack, nack pli, ccm fir, goog-remb, transport-cc (the last only with the
//   transport-wide-cc header extension answered). Answered on any RTP profile: SIP room systems
//   offer RTP/AVP with "a=rtcp-fb:* ccm fir" and rely on FIR.
// - Direction within the budgets, counted in m-line order: the peer sending (sendonly,
//   sendrecv) takes a receive stream if fewer than max_receive_streams are taken; the peer
//   receiving takes a send stream ("video slot") under max_send_streams; a sendrecv section over
//   one budget keeps the other direction, over both (or a one-way section over its budget) gets
//   port 0 (kTooManyStreams). inactive is answered inactive and takes nothing.
// - Simulcast (RFC 8853, RFC 8851) on receive streams only, see answer_simulcast() in
//   video_answer.cpp.
// Pure functions: safe on any thread, no shared state.
#pragma once

#include <cstddef>

#include "signaling/sdp/offer_answer.hpp"

namespace chorus::sdp::detail {

// Video streams already accepted by earlier sections of the same offer.
struct VideoBudget {
  std::size_t receive = 0;
  std::size_t send = 0;
};

// Plans an admitted video section into `s` (formats, attributes, stream fields) and charges the
// budget; returns why it is rejected (kNoCommonCodec, kTooManyStreams), kNone when accepted.
RejectReason plan_video(const SessionDescription& offer, const MediaDescription& m, const MediaPolicy& policy,
                        VideoBudget& budget, PlannedSection& s);

}  // namespace chorus::sdp::detail
