// Group commit for the REST API's durable writes (issue 13: POST /v1/meetings ≥ 2,000 per CPU-second
// with synchronous=FULL, an acknowledged write still surviving SIGKILL).
//
// A write route marked `write_group` (RouteOptions) is not run the moment its request reaches the
// control loop. WriteGroupQueue collects the requests of such routes from the HTTP thread; one drain
// on the control loop then runs all that have queued up — the router's whole pipeline for each, in
// arrival order — inside one store write group (conference::WriteGroup: one transaction, each
// request's own write a savepoint in it), commits the group with one fsync, and only then answers
// them. So N concurrent writes cost one commit instead of N, and a lone write waits for nothing: the
// drain is posted when the first request queues and runs as soon as the control loop gets to it.
//
// What a grouped handler does besides writing the store (the calendar, the event log) must wait for
// the commit too, or a crash could lose a change a webhook already announced: handlers pass those side
// effects to CommitEffects::after_commit, which runs them at once outside a group and after the
// commit inside one. When the commit fails every answer that was not already an error becomes 500,
// and the deferred effects are dropped with the rolled-back writes.
//
// A store without write groups (PostgreSQL, the cluster's wrapper) still takes this path: each
// request then runs and commits on its own, as any other route does.
//
// Threading: async_handle() from any thread; everything else on the control loop.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "conference/store/store.hpp"
#include "rest-api/http_message.hpp"
#include "rest-api/metrics.hpp"

namespace chorus::rest {

class Router;

// A grouped handler's side effects, held until its write is durable.
class CommitEffects {
 public:
  using Effect = std::move_only_function<void()>;

  // Runs `effect` now, or — while a group is open — after it commits, in the order given; never when
  // the group fails.
  void after_commit(Effect effect);

  // For the group's runner: start holding effects; run them (the group committed); drop them.
  void hold();
  void run_held();
  void drop_held();
  [[nodiscard]] bool holding() const { return holding_; }

 private:
  bool holding_ = false;
  std::vector<Effect> held_;
};

struct WriteGroupOptions {
  // The most requests one group holds: bounds how long the first of them waits on the others' work.
  std::size_t max_requests = 64;
};

class WriteGroupQueue {
 public:
  // Opens the store's write group (conference::Store::begin_write_group); nullptr: none.
  using GroupOpener = std::function<std::unique_ptr<conference::WriteGroup>()>;

  // All outlive the queue; `control` is the loop the router's handlers and the store run on.
  WriteGroupQueue(boost::asio::io_context& control, const Router& router, GroupOpener open_group,
                  CommitEffects& effects, MetricsRegistry& metrics, WriteGroupOptions options = {});
  WriteGroupQueue(const WriteGroupQueue&) = delete;
  WriteGroupQueue& operator=(const WriteGroupQueue&) = delete;

  // Runs `request` through the router in the next write group; completes with its response on the
  // completion handler's own executor (the HTTP thread's, for a session's use_awaitable).
  template <typename CompletionToken>
  auto async_handle(HttpRequest request, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(HttpResponse)>(
        [this](auto handler, HttpRequest queued) {
          auto executor = boost::asio::get_associated_executor(handler);
          enqueue(std::move(queued), [handler = std::move(handler), executor](HttpResponse response) mutable {
            boost::asio::post(executor, [handler = std::move(handler), response = std::move(response)]() mutable {
              std::move(handler)(std::move(response));
            });
          });
        },
        token, std::move(request));
  }

 private:
  struct Pending {
    HttpRequest request;
    std::move_only_function<void(HttpResponse)> complete;
  };

  void enqueue(HttpRequest request, std::move_only_function<void(HttpResponse)> complete);
  void drain();  // on the control loop
  // The group's answers, each after its commit; ungrouped when the store has no group to give.
  std::vector<HttpResponse> run_group(std::vector<Pending>& group);

  boost::asio::io_context& control_;
  const Router& router_;
  GroupOpener open_group_;
  CommitEffects& effects_;
  WriteGroupOptions options_;
  Counter& groups_committed_;
  Counter& grouped_requests_;
  Counter& groups_failed_;

  std::mutex mutex_;  // guards the two below (HTTP thread ↔ control loop)
  std::vector<Pending> queue_;
  bool drain_posted_ = false;
};

}  // namespace chorus::rest
