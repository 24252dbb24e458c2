// Parsers for RTP stream identifiers and simulcast: a=rid (RFC 8851 §10) and a=simulcast
// (RFC 8853 §5.1).
//
// A simulcasting sender declares each encoding with "a=rid:<id> send" and lists them, best first
// or in any order it likes, in "a=simulcast:send <id>;<id>;...": each ';'-separated entry is one
// RTP stream, a ','-separated list inside it gives alternatives for that stream, and a leading '~'
// proposes the stream paused. Like rtp_attributes.hpp, each parser takes the attribute value and
// returns views into it, or a static reason; lists are bounded (kMaxRidPayloadTypes,
// kMaxSimulcastIds). Pure functions: safe on any thread, no shared state.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/sdp/rtp_attributes.hpp"

namespace chorus::sdp {

// RFC 8852 §3.3: a rid travels in the RtpStreamId SDES item, and in the one-byte header extension
// form (RFC 8285 §4.2) an element carries at most 16 bytes; longer ids could not be sent there.
inline constexpr std::size_t kMaxRidLength = 16;
inline constexpr std::size_t kMaxRidPayloadTypes = 32;
// All rids one a=simulcast line may name, alternatives and both directions included.
inline constexpr std::size_t kMaxSimulcastIds = 32;

enum class RidDirection { kSend, kRecv };

// RFC 8851 §10: a=rid:<rid-id> SP <rid-dir> [SP ("pt=" fmt-list *(";" rid-param) / rid-param *(";" rid-param))]
struct RidView {
  std::string_view id;  // 1*(alpha-numeric / "-" / "_"), at most kMaxRidLength
  RidDirection direction = RidDirection::kSend;
  std::vector<int> payload_types;  // pt=...; empty: any format of the section may carry it
  // The restrictions after pt= as written ("max-width=1280;max-height=720"), "" when none. Each
  // was checked to be rid-param shaped (a name of letters, digits and '-', an optional =value).
  std::string_view restrictions;
};
std::expected<RidView, AttributeFault> parse_rid(std::string_view value);

// One rid in a=simulcast (RFC 8853 §5.1 sc-id: ["~"] rid-id).
struct SimulcastIdView {
  std::string_view rid;
  bool paused = false;
};
// One simulcast stream: its alternative rids, in preference order (sc-alt-list).
using SimulcastStreamView = std::vector<SimulcastIdView>;

// RFC 8853 §5.1: sc-value = (sc-send [SP sc-recv]) / (sc-recv [SP sc-send]).
struct SimulcastView {
  std::vector<SimulcastStreamView> send;  // streams the description's author sends
  std::vector<SimulcastStreamView> recv;  // streams it receives
};
// Refused: no or an unknown direction, a direction twice, an empty stream or rid, a rid named
// twice (§5.1: each rid at most once), more than kMaxSimulcastIds rids.
std::expected<SimulcastView, AttributeFault> parse_simulcast(std::string_view value);

// A rid as the answer keeps it (RFC 8853 §5.3.2): what NegotiatedStream::receive_rids lists.
struct SimulcastRid {
  std::string rid;
  bool paused = false;
  bool operator==(const SimulcastRid&) const = default;
};

}  // namespace chorus::sdp
