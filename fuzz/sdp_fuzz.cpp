// libFuzzer target for the SDP parser and the offer/answer code that reads what it produces.
//
//   clang++-14 -std=c++2b -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/sdp_fuzz.cpp signaling/sdp/*.cpp
//   ./a.out -max_total_time=60 -max_len=8192
//
// Besides crashes it checks two properties: what the serializer writes parses again (unless the
// CRLF line ends and the added s=/t= lines push it past the ingress limits), and serializing is a
// fixpoint after one round (parse → serialize → parse → serialize gives the same text).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_serializer.hpp"

namespace {

using namespace chorus::sdp;

std::size_t count_lines(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n' ? 1 : 0;
  return n;
}

void exercise_negotiation(const SessionDescription& offer) {
  MediaPolicy policy;
  policy.accept_srtp = !offer.media.empty() && offer.media.front().port % 2 == 1;
  policy.max_audio_streams = 2;
  (void)is_hold(offer);
  auto plan = plan_answer(offer, policy);
  if (plan) {
    MediaPorts ports;
    for (std::size_t i = 0; i < plan->ports_needed(); ++i) {
      ports.rtp_ports.push_back(static_cast<std::uint16_t>(20000 + 2 * i));
      ports.extra_attributes.push_back({Attribute{"crypto", "1 AES_CM_128_HMAC_SHA1_80 inline:key"}});
    }
    auto answer = build_answer(*plan, LocalMediaAddress{"2001:db8::1"}, ports, OriginInfo{});
    if (!answer) std::abort();  // enough ports and an address: must succeed
    std::string text = serialize_sdp(*answer);
    auto reparsed = parse_sdp(text);
    if (!reparsed) std::abort();  // our own answer must be valid SDP
    (void)accept_answer(offer, *reparsed);
  } else if (plan.error().reason.empty()) {
    std::abort();
  }
  (void)accept_answer(offer, offer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto sd = parse_sdp(input);
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
  }
  std::string first = serialize_sdp(*sd);
  auto again = parse_sdp(first);
  if (!again) {
    bool over_limits = first.size() > kMaxSdpBytes || count_lines(first) > kMaxSdpLines;
    if (!over_limits) std::abort();
    return 0;
  }
  if (serialize_sdp(*again) != first) std::abort();
  exercise_negotiation(*sd);
  return 0;
}
