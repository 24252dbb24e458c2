// Opening, rooms and meetings; API keys, webhooks and deliveries are in postgres_store_hooks.cpp.
#include "conference/store/postgres_store.hpp"

#include <utility>

#include "conference/store/postgres_codec.hpp"
#include "conference/store/postgres_schema.hpp"
#include "conference/store/store_rows.hpp"

namespace chorus::conference {
namespace {

using pg::fail;
using pg::PgParams;
using pg::PgRow;
using pg::PgTransaction;

constexpr auto kReadRoom = &rows::read_room<PgRow>;
constexpr auto kReadMeeting = &rows::read_meeting<PgRow>;

// pg_advisory_xact_lock key ("chorusrm" in ASCII) taken by every room write: a room's id and number
// must differ from every other room's id and number, a check across rows no constraint expresses,
// so two nodes creating rooms at once take turns.
constexpr std::int64_t kRoomWriteLock = 0x63686f727573726d;

// Column lists in store_rows.hpp's order.
#define CHORUS_ROOM_COLUMNS                                                                           \
  "id, dial_in_number, name, mode, max_participants, encryption, pin, moderator_pin, default_layout," \
  " locked, created_at_us, version, wait_for_moderator, sip_video"
#define CHORUS_MEETING_COLUMNS                                                                        \
  "id, room_id, title, start_us, end_us, timezone, rrule, exdates_json, join_window_before_min, pin," \
  " organizer, attendees_json, sequence, cancelled, updated_at_us, created_at_us, version"

constexpr const char* kInsertRoom =
    "INSERT INTO rooms (id, dial_in_number, name, mode, max_participants, encryption, pin, moderator_pin,"
    " default_layout, locked, created_at_us, version, wait_for_moderator, sip_video)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING " CHORUS_ROOM_COLUMNS;
constexpr const char* kSelectRoom = "SELECT " CHORUS_ROOM_COLUMNS " FROM rooms WHERE id = $1";
constexpr const char* kListRooms = "SELECT " CHORUS_ROOM_COLUMNS " FROM rooms WHERE id > $1 ORDER BY id LIMIT $2";
constexpr const char* kRoomVersion = "SELECT version FROM rooms WHERE id = $1 FOR UPDATE";
constexpr const char* kUpdateRoom =
    "UPDATE rooms SET dial_in_number = $2, name = $3, mode = $4, max_participants = $5, encryption = $6,"
    " pin = $7, moderator_pin = $8, default_layout = $9, locked = $10, wait_for_moderator = $13,"
    " sip_video = $14, version = version + 1 WHERE id = $1";

constexpr const char* kInsertMeeting =
    "INSERT INTO meetings (id, room_id, title, start_us, end_us, timezone, rrule, exdates_json,"
    " join_window_before_min, pin, organizer, attendees_json, sequence, cancelled, updated_at_us, created_at_us,"
    " version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    " RETURNING " CHORUS_MEETING_COLUMNS;
constexpr const char* kSelectMeeting = "SELECT " CHORUS_MEETING_COLUMNS " FROM meetings WHERE id = $1";
constexpr const char* kListMeetings = "SELECT " CHORUS_MEETING_COLUMNS
                                      " FROM meetings WHERE id > $1 AND ($2 IS NULL OR room_id = $2)"
                                      " ORDER BY id LIMIT $3";
constexpr const char* kListRoomMeetings =
    "SELECT " CHORUS_MEETING_COLUMNS " FROM meetings WHERE room_id = $1 ORDER BY id";
constexpr const char* kMeetingVersion = "SELECT version FROM meetings WHERE id = $1 FOR UPDATE";
constexpr const char* kUpdateMeeting =
    "UPDATE meetings SET room_id = $2, title = $3, start_us = $4, end_us = $5, timezone = $6, rrule = $7,"
    " exdates_json = $8, join_window_before_min = $9, pin = $10, organizer = $11, attendees_json = $12,"
    " sequence = $13, cancelled = $14, updated_at_us = $15, version = version + 1 WHERE id = $1";

#undef CHORUS_ROOM_COLUMNS
#undef CHORUS_MEETING_COLUMNS

// A foreign key failure on a meeting write names its room.
StoreError meeting_error(const pg::PgError& error, std::string_view what, const MeetingRecord& meeting) {
  auto store_error = pg::to_store_error(error, what);
  if (store_error.kind == StoreErrorKind::kNotFound) {
    store_error.message = std::string(what) + ": no room '" + meeting.room_id + "'";
  }
  return store_error;
}

}  // namespace

std::expected<std::unique_ptr<PostgresStore>, std::string> PostgresStore::open(pg::PgSettings settings) {
  auto db = pg::PgConnection::open(std::move(settings));
  if (!db) return std::unexpected(db.error().message);
  auto version = pg::migrate(**db, pg::store_migrations());
  if (!version) return std::unexpected((*db)->description() + ": " + version.error().message);
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(*db), *version));
}

