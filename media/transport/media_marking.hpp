// MediaMarking: the DSCP classes of what a media session sends (issue 15; common/dscp.hpp).
//
// Audio gets EF and video AF41 by default (RFC 4594 §4.3, §4.4; RFC 8837 §5 for WebRTC). A
// session's sockets are marked once with the class of what they mostly carry: audio when any of
// its streams is audio (every call's audio, and a browser's BUNDLE transport, whose STUN, DTLS
// and RTCP then share audio's class), video for a transport that carries video only (a room
// system's separate video m-line). A bundled transport also carries video: each video RTP packet
// carries AF41 in its own ancillary data (IP_TOS / IPV6_TCLASS cmsg of sendmsg, ip(7), ipv6(7)),
// as Chrome marks each packet of a BUNDLE by its stream (RFC 8837 §5 allows several code points
// on one 5-tuple). Marking the whole socket EF instead would put video's bursts into the EF
// queue, which networks police to the voice rate (RFC 3246 §2.1): video would be dropped there
// and audio would wait behind it.
//
// A stream is video when its RTP clock is 90 kHz: every video payload format runs at 90 kHz
// (RFC 3551 §5; H.264 RFC 6184 §8.2.1, VP8 RFC 7741 §6.1), no audio one does (RFC 3551 §4.5,
// Opus 48 kHz RFC 7587 §4.1).
// Threading: plain values, copied into each worker's MediaEnvironment.
#pragma once

#include <cstdint>
#include <optional>

#include "common/dscp.hpp"

namespace chorus::media {

inline constexpr int kVideoClockRate = 90'000;

enum class TrafficClass : std::uint8_t { kAudio, kVideo };

inline TrafficClass traffic_class_of(int clock_rate) {
  return clock_rate == kVideoClockRate ? TrafficClass::kVideo : TrafficClass::kAudio;
}

struct MediaMarking {
  std::optional<std::uint8_t> audio;  // nullopt: leave the kernel's default (0)
  std::optional<std::uint8_t> video;
  DscpFailures* failures = nullptr;  // the server's; null: refusals are not counted

  [[nodiscard]] std::optional<std::uint8_t> dscp(TrafficClass traffic) const {
    return traffic == TrafficClass::kAudio ? audio : video;
  }
};

}  // namespace chorus::media
