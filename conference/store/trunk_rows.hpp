// Trunks (conference/trunks/trunk.hpp) ↔ rows of the `trunks` table (store_schema.cpp v5), shared by
// both backends like store_rows.hpp. Targets and the registration's settings are JSON text; the
// passwords have columns of their own, so no JSON a log or a tool might print carries them.
// Internal to conference/store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conference/store/store.hpp"
#include "conference/store/store_codec.hpp"
#include "conference/trunks/trunk.hpp"

namespace chorus::conference::rows {

StoreResult<std::string> encode_targets(const std::vector<TrunkTarget>& targets);
StoreResult<std::vector<TrunkTarget>> decode_targets(std::string_view json);
// Without the password.
StoreResult<std::string> encode_registration(const TrunkRegistration& registration);
StoreResult<TrunkRegistration> decode_registration(std::string_view json, std::string password);

StoreResult<void> check_text(const Trunk& trunk, std::string_view what);

// Trunks: 0 id, 1 name, 2 targets_json, 3 registration_json, 4 registration_password,
// 5 outbound_username, 6 outbound_password, 7 inbound_ranges_json, 8 inbound_from_registration,
// 9 country_code, 10 national_prefix, 11 international_prefix, 12 caller_id, 13 created_at_us,
// 14 updated_at_us, 15 version.
template <typename Row>
StoreResult<Trunk> read_trunk(const Row& row) {
  Trunk trunk;
  trunk.id = row.text(0);
  trunk.name = row.text(1);
  auto targets = decode_targets(row.text(2));
  if (!targets) return std::unexpected(std::move(targets.error()));
  trunk.targets = std::move(*targets);
  if (!row.is_null(3)) {
    auto registration = decode_registration(row.text(3), row.text(4));
    if (!registration) return std::unexpected(std::move(registration.error()));
    trunk.registration = std::move(*registration);
  }
  if (!row.is_null(5)) trunk.outbound = TrunkCredentials{.username = row.text(5), .password = row.text(6)};
  auto ranges = codec::decode_strings(row.text(7));
  if (!ranges) return std::unexpected(std::move(ranges.error()));
  trunk.inbound_ranges = std::move(*ranges);
  trunk.inbound_from_registration = row.int64(8) != 0;
  trunk.numbering.country_code = row.text(9);
  trunk.numbering.national_prefix = row.text(10);
  trunk.numbering.international_prefix = row.text(11);
  trunk.caller_id = row.text(12);
  trunk.created_at = codec::from_micros(row.int64(13));
  trunk.updated_at = codec::from_micros(row.int64(14));
  trunk.version = static_cast<std::uint64_t>(row.int64(15));
  return trunk;
}

// 1 id … 13 caller_id and 15 updated_at_us in the column order above (14 created_at_us and
// 16 version are the INSERT's own).
template <typename Params>
StoreResult<void> bind_trunk_fields(Params& params, const Trunk& trunk) {
  auto targets = encode_targets(trunk.targets);
  if (!targets) return std::unexpected(std::move(targets.error()));
  auto ranges = codec::encode_strings(trunk.inbound_ranges);
  if (!ranges) return std::unexpected(std::move(ranges.error()));
  std::optional<std::string> registration;
  if (trunk.registration) {
    auto encoded = encode_registration(*trunk.registration);
    if (!encoded) return std::unexpected(std::move(encoded.error()));
    registration = std::move(*encoded);
  }
  params.bind(1, trunk.id)
      .bind(2, trunk.name)
      .bind(3, *targets)
      .bind_optional(4, registration ? std::optional<std::string_view>(*registration) : std::nullopt)
      .bind(5, trunk.registration ? std::string_view(trunk.registration->password) : std::string_view())
      .bind_optional(6, trunk.outbound ? std::optional<std::string_view>(trunk.outbound->username) : std::nullopt)
      .bind(7, trunk.outbound ? std::string_view(trunk.outbound->password) : std::string_view())
      .bind(8, *ranges)
      .bind(9, std::int64_t{trunk.inbound_from_registration ? 1 : 0})
      .bind(10, trunk.numbering.country_code)
      .bind(11, trunk.numbering.national_prefix)
      .bind(12, trunk.numbering.international_prefix)
      .bind(13, trunk.caller_id)
      .bind(15, codec::to_micros(trunk.updated_at));
  return {};
}

}  // namespace chorus::conference::rows
