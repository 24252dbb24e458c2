#include "media/rtcp/tmmbr.hpp"

#include "media/rtcp/byte_io.hpp"

namespace chorus::media::rtcp {

namespace {

std::optional<std::vector<TmmbItem>> parse_items(std::span<const std::uint8_t> fci) {
  std::vector<TmmbItem> items;
  for (std::size_t at = 0; at + TmmbItem::kSize <= fci.size(); at += TmmbItem::kSize) {
    const std::uint32_t word = read_u32(fci, at + 4);
    const auto bitrate = decode_bitrate(static_cast<std::uint8_t>(word >> 26), (word >> 9) & 0x1FFFF);
    if (!bitrate) return std::nullopt;
    items.push_back(TmmbItem{read_u32(fci, at), *bitrate, static_cast<std::uint16_t>(word & 0x1FF)});
  }
  return items;
}

std::optional<std::size_t> write_items(std::span<std::uint8_t> out, RtpfbFmt fmt, std::uint32_t sender_ssrc,
                                       const std::vector<TmmbItem>& items) {
  const std::size_t total = kFeedbackHeaderSize + items.size() * TmmbItem::kSize;
  for (const auto& item : items) {
    if (item.overhead > TmmbItem::kMaxOverhead) return std::nullopt;
  }
  // RFC 5104 §4.2.1.2: the media source SSRC is not used and is set to 0.
  if (!write_feedback_header(out, PacketType::kRtpfb, static_cast<std::uint8_t>(fmt), total, {sender_ssrc, 0})) {
    return std::nullopt;
  }
  std::size_t at = kFeedbackHeaderSize;
  for (const auto& item : items) {
    const auto encoded = encode_bitrate(item.bitrate_bps, TmmbItem::kMantissaBits);
    write_u32(out, at, item.ssrc);
    write_u32(out, at + 4,
              (std::uint32_t{encoded.exponent} << 26) | (encoded.mantissa << 9) | std::uint32_t{item.overhead});
    at += TmmbItem::kSize;
  }
  return total;
}

}  // namespace

std::optional<Tmmbr> Tmmbr::parse(const RtcpHeader& header) {
  const auto fci = feedback_fci(header, PacketType::kRtpfb, static_cast<std::uint8_t>(RtpfbFmt::kTmmbr));
  if (!fci || fci->size() < TmmbItem::kSize) return std::nullopt;
  auto items = parse_items(*fci);
  if (!items) return std::nullopt;
  return Tmmbr{feedback_ssrcs(header).sender_ssrc, std::move(*items)};
}

std::optional<std::size_t> Tmmbr::write(std::span<std::uint8_t> out) const {
  if (items.empty()) return std::nullopt;
  return write_items(out, RtpfbFmt::kTmmbr, sender_ssrc, items);
}

std::optional<Tmmbn> Tmmbn::parse(const RtcpHeader& header) {
  const auto fci = feedback_fci(header, PacketType::kRtpfb, static_cast<std::uint8_t>(RtpfbFmt::kTmmbn));
  if (!fci) return std::nullopt;
  auto items = parse_items(*fci);
  if (!items) return std::nullopt;
  return Tmmbn{feedback_ssrcs(header).sender_ssrc, std::move(*items)};
}

std::optional<std::size_t> Tmmbn::write(std::span<std::uint8_t> out) const {
  return write_items(out, RtpfbFmt::kTmmbn, sender_ssrc, items);
}

}  // namespace chorus::media::rtcp
