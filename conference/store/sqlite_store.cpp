// Opening, rooms and meetings; API keys, webhooks and deliveries are in sqlite_store_hooks.cpp.
#include "conference/store/sqlite_store.hpp"

#include <utility>

#include "conference/store/sqlite_codec.hpp"
#include "conference/store/sqlite_schema.hpp"

namespace chorus::conference {
namespace {

using sqlite::collect;
using sqlite::fail;
using sqlite::Query;
using sqlite::single;
using sqlite::to_store_error;
using sqlite::Transaction;

StoreResult<Room> read_room(const Query& row) {
  Room room;
  room.id = row.text(0);
  room.dial_in_number = row.text(1);
  room.name = row.text(2);
  const auto mode = sqlite::room_mode_from_column(row.text(3));
  room.max_participants = static_cast<std::size_t>(row.int64(4));
  const auto encryption = sqlite::room_encryption_from_column(row.text(5));
  const auto sip_video = sqlite::sip_video_from_column(row.text(13));
  if (!mode || !encryption || !sip_video) {
    return std::unexpected(sqlite::io_error("reading room " + room.id, "unknown mode, encryption or sip_video"));
  }
  room.mode = *mode;
  room.encryption = *encryption;
  room.sip_video = *sip_video;
  room.pin = row.text(6);
  room.moderator_pin = row.text(7);
  room.default_layout = row.text(8);
  room.locked = row.int64(9) != 0;
  room.created_at = sqlite::from_micros(row.int64(10));
  room.version = static_cast<std::uint64_t>(row.int64(11));
  room.wait_for_moderator = row.int64(12) != 0;
  return room;
}

// ?1 id … ?10 locked, ?13 wait_for_moderator, ?14 sip_video, as in the INSERT and UPDATE below.
void bind_room_fields(Query& query, const Room& room) {
  // A room without a number stores NULL, so that any number of rooms can go without one.
  query.bind(1, room.id)
      .bind_optional(2,
                     room.dial_in_number.empty() ? std::nullopt : std::optional<std::string_view>(room.dial_in_number))
      .bind(3, room.name)
      .bind(4, sqlite::to_column(room.mode))
      .bind(5, static_cast<std::int64_t>(room.max_participants))
      .bind(6, sqlite::to_column(room.encryption))
      .bind(7, room.pin)
      .bind(8, room.moderator_pin)
      .bind(9, room.default_layout)
      .bind(10, std::int64_t{room.locked ? 1 : 0})
      .bind(13, std::int64_t{room.wait_for_moderator ? 1 : 0})
      .bind(14, sqlite::to_column(room.sip_video));
}

StoreResult<MeetingRecord> read_meeting(const Query& row) {
  MeetingRecord meeting;
  meeting.id = row.text(0);
  meeting.room_id = row.text(1);
  meeting.title = row.text(2);
  meeting.start = sqlite::from_micros(row.int64(3));
  meeting.end = sqlite::from_micros(row.int64(4));
  meeting.timezone = row.text(5);
  meeting.rrule = row.text(6);
  auto exdates = sqlite::decode_times(row.text(7));
  if (!exdates) return std::unexpected(std::move(exdates.error()));
  meeting.exdates = std::move(*exdates);
  meeting.join_window_before = std::chrono::minutes(row.int64(8));
  if (!row.is_null(9)) meeting.pin = row.text(9);
  meeting.organizer = row.text(10);
  auto attendees = sqlite::decode_strings(row.text(11));
  if (!attendees) return std::unexpected(std::move(attendees.error()));
  meeting.attendees = std::move(*attendees);
  meeting.sequence = static_cast<std::uint32_t>(row.int64(12));
  meeting.cancelled = row.int64(13) != 0;
  meeting.updated_at = sqlite::from_micros(row.int64(14));
  meeting.created_at = sqlite::from_micros(row.int64(15));
  meeting.version = static_cast<std::uint64_t>(row.int64(16));
  return meeting;
}

// ?1 id … ?15 updated_at, as in the INSERT and UPDATE below.
StoreResult<void> bind_meeting_fields(Query& query, const MeetingRecord& meeting) {
  auto attendees = sqlite::encode_strings(meeting.attendees);
  if (!attendees) return std::unexpected(std::move(attendees.error()));
  std::optional<std::string_view> pin;
  if (meeting.pin) pin = *meeting.pin;
  query.bind(1, meeting.id)
      .bind(2, meeting.room_id)
      .bind(3, meeting.title)
      .bind(4, sqlite::to_micros(meeting.start))
      .bind(5, sqlite::to_micros(meeting.end))
      .bind(6, meeting.timezone)
      .bind(7, meeting.rrule)
      .bind(8, sqlite::encode_times(meeting.exdates))
      .bind(9, static_cast<std::int64_t>(meeting.join_window_before.count()))
      .bind_optional(10, pin)
      .bind(11, meeting.organizer)
      .bind(12, *attendees)
      .bind(13, std::int64_t{meeting.sequence})
      .bind(14, std::int64_t{meeting.cancelled ? 1 : 0})
      .bind(15, sqlite::to_micros(meeting.updated_at));
  return {};
}

constexpr std::string_view kSelectRoom =
    "SELECT id, dial_in_number, name, mode, max_participants, encryption, pin, moderator_pin,"
    " default_layout, locked, created_at_us, version, wait_for_moderator, sip_video FROM rooms WHERE id = ?1";
constexpr std::string_view kListRooms =
    "SELECT id, dial_in_number, name, mode, max_participants, encryption, pin, moderator_pin,"
    " default_layout, locked, created_at_us, version, wait_for_moderator, sip_video FROM rooms WHERE id > ?1 ORDER BY "
    "id"
    " LIMIT ?2";
constexpr std::string_view kRoomVersion = "SELECT version FROM rooms WHERE id = ?1";

constexpr std::string_view kSelectMeeting =
    "SELECT id, room_id, title, start_us, end_us, timezone, rrule, exdates_json, join_window_before_min, pin,"
    " organizer, attendees_json, sequence, cancelled, updated_at_us, created_at_us, version FROM meetings"
    " WHERE id = ?1";
constexpr std::string_view kListMeetings =
    "SELECT id, room_id, title, start_us, end_us, timezone, rrule, exdates_json, join_window_before_min, pin,"
    " organizer, attendees_json, sequence, cancelled, updated_at_us, created_at_us, version FROM meetings"
    " WHERE id > ?1 AND (?2 IS NULL OR room_id = ?2) ORDER BY id LIMIT ?3";
constexpr std::string_view kListRoomMeetings =
    "SELECT id, room_id, title, start_us, end_us, timezone, rrule, exdates_json, join_window_before_min, pin,"
    " organizer, attendees_json, sequence, cancelled, updated_at_us, created_at_us, version FROM meetings"
    " WHERE room_id = ?1 ORDER BY id";
constexpr std::string_view kMeetingVersion = "SELECT version FROM meetings WHERE id = ?1";

}  // namespace

std::expected<std::unique_ptr<SqliteStore>, std::string> SqliteStore::open(const std::string& path) {
  auto db = sqlite::Connection::open(path);
  if (!db) return std::unexpected("cannot open " + path + ": " + db.error().message);
  auto& connection = **db;
  const std::string busy = "PRAGMA busy_timeout = " + std::to_string(kBusyTimeoutMs);
  if (auto set = connection.exec(busy.c_str()); !set) return std::unexpected(path + ": " + set.error().message);
  {
    // The first statement that reads the file: a file that is no database fails here.
    auto journal = connection.query("PRAGMA journal_mode = WAL");
    if (!journal) return std::unexpected(path + ": " + journal.error().message);
    auto row = journal->step();
    if (!row) return std::unexpected(path + ": " + row.error().message);
    if (!*row || journal->text(0) != "wal") return std::unexpected(path + ": the WAL journal mode is unavailable");
  }
  // FULL: the WAL is fsynced at every commit, the durability a 2xx promises.
  if (auto set = connection.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"); !set) {
    return std::unexpected(path + ": " + set.error().message);
  }
  auto version = sqlite::migrate(connection, sqlite::store_migrations());
  if (!version) return std::unexpected(path + ": " + version.error().message);
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*db), *version));
}

