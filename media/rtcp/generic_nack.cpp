#include "media/rtcp/generic_nack.hpp"

#include "media/rtcp/byte_io.hpp"

namespace chorus::media::rtcp {

std::optional<GenericNack> GenericNack::parse(const RtcpHeader& header) {
  const auto fci = feedback_fci(header, PacketType::kRtpfb, static_cast<std::uint8_t>(RtpfbFmt::kNack));
  if (!fci || fci->size() < 4) return std::nullopt;
  const auto ssrcs = feedback_ssrcs(header);
  GenericNack nack{ssrcs.sender_ssrc, ssrcs.media_ssrc, {}};
  // A trailing partial entry cannot occur in a length-checked packet; integer division drops it.
  for (std::size_t at = 0; at + 4 <= fci->size(); at += 4) {
    nack.items.push_back(NackItem{read_u16(*fci, at), read_u16(*fci, at + 2)});
  }
  return nack;
}

GenericNack GenericNack::from_lost(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                   std::span<const std::uint16_t> lost) {
  GenericNack nack{sender_ssrc, media_ssrc, {}};
  for (const auto seq : lost) {
    if (!nack.items.empty()) {
      auto& last = nack.items.back();
      const auto distance = static_cast<std::uint16_t>(seq - last.pid);
      if (distance == 0) continue;
      if (distance <= 16) {
        last.blp = static_cast<std::uint16_t>(last.blp | (1U << (distance - 1)));
        continue;
      }
    }
    nack.items.push_back(NackItem{seq, 0});
  }
  return nack;
}

std::vector<std::uint16_t> GenericNack::lost_sequence_numbers() const {
  std::vector<std::uint16_t> lost;
  for (const auto& item : items) {
    lost.push_back(item.pid);
    for (unsigned bit = 0; bit < 16; ++bit) {
      if ((item.blp >> bit) & 1U) lost.push_back(static_cast<std::uint16_t>(item.pid + bit + 1));
    }
  }
  return lost;
}

std::optional<std::size_t> GenericNack::write(std::span<std::uint8_t> out) const {
  const std::size_t total = size();
  if (items.empty() || !write_feedback_header(out, PacketType::kRtpfb, static_cast<std::uint8_t>(RtpfbFmt::kNack),
                                              total, {sender_ssrc, media_ssrc})) {
    return std::nullopt;
  }
  std::size_t at = kFeedbackHeaderSize;
  for (const auto& item : items) {
    write_u16(out, at, item.pid);
    write_u16(out, at + 2, item.blp);
    at += 4;
  }
  return total;
}

}  // namespace chorus::media::rtcp
