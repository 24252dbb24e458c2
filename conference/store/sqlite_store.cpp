// Opening, rooms and meetings; API keys, webhooks and deliveries are in sqlite_store_hooks.cpp.
#include "conference/store/sqlite_store.hpp"

#include <utility>

#include "conference/store/sqlite_codec.hpp"
#include "conference/store/sqlite_schema.hpp"
#include "conference/store/store_rows.hpp"

namespace chorus::conference {
namespace {

using sqlite::collect;
using sqlite::fail;
using sqlite::Query;
using sqlite::single;
using sqlite::to_store_error;
using sqlite::Transaction;

constexpr auto kReadRoom = &rows::read_room<Query>;
constexpr auto kReadMeeting = &rows::read_meeting<Query>;

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

class SqliteWriteGroup final : public WriteGroup {
 public:
  explicit SqliteWriteGroup(Transaction transaction) : transaction_(std::move(transaction)) {}
  StoreResult<void> commit() override {
    if (auto committed = transaction_.commit(); !committed) return fail(committed.error(), "commit write group");
    return {};
  }

 private:
  Transaction transaction_;
};

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
  if (db_->changes() == 0) return rows::not_found(what);
  return {};
}

StoreResult<void> SqliteStore::check_version(std::string_view select_version_sql, std::string_view id,
                                             std::uint64_t expected, std::string_view what) {
  auto query = db_->query(select_version_sql);
  if (!query) return fail(query.error(), what);
  query->bind(1, id);
  auto row = query->step();
  if (!row) return fail(row.error(), what);
  if (!*row) return rows::not_found(what);
  const auto stored = static_cast<std::uint64_t>(query->int64(0));
  if (stored != expected) return rows::version_mismatch(what, stored, expected);
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
  return std::unexpected(rows::room_conflict(room, query->text(0), query->text(1)));
}

std::unique_ptr<WriteGroup> SqliteStore::begin_write_group() {
  if (db_->transaction_depth() != 0) return nullptr;  // one group at a time
  auto transaction = Transaction::begin(*db_);
  if (!transaction) return nullptr;
  return std::make_unique<SqliteWriteGroup>(std::move(*transaction));
}

StoreResult<Room> SqliteStore::create_room(const Room& room) {
  if (auto text = rows::check_text(room, "create room"); !text) return std::unexpected(std::move(text.error()));
  auto transaction = Transaction::begin(*db_);
  if (!transaction) return fail(transaction.error(), "create room");
  if (auto free = check_room_dial_strings(room, false); !free) return std::unexpected(std::move(free.error()));
  auto query = db_->query(
      "INSERT INTO rooms (id, dial_in_number, name, mode, max_participants, encryption, pin,"
      " moderator_pin, default_layout, locked, created_at_us, version, wait_for_moderator, sip_video)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
  if (!query) return fail(query.error(), "create room");
  rows::bind_room_fields(*query, room);
  query->bind(11, codec::to_micros(room.created_at)).bind(12, std::int64_t{1});
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
  return single<Room>(*query, kReadRoom, "get room");
}

StoreResult<std::vector<Room>> SqliteStore::list_rooms(std::string_view after_id, std::size_t limit) {
  auto query = db_->query(kListRooms);
  if (!query) return fail(query.error(), "list rooms");
  query->bind(1, after_id).bind(2, codec::to_limit(limit));
  return collect<Room>(*query, kReadRoom, "list rooms");
}

StoreResult<std::uint64_t> SqliteStore::update_room(const Room& room, std::uint64_t expected_version) {
  if (auto text = rows::check_text(room, "update room"); !text) return std::unexpected(std::move(text.error()));
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
  rows::bind_room_fields(*query, room);
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
  if (auto text = rows::check_text(meeting, "create meeting"); !text) return std::unexpected(std::move(text.error()));
  auto transaction = Transaction::begin(*db_);
  if (!transaction) return fail(transaction.error(), "create meeting");
  auto query = db_->query(
      "INSERT INTO meetings (id, room_id, title, start_us, end_us, timezone, rrule, exdates_json,"
      " join_window_before_min, pin, organizer, attendees_json, sequence, cancelled, updated_at_us,"
      " created_at_us, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)");
  if (!query) return fail(query.error(), "create meeting");
  if (auto bound = rows::bind_meeting_fields(*query, meeting); !bound) return std::unexpected(std::move(bound.error()));
  query->bind(16, codec::to_micros(meeting.created_at)).bind(17, std::int64_t{1});
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
  return single<MeetingRecord>(*query, kReadMeeting, "get meeting");
}

StoreResult<std::vector<MeetingRecord>> SqliteStore::list_meetings(std::string_view after_id, std::size_t limit,
                                                                   std::optional<std::string_view> room_id) {
  auto query = db_->query(kListMeetings);
  if (!query) return fail(query.error(), "list meetings");
  query->bind(1, after_id).bind_optional(2, room_id).bind(3, codec::to_limit(limit));
  return collect<MeetingRecord>(*query, kReadMeeting, "list meetings");
}

StoreResult<std::vector<MeetingRecord>> SqliteStore::list_meetings_for_room(std::string_view room_id) {
  auto query = db_->query(kListRoomMeetings);
  if (!query) return fail(query.error(), "list room meetings");
  query->bind(1, room_id);
  return collect<MeetingRecord>(*query, kReadMeeting, "list room meetings");
}

StoreResult<std::uint64_t> SqliteStore::update_meeting(const MeetingRecord& meeting, std::uint64_t expected_version) {
  if (auto text = rows::check_text(meeting, "update meeting"); !text) return std::unexpected(std::move(text.error()));
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
  if (auto bound = rows::bind_meeting_fields(*query, meeting); !bound) return std::unexpected(std::move(bound.error()));
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
