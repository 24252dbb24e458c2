// What the cluster tests share: a database of their own on the throw-away PostgreSQL cluster
// (pg_cluster.hpp; skipped with the reason when PostgreSQL is not installed), and a stand-in for
// the control loop that the cluster link posts its handlers to.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "conference/cluster/cluster_tables.hpp"
#include "conference/store/postgres_connection.hpp"
#include "tests/unit/conference/store/pg_cluster.hpp"

namespace chorus::conference::cluster::test {

using namespace std::chrono_literals;

// Each test gets a new database, with the cluster tables, dropped afterwards.
class ClusterDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& cluster = chorus::test::PgCluster::shared();
    if (!cluster.available()) {
      if (cluster.skipped()) GTEST_SKIP() << cluster.problem();
      FAIL() << cluster.problem();
    }
    auto made = cluster.create_database();
    ASSERT_TRUE(made) << made.error();
    database_ = *made;
    auto db = connect();
    ASSERT_TRUE(db);
    auto tables = ensure_cluster_tables(*db);
    ASSERT_TRUE(tables) << tables.error().message;
  }
  void TearDown() override {
    if (!database_.empty()) chorus::test::PgCluster::shared().drop_database(database_);
  }

  [[nodiscard]] pg::PgSettings settings() const {
    return pg::PgSettings{.conninfo = chorus::test::PgCluster::shared().uri(database_),
                          // Generous: a busy CI machine (sanitizer shards in parallel) once took over 2 s to answer.
                          .connect_timeout = std::chrono::seconds(10),
                          .statement_timeout = std::chrono::milliseconds(5000)};
  }
  std::unique_ptr<pg::PgConnection> connect() const {
    auto db = pg::PgConnection::open(settings());
    EXPECT_TRUE(db) << (db ? std::string() : db.error().message);
    return db ? std::move(*db) : nullptr;
  }
  // The first column of the first row ("" when none), through a session of its own.
  [[nodiscard]] std::string query(const std::string& sql) const {
    auto answer = chorus::test::PgCluster::shared().query(database_, sql);
    return answer ? *answer : std::string();
  }
  void exec(const std::string& sql) const {
    auto done = chorus::test::PgCluster::shared().exec(database_, sql);
    ASSERT_TRUE(done) << done.error();
  }

  std::string database_;
};

// Work posted by another thread, run on the test's thread when it asks (the control loop's part).
class TestLoop {
 public:
  void post(std::function<void()> work) {
    {
      const std::lock_guard lock(mutex_);
      queue_.push_back(std::move(work));
    }
    ready_.notify_one();
  }
  std::function<void(std::function<void()>)> poster() {
    return [this](std::function<void()> work) { post(std::move(work)); };
  }
  // Runs posted work until `done()` or `limit` passed; whether done() held.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      std::unique_lock lock(mutex_);
      if (!ready_.wait_until(lock, deadline, [this] { return !queue_.empty(); })) return done();
      auto work = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      work();
    }
    return true;
  }
  // Runs what is queued now, without waiting.
  void run_ready() {
    for (;;) {
      std::unique_lock lock(mutex_);
      if (queue_.empty()) return;
      auto work = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      work();
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
};

}  // namespace chorus::conference::cluster::test
