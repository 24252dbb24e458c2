#include "media/stun/ice_lite_responder.hpp"

#include <utility>

namespace chorus::media::stun {
namespace {

IceLiteOutcome respond_with(std::optional<std::size_t> size, int error_code) {
  IceLiteOutcome outcome;
  if (!size) return outcome;  // the caller's buffer was too small: nothing sensible to send
  outcome.verdict = IceLiteVerdict::kRespond;
  outcome.response_size = *size;
  outcome.error_code = error_code;
  return outcome;
}

}  // namespace

std::optional<std::size_t> build_binding_error(std::span<std::uint8_t> out, const TransactionId& id, int code,
                                               std::optional<std::string_view> key,
                                               std::span<const std::uint16_t> unknown) {
  StunBuilder builder(out, StunClass::kErrorResponse, kMethodBinding, id);
  builder.add_error_code(code, reason_phrase(code));
  // RFC 8489 §14.13: a 420 lists the attributes it did not understand.
  if (code == kErrorUnknownAttribute) builder.add_unknown_attributes(unknown);
  if (key) builder.add_message_integrity(*key);
  builder.add_fingerprint();
  auto message = builder.finish();
  if (!message) return std::nullopt;
  return message->size();
}

std::optional<std::size_t> build_binding_success(std::span<std::uint8_t> out, const TransactionId& id,
                                                 const TransportAddress& mapped, std::string_view key) {
  StunBuilder builder(out, StunClass::kSuccessResponse, kMethodBinding, id);
  // RFC 8445 §7.3.1.2: the mapped address is the source of the request.
  builder.add_xor_mapped_address(mapped);
  builder.add_message_integrity(key);
  builder.add_fingerprint();
  auto message = builder.finish();
  if (!message) return std::nullopt;
  return message->size();
}

IceLiteResponder::IceLiteResponder(std::string local_ufrag, std::string local_password, std::string remote_ufrag)
    : local_ufrag_(std::move(local_ufrag)),
      local_password_(std::move(local_password)),
      remote_ufrag_(std::move(remote_ufrag)) {}

bool IceLiteResponder::username_matches(std::string_view username) const {
  // RFC 8445 §7.2.2: the sender writes "receiver's ufrag:sender's ufrag", i.e. "ours:theirs".
  return username.size() == local_ufrag_.size() + 1 + remote_ufrag_.size() && username.starts_with(local_ufrag_) &&
         username[local_ufrag_.size()] == ':' && username.ends_with(remote_ufrag_);
}

IceLiteOutcome IceLiteResponder::respond(std::span<const std::uint8_t> datagram, const TransportAddress& source,
                                         std::span<std::uint8_t> out) const {
  IceLiteOutcome outcome;
  auto header = peek_header(datagram);
  if (!header) {
    outcome.verdict = IceLiteVerdict::kNotStun;
    return outcome;
  }
  auto message = StunMessage::parse(datagram);
  if (!message) {
    // RFC 8489 §14.8: 400 is the answer to a malformed request; anything else
    // malformed is dropped. The request failed before authentication: no MESSAGE-INTEGRITY.
    if (header->message_class != StunClass::kRequest) return outcome;
    return respond_with(build_binding_error(out, header->transaction_id, kErrorBadRequest, std::nullopt),
                        kErrorBadRequest);
  }
  // RFC 8489 §6.3: a FINGERPRINT that does not match means this is not STUN after all.
  if (message->fingerprint() && !check_fingerprint(*message)) return outcome;
  if (message->message_class() == StunClass::kIndication) {
    // RFC 8445 §11: Binding indications keep NAT bindings open; they get no answer.
    if (message->method() == kMethodBinding) outcome.verdict = IceLiteVerdict::kIndication;
    return outcome;
  }
  // A lite agent sends no checks (RFC 8445 §2.5), so a response is never one it awaits.
  if (message->message_class() != StunClass::kRequest) return outcome;
  return answer_request(*message, source, out);
}

IceLiteOutcome IceLiteResponder::answer_request(const StunMessage& request, const TransportAddress& source,
                                                std::span<std::uint8_t> out) const {
  const TransactionId& id = request.transaction_id();
  // RFC 8489 §14.8: 400 for a method we do not implement; RFC 8445 §7 makes FINGERPRINT mandatory
  // in connectivity checks; RFC 8489 §9.1.3: no USERNAME or MESSAGE-INTEGRITY → 400.
  if (request.method() != kMethodBinding || !request.fingerprint() || !request.username() ||
      !request.message_integrity()) {
    return respond_with(build_binding_error(out, id, kErrorBadRequest, std::nullopt), kErrorBadRequest);
  }
  // RFC 8489 §9.1.3: an unknown username or a wrong MESSAGE-INTEGRITY → 401, without
  // MESSAGE-INTEGRITY (we could not authenticate the peer, it cannot check ours).
  if (!username_matches(*request.username()) || !check_integrity(request, local_password_)) {
    return respond_with(build_binding_error(out, id, kErrorUnauthorized, std::nullopt), kErrorUnauthorized);
  }
  // RFC 8489 §6.3.1: after authentication, comprehension-required attributes we do not know → 420.
  if (!request.unknown_required().empty()) {
    auto outcome =
        respond_with(build_binding_error(out, id, kErrorUnknownAttribute, local_password_, request.unknown_required()),
                     kErrorUnknownAttribute);
    outcome.authenticated = outcome.verdict == IceLiteVerdict::kRespond;
    return outcome;
  }
  // RFC 8445 §7.3.1.1 and §6.1.1: we are always controlled; a peer that says it is controlled
  // too must switch, which 487 tells it to.
  if (request.ice_controlled()) {
    auto outcome = respond_with(build_binding_error(out, id, kErrorRoleConflict, local_password_), kErrorRoleConflict);
    outcome.authenticated = outcome.verdict == IceLiteVerdict::kRespond;
    return outcome;
  }
  auto outcome = respond_with(build_binding_success(out, id, source, local_password_), 0);
  if (outcome.verdict != IceLiteVerdict::kRespond) return outcome;
  outcome.authenticated = true;
  // RFC 8445 §7.3.2: USE-CANDIDATE from the controlling agent nominates this pair at a lite agent.
  outcome.use_candidate = request.use_candidate();
  outcome.priority = request.priority();
  return outcome;
}

}  // namespace chorus::media::stun