StoreResult<pg::PgRows> PostgresStore::run(const char* sql, const PgParams& params, std::string_view what) {
  auto rows = db_->exec(sql, params);
  if (!rows) return fail(rows.error(), what);
  return std::move(*rows);
}

StoreResult<void> PostgresStore::delete_by_id(const char* sql, std::string_view id, std::string_view what) {
  PgParams params;
  params.bind(1, id);
  auto done = run(sql, params, what);
  if (!done) return std::unexpected(std::move(done.error()));
  if (done->affected() == 0) return rows::not_found(what);
  return {};
}

StoreResult<void> PostgresStore::check_version(const char* select_version_sql, std::string_view id,
                                               std::uint64_t expected, std::string_view what) {
  PgParams params;
  params.bind(1, id);
  auto found = run(select_version_sql, params, what);
  if (!found) return std::unexpected(std::move(found.error()));
  if (found->size() == 0) return rows::not_found(what);
  const auto stored = static_cast<std::uint64_t>((*found)[0].int64(0));
  if (stored != expected) return rows::version_mismatch(what, stored, expected);
  return {};
}

StoreResult<void> PostgresStore::check_room_dial_strings(const Room& room, bool is_update) {
  PgParams params;
  params.bind(1, room.id)
      .bind_optional(2,
                     room.dial_in_number.empty() ? std::nullopt : std::optional<std::string_view>(room.dial_in_number))
      .bind_optional(3, is_update ? std::optional<std::string_view>(room.id) : std::nullopt);
  auto other =
      run("SELECT id, dial_in_number FROM rooms"
          " WHERE (id IN ($1, $2) OR dial_in_number IN ($1, $2)) AND id IS DISTINCT FROM $3 LIMIT 1",
          params, "check room");
  if (!other) return std::unexpected(std::move(other.error()));
  if (other->size() == 0) return {};
  return std::unexpected(rows::room_conflict(room, (*other)[0].text(0), (*other)[0].text(1)));
}

StoreResult<Room> PostgresStore::create_room(const Room& room) {
  if (auto text = rows::check_text(room, "create room"); !text) return std::unexpected(std::move(text.error()));
  auto transaction = PgTransaction::begin(*db_);
  if (!transaction) return fail(transaction.error(), "create room");
  PgParams lock;
  lock.bind(1, kRoomWriteLock);
  if (auto locked = run("SELECT pg_advisory_xact_lock($1)", lock, "create room"); !locked) {
    return std::unexpected(std::move(locked.error()));
  }
  if (auto free = check_room_dial_strings(room, false); !free) return std::unexpected(std::move(free.error()));
  PgParams params;
  rows::bind_room_fields(params, room);
  params.bind(11, codec::to_micros(room.created_at)).bind(12, std::int64_t{1});
  auto inserted = run(kInsertRoom, params, "create room");
  if (!inserted) return std::unexpected(std::move(inserted.error()));
  auto stored = pg::single(*inserted, kReadRoom, "create room");
  if (!stored) return stored;
  if (auto committed = transaction->commit(); !committed) return fail(committed.error(), "create room");
  return stored;
}

StoreResult<Room> PostgresStore::get_room(std::string_view id) {
  PgParams params;
  params.bind(1, id);
  auto found = run(kSelectRoom, params, "get room");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::single(*found, kReadRoom, "get room");
}

StoreResult<std::vector<Room>> PostgresStore::list_rooms(std::string_view after_id, std::size_t limit) {
  PgParams params;
  params.bind(1, after_id).bind(2, codec::to_limit(limit));
  auto found = run(kListRooms, params, "list rooms");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::collect(*found, kReadRoom);
}

