// What the /v1 resource routes share besides JSON: entity tags from store versions, the If-Match
// precondition (RFC 9110 §13.1.1), 428 when it is required but missing (RFC 6585 §3), and store
// errors as problem+json; who sees secrets, and the text no name may hold.
//
// Entity tags are strong and are the store's version in quotes (`"3"`). Writes that replace a
// resource (PATCH) require If-Match so that two clients cannot overwrite each other's changes
// ("lost update", RFC 9110 §13.1.1); DELETE honours If-Match when it is sent.
//
// Threading: pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "conference/store/store.hpp"
#include "rest-api/http_message.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

// 428's problem type slug (listed with the others in rest-api/README.md).
inline constexpr std::string_view kProblemPreconditionRequired = "precondition-required";

// `"<version>"`.
[[nodiscard]] std::string etag_of(std::uint64_t version);

enum class IfMatch {
  kAbsent,    // no If-Match header
  kMatch,     // "*" or one of the listed tags equals the current one (strong comparison)
  kMismatch,  // none does: 412
};

// RFC 9110 §13.1.1: a comma-separated list of entity tags, or "*". Weak tags (W/"...") never match
// (If-Match uses the strong comparison, §8.8.3.2).
[[nodiscard]] IfMatch check_if_match(std::string_view header, std::uint64_t version);

// The precondition of a write: 428 when If-Match is required and absent, 412 when it does not
// match `version`; nullopt when the write may go ahead.
[[nodiscard]] std::optional<HttpResponse> precondition_error(const RequestContext& context, std::uint64_t version,
                                                             bool required);

// RFC 6585 §3: 428 Precondition Required, as problem+json.
[[nodiscard]] HttpResponse precondition_required(std::string detail);

// kNotFound → 404, kConflict → 409, kVersionMismatch → 412, kIo → 500. `what` names the
// resource ("room 1000").
[[nodiscard]] HttpResponse store_error_response(const conference::StoreError& error, std::string_view what);

// Sets ETag from `version` and returns the response.
HttpResponse with_etag(HttpResponse response, std::uint64_t version);

// DESIGN §7: PINs only to the admin token and keys with rooms:secrets; others see pin_set.
[[nodiscard]] bool sees_secrets(const RequestContext& context);

// C0 controls or DEL: refused in names and addresses that end up in SIP headers, logs and rosters.
[[nodiscard]] bool has_control_characters(std::string_view text);

}  // namespace chorus::rest
