// The record ↔ row mapping and the checks every store backend shares (sqlite_store, postgres_store),
// so a field is read, written and validated in one place whatever the database.
//
// A backend supplies a Row and a Params type with the same small surface:
//   Row:    text(col) → std::string (NULL: ""), int64(col) → std::int64_t, is_null(col) → bool;
//           columns are 0-based, in the order each read_* below documents.
//   Params: bind(i, std::string_view), bind(i, std::int64_t), bind_optional(i, optional<string_view>)
//           (NULL when empty), bind_null(i); parameters are 1-based (?1 in SQLite, $1 in PostgreSQL).
// Each backend's SQL names its columns and parameters in exactly these orders.
// Internal to conference/store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "conference/room.hpp"
#include "conference/store/records.hpp"
#include "conference/store/store.hpp"
#include "conference/store/store_codec.hpp"

namespace chorus::conference::rows {

inline std::unexpected<StoreError> not_found(std::string_view what) {
  return std::unexpected(StoreError{StoreErrorKind::kNotFound, std::string(what) + ": no such record"});
}

inline std::unexpected<StoreError> version_mismatch(std::string_view what, std::uint64_t stored,
                                                    std::uint64_t expected) {
  return std::unexpected(StoreError{
      StoreErrorKind::kVersionMismatch,
      std::string(what) + ": stored version " + std::to_string(stored) + ", expected " + std::to_string(expected)});
}

// Why `room` cannot have its id and number, given the first other room whose id or number equals
// one of them (store.hpp: both are dial strings).
StoreError room_conflict(const Room& room, std::string_view other_id, std::string_view other_number);

// kIo naming the field when a text field is not UTF-8 or holds a NUL byte (store_codec.hpp), so
// both backends refuse the same records. Lists are JSON and checked when encoded.
StoreResult<void> check_text(const Room& room, std::string_view what);
StoreResult<void> check_text(const MeetingRecord& meeting, std::string_view what);
StoreResult<void> check_text(const ApiKey& key, std::string_view what);
StoreResult<void> check_text(const Webhook& webhook, std::string_view what);
StoreResult<void> check_text(const WebhookDelivery& delivery, std::string_view what);

// Rooms: 0 id, 1 dial_in_number, 2 name, 3 mode, 4 max_participants, 5 encryption, 6 pin,
// 7 moderator_pin, 8 default_layout, 9 locked, 10 created_at_us, 11 version, 12 wait_for_moderator,
// 13 sip_video.
template <typename Row>
StoreResult<Room> read_room(const Row& row) {
  Room room;
  room.id = row.text(0);
  room.dial_in_number = row.text(1);
  room.name = row.text(2);
  const auto mode = codec::room_mode_from_column(row.text(3));
  room.max_participants = static_cast<std::size_t>(row.int64(4));
  const auto encryption = codec::room_encryption_from_column(row.text(5));
  const auto sip_video = codec::sip_video_from_column(row.text(13));
  if (!mode || !encryption || !sip_video) {
    return std::unexpected(codec::io_error("reading room " + room.id, "unknown mode, encryption or sip_video"));
  }
  room.mode = *mode;
  room.encryption = *encryption;
  room.sip_video = *sip_video;
  room.pin = row.text(6);
  room.moderator_pin = row.text(7);
  room.default_layout = row.text(8);
  room.locked = row.int64(9) != 0;
  room.created_at = codec::from_micros(row.int64(10));
  room.version = static_cast<std::uint64_t>(row.int64(11));
  room.wait_for_moderator = row.int64(12) != 0;
  return room;
}

// 1 id, 2 dial_in_number, 3 name, 4 mode, 5 max_participants, 6 encryption, 7 pin, 8 moderator_pin,
// 9 default_layout, 10 locked, 13 wait_for_moderator, 14 sip_video (11 created_at and 12 version
// are the INSERT's own).
template <typename Params>
void bind_room_fields(Params& params, const Room& room) {
  // A room without a number stores NULL, so that any number of rooms can go without one.
  params.bind(1, room.id)
      .bind_optional(2,
                     room.dial_in_number.empty() ? std::nullopt : std::optional<std::string_view>(room.dial_in_number))
      .bind(3, room.name)
      .bind(4, codec::to_column(room.mode))
      .bind(5, static_cast<std::int64_t>(room.max_participants))
      .bind(6, codec::to_column(room.encryption))
      .bind(7, room.pin)
      .bind(8, room.moderator_pin)
      .bind(9, room.default_layout)
      .bind(10, std::int64_t{room.locked ? 1 : 0})
      .bind(13, std::int64_t{room.wait_for_moderator ? 1 : 0})
      .bind(14, codec::to_column(room.sip_video));
}

// Meetings: 0 id, 1 room_id, 2 title, 3 start_us, 4 end_us, 5 timezone, 6 rrule, 7 exdates_json,
// 8 join_window_before_min, 9 pin, 10 organizer, 11 attendees_json, 12 sequence, 13 cancelled,
// 14 updated_at_us, 15 created_at_us, 16 version.
template <typename Row>
StoreResult<MeetingRecord> read_meeting(const Row& row) {
  MeetingRecord meeting;
  meeting.id = row.text(0);
  meeting.room_id = row.text(1);
  meeting.title = row.text(2);
  meeting.start = codec::from_micros(row.int64(3));
  meeting.end = codec::from_micros(row.int64(4));
  meeting.timezone = row.text(5);
  meeting.rrule = row.text(6);
  auto exdates = codec::decode_times(row.text(7));
  if (!exdates) return std::unexpected(std::move(exdates.error()));
  meeting.exdates = std::move(*exdates);
  meeting.join_window_before = std::chrono::minutes(row.int64(8));
  if (!row.is_null(9)) meeting.pin = row.text(9);
  meeting.organizer = row.text(10);
  auto attendees = codec::decode_strings(row.text(11));
  if (!attendees) return std::unexpected(std::move(attendees.error()));
  meeting.attendees = std::move(*attendees);
  meeting.sequence = static_cast<std::uint32_t>(row.int64(12));
  meeting.cancelled = row.int64(13) != 0;
  meeting.updated_at = codec::from_micros(row.int64(14));
  meeting.created_at = codec::from_micros(row.int64(15));
  meeting.version = static_cast<std::uint64_t>(row.int64(16));
  return meeting;
}

// 1 id … 15 updated_at in the column order above (16 created_at and 17 version are the INSERT's own).
template <typename Params>
StoreResult<void> bind_meeting_fields(Params& params, const MeetingRecord& meeting) {
  auto attendees = codec::encode_strings(meeting.attendees);
  if (!attendees) return std::unexpected(std::move(attendees.error()));
  std::optional<std::string_view> pin;
  if (meeting.pin) pin = *meeting.pin;
  params.bind(1, meeting.id)
      .bind(2, meeting.room_id)
      .bind(3, meeting.title)
      .bind(4, codec::to_micros(meeting.start))
      .bind(5, codec::to_micros(meeting.end))
      .bind(6, meeting.timezone)
      .bind(7, meeting.rrule)
      .bind(8, codec::encode_times(meeting.exdates))
      .bind(9, static_cast<std::int64_t>(meeting.join_window_before.count()))
      .bind_optional(10, pin)
      .bind(11, meeting.organizer)
      .bind(12, *attendees)
      .bind(13, std::int64_t{meeting.sequence})
      .bind(14, std::int64_t{meeting.cancelled ? 1 : 0})
      .bind(15, codec::to_micros(meeting.updated_at));
  return {};
}

// API keys: 0 id, 1 name, 2 scopes_json, 3 token_hash, 4 created_at_us.
template <typename Row>
StoreResult<ApiKey> read_api_key(const Row& row) {
  ApiKey key;
  key.id = row.text(0);
  key.name = row.text(1);
  auto scopes = codec::decode_strings(row.text(2));
  if (!scopes) return std::unexpected(std::move(scopes.error()));
  key.scopes = std::move(*scopes);
  key.token_hash = row.text(3);
  key.created_at = codec::from_micros(row.int64(4));
  return key;
}

// 1 id, 2 name, 3 scopes_json, 4 token_hash, 5 created_at_us.
template <typename Params>
StoreResult<void> bind_api_key(Params& params, const ApiKey& key) {
  auto scopes = codec::encode_strings(key.scopes);
  if (!scopes) return std::unexpected(std::move(scopes.error()));
  params.bind(1, key.id).bind(2, key.name).bind(3, *scopes).bind(4, key.token_hash);
  params.bind(5, codec::to_micros(key.created_at));
  return {};
}

// Webhooks: 0 id, 1 url, 2 event_types_json, 3 secret, 4 created_at_us.
template <typename Row>
StoreResult<Webhook> read_webhook(const Row& row) {
  Webhook webhook;
  webhook.id = row.text(0);
  webhook.url = row.text(1);
  auto event_types = codec::decode_strings(row.text(2));
  if (!event_types) return std::unexpected(std::move(event_types.error()));
  webhook.event_types = std::move(*event_types);
  webhook.secret = row.text(3);
  webhook.created_at = codec::from_micros(row.int64(4));
  return webhook;
}

// 1 id, 2 url, 3 event_types_json, 4 secret, 5 created_at_us.
template <typename Params>
StoreResult<void> bind_webhook(Params& params, const Webhook& webhook) {
  auto event_types = codec::encode_strings(webhook.event_types);
  if (!event_types) return std::unexpected(std::move(event_types.error()));
  params.bind(1, webhook.id).bind(2, webhook.url).bind(3, *event_types).bind(4, webhook.secret);
  params.bind(5, codec::to_micros(webhook.created_at));
  return {};
}

// Deliveries: 0 id, 1 webhook_id, 2 event_id, 3 attempt, 4 status, 5 http_status, 6 error, 7 at_us.
template <typename Row>
StoreResult<WebhookDelivery> read_delivery(const Row& row) {
  WebhookDelivery delivery;
  delivery.id = row.int64(0);
  delivery.webhook_id = row.text(1);
  delivery.event_id = row.text(2);
  delivery.attempt = static_cast<std::uint32_t>(row.int64(3));
  const auto status = codec::delivery_status_from_column(row.text(4));
  if (!status) return std::unexpected(codec::io_error("reading a delivery", "unknown status"));
  delivery.status = *status;
  if (!row.is_null(5)) delivery.http_status = static_cast<int>(row.int64(5));
  delivery.error = row.text(6);
  delivery.at = codec::from_micros(row.int64(7));
  return delivery;
}

// 2 event_id, 3 attempt, 4 status, 5 http_status, 6 error, 7 at_us (1 is the webhook id on insert,
// the delivery id on update).
template <typename Params>
void bind_delivery_fields(Params& params, const WebhookDelivery& delivery) {
  params.bind(2, delivery.event_id)
      .bind(3, std::int64_t{delivery.attempt})
      .bind(4, codec::to_column(delivery.status))
      .bind(6, delivery.error)
      .bind(7, codec::to_micros(delivery.at));
  if (delivery.http_status) {
    params.bind(5, std::int64_t{*delivery.http_status});
  } else {
    params.bind_null(5);
  }
}

}  // namespace chorus::conference::rows
