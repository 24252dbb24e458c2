#include "conference/store/store_codec.hpp"

#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/utf8.hpp"

namespace chorus::conference::codec {

std::int64_t to_micros(std::chrono::system_clock::time_point at) {
  return std::chrono::floor<std::chrono::microseconds>(at.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_micros(std::int64_t micros) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::microseconds(micros)));
}

StoreResult<std::string> encode_strings(const std::vector<std::string>& values) {
  // dump() throws type_error 316 on invalid UTF-8; the store's interface does not throw.
  try {
    return nlohmann::json(values).dump();
  } catch (const nlohmann::json::exception& e) {
    return std::unexpected(io_error("encoding a list", e.what()));
  }
}

StoreResult<std::vector<std::string>> decode_strings(std::string_view json) {
  const auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) return std::unexpected(io_error("decoding a list", "not a JSON array"));
  std::vector<std::string> values;
  values.reserve(parsed.size());
  for (const auto& value : parsed) {
    if (!value.is_string()) return std::unexpected(io_error("decoding a list", "an element is not a string"));
    values.push_back(value.get<std::string>());
  }
  return values;
}

std::string encode_times(const std::vector<std::chrono::system_clock::time_point>& values) {
  auto array = nlohmann::json::array();
  for (const auto value : values) array.push_back(to_micros(value));
  return array.dump();
}

StoreResult<std::vector<std::chrono::system_clock::time_point>> decode_times(std::string_view json) {
  const auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) return std::unexpected(io_error("decoding times", "not a JSON array"));
  std::vector<std::chrono::system_clock::time_point> values;
  values.reserve(parsed.size());
  for (const auto& value : parsed) {
    if (!value.is_number_integer()) return std::unexpected(io_error("decoding times", "an element is not an integer"));
    values.push_back(from_micros(value.get<std::int64_t>()));
  }
  return values;
}

std::string_view to_column(RoomMode mode) {
  return to_string(mode);
}

std::string_view to_column(SipVideo video) {
  return to_string(video);
}

std::string_view to_column(RoomEncryption encryption) {
  return encryption == RoomEncryption::kRequired ? "required" : "optional";
}

std::string_view to_column(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kPending:
      return "pending";
    case DeliveryStatus::kDelivered:
      return "delivered";
    case DeliveryStatus::kFailed:
      return "failed";
  }
  return "pending";
}

std::optional<RoomMode> room_mode_from_column(std::string_view text) {
  return room_mode_from_string(text);
}

std::optional<SipVideo> sip_video_from_column(std::string_view text) {
  return sip_video_from_string(text);
}

std::optional<RoomEncryption> room_encryption_from_column(std::string_view text) {
  if (text == "optional") return RoomEncryption::kOptional;
  if (text == "required") return RoomEncryption::kRequired;
  return std::nullopt;
}

std::optional<DeliveryStatus> delivery_status_from_column(std::string_view text) {
  if (text == "pending") return DeliveryStatus::kPending;
  if (text == "delivered") return DeliveryStatus::kDelivered;
  if (text == "failed") return DeliveryStatus::kFailed;
  return std::nullopt;
}

bool is_storable_text(std::string_view text) {
  // PostgreSQL's text cannot hold NUL (SQLite's can, but both backends store the same).
  return text.find('\0') == std::string_view::npos && is_valid_utf8(text);
}

StoreError io_error(std::string_view what, std::string_view detail) {
  return StoreError{StoreErrorKind::kIo, std::string(what) + ": " + std::string(detail)};
}

std::int64_t to_limit(std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(limit > kMax ? kMax : limit);
}

}  // namespace chorus::conference::codec
