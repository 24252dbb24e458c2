// Pieces of RFC 3264 answering that audio and video sections share: where to send, the RTP
// header extensions (RFC 8285 §6), what a section reports about the offerer's streams (a=ssrc,
// a=ssrc-group, a=content, b=TIAS/AS) and the notes a plan keeps about what it left out.
// Internal to offer_answer.cpp and video_answer.cpp (namespace detail); callers use
// offer_answer.hpp. Pure functions: safe on any thread, no shared state.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/sdp/offer_answer.hpp"

namespace chorus::sdp::detail {

// "<pt> <encoding>/<rate>[/<channels>]", the channel count written only when it is not 1.
std::string rtpmap_value(std::string_view pt, std::string_view encoding, int clock_rate, int channels);

// RFC 3264 §8.4: c=0.0.0.0 (RFC 2543 hold) means the peer receives nothing. Not so with ICE
// (RFC 8839 §5.1): WebRTC writes c=IN IP4 0.0.0.0 as a placeholder and uses its candidates.
bool address_holds(const SessionDescription& sd, const MediaDescription& m, const Connection* c);

// Fills where to send: the section's port and c= (none for a bundle-only section without one),
// RTCP per RFC 3605 a=rtcp, RFC 5761 mux, or RFC 3550 §11 port + 1.
void fill_remote(NegotiatedStream& s, const MediaDescription& m, const Connection* c, bool rtcp_mux);

// Adds a note to the section unless it already has kMaxSectionNotes.
void add_note(PlannedSection& s, std::string note);

// The header extension URIs each media type answers.
std::span<const std::string_view> audio_extension_uris();
std::span<const std::string_view> video_extension_uris();

// RFC 8285 §6: the section's offered a=extmap (media level, then session level) whose URI is in
// `supported`, each with the offered id. Ids above 14 count only with a=extmap-allow-mixed
// (session or media level); an id or URI already seen, an id or direction out of the grammar,
// is skipped (and noted). Appends the answer's a=extmap lines (an offered direction reversed)
// and, when offered, a=extmap-allow-mixed; returns what was answered.
std::vector<HeaderExtension> answer_extensions(const SessionDescription& offer, const MediaDescription& m,
                                               std::span<const std::string_view> supported, PlannedSection& s);

// RFC 5506 §5: a=rtcp-rsize answered when offered; sets NegotiatedStream::rtcp_rsize.
void answer_rtcp_rsize(const MediaDescription& m, PlannedSection& s);

// What an accepted section reports about the offerer's streams: a=ssrc ids and a=ssrc-group
// (bounded by kMaxRemoteSsrcs / kMaxSsrcGroups), a=content, b=TIAS or b=AS.
void report_remote_streams(const SessionDescription& offer, const MediaDescription& m, PlannedSection& s);

// b=TIAS in bit/s, else b=AS in kbit/s × 1000 (saturating), from `bandwidths`; 0 when neither.
std::uint64_t max_bitrate_bps(const std::vector<Bandwidth>& bandwidths);

}  // namespace chorus::sdp::detail
