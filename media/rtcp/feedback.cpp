#include "media/rtcp/feedback.hpp"

#include <bit>

#include "media/rtcp/byte_io.hpp"

namespace chorus::media::rtcp {

std::optional<std::span<const std::uint8_t>> feedback_fci(const RtcpHeader& header, PacketType type, std::uint8_t fmt) {
  if (!header.is(type) || header.fmt() != fmt) return std::nullopt;
  const auto body = header.body();
  if (body.size() < 8) return std::nullopt;
  return body.subspan(8);
}

FeedbackSsrcs feedback_ssrcs(const RtcpHeader& header) {
  const auto body = header.body();
  return FeedbackSsrcs{read_u32(body, 0), read_u32(body, 4)};
}

bool write_feedback_header(std::span<std::uint8_t> out, PacketType type, std::uint8_t fmt, std::size_t packet_size,
                           FeedbackSsrcs ssrcs) {
  if (out.size() < packet_size || packet_size < kFeedbackHeaderSize) return false;
  if (!write_header(out, fmt, static_cast<std::uint8_t>(type), packet_size)) return false;
  write_u32(out, 4, ssrcs.sender_ssrc);
  write_u32(out, 8, ssrcs.media_ssrc);
  return true;
}

std::optional<std::uint64_t> decode_bitrate(std::uint8_t exponent, std::uint32_t mantissa) {
  if (mantissa == 0) return 0;
  if (exponent + std::bit_width(mantissa) > 64) return std::nullopt;
  return std::uint64_t{mantissa} << exponent;
}

EncodedBitrate encode_bitrate(std::uint64_t bitrate, unsigned mantissa_bits) {
  const std::uint64_t max_mantissa = (std::uint64_t{1} << mantissa_bits) - 1;
  EncodedBitrate encoded;
  while (bitrate > max_mantissa) {
    bitrate >>= 1;
    ++encoded.exponent;
  }
  encoded.mantissa = static_cast<std::uint32_t>(bitrate);
  return encoded;
}

}  // namespace chorus::media::rtcp
