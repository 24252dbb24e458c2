#include "media/transport/rtcp_feedback.hpp"

#include "media/rtcp/feedback.hpp"

namespace chorus::media {

std::optional<RtcpFeedback> parse_feedback(const rtcp::RtcpHeader& packet) {
  if (packet.is(rtcp::PacketType::kRtpfb)) {
    switch (static_cast<rtcp::RtpfbFmt>(packet.fmt())) {
      case rtcp::RtpfbFmt::kNack:
        if (auto nack = rtcp::GenericNack::parse(packet)) return RtcpFeedback{std::move(*nack)};
        return std::nullopt;
      case rtcp::RtpfbFmt::kTmmbr:
        if (auto tmmbr = rtcp::Tmmbr::parse(packet)) return RtcpFeedback{std::move(*tmmbr)};
        return std::nullopt;
      case rtcp::RtpfbFmt::kTransportCc:
        if (auto feedback = rtcp::TransportCc::parse(packet)) return RtcpFeedback{std::move(*feedback)};
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }
  if (packet.is(rtcp::PacketType::kPsfb)) {
    switch (static_cast<rtcp::PsfbFmt>(packet.fmt())) {
      case rtcp::PsfbFmt::kPli:
        if (auto pli = rtcp::Pli::parse(packet)) return RtcpFeedback{*pli};
        return std::nullopt;
      case rtcp::PsfbFmt::kFir:
        if (auto fir = rtcp::Fir::parse(packet)) return RtcpFeedback{std::move(*fir)};
        return std::nullopt;
      case rtcp::PsfbFmt::kRemb:
        if (auto remb = rtcp::Remb::parse(packet)) return RtcpFeedback{std::move(*remb)};
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::uint32_t> feedback_media_ssrc(const RtcpFeedback& feedback) {
  if (const auto* pli = std::get_if<rtcp::Pli>(&feedback)) return pli->media_ssrc;
  if (const auto* nack = std::get_if<rtcp::GenericNack>(&feedback)) return nack->media_ssrc;
  // RFC 5104 §4.3.1.2: the FIR's own media SSRC is unused; each entry names the encoder.
  if (const auto* fir = std::get_if<rtcp::Fir>(&feedback); fir && !fir->entries.empty())
    return fir->entries.front().ssrc;
  // RFC 5104 §4.2.1.1: likewise the TMMBR's media SSRC is 0; its entry names the media sender it
  // limits. Parsing guarantees at least one entry.
  if (const auto* tmmbr = std::get_if<rtcp::Tmmbr>(&feedback); tmmbr && !tmmbr->items.empty())
    return tmmbr->items.front().ssrc;
  return std::nullopt;
}

}  // namespace chorus::media
