#include "media/srtp/srtp_session.hpp"

#include <climits>

#include "media/srtp/srtp_transform.hpp"

namespace chorus::media {

SrtpSession::SrtpSession(std::unique_ptr<SrtpTransform> transform, SrtpSuite suite, SrtpDirection direction)
    : transform_(std::move(transform)), suite_(suite), direction_(direction) {}
SrtpSession::SrtpSession(SrtpSession&&) noexcept = default;
SrtpSession& SrtpSession::operator=(SrtpSession&&) noexcept = default;
SrtpSession::~SrtpSession() = default;

std::expected<SrtpSession, std::string> SrtpSession::create(SrtpSuite suite, std::span<const std::uint8_t> key_salt,
                                                            SrtpDirection direction) {
  if (key_salt.size() != key_salt_length(suite)) {
    return std::unexpected("SRTP key||salt is " + std::to_string(key_salt.size()) + " octets, " +
                           std::string(suite_name(suite)) + " needs " + std::to_string(key_salt_length(suite)));
  }
  auto transform = SrtpTransform::create(suite, key_salt, direction == SrtpDirection::kOutbound);
  if (!transform) return std::unexpected("OpenSSL refused the ciphers of " + std::string(suite_name(suite)));
  return SrtpSession(std::move(transform), suite, direction);
}

std::optional<std::size_t> SrtpSession::protect_rtp(std::span<std::uint8_t> buffer, std::size_t length) {
  return transform(Operation::kProtectRtp, buffer, length);
}

std::optional<std::size_t> SrtpSession::unprotect_rtp(std::span<std::uint8_t> buffer, std::size_t length) {
  return transform(Operation::kUnprotectRtp, buffer, length);
}

std::optional<std::size_t> SrtpSession::protect_rtcp(std::span<std::uint8_t> buffer, std::size_t length) {
  return transform(Operation::kProtectRtcp, buffer, length);
}

std::optional<std::size_t> SrtpSession::unprotect_rtcp(std::span<std::uint8_t> buffer, std::size_t length) {
  return transform(Operation::kUnprotectRtcp, buffer, length);
}

std::optional<std::size_t> SrtpSession::transform(Operation operation, std::span<std::uint8_t> buffer,
                                                  std::size_t length) {
  const bool outbound = operation == Operation::kProtectRtp || operation == Operation::kProtectRtcp;
  const bool rtcp = operation == Operation::kProtectRtcp || operation == Operation::kUnprotectRtcp;
  const std::size_t trailer = !outbound ? 0 : (rtcp ? kSrtcpMaxTrailer : kSrtpMaxTrailer);
  const std::size_t min_length = rtcp ? kMinRtcpLength : kMinRtpLength;
  const bool aligned = reinterpret_cast<std::uintptr_t>(buffer.data()) % 4 == 0;
  // What the transform assumes: the direction it was keyed for, writable room for the trailer, a
  // length that fits an int (OpenSSL's lengths), 32-bit alignment.
  if (!transform_ || outbound != (direction_ == SrtpDirection::kOutbound) || length < min_length ||
      length > buffer.size() || buffer.size() - length < trailer ||
      length > static_cast<std::size_t>(INT_MAX) - trailer || !aligned) {
    ++counters_.other;
    return std::nullopt;
  }
  SrtpOutcome outcome = SrtpOutcome::kOther;
  switch (operation) {
    case Operation::kProtectRtp:
      outcome = transform_->protect_rtp(buffer, length);
      break;
    case Operation::kUnprotectRtp:
      outcome = transform_->unprotect_rtp(buffer, length);
      break;
    case Operation::kProtectRtcp:
      outcome = transform_->protect_rtcp(buffer, length);
      break;
    case Operation::kUnprotectRtcp:
      outcome = transform_->unprotect_rtcp(buffer, length);
      break;
  }
  switch (outcome) {
    case SrtpOutcome::kOk:
      ++(outbound ? counters_.protected_packets : counters_.unprotected_packets);
      return length;
    case SrtpOutcome::kReplay:
      ++counters_.replay;
      break;
    case SrtpOutcome::kAuthFailure:
      ++counters_.auth_failure;
      break;
    case SrtpOutcome::kOther:
      ++counters_.other;
      break;
  }
  return std::nullopt;
}

}  // namespace chorus::media
