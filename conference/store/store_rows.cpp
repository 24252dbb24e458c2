#include "conference/store/store_rows.hpp"

#include <initializer_list>

namespace chorus::conference::rows {
namespace {

struct Field {
  std::string_view name;
  std::string_view text;
};

StoreResult<void> check_fields(std::initializer_list<Field> fields, std::string_view what) {
  for (const Field& field : fields) {
    if (!codec::is_storable_text(field.text)) {
      return std::unexpected(codec::io_error(what, std::string(field.name) + " is not UTF-8 text without NUL bytes"));
    }
  }
  return {};
}

}  // namespace

StoreError room_conflict(const Room& room, std::string_view other_id, std::string_view other_number) {
  std::string message;
  if (other_id == room.id) {
    message = "room '" + room.id + "' exists";
  } else if (other_id == room.dial_in_number || other_number == room.dial_in_number) {
    message = "dial-in number '" + room.dial_in_number + "' is taken by room '" + std::string(other_id) + "'";
  } else {
    message = "room id '" + room.id + "' is the dial-in number of room '" + std::string(other_id) + "'";
  }
  return StoreError{StoreErrorKind::kConflict, std::move(message)};
}

StoreResult<void> check_text(const Room& room, std::string_view what) {
  return check_fields({{"id", room.id},
                       {"dial_in_number", room.dial_in_number},
                       {"name", room.name},
                       {"pin", room.pin},
                       {"moderator_pin", room.moderator_pin},
                       {"default_layout", room.default_layout}},
                      what);
}

StoreResult<void> check_text(const MeetingRecord& meeting, std::string_view what) {
  return check_fields({{"id", meeting.id},
                       {"room_id", meeting.room_id},
                       {"title", meeting.title},
                       {"timezone", meeting.timezone},
                       {"rrule", meeting.rrule},
                       {"pin", meeting.pin.value_or("")},
                       {"organizer", meeting.organizer}},
                      what);
}

StoreResult<void> check_text(const ApiKey& key, std::string_view what) {
  return check_fields({{"id", key.id}, {"name", key.name}, {"token_hash", key.token_hash}}, what);
}

StoreResult<void> check_text(const Webhook& webhook, std::string_view what) {
  return check_fields({{"id", webhook.id}, {"url", webhook.url}, {"secret", webhook.secret}}, what);
}

StoreResult<void> check_text(const WebhookDelivery& delivery, std::string_view what) {
  return check_fields({{"webhook_id", delivery.webhook_id}, {"event_id", delivery.event_id}, {"error", delivery.error}},
                      what);
}

}  // namespace chorus::conference::rows
