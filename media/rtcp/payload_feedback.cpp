#include "media/rtcp/payload_feedback.hpp"

#include <algorithm>
#include <array>

#include "media/rtcp/byte_io.hpp"

namespace chorus::media::rtcp {

namespace {
constexpr std::array<std::uint8_t, 4> kRembIdentifier = {'R', 'E', 'M', 'B'};
constexpr auto fmt_of(PsfbFmt fmt) {
  return static_cast<std::uint8_t>(fmt);
}
}  // namespace

std::optional<Pli> Pli::parse(const RtcpHeader& header) {
  if (!feedback_fci(header, PacketType::kPsfb, fmt_of(PsfbFmt::kPli))) return std::nullopt;
  const auto ssrcs = feedback_ssrcs(header);
  return Pli{ssrcs.sender_ssrc, ssrcs.media_ssrc};
}

std::optional<std::size_t> Pli::write(std::span<std::uint8_t> out) const {
  if (!write_feedback_header(out, PacketType::kPsfb, fmt_of(PsfbFmt::kPli), size(), {sender_ssrc, media_ssrc})) {
    return std::nullopt;
  }
  return size();
}

std::optional<Fir> Fir::parse(const RtcpHeader& header) {
  const auto fci = feedback_fci(header, PacketType::kPsfb, fmt_of(PsfbFmt::kFir));
  if (!fci || fci->size() < FirEntry::kSize) return std::nullopt;
  Fir fir{feedback_ssrcs(header).sender_ssrc, {}};
  for (std::size_t at = 0; at + FirEntry::kSize <= fci->size(); at += FirEntry::kSize) {
    fir.entries.push_back(FirEntry{read_u32(*fci, at), (*fci)[at + 4]});
  }
  return fir;
}

std::optional<std::size_t> Fir::write(std::span<std::uint8_t> out) const {
  const std::size_t total = size();
  if (entries.empty() ||
      !write_feedback_header(out, PacketType::kPsfb, fmt_of(PsfbFmt::kFir), total, {sender_ssrc, 0})) {
    return std::nullopt;
  }
  std::size_t at = kFeedbackHeaderSize;
  for (const auto& entry : entries) {
    write_u32(out, at, entry.ssrc);
    write_u32(out, at + 4, std::uint32_t{entry.sequence_number} << 24);  // reserved bits are 0
    at += FirEntry::kSize;
  }
  return total;
}

std::optional<Remb> Remb::parse(const RtcpHeader& header) {
  const auto fci = feedback_fci(header, PacketType::kPsfb, fmt_of(PsfbFmt::kRemb));
  if (!fci || fci->size() < 8) return std::nullopt;
  if (!std::equal(kRembIdentifier.begin(), kRembIdentifier.end(), fci->begin())) return std::nullopt;
  const std::size_t count = (*fci)[4];
  if ((fci->size() - 8) / 4 < count) return std::nullopt;
  const std::uint32_t word = read_u32(*fci, 4);
  const auto bitrate = decode_bitrate(static_cast<std::uint8_t>((word >> 18) & 0x3F), word & 0x3FFFF);
  if (!bitrate) return std::nullopt;
  Remb remb{feedback_ssrcs(header).sender_ssrc, *bitrate, {}};
  for (std::size_t i = 0; i < count; ++i) remb.ssrcs.push_back(read_u32(*fci, 8 + i * 4));
  return remb;
}

std::optional<std::size_t> Remb::write(std::span<std::uint8_t> out) const {
  const std::size_t total = size();
  if (ssrcs.size() > kMaxSsrcs) return std::nullopt;
  // draft-alvestrand-rmcat-remb-03 §2.2: the media source SSRC is always 0.
  if (!write_feedback_header(out, PacketType::kPsfb, fmt_of(PsfbFmt::kRemb), total, {sender_ssrc, 0})) {
    return std::nullopt;
  }
  std::size_t at = kFeedbackHeaderSize;
  std::copy(kRembIdentifier.begin(), kRembIdentifier.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
  const auto encoded = encode_bitrate(bitrate_bps, kMantissaBits);
  write_u32(
      out, at + 4,
      (static_cast<std::uint32_t>(ssrcs.size()) << 24) | (std::uint32_t{encoded.exponent} << 18) | encoded.mantissa);
  at += 8;
  for (const auto ssrc : ssrcs) {
    write_u32(out, at, ssrc);
    at += 4;
  }
  return total;
}

}  // namespace chorus::media::rtcp
