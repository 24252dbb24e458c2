#include "conference/recording/recording_catalog.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/unit/test_support/temp_dir.hpp"

namespace chorus::conference {
namespace recording_catalog_test {

using namespace std::chrono_literals;
using SystemClock = std::chrono::system_clock;

const SystemClock::time_point kNow = SystemClock::time_point(std::chrono::seconds(1'800'000'000));

RecordingInfo finished(std::string conference, SystemClock::time_point started, std::uint64_t bytes) {
  RecordingInfo info;
  info.id = new_recording_id();
  info.conference_id = std::move(conference);
  info.state = RecordingState::kStopped;
  info.media_type = "video/webm";
  info.extension = "webm";
  info.started_at = started;
  info.stopped_at = started + 60s;
  info.bytes = bytes;
  info.reason = std::string(recording_reason::kRequested);
  return info;
}

void write_media(const RecordingCatalog& catalog, const RecordingInfo& info, std::size_t size) {
  std::ofstream(catalog.media_path(info), std::ios::binary) << std::string(size, 'x');
}

TEST(RecordingIdTest, NewIdsHaveTheOneShapeLookupsAccept) {
  const std::string id = new_recording_id();
  EXPECT_TRUE(is_recording_id(id)) << id;
  EXPECT_NE(id, new_recording_id());
  EXPECT_FALSE(is_recording_id("rec_../../etc/passwd"));
  EXPECT_FALSE(is_recording_id("rec_0123456789ABCDEF"));  // upper case is not ours
  EXPECT_FALSE(is_recording_id("rec_0123456789abcde"));
  EXPECT_FALSE(is_recording_id("xyz_0123456789abcdef"));
}

TEST(RecordingCatalogTest, SavedRecordingsAreReadBackByTheNextOpen) {
  test::TempDir dir;
  const auto folder = dir.path() / "recordings";
  RecordingInfo kept = finished("1000", kNow - 1h, 1234);
  kept.error = "none";
  {
    RecordingCatalog catalog(folder);
    ASSERT_TRUE(catalog.open(kNow).has_value());
    ASSERT_TRUE(catalog.save(kept).has_value());
  }
  RecordingCatalog reopened(folder);
  ASSERT_TRUE(reopened.open(kNow).has_value());
  const RecordingInfo* info = reopened.find(kept.id);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->conference_id, "1000");
  EXPECT_EQ(info->state, RecordingState::kStopped);
  EXPECT_EQ(info->bytes, 1234U);
  EXPECT_EQ(info->started_at, kept.started_at);
  EXPECT_EQ(info->stopped_at, kept.stopped_at);
  EXPECT_EQ(info->reason, "requested");
  EXPECT_EQ(info->error, "none");
  EXPECT_EQ(std::filesystem::status(folder).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);
}

TEST(RecordingCatalogTest, ARecordingLeftRunningByADeadServerIsClosedAsInterruptedWithItsFileSize) {
  test::TempDir dir;
  RecordingCatalog first(dir.path());
  ASSERT_TRUE(first.open(kNow).has_value());
  RecordingInfo running = finished("1000", kNow - 10min, 0);
  running.state = RecordingState::kRecording;
  running.stopped_at.reset();
  running.reason.clear();
  ASSERT_TRUE(first.save(running).has_value());
  write_media(first, running, 4321);

  RecordingCatalog second(dir.path());
  ASSERT_TRUE(second.open(kNow).has_value());
  const RecordingInfo* info = second.find(running.id);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->state, RecordingState::kStopped);
  EXPECT_EQ(info->reason, "interrupted");
  EXPECT_EQ(info->bytes, 4321U);
  EXPECT_EQ(info->stopped_at, kNow);
  RecordingCatalog third(dir.path());  // and it was written back
  ASSERT_TRUE(third.open(kNow + 1h).has_value());
  EXPECT_EQ(third.find(running.id)->stopped_at, kNow);
}

TEST(RecordingCatalogTest, BrokenOrForeignSidecarsAreLeftAlone) {
  test::TempDir dir;
  const std::string id = new_recording_id();
  (void)dir.file(id + ".json", "{not json");
  (void)dir.file("rec_0000000000000001.json", R"({"id":"rec_0000000000000002","conference_id":"1","state":"stopped"})");
  (void)dir.file("notes.json", "{}");
  RecordingCatalog catalog(dir.path());
  ASSERT_TRUE(catalog.open(kNow).has_value());
  EXPECT_TRUE(catalog.list().empty());
  EXPECT_TRUE(std::filesystem::exists(dir.path() / (id + ".json")));  // not deleted: a person may mend it
}

TEST(RecordingCatalogTest, ListsNewestFirstAndByConference) {
  test::TempDir dir;
  RecordingCatalog catalog(dir.path());
  ASSERT_TRUE(catalog.open(kNow).has_value());
  const auto old = finished("1000", kNow - 2h, 10);
  const auto newer = finished("2000", kNow - 1h, 20);
  const auto newest = finished("1000", kNow, 30);
  for (const auto& info : {old, newer, newest}) ASSERT_TRUE(catalog.save(info).has_value());
  auto all = catalog.list();
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[0]->id, newest.id);
  EXPECT_EQ(all[2]->id, old.id);
  auto room = catalog.list("1000");
  ASSERT_EQ(room.size(), 2U);
  EXPECT_EQ(room[0]->id, newest.id);
  EXPECT_EQ(catalog.stored_bytes(), 60U);
}

TEST(RecordingCatalogTest, RetentionNamesOnlyFinishedRecordingsPastIt) {
  test::TempDir dir;
  RecordingCatalog catalog(dir.path());
  ASSERT_TRUE(catalog.open(kNow).has_value());
  const auto expired = finished("1000", kNow - 48h, 1);
  auto running_old = finished("1000", kNow - 72h, 1);
  running_old.state = RecordingState::kRecording;
  const auto recent = finished("1000", kNow - 1h, 1);
  for (const auto& info : {expired, running_old, recent}) ASSERT_TRUE(catalog.save(info).has_value());
  EXPECT_EQ(catalog.expired(kNow, std::chrono::hours(24)), std::vector<std::string>{expired.id});
}

TEST(RecordingCatalogTest, RemoveDeletesTheMediaAndTheSidecar) {
  test::TempDir dir;
  RecordingCatalog catalog(dir.path());
  ASSERT_TRUE(catalog.open(kNow).has_value());
  const auto info = finished("1000", kNow, 5);
  ASSERT_TRUE(catalog.save(info).has_value());
  write_media(catalog, info, 5);
  ASSERT_TRUE(catalog.remove(info.id).has_value());
  EXPECT_EQ(catalog.find(info.id), nullptr);
  EXPECT_FALSE(std::filesystem::exists(catalog.media_path(info)));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / (info.id + ".json")));
  EXPECT_FALSE(catalog.remove(info.id).has_value());
}

}  // namespace recording_catalog_test
}  // namespace chorus::conference
