// Group commit of the REST API's meeting writes (issue 13; rest-api/write_group.hpp). Requests are
// queued the way concurrent HTTP sessions queue them, then the control loop drains them: one group,
// one commit, and only then the answers, the calendar and the events. A commit that fails leaves no
// 2xx, no event and no meeting. Another connection to the database file shows what is committed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/bind_executor.hpp>
#include <optional>

#include "conference/store/sqlite_connection.hpp"
#include "rest-api/write_group.hpp"
#include "tests/unit/rest-api/api/api_test_fixture.hpp"

namespace chorus::rest::api_test {
namespace write_group_test {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

json meeting(const std::string& id) {
  return json{{"id", id},
              {"room_id", "1000"},
              {"title", "Standup " + id},
              {"start", "2026-03-19T09:00:00Z"},
              {"end", "2026-03-19T09:15:00Z"}};
}

// A group whose commit fails (the disk, say): dropped uncommitted, the store's group rolls back.
class FailingCommit final : public conference::WriteGroup {
 public:
  explicit FailingCommit(std::unique_ptr<conference::WriteGroup> inner) : inner_(std::move(inner)) {}
  conference::StoreResult<void> commit() override {
    return std::unexpected(conference::StoreError{conference::StoreErrorKind::kIo, "disk I/O error (test)"});
  }

 private:
  std::unique_ptr<conference::WriteGroup> inner_;
};

class WriteGroupRoutes : public ApiRoutesTest {
 protected:
  WriteGroupRoutes() {
    // Each meeting event notes how many meetings another connection could read at that moment.
    subscription_ = events_.subscribe([this](const conference::Event&) { committed_at_event_.push_back(committed()); });
  }

  // Queues every call before the control loop runs, as sessions do while it is busy, then runs it.
  std::vector<HttpResponse> run_together(const std::vector<Call>& calls, WriteGroupQueue::GroupOpener open_group,
                                         WriteGroupOptions options = {}) {
    boost::asio::io_context control;
    boost::asio::io_context sessions;
    WriteGroupQueue queue(control, router_, std::move(open_group), services_->commit_effects, metrics_, options);
    std::vector<std::optional<HttpResponse>> answers(calls.size());
    for (std::size_t i = 0; i < calls.size(); ++i) {
      queue.async_handle(request_of(calls[i]), boost::asio::bind_executor(sessions, [&answers, i](HttpResponse r) {
                           answers[i] = std::move(r);
                         }));
    }
    control.run();
    EXPECT_TRUE(std::ranges::none_of(answers, [](const auto& a) { return a.has_value(); }))
        << "answered on the control loop, not on the session's executor";
    sessions.run();
    std::vector<HttpResponse> out;
    for (auto& answer : answers) {
      EXPECT_TRUE(answer.has_value());
      out.push_back(answer ? std::move(*answer) : HttpResponse::empty(http::status::unknown));
    }
    return out;
  }
  WriteGroupQueue::GroupOpener store_groups() {
    return [this] { return store_->begin_write_group(); };
  }
  static Call create(const std::string& id) {
    return {.method = http::verb::post, .target = "/v1/meetings", .body = meeting(id)};
  }

  // Meetings another connection to the file reads: the committed ones.
  std::int64_t committed() {
    auto other = conference::sqlite::Connection::open((dir_ / "chorus.db").string());
    if (!other) return -1;
    auto count = (*other)->query("SELECT count(*) FROM meetings");
    if (!count || !count->step().value_or(false)) return -1;
    return count->int64(0);
  }
  static std::vector<unsigned> statuses(const std::vector<HttpResponse>& responses) {
    std::vector<unsigned> out;
    for (const auto& response : responses) out.push_back(response.status());
    return out;
  }
  std::string metrics_text() const { return metrics_.render(); }

