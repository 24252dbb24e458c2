// Trunks as JSON (issue 15): the answer shape of /v1/trunks and the checks a POST or PATCH body
// passes before anything is stored. Passwords are write-only: answers carry `password_set`.
//
//   {"id", "name", "targets": [{"host", "port"?, "transport"?}],
//    "registration": {"username", "password_set", "realm", "expires", "contact_user",
//                     "status": {"state", "last_error", "expires_at"}} | null,
//    "outbound_credentials": {"username", "password_set"} | null,
//    "inbound": {"ranges": [CIDR…], "from_registration": bool},
//    "numbering": {"country_code", "national_prefix", "international_prefix"},
//    "caller_id": string | null, "created_at", "updated_at"}
//
// Threading: pure functions, any thread.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "conference/trunks/trunk.hpp"
#include "conference/trunks/trunk_directory.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {

inline constexpr std::size_t kMaxTrunks = 100;
inline constexpr std::size_t kMaxTrunkTargets = 8;
inline constexpr std::size_t kMaxTrunkRanges = 32;
inline constexpr std::size_t kMaxTrunkNameLength = 64;
inline constexpr std::size_t kMaxTrunkCredentialLength = 128;
inline constexpr std::size_t kMaxTrunkCallerIdLength = 256;
inline constexpr std::chrono::seconds kMinRegistrationExpires{60};
inline constexpr std::chrono::seconds kMaxRegistrationExpires{86400};
inline constexpr std::chrono::seconds kDefaultRegistrationExpires{600};

// The trunk as answers show it; `status` is the registration's, when it has one.
[[nodiscard]] nlohmann::json trunk_to_json(const conference::Trunk& trunk,
                                           const std::optional<conference::RegistrationStatus>& status);

// Applies `body` to `trunk`: a POST (`creating`) starts from a fresh Trunk and needs name and
// targets (and each password whose object is given); a PATCH (RFC 7396 merge patch) changes the
// members present, `null` removes registration, outbound_credentials or caller_id, and a
// credentials object without `password` keeps the stored one. Returns every field error.
[[nodiscard]] std::vector<FieldError> apply_trunk_json(const nlohmann::json& body, conference::Trunk& trunk,
                                                       bool creating);

}  // namespace chorus::rest
