#include "media/rtcp/transport_cc.hpp"

#include <algorithm>
#include <limits>

#include "media/rtcp/byte_io.hpp"

namespace chorus::media::rtcp {

namespace {

constexpr std::size_t kMaxRunLength = 0x1FFF;
constexpr std::size_t kOneBitSymbols = 14;
constexpr std::size_t kTwoBitSymbols = 7;
constexpr std::uint16_t kReservedSymbol = 3;

// Appends the statuses one chunk describes, never more than `count` in total.
bool expand_chunk(std::uint16_t chunk, std::size_t count, std::vector<TransportCcStatus>& statuses) {
  const auto append = [&](std::uint16_t symbol) {
    if (statuses.size() >= count) return true;  // symbols past the status count are padding
    if (symbol == kReservedSymbol) return false;
    statuses.push_back(static_cast<TransportCcStatus>(symbol));
    return true;
  };
  if ((chunk & 0x8000) == 0) {
    // §3.1.3 run length chunk: T=0, S (2 bits), run length (13 bits).
    const auto symbol = static_cast<std::uint16_t>((chunk >> 13) & 0x3);
    const std::size_t run = std::min<std::size_t>(chunk & kMaxRunLength, count - statuses.size());
    if (run > 0 && symbol == kReservedSymbol) return false;
    statuses.insert(statuses.end(), run, static_cast<TransportCcStatus>(symbol));
    return true;
  }
  // §3.1.4 status vector chunk: T=1, S=0 for 14 one-bit symbols, S=1 for 7 two-bit symbols.
  if ((chunk & 0x4000) == 0) {
    for (int bit = 13; bit >= 0; --bit) append(static_cast<std::uint16_t>((chunk >> bit) & 0x1));
    return true;
  }
  for (int shift = 12; shift >= 0; shift -= 2) {
    if (!append(static_cast<std::uint16_t>((chunk >> shift) & 0x3))) return false;
  }
  return true;
}

// The chunk that best encodes packets[i..], and how many packets it covers: a run when one is
// long, else a one-bit vector when no large delta is near, else a two-bit vector.
std::uint16_t next_chunk(const std::vector<TransportCcPacket>& packets, std::size_t i, std::size_t& covered) {
  const std::size_t remaining = packets.size() - i;
  std::size_t run = 1;
  while (run < remaining && run < kMaxRunLength && packets[i + run].status == packets[i].status) ++run;
  const std::size_t window = std::min(kOneBitSymbols, remaining);
  const bool has_large = std::any_of(packets.begin() + static_cast<std::ptrdiff_t>(i),
                                     packets.begin() + static_cast<std::ptrdiff_t>(i + window),
                                     [](const auto& p) { return p.status == TransportCcStatus::kReceivedLargeDelta; });
  if (run >= kOneBitSymbols || (run >= kTwoBitSymbols && has_large)) {
    covered = run;
    return static_cast<std::uint16_t>((static_cast<unsigned>(packets[i].status) << 13) | run);
  }
  std::uint16_t chunk = 0x8000;
  if (!has_large) {
    covered = window;
    for (std::size_t k = 0; k < window; ++k) {
      if (packets[i + k].received()) chunk = static_cast<std::uint16_t>(chunk | (1U << (13 - k)));
    }
    return chunk;
  }
  covered = std::min(kTwoBitSymbols, remaining);
  chunk |= 0x4000;
  for (std::size_t k = 0; k < covered; ++k) {
    const auto symbol = static_cast<unsigned>(packets[i + k].status);
    chunk = static_cast<std::uint16_t>(chunk | (symbol << (12 - 2 * k)));
  }
  return chunk;
}

// The delta in ticks if it fits the field its status selects.
std::optional<std::int32_t> delta_ticks(const TransportCcPacket& packet) {
  const auto ticks = packet.receive_delta / TransportCc::kDeltaTick;
  if (packet.status == TransportCcStatus::kReceivedSmallDelta) {
    if (ticks < 0 || ticks > 0xFF) return std::nullopt;
  } else if (ticks < std::numeric_limits<std::int16_t>::min() || ticks > std::numeric_limits<std::int16_t>::max()) {
    return std::nullopt;
  }
  return static_cast<std::int32_t>(ticks);
}

}  // namespace

std::optional<TransportCc> TransportCc::parse(const RtcpHeader& header) {
  const auto fci = feedback_fci(header, PacketType::kRtpfb, static_cast<std::uint8_t>(RtpfbFmt::kTransportCc));
  if (!fci || fci->size() < TransportCc::kFixedFciSize) return std::nullopt;
  const auto ssrcs = feedback_ssrcs(header);
  TransportCc feedback;
  feedback.sender_ssrc = ssrcs.sender_ssrc;
  feedback.media_ssrc = ssrcs.media_ssrc;
  feedback.base_sequence = read_u16(*fci, 0);
  const std::size_t count = read_u16(*fci, 2);
  feedback.reference_time = sign_extend(read_u24(*fci, 4), 24);
  feedback.feedback_count = (*fci)[7];
  if (count == 0) return std::nullopt;

  std::vector<TransportCcStatus> statuses;
  std::size_t at = TransportCc::kFixedFciSize;
  while (statuses.size() < count) {
    if (fci->size() - at < 2) return std::nullopt;
    if (!expand_chunk(read_u16(*fci, at), count, statuses)) return std::nullopt;
    at += 2;
  }
  feedback.packets.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    TransportCcPacket packet{static_cast<std::uint16_t>(feedback.base_sequence + i), statuses[i], {}};
    if (packet.status == TransportCcStatus::kReceivedSmallDelta) {
      if (fci->size() - at < 1) return std::nullopt;
      packet.receive_delta = (*fci)[at] * kDeltaTick;
      at += 1;
    } else if (packet.status == TransportCcStatus::kReceivedLargeDelta) {
      if (fci->size() - at < 2) return std::nullopt;
      packet.receive_delta = static_cast<std::int16_t>(read_u16(*fci, at)) * kDeltaTick;
      at += 2;
    }
    feedback.packets.push_back(packet);
  }
  return feedback;
}

