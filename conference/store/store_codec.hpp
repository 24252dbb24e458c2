// How every store backend turns values into columns and back, the same for SQLite and PostgreSQL
// so that a database moved between them (or read by both in the tests) means the same: times as
// integer microseconds since the epoch (UTC), string and time lists as JSON arrays, enumerations by
// their REST names, flags as 0/1. Also the text rule both backends share: what is written is UTF-8
// without NUL bytes (PostgreSQL's text cannot hold anything else, so SQLite refuses it too).
// Internal to conference/store.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conference/room.hpp"
#include "conference/store/records.hpp"
#include "conference/store/store.hpp"

namespace chorus::conference::codec {

std::int64_t to_micros(std::chrono::system_clock::time_point at);
std::chrono::system_clock::time_point from_micros(std::int64_t micros);

// JSON arrays. Encoding fails only on text that is not UTF-8 (JSON cannot carry it).
StoreResult<std::string> encode_strings(const std::vector<std::string>& values);
StoreResult<std::vector<std::string>> decode_strings(std::string_view json);
std::string encode_times(const std::vector<std::chrono::system_clock::time_point>& values);
StoreResult<std::vector<std::chrono::system_clock::time_point>> decode_times(std::string_view json);

std::string_view to_column(RoomMode mode);
std::string_view to_column(SipVideo video);
std::string_view to_column(RoomEncryption encryption);
std::string_view to_column(DeliveryStatus status);
std::optional<RoomMode> room_mode_from_column(std::string_view text);
std::optional<SipVideo> sip_video_from_column(std::string_view text);
std::optional<RoomEncryption> room_encryption_from_column(std::string_view text);
std::optional<DeliveryStatus> delivery_status_from_column(std::string_view text);

// RFC 3629 well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) without
// a NUL byte: what a PostgreSQL text column in a UTF8 database accepts.
bool is_storable_text(std::string_view text);

StoreError io_error(std::string_view what, std::string_view detail);

// Cursor pages: both SQL dialects' LIMIT takes a signed 64-bit count.
std::int64_t to_limit(std::size_t limit);

}  // namespace chorus::conference::codec
