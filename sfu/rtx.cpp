#include "sfu/rtx.hpp"

#include <algorithm>
#include <cstring>

namespace chorus::sfu {

namespace {

constexpr std::uint8_t kMaxPayloadType = 0x7F;
constexpr std::size_t kExtensionHeaderSize = 4;  // RFC 3550 §5.3.1: profile + length in words
constexpr std::uint8_t kPaddingBit = 0x20;
constexpr std::uint8_t kExtensionBit = 0x10;

void write_u16(std::span<std::uint8_t> bytes, std::size_t at, std::uint16_t value) {
  bytes[at] = static_cast<std::uint8_t>(value >> 8);
  bytes[at + 1] = static_cast<std::uint8_t>(value);
}

}  // namespace

std::string_view to_string(RtxError error) noexcept {
  switch (error) {
    case RtxError::kNotRtp:
      return "RTX: not an RTP packet";
    case RtxError::kPaddingOnly:
      return "RTX: padding only";
    case RtxError::kTruncatedOsn:
      return "RTX: payload too short for the OSN";
    case RtxError::kEmptyOriginal:
      return "RTX: no original payload";
    case RtxError::kInvalidPayloadType:
      return "RTX: payload type above 127";
    case RtxError::kBufferTooSmall:
      return "RTX: buffer too small";
  }
  return "RTX: unknown error";
}

std::expected<media::RtpPacket, RtxError> build_rtx_packet(const media::RtpPacket& original,
                                                           const RtxSendParams& params,
                                                           std::span<std::uint8_t> out) noexcept {
  if (params.payload_type > kMaxPayloadType) return std::unexpected(RtxError::kInvalidPayloadType);
  const auto payload = original.payload();
  if (payload.empty()) return std::unexpected(RtxError::kEmptyOriginal);
  const bool keep_extensions =
      params.extensions == RtxHeaderExtensions::kCopy && original.extension_form() != media::ExtensionForm::kNone;
  const auto csrcs = original.csrc_bytes();
  const auto elements = original.extension_block();
  const std::size_t header_size = media::RtpPacket::kFixedHeaderSize + csrcs.size() +
                                  (keep_extensions ? kExtensionHeaderSize + elements.size() : 0);
  const std::size_t size = header_size + kRtxOsnSize + payload.size();
  if (out.size() < size) return std::unexpected(RtxError::kBufferTooSmall);

  // The fixed header as received (V, CC, M, timestamp), P cleared (the padding is not copied) and
  // X as chosen; PT, sequence number and SSRC are the RTX stream's.
  const auto original_bytes = original.bytes();
  std::copy_n(original_bytes.begin(), media::RtpPacket::kFixedHeaderSize, out.begin());
  out[0] = static_cast<std::uint8_t>(out[0] & ~(kPaddingBit | kExtensionBit));
  if (keep_extensions) out[0] |= kExtensionBit;
  std::size_t at = media::RtpPacket::kFixedHeaderSize;
  std::copy(csrcs.begin(), csrcs.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
  at += csrcs.size();
  if (keep_extensions) {
    write_u16(out, at, original.extension_profile());
    write_u16(out, at + 2, static_cast<std::uint16_t>(elements.size() / 4));
    std::copy(elements.begin(), elements.end(), out.begin() + static_cast<std::ptrdiff_t>(at + kExtensionHeaderSize));
    at += kExtensionHeaderSize + elements.size();
  }
  write_u16(out, at, original.sequence_number());  // OSN
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(at + kRtxOsnSize));

  auto rtx = media::RtpPacket::parse(out.first(size));
  if (!rtx) return std::unexpected(RtxError::kNotRtp);  // cannot happen: the header was valid
  (void)rtx->set_payload_type(params.payload_type);
  rtx->set_sequence_number(params.sequence_number);
  rtx->set_ssrc(params.ssrc);
  return *rtx;
}

std::expected<media::RtpPacket, RtxError> unwrap_rtx_in_place(std::span<std::uint8_t> buffer,
                                                              const RtxRepairParams& params) noexcept {
  if (params.media_payload_type > kMaxPayloadType) return std::unexpected(RtxError::kInvalidPayloadType);
  const auto rtx = media::RtpPacket::parse(buffer);
  if (!rtx) return std::unexpected(RtxError::kNotRtp);
  const auto payload = rtx->payload();
  if (payload.empty()) return std::unexpected(RtxError::kPaddingOnly);
  if (payload.size() < kRtxOsnSize) return std::unexpected(RtxError::kTruncatedOsn);
  if (payload.size() == kRtxOsnSize) return std::unexpected(RtxError::kEmptyOriginal);
  const auto osn = static_cast<std::uint16_t>((payload[0] << 8) | payload[1]);

  // Slide the header (usually 12..40 bytes) over the OSN rather than the payload back over it.
  const std::size_t header_size = rtx->header_size();
  std::memmove(buffer.data() + kRtxOsnSize, buffer.data(), header_size);
  auto original = media::RtpPacket::parse(buffer.subspan(kRtxOsnSize));
  if (!original) return std::unexpected(RtxError::kNotRtp);  // cannot happen: same header, same padding
  original->set_sequence_number(osn);
  (void)original->set_payload_type(params.media_payload_type);
  original->set_ssrc(params.media_ssrc);
  return *original;
}

}  // namespace chorus::sfu