  std::vector<std::int64_t> committed_at_event_;
  conference::EventLog::Subscription subscription_;
};

TEST_F(WriteGroupRoutes, ConcurrentCreatesShareOneCommitAndAreAnnouncedAfterIt) {
  const auto responses =
      run_together({create("a"), create("b"), create("c"), create("d"), create("e")}, store_groups());
  EXPECT_THAT(statuses(responses), ElementsAre(201u, 201u, 201u, 201u, 201u));
  EXPECT_EQ(body_of(responses[2])["id"], "c");
  EXPECT_EQ(committed(), 5);
  // Every event came after the whole group was on disk, and the calendar has all five.
  EXPECT_THAT(committed_at_event_, ElementsAre(5, 5, 5, 5, 5));
  EXPECT_THAT(event_types(), ElementsAre("meeting.created", "meeting.created", "meeting.created", "meeting.created",
                                         "meeting.created"));
  EXPECT_EQ(calendar_.size(), 5u);
  EXPECT_THAT(metrics_text(), HasSubstr("chorus_rest_write_groups_total{outcome=\"committed\"} 1\n"));
  EXPECT_THAT(metrics_text(), HasSubstr("chorus_rest_grouped_requests_total 5\n"));
}

TEST_F(WriteGroupRoutes, AFailedCommitLeavesNoSuccessNoEventAndNoMeeting) {
  Call invalid = create("bad");
  invalid.body->erase("start");
  const auto responses =
      run_together({create("a"), invalid, create("b")}, [this]() -> std::unique_ptr<conference::WriteGroup> {
        return std::make_unique<FailingCommit>(store_->begin_write_group());
      });
  EXPECT_THAT(statuses(responses), ElementsAre(500u, 422u, 500u));  // the refusal stands
  EXPECT_EQ(committed(), 0);
  EXPECT_FALSE(store_->get_meeting("a").has_value());  // rolled back, not only unseen
  EXPECT_THAT(event_types(), ElementsAre());
  EXPECT_EQ(calendar_.size(), 0u);
  EXPECT_THAT(metrics_text(), HasSubstr("chorus_rest_write_groups_total{outcome=\"failed\"} 1\n"));

  // The next group commits as usual.
  EXPECT_THAT(statuses(run_together({create("a")}, store_groups())), ElementsAre(201u));
  EXPECT_EQ(committed(), 1);
  EXPECT_THAT(event_types(), ElementsAre("meeting.created"));
}

TEST_F(WriteGroupRoutes, WithoutGroupsEachWriteCommitsAloneBeforeItsEvent) {
  const auto responses = run_together({create("a"), create("b"), create("c")}, [] { return nullptr; });
  EXPECT_THAT(statuses(responses), ElementsAre(201u, 201u, 201u));
  EXPECT_THAT(committed_at_event_, ElementsAre(1, 2, 3));
  EXPECT_EQ(calendar_.size(), 3u);
  EXPECT_THAT(metrics_text(), HasSubstr("chorus_rest_grouped_requests_total 0\n"));
}

TEST_F(WriteGroupRoutes, AGroupHoldsAtMostMaxRequests) {
  const auto responses = run_together({create("a"), create("b"), create("c"), create("d"), create("e")}, store_groups(),
                                      {.max_requests = 2});
  EXPECT_THAT(statuses(responses), ElementsAre(201u, 201u, 201u, 201u, 201u));
  EXPECT_THAT(committed_at_event_, ElementsAre(2, 2, 4, 4, 5));
  EXPECT_THAT(metrics_text(), HasSubstr("chorus_rest_write_groups_total{outcome=\"committed\"} 3\n"));
}

TEST_F(WriteGroupRoutes, WritesInOneGroupSeeEachOtherInOrder) {
  const auto created = post("/v1/meetings", meeting("m"));
  ASSERT_EQ(created.status(), 201u);
  ASSERT_EQ(calendar_.size(), 1u);
  // The PATCH moves the meeting to version 2 inside the group; the DELETE's If-Match names that
  // version, so it must see the PATCH's uncommitted write.
  const auto responses = run_together(
      {{.method = http::verb::patch, .target = "/v1/meetings/m", .body = json{{"title", "Moved"}}, .if_match = "\"1\""},
       {.method = http::verb::delete_, .target = "/v1/meetings/m", .if_match = "\"2\""}},
      store_groups());
  EXPECT_THAT(statuses(responses), ElementsAre(200u, 204u));
  EXPECT_THAT(event_types(), ElementsAre("meeting.created", "meeting.updated", "meeting.deleted"));
  EXPECT_EQ(calendar_.size(), 0u);  // put by the PATCH's effect, then removed by the DELETE's
  const auto stored = store_->get_meeting("m");
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(stored->cancelled);
  EXPECT_EQ(stored->title, "Moved");
}

TEST_F(WriteGroupRoutes, OnlyTheMeetingWritesJoinGroups) {
  EXPECT_TRUE(router_.joins_write_group(request_of(create("a"))));
  EXPECT_TRUE(router_.joins_write_group(request_of({.method = http::verb::patch, .target = "/v1/meetings/a"})));
  EXPECT_TRUE(router_.joins_write_group(request_of({.method = http::verb::delete_, .target = "/v1/meetings/a"})));
  EXPECT_FALSE(router_.joins_write_group(request_of({.target = "/v1/meetings"})));
  EXPECT_FALSE(router_.joins_write_group(request_of({.method = http::verb::post, .target = "/v1/rooms"})));
  EXPECT_FALSE(router_.joins_write_group(request_of({.method = http::verb::post, .target = "/v1/nothing"})));
}

}  // namespace write_group_test
}  // namespace chorus::rest::api_test