StoreResult<void> SqliteStore::delete_by_id(std::string_view sql, std::string_view id, std::string_view what) {
  auto query = db_->query(sql);
  if (!query) return fail(query.error(), what);
  query->bind(1, id);
  if (auto done = query->run(); !done) return fail(done.error(), what);
  if (db_->changes() == 0) {
    return std::unexpected(StoreError{StoreErrorKind::kNotFound, std::string(what) + ": no such record"});
  }
  return {};
}

StoreResult<void> SqliteStore::check_version(std::string_view select_version_sql, std::string_view id,
                                             std::uint64_t expected, std::string_view what) {
  auto query = db_->query(select_version_sql);
  if (!query) return fail(query.error(), what);
  query->bind(1, id);
  auto row = query->step();
  if (!row) return fail(row.error(), what);
  if (!*row) return std::unexpected(StoreError{StoreErrorKind::kNotFound, std::string(what) + ": no such record"});
  const auto stored = static_cast<std::uint64_t>(query->int64(0));
  if (stored != expected) {
    return std::unexpected(StoreError{
        StoreErrorKind::kVersionMismatch,
        std::string(what) + ": stored version " + std::to_string(stored) + ", expected " + std::to_string(expected)});
  }
  return {};
}

StoreResult<void> SqliteStore::check_room_dial_strings(const Room& room, bool is_update) {
  auto query = db_->query(
      "SELECT id, dial_in_number FROM rooms"
      " WHERE (id IN (?1, ?2) OR dial_in_number IN (?1, ?2)) AND id IS NOT ?3 LIMIT 1");
  if (!query) return fail(query.error(), "check room");
  query->bind(1, room.id);
  query->bind_optional(
      2, room.dial_in_number.empty() ? std::nullopt : std::optional<std::string_view>(room.dial_in_number));
  query->bind_optional(3, is_update ? std::optional<std::string_view>(room.id) : std::nullopt);
  auto row = query->step();
  if (!row) return fail(row.error(), "check room");
  if (!*row) return {};
  const std::string other_id = query->text(0);
  const std::string other_number = query->text(1);
  std::string message;
  if (other_id == room.id) {
    message = "room '" + room.id + "' exists";
  } else if (other_id == room.dial_in_number || other_number == room.dial_in_number) {
    message = "dial-in number '" + room.dial_in_number + "' is taken by room '" + other_id + "'";
  } else {
    message = "room id '" + room.id + "' is the dial-in number of room '" + other_id + "'";
  }
  return std::unexpected(StoreError{StoreErrorKind::kConflict, std::move(message)});
}