std::optional<std::size_t> TransportCc::write(std::span<std::uint8_t> out) const {
  if (packets.empty() || packets.size() > 0xFFFF) return std::nullopt;
  std::vector<std::uint16_t> chunks;
  std::vector<std::int32_t> deltas;
  std::size_t delta_bytes = 0;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (packets[i].sequence_number != static_cast<std::uint16_t>(base_sequence + i)) return std::nullopt;
    if (!packets[i].received()) continue;
    const auto ticks = delta_ticks(packets[i]);
    if (!ticks) return std::nullopt;
    deltas.push_back(*ticks);
    delta_bytes += packets[i].status == TransportCcStatus::kReceivedSmallDelta ? 1 : 2;
  }
  for (std::size_t i = 0, covered = 0; i < packets.size(); i += covered)
    chunks.push_back(next_chunk(packets, i, covered));

  const std::size_t unpadded = kFeedbackHeaderSize + TransportCc::kFixedFciSize + chunks.size() * 2 + delta_bytes;
  const std::size_t total = (unpadded + 3) & ~std::size_t{3};
  const auto fmt = static_cast<std::uint8_t>(RtpfbFmt::kTransportCc);
  if (!write_feedback_header(out, PacketType::kRtpfb, fmt, total, {sender_ssrc, media_ssrc})) return std::nullopt;
  std::size_t at = kFeedbackHeaderSize;
  write_u16(out, at, base_sequence);
  write_u16(out, at + 2, static_cast<std::uint16_t>(packets.size()));
  write_u24(out, at + 4, static_cast<std::uint32_t>(reference_time) & 0xFFFFFF);
  out[at + 7] = feedback_count;
  at += TransportCc::kFixedFciSize;
  for (const auto chunk : chunks) {
    write_u16(out, at, chunk);
    at += 2;
  }
  std::size_t next_delta = 0;
  for (const auto& packet : packets) {
    if (packet.status == TransportCcStatus::kReceivedSmallDelta) {
      out[at++] = static_cast<std::uint8_t>(deltas[next_delta++]);
    } else if (packet.status == TransportCcStatus::kReceivedLargeDelta) {
      write_u16(out, at, static_cast<std::uint16_t>(deltas[next_delta++]));
      at += 2;
    }
  }
  // §3.1: zero padding to the 32-bit boundary, without the P bit so the packet may sit anywhere
  // in a compound (RFC 3550 A.2 allows padding only in the last packet).
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(at), out.begin() + static_cast<std::ptrdiff_t>(total), 0);
  return total;
}

}  // namespace chorus::media::rtcp
