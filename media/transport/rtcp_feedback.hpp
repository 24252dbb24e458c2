// RtcpFeedback: the RTP/AVPF feedback an engine acts on, parsed out of a received RTCP compound
// packet (RFC 4585 §6, RFC 5104 §4.2.1 and §4.3.1, draft-alvestrand-rmcat-remb-03, draft-holmer-
// rmcat-transport-wide-cc-extensions-01 §3.1). A MediaSession hands each message to the sink of the
// stream it is about (PLI, FIR, NACK, TMMBR name one of our SSRCs), or offers transport-wide ones
// (REMB, transport-cc) to its sinks in turn (media_sink.hpp).
// The message types hold small vectors (NACK items, FIR entries, transport-cc packets): feedback
// arrives tens of times a second per transport, not per media packet, so this is not the RTP path.
// Threading: none of its own; the session's media worker.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>

#include "media/rtcp/generic_nack.hpp"
#include "media/rtcp/payload_feedback.hpp"
#include "media/rtcp/rtcp_header.hpp"
#include "media/rtcp/tmmbr.hpp"
#include "media/rtcp/transport_cc.hpp"

namespace chorus::media {

using RtcpFeedback = std::variant<rtcp::Pli, rtcp::Fir, rtcp::GenericNack, rtcp::Remb, rtcp::TransportCc, rtcp::Tmmbr>;

// The feedback message in `packet`, or nullopt for any other packet (SR, RR, SDES, BYE, APP, TMMBN,
// an unknown FMT) or a malformed one.
std::optional<RtcpFeedback> parse_feedback(const rtcp::RtcpHeader& packet);

// The SSRC of ours the message is about (PLI/NACK media SSRC, the first FIR or TMMBR entry's SSRC);
// nullopt for transport-wide feedback (REMB, transport-cc), which is about the whole transport.
std::optional<std::uint32_t> feedback_media_ssrc(const RtcpFeedback& feedback);

}  // namespace chorus::media