StoreResult<std::uint64_t> PostgresStore::update_room(const Room& room, std::uint64_t expected_version) {
  if (auto text = rows::check_text(room, "update room"); !text) return std::unexpected(std::move(text.error()));
  auto transaction = PgTransaction::begin(*db_);
  if (!transaction) return fail(transaction.error(), "update room");
  PgParams lock;
  lock.bind(1, kRoomWriteLock);
  if (auto locked = run("SELECT pg_advisory_xact_lock($1)", lock, "update room"); !locked) {
    return std::unexpected(std::move(locked.error()));
  }
  if (auto same = check_version(kRoomVersion, room.id, expected_version, "update room"); !same) {
    return std::unexpected(std::move(same.error()));
  }
  if (auto free = check_room_dial_strings(room, true); !free) return std::unexpected(std::move(free.error()));
  PgParams params;
  rows::bind_room_fields(params, room);
  if (auto done = run(kUpdateRoom, params, "update room"); !done) return std::unexpected(std::move(done.error()));
  if (auto committed = transaction->commit(); !committed) return fail(committed.error(), "update room");
  return expected_version + 1;
}

StoreResult<void> PostgresStore::delete_room(std::string_view id) {
  // ON DELETE CASCADE removes the room's meetings in the same statement.
  return delete_by_id("DELETE FROM rooms WHERE id = $1", id, "delete room");
}

StoreResult<MeetingRecord> PostgresStore::create_meeting(const MeetingRecord& meeting) {
  if (auto text = rows::check_text(meeting, "create meeting"); !text) return std::unexpected(std::move(text.error()));
  PgParams params;
  if (auto bound = rows::bind_meeting_fields(params, meeting); !bound) return std::unexpected(std::move(bound.error()));
  params.bind(16, codec::to_micros(meeting.created_at)).bind(17, std::int64_t{1});
  // One statement, so its own transaction: the row it returns is the row committed.
  auto inserted = db_->exec(kInsertMeeting, params);
  if (!inserted) return std::unexpected(meeting_error(inserted.error(), "create meeting", meeting));
  return pg::single(*inserted, kReadMeeting, "create meeting");
}

StoreResult<MeetingRecord> PostgresStore::get_meeting(std::string_view id) {
  PgParams params;
  params.bind(1, id);
  auto found = run(kSelectMeeting, params, "get meeting");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::single(*found, kReadMeeting, "get meeting");
}

StoreResult<std::vector<MeetingRecord>> PostgresStore::list_meetings(std::string_view after_id, std::size_t limit,
                                                                     std::optional<std::string_view> room_id) {
  PgParams params;
  params.bind(1, after_id).bind_optional(2, room_id).bind(3, codec::to_limit(limit));
  auto found = run(kListMeetings, params, "list meetings");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::collect(*found, kReadMeeting);
}

StoreResult<std::vector<MeetingRecord>> PostgresStore::list_meetings_for_room(std::string_view room_id) {
  PgParams params;
  params.bind(1, room_id);
  auto found = run(kListRoomMeetings, params, "list room meetings");
  if (!found) return std::unexpected(std::move(found.error()));
  return pg::collect(*found, kReadMeeting);
}

StoreResult<std::uint64_t> PostgresStore::update_meeting(const MeetingRecord& meeting, std::uint64_t expected_version) {
  if (auto text = rows::check_text(meeting, "update meeting"); !text) return std::unexpected(std::move(text.error()));
  PgParams params;
  if (auto bound = rows::bind_meeting_fields(params, meeting); !bound) return std::unexpected(std::move(bound.error()));
  auto transaction = PgTransaction::begin(*db_);
  if (!transaction) return fail(transaction.error(), "update meeting");
  if (auto same = check_version(kMeetingVersion, meeting.id, expected_version, "update meeting"); !same) {
    return std::unexpected(std::move(same.error()));
  }
  if (auto done = db_->exec(kUpdateMeeting, params); !done) {
    return std::unexpected(meeting_error(done.error(), "update meeting", meeting));
  }
  if (auto committed = transaction->commit(); !committed) return fail(committed.error(), "update meeting");
  return expected_version + 1;
}

StoreResult<void> PostgresStore::delete_meeting(std::string_view id) {
  return delete_by_id("DELETE FROM meetings WHERE id = $1", id, "delete meeting");
}

}  // namespace chorus::conference
