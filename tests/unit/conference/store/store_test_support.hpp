// Shared by the store tests: a temporary directory per test and sample records with every field
// set away from its default, so a column that is dropped or swapped shows.
#pragma once

#include "tests/unit/test_support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "conference/store/sqlite_store.hpp"

namespace chorus::conference::test {

using namespace std::chrono_literals;

// 2026-11-26T09:00:00.123456Z: the store keeps microseconds, so a sample carries some.
inline std::chrono::system_clock::time_point sample_time(std::chrono::minutes offset = 0min) {
  return std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + 9h + 123456us + offset;
}

inline Room sample_room(const std::string& id, const std::string& number) {
  Room room;
  room.id = id;
  room.dial_in_number = number;
  room.name = "Room " + id;
  room.mode = RoomMode::kMcu;  // not the default, so a lost column would show
  room.max_participants = 42;
  room.encryption = RoomEncryption::kRequired;
  room.pin = "1234";
  room.moderator_pin = "9876";
  room.default_layout = "speaker";
  room.sip_video = SipVideo::kComposite;
  room.locked = true;
  room.wait_for_moderator = true;
  room.created_at = sample_time();
  room.version = 17;  // the store ignores it on create
  return room;
}

inline MeetingRecord sample_meeting(const std::string& id, const std::string& room_id) {
  MeetingRecord meeting;
  meeting.id = id;
  meeting.room_id = room_id;
  meeting.title = "Weekly " + id;
  meeting.start = sample_time();
  meeting.end = sample_time(45min);
  meeting.timezone = "Europe/Paris";
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TH;COUNT=10";
  meeting.exdates = {sample_time(7 * 24h), sample_time(14 * 24h)};
  meeting.join_window_before = 10min;
  meeting.pin = "5555";
  meeting.organizer = "alice@example.com";
  meeting.attendees = {"bob@example.com", "carol@example.com"};
  meeting.sequence = 3;
  meeting.cancelled = true;
  meeting.created_at = sample_time(-60min);
  meeting.updated_at = sample_time(-30min);
  meeting.version = 9;
  return meeting;
}

// The error's kind, none on success: EXPECT_EQ(error_kind(result), StoreErrorKind::kConflict).
template <typename T>
std::optional<StoreErrorKind> error_kind(const StoreResult<T>& result) {
  if (result.has_value()) return std::nullopt;
  return result.error().kind;
}

using TempDir = chorus::test::TempDir;

// A test with a store open on `db_path()`; reopen() closes and opens the same file.
class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
    reopen();
  }
  void reopen() {
    store_.reset();
    auto opened = SqliteStore::open(db_path());
    ASSERT_TRUE(opened.has_value()) << opened.error();
    store_ = std::move(*opened);
  }
  [[nodiscard]] std::string db_path() const { return (dir_.path() / "chorus.db").string(); }
  SqliteStore& store() { return *store_; }

  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

}  // namespace chorus::conference::test
