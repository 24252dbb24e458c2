// IceLiteResponder: the answering half of an ICE-lite agent (RFC 8445 §2.5, §7.3), no sockets.
//
// Given one datagram received on a media port and its source address, it decides what to do
// and, for a Binding request, writes the response into a caller buffer:
//   - not STUN at all (RTP, RTCP, DTLS share the port, RFC 7983) → kNotStun, hand it on;
//   - a STUN message we do not answer (responses, bad FINGERPRINT, non-Binding indications)
//     → kDrop (RFC 8489 §6.3: silently discarded);
//   - a Binding indication (RFC 8445 §11 keepalive) → kIndication, noted, never answered;
//   - a Binding request → kRespond with a success or an error response.
// A success response means the request carried USERNAME "localufrag:remoteufrag" and a
// MESSAGE-INTEGRITY keyed with the local password (RFC 8445 §7.2.2): the source address is then
// validated, and with USE-CANDIDATE nominated (RFC 8445 §7.3.2). The caller must drop media
// and DTLS from any address not yet validated this way (the CVE-2023-51443 class of attack).
// A lite agent is always the controlled agent (RFC 8445 §6.1.1), so a request that also
// claims ICE-CONTROLLED gets 487 Role Conflict and the full agent switches role.
// Threading: const after construction; respond() may run on any one media thread.
#pragma once

#include "media/stun/stun_builder.hpp"
#include "media/stun/stun_message.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace chorus::media::stun {

enum class IceLiteVerdict : std::uint8_t { kNotStun, kDrop, kIndication, kRespond };

struct IceLiteOutcome {
  IceLiteVerdict verdict = IceLiteVerdict::kDrop;
  std::size_t response_size = 0;  // bytes written at the start of `out` when kRespond
  int error_code = 0;             // 0 for a success response, else the STUN error sent
  bool authenticated = false;     // the request passed USERNAME and MESSAGE-INTEGRITY checks
  bool use_candidate = false;     // authenticated and USE-CANDIDATE: nominate the source
  std::optional<std::uint32_t> priority;

  // Only a success response validates the source: media and DTLS from it may then be accepted.
  // 420 and 487 answers are authenticated but the check failed, so the peer will try again.
  [[nodiscard]] bool source_validated() const {
    return verdict == IceLiteVerdict::kRespond && error_code == 0 && authenticated;
  }
};

class IceLiteResponder {
 public:
  // Local ufrag and password are ours (our SDP); the remote ufrag comes from the peer's SDP.
  IceLiteResponder(std::string local_ufrag, std::string local_password, std::string remote_ufrag);

  // `out` should hold kMaxMessageSize bytes; a smaller one that cannot take the response yields kDrop.
  [[nodiscard]] IceLiteOutcome respond(std::span<const std::uint8_t> datagram, const TransportAddress& source,
                                       std::span<std::uint8_t> out) const;

 private:
  [[nodiscard]] bool username_matches(std::string_view username) const;
  [[nodiscard]] IceLiteOutcome answer_request(const StunMessage& request, const TransportAddress& source,
                                              std::span<std::uint8_t> out) const;

  std::string local_ufrag_;
  std::string local_password_;
  std::string remote_ufrag_;
};

// A Binding error response with ERROR-CODE, then FINGERPRINT; MESSAGE-INTEGRITY only when `key`
// is given (RFC 8489 §9.1.3: 400 and 401 answers to an unauthenticated request carry none).
// `unknown` fills UNKNOWN-ATTRIBUTES for a 420. Returns the size written, nullopt when `out` is too small.
[[nodiscard]] std::optional<std::size_t> build_binding_error(std::span<std::uint8_t> out, const TransactionId& id,
                                                             int code, std::optional<std::string_view> key,
                                                             std::span<const std::uint16_t> unknown = {});

// A Binding success response: XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY keyed with `key`, FINGERPRINT.
[[nodiscard]] std::optional<std::size_t> build_binding_success(std::span<std::uint8_t> out, const TransactionId& id,
                                                               const TransportAddress& mapped, std::string_view key);

}  // namespace chorus::media::stun
