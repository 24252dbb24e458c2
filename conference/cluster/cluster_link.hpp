// ClusterLink: this node's background conversation with the shared PostgreSQL (issue 14), on a
// thread of its own so the control loop never waits for the database on its behalf (DESIGN §2).
//
//   outgoing  notify(channel, payload): queued (at most max_outgoing; beyond, dropped and counted),
//             sent as SELECT pg_notify($1, $2) in order. Kept while the database is unreachable.
//   heartbeat every `heartbeat` (2 s), or at once after set_state(…, urgent): this node's
//             chorus_nodes row (cluster_tables.hpp) and the renewal of its live rooms' leases
//             (placement_table.hpp); the live rooms not renewed go to on_not_renewed.
//   incoming  a LISTEN session (pg_listener.hpp) on the channels given; each notification from
//             another session is posted to the control loop (on_notification). At most
//             max_incoming wait there at once: beyond, they are dropped and counted, and once the
//             backlog is gone on_resync asks the owner to re-read what it keeps in memory. A flood
//             cannot grow memory without limit.
//   resync    the LISTEN session is (re)opened after a failure, or notifications were dropped:
//             what was sent meanwhile is lost, so on_resync runs on the control loop (also once
//             after the first LISTEN: whatever changed before it began).
//
// Our own notifications come back to our LISTEN session; those sent from this link's session
// (by backend PID) are not delivered.
//
// Threading: notify(), set_state() and counters() from any thread; the handlers run on the control
// loop through `post`, never after stop() (call stop() on the control loop, before the handlers'
// objects go). One thread, two sessions (statements, LISTEN), both bounded by connect_timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "conference/cluster/cluster_tables.hpp"
#include "conference/cluster/pg_listener.hpp"
#include "conference/store/postgres_connection.hpp"

namespace chorus::conference::cluster {

struct LinkSettings {
  pg::PgSettings database;
  std::string node_id;
  std::vector<std::string> channels;            // LISTENed on
  std::chrono::milliseconds heartbeat{2000};    // chorus_nodes row and lease renewal
  std::chrono::seconds lease{10};               // placement_lease_s
  std::chrono::milliseconds retry_delay{1000};  // after a failed connection
  std::size_t max_outgoing = 4096;              // notifications waiting to be sent
  std::size_t max_incoming = 1024;              // notifications waiting on the control loop
  std::size_t max_read = 256;                   // notifications taken from libpq at once
};

// What the heartbeat writes: this node's row and the rooms whose leases it renews.
struct LinkState {
  NodeRow node;
  std::vector<std::string> live_rooms;
};

struct LinkCounters {
  std::uint64_t sent = 0;              // notifications sent
  std::uint64_t dropped_outgoing = 0;  // not queued: the queue was full
  std::uint64_t received = 0;          // from other sessions, delivered
  std::uint64_t dropped_incoming = 0;  // not delivered: the control loop's backlog was full
  std::uint64_t heartbeats = 0;        // written
  std::uint64_t heartbeat_failures = 0;
  std::uint64_t resyncs = 0;  // on_resync posted
};

class ClusterLink {
 public:
  struct Handlers {
    std::function<void(std::function<void()>)> post;                     // runs work on the control loop
    std::function<void(const PgNotification&)> on_notification;          // control loop
    std::function<void(std::vector<std::string> rooms)> on_not_renewed;  // control loop
    std::function<void()> on_resync;                                     // control loop
  };

  ClusterLink(LinkSettings settings, Handlers handlers);
  ~ClusterLink();
  ClusterLink(const ClusterLink&) = delete;
  ClusterLink& operator=(const ClusterLink&) = delete;

  void start();
  // Stops the thread (bounded by connect_timeout when it is connecting) and the handlers: none
  // runs after this returns. Idempotent.
  void stop();

  // Queues a notification; false when the queue is full (counted).
  bool notify(std::string channel, std::string payload);
  // The next heartbeat writes `state`; `urgent`: now rather than at the next tick (a drain).
  void set_state(LinkState state, bool urgent);
  [[nodiscard]] LinkCounters counters() const;

 private:
  struct Outgoing {
    std::string channel;
    std::string payload;
  };
  // Shared with the closures posted to the control loop, which may outlive a stopped link.
  struct Inbox {
    std::atomic<bool> open{true};
    std::atomic<std::size_t> waiting{0};
    Handlers handlers;
  };

  void run();
  void wake();
  [[nodiscard]] bool stopping() const { return stopping_.load(); }
  bool ensure_session();
  void ensure_listener();
  void send_outgoing();
  void beat();
  void read_incoming();
  void deliver(PgNotification notification);
  void post_resync();
  void wait(std::chrono::steady_clock::time_point until);

  LinkSettings settings_;
  std::shared_ptr<Inbox> inbox_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  int wake_fd_ = -1;

  mutable std::mutex mutex_;  // guards queue_, state_, urgent_
  std::deque<Outgoing> queue_;
  LinkState state_;
  bool urgent_ = false;

  // The thread's own.
  std::unique_ptr<pg::PgConnection> session_;
  std::unique_ptr<PgListener> listener_;
  int session_pid_ = 0;  // our statements' backend: its notifications are ours
  bool more_to_read_ = false;
  bool resync_owed_ = false;
  std::chrono::steady_clock::time_point retry_at_{};

  std::atomic<std::uint64_t> sent_{0}, dropped_outgoing_{0}, received_{0}, dropped_incoming_{0}, heartbeats_{0},
      heartbeat_failures_{0}, resyncs_{0};
};

}  // namespace chorus::conference::cluster