StoreResult<Room> SqliteStore::create_room(const Room& room) {
  auto transaction = Transaction::begin(*db_);
  if (!transaction) return fail(transaction.error(), "create room");
  if (auto free = check_room_dial_strings(room, false); !free) return std::unexpected(std::move(free.error()));
  auto query = db_->query(
      "INSERT INTO rooms (id, dial_in_number, name, mode, max_participants, encryption, pin,"
      " moderator_pin, default_layout, locked, created_at_us, version, wait_for_moderator, sip_video)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
  if (!query) return fail(query.error(), "create room");
  bind_room_fields(*query, room);
  query->bind(11, sqlite::to_micros(room.created_at)).bind(12, std::int64_t{1});
  if (auto done = query->run(); !done) return fail(done.error(), "create room");
  auto stored = get_room(room.id);
  if (!stored) return stored;
  if (auto committed = transaction->commit(); !committed) return fail(committed.error(), "create room");
  return stored;
}

StoreResult<Room> SqliteStore::get_room(std::string_view id) {
  auto query = db_->query(kSelectRoom);
  if (!query) return fail(query.error(), "get room");
  query->bind(1, id);
  return single<Room>(*query, &read_room, "get room");
}

StoreResult<std::vector<Room>> SqliteStore::list_rooms(std::string_view after_id, std::size_t limit) {
  auto query = db_->query(kListRooms);
  if (!query) return fail(query.error(), "list rooms");
  query->bind(1, after_id).bind(2, sqlite::to_limit(limit));
  return collect<Room>(*query, &read_room, "list rooms");
}

StoreResult<std::uint64_t> SqliteStore::update_room(const Room& room, std::uint64_t expected_version) {
  auto transaction = Transaction::begin(*db_);
  if (!transaction) return fail(transaction.error(), "update room");
  if (auto same = check_version(kRoomVersion, room.id, expected_version, "update room"); !same) {
    return std::unexpected(std::move(same.error()));
  }
  if (auto free = check_room_dial_strings(room, true); !free) return std::unexpected(std::move(free.error()));
  auto query = db_->query(
      "UPDATE rooms SET dial_in_number = ?2, name = ?3, mode = ?4, max_participants = ?5, encryption = ?6,"
      " pin = ?7, moderator_pin = ?8, default_layout = ?9, locked = ?10,"
      " wait_for_moderator = ?13, sip_video = ?14, version = version + 1 WHERE id = ?1");
  if (!query) return fail(query.error(), "update room");
  bind_room_fields(*query, room);
  if (auto done = query->run(); !done) return fail(done.error(), "update room");
  if (auto committed = transaction->commit(); !committed) {
    return fail(committed.error(), "update room");
  }
  return expected_version + 1;
}

StoreResult<void> SqliteStore::delete_room(std::string_view id) {
  // ON DELETE CASCADE (foreign_keys=ON) removes the room's meetings in the same statement.
  return delete_by_id("DELETE FROM rooms WHERE id = ?1", id, "delete room");
}

StoreResult<MeetingRecord> SqliteStore::create_meeting(const MeetingRecord& meeting) {
  auto transaction = Transaction::begin(*db_);
  if (!transaction) return fail(transaction.error(), "create meeting");
  auto query = db_->query(
      "INSERT INTO meetings (id, room_id, title, start_us, end_us, timezone, rrule, exdates_json,"
      " join_window_before_min, pin, organizer, attendees_json, sequence, cancelled, updated_at_us,"
      " created_at_us, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)");
  if (!query) return fail(query.error(), "create meeting");
  if (auto bound = bind_meeting_fields(*query, meeting); !bound) return std::unexpected(std::move(bound.error()));
  query->bind(16, sqlite::to_micros(meeting.created_at)).bind(17, std::int64_t{1});
  if (auto done = query->run(); !done) {
    // The only foreign key is the room.
    auto error = to_store_error(done.error(), "create meeting");
    if (error.kind == StoreErrorKind::kNotFound) error.message = "create meeting: no room '" + meeting.room_id + "'";
    return std::unexpected(std::move(error));
  }
  auto stored = get_meeting(meeting.id);
  if (!stored) return stored;
  if (auto committed = transaction->commit(); !committed) {
    return fail(committed.error(), "create meeting");
  }
  return stored;
}

StoreResult<MeetingRecord> SqliteStore::get_meeting(std::string_view id) {
  auto query = db_->query(kSelectMeeting);
  if (!query) return fail(query.error(), "get meeting");
  query->bind(1, id);
  return single<MeetingRecord>(*query, &read_meeting, "get meeting");
}

StoreResult<std::vector<MeetingRecord>> SqliteStore::list_meetings(std::string_view after_id, std::size_t limit,
                                                                   std::optional<std::string_view> room_id) {
  auto query = db_->query(kListMeetings);
  if (!query) return fail(query.error(), "list meetings");
  query->bind(1, after_id).bind_optional(2, room_id).bind(3, sqlite::to_limit(limit));
  return collect<MeetingRecord>(*query, &read_meeting, "list meetings");
}

StoreResult<std::vector<MeetingRecord>> SqliteStore::list_meetings_for_room(std::string_view room_id) {
  auto query = db_->query(kListRoomMeetings);
  if (!query) return fail(query.error(), "list room meetings");
  query->bind(1, room_id);
  return collect<MeetingRecord>(*query, &read_meeting, "list room meetings");
}

StoreResult<std::uint64_t> SqliteStore::update_meeting(const MeetingRecord& meeting, std::uint64_t expected_version) {
  auto transaction = Transaction::begin(*db_);
  if (!transaction) return fail(transaction.error(), "update meeting");
  if (auto same = check_version(kMeetingVersion, meeting.id, expected_version, "update meeting"); !same) {
    return std::unexpected(std::move(same.error()));
  }
  auto query = db_->query(
      "UPDATE meetings SET room_id = ?2, title = ?3, start_us = ?4, end_us = ?5, timezone = ?6, rrule = ?7,"
      " exdates_json = ?8, join_window_before_min = ?9, pin = ?10, organizer = ?11, attendees_json = ?12,"
      " sequence = ?13, cancelled = ?14, updated_at_us = ?15, version = version + 1 WHERE id = ?1");
  if (!query) return fail(query.error(), "update meeting");
  if (auto bound = bind_meeting_fields(*query, meeting); !bound) return std::unexpected(std::move(bound.error()));
  if (auto done = query->run(); !done) {
    auto error = to_store_error(done.error(), "update meeting");
    if (error.kind == StoreErrorKind::kNotFound) error.message = "update meeting: no room '" + meeting.room_id + "'";
    return std::unexpected(std::move(error));
  }
  if (auto committed = transaction->commit(); !committed) {
    return fail(committed.error(), "update meeting");
  }
  return expected_version + 1;
}

StoreResult<void> SqliteStore::delete_meeting(std::string_view id) {
  return delete_by_id("DELETE FROM meetings WHERE id = ?1", id, "delete meeting");
}

}  // namespace chorus::conference
