// libFuzzer target for the SDP parser and the offer/answer code that reads what it produces.
//
//   clang++-14 -std=c++2b -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/sdp_fuzz.cpp signaling/sdp/*.cpp
//   ./a.out -max_total_time=60 -max_len=8192
//
// Besides crashes it checks two properties: what the serializer writes parses again (unless the
// CRLF line ends and the added s=/t= lines push it past the ingress limits), and serializing is a
// fixpoint after one round (parse → serialize → parse → serialize gives the same text).
// Offers are negotiated twice: audio only (the default policy), and with video enabled on small
// budgets, where the plan must keep its bounds (stream budgets, simulcast layers, formats, SSRCs,
// notes) and the answer must parse again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "signaling/sdp/format_parameters.hpp"
#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/rtp_attributes.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_serializer.hpp"
#include "signaling/sdp/simulcast.hpp"

namespace {

using namespace chorus::sdp;

std::size_t count_lines(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n' ? 1 : 0;
  return n;
}

// Our answers are checked for being SDP, not for fitting our own ingress limits (a video answer
// may hold more lines than the offer: rtcp-fb "*" becomes one line per format).
constexpr SdpLimits kAnswerLimits{SIZE_MAX, SIZE_MAX, kMaxMediaSections};

void check_video_bounds(const AnswerPlan& plan, const MediaPolicy& policy) {
  std::size_t receiving = 0;
  std::size_t sending = 0;
  for (const auto& section : plan.sections) {
    const NegotiatedStream& s = section.stream;
    if (section.notes.size() > kMaxSectionNotes || s.remote_ssrcs.size() > kMaxRemoteSsrcs ||
        s.remote_ssrc_groups.size() > kMaxSsrcGroups || s.video_formats.size() > kMaxVideoFormats) {
      std::abort();
    }
    if (!s.accepted || classify_media(s.media) != MediaType::kVideo) continue;
    if (s.video_formats.empty() || s.payload_type != s.video_formats.front().payload_type) std::abort();
    if (!s.receive_rids.empty() && !receives(s.local_direction)) std::abort();
    receiving += receives(s.local_direction) ? 1 : 0;
    sending += sends(s.local_direction) ? 1 : 0;
  }
  if (receiving > policy.video.max_receive_streams || sending > policy.video.max_send_streams) std::abort();
}

void exercise_negotiation(const SessionDescription& offer, bool video) {
  MediaPolicy policy;
  policy.accept_srtp = !offer.media.empty() && offer.media.front().port % 2 == 1;
  policy.max_audio_streams = 2;
  if (video) {
    policy.video.enabled = true;
    policy.video.max_receive_streams = 2;
    policy.video.max_send_streams = 3;
    policy.video.max_simulcast_layers = 2;
  }
  (void)is_hold(offer);
  auto plan = plan_answer(offer, policy);
  if (plan) {
    if (video) check_video_bounds(*plan, policy);
    MediaPorts ports;
    for (std::size_t i = 0; i < plan->ports_needed(); ++i) {
      ports.rtp_ports.push_back(static_cast<std::uint16_t>(20000 + 2 * i));
      ports.extra_attributes.push_back({Attribute{"crypto", "1 AES_CM_128_HMAC_SHA1_80 inline:key"}});
    }
    auto answer = build_answer(*plan, LocalMediaAddress{"2001:db8::1"}, ports, OriginInfo{});
    if (!answer) std::abort();  // enough ports and an address: must succeed
    std::string text = serialize_sdp(*answer);
    auto reparsed = parse_sdp(text, kAnswerLimits);
    if (!reparsed) std::abort();  // our own answer must be valid SDP
    (void)accept_answer(offer, *reparsed);
  } else if (plan.error().reason.empty()) {
    std::abort();
  }
  (void)accept_answer(offer, offer);
}

// The attribute parsers video negotiation uses, on every attribute value of the description.
void exercise_attribute(const Attribute& a) {
  if (!a.value) return;
  const std::string_view v = *a.value;
  (void)parse_extmap(v);
  (void)parse_rtcp_fb(v);
  (void)parse_ssrc(v);
  (void)parse_ssrc_group(v);
  (void)parse_msid(v);
  (void)parse_content(v);
  (void)parse_rid(v);
  (void)rtx_associated_payload_type(v);
  if (auto sc = parse_simulcast(v)) {
    std::size_t ids = 0;
    for (const auto* streams : {&sc->send, &sc->recv}) {
      for (const auto& stream : *streams) ids += stream.size();
    }
    if (ids > kMaxSimulcastIds) std::abort();
  }
  if (auto params = parse_format_parameters(v); params && params->size() > kMaxFormatParameters) std::abort();
  if (auto id = parse_h264_profile_level_id(v)) {
    // Round trip (in lower case), and changing the level keeps the profile.
    if (parse_h264_profile_level_id(to_string(*id)) != id) std::abort();
    if (auto rank = h264_level_rank(*id)) {
      auto same = with_h264_level_rank(*id, *rank);
      if (!same || h264_level_rank(*same) != rank || h264_profile(*same) != h264_profile(*id)) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The limits a call that may bring video is parsed with (a superset of the default ones).
  auto sd = parse_sdp(input, kVideoSdpLimits);
  if (!sd) return 0;
  for (const auto& m : sd->media) {
    (void)m.rtpmaps();
    for (const auto& f : m.formats) {
      (void)m.payload_mapping(f);
      (void)m.fmtp(f);
    }
    (void)m.ptime();
    (void)m.maxptime();
    (void)m.rtcp();
    (void)sd->effective_direction(m);
    for (const auto& a : m.attributes) exercise_attribute(a);
  }
  for (const auto& a : sd->attributes) exercise_attribute(a);
  std::string first = serialize_sdp(*sd);
  auto again = parse_sdp(first, kVideoSdpLimits);
  if (!again) {
    bool over_limits = first.size() > kVideoSdpLimits.max_bytes || count_lines(first) > kVideoSdpLimits.max_lines;
    if (!over_limits) std::abort();
    return 0;
  }
  if (serialize_sdp(*again) != first) std::abort();
  exercise_negotiation(*sd, false);
  exercise_negotiation(*sd, true);
  return 0;
}
