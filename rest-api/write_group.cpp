#include "rest-api/write_group.hpp"

#include <algorithm>
#include <exception>
#include <iterator>

#include "common/log.hpp"
#include "rest-api/problem.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

namespace {

constexpr std::string_view kGroupsHelp =
    "REST write groups (several requests' writes in one store commit), by outcome.";

// An effect runs where its handler would have run it; one that throws must not take the drain (and
// with it the other requests' answers) down: the router turns a handler's exception into a 500 the
// same way.
void run_effect(CommitEffects::Effect& effect) {
  try {
    effect();
  } catch (const std::exception& error) {
    CHORUS_LOG(kError, "rest", "a write's side effect failed after its commit", {"error", error.what()});
  }
}

}  // namespace

void CommitEffects::after_commit(Effect effect) {
  if (holding_) {
    held_.push_back(std::move(effect));
  } else {
    run_effect(effect);
  }
}

void CommitEffects::hold() {
  holding_ = true;
}

void CommitEffects::run_held() {
  holding_ = false;
  auto held = std::move(held_);
  held_.clear();
  for (auto& effect : held) run_effect(effect);
}

void CommitEffects::drop_held() {
  holding_ = false;
  held_.clear();
}

WriteGroupQueue::WriteGroupQueue(boost::asio::io_context& control, const Router& router, GroupOpener open_group,
                                 CommitEffects& effects, MetricsRegistry& metrics, WriteGroupOptions options)
    : control_(control),
      router_(router),
      open_group_(std::move(open_group)),
      effects_(effects),
      options_(options),
      groups_committed_(metrics.counter("chorus_rest_write_groups_total", kGroupsHelp, {{"outcome", "committed"}})),
      grouped_requests_(metrics.counter("chorus_rest_grouped_requests_total",
                                        "REST write requests answered after a write group's commit.")),
      groups_failed_(metrics.counter("chorus_rest_write_groups_total", kGroupsHelp, {{"outcome", "failed"}})) {
  options_.max_requests = std::max<std::size_t>(options_.max_requests, 1);
}

void WriteGroupQueue::enqueue(HttpRequest request, std::move_only_function<void(HttpResponse)> complete) {
  bool post_drain = false;
  {
    const std::lock_guard lock(mutex_);
    queue_.push_back(Pending{std::move(request), std::move(complete)});
    post_drain = !drain_posted_;
    drain_posted_ = true;
  }
  if (post_drain) boost::asio::post(control_, [this] { drain(); });
}

void WriteGroupQueue::drain() {
  std::vector<Pending> group;
  bool more = false;
  {
    const std::lock_guard lock(mutex_);
    const auto take = std::min(queue_.size(), options_.max_requests);
    const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(take);
    group.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
    queue_.erase(queue_.begin(), end);
    more = !queue_.empty();
    drain_posted_ = more;
  }
  // What queued beyond this group gets the next drain, after whatever else the control loop has.
  if (more) boost::asio::post(control_, [this] { drain(); });
  auto responses = run_group(group);
  for (std::size_t i = 0; i < group.size(); ++i) group[i].complete(std::move(responses[i]));
}

std::vector<HttpResponse> WriteGroupQueue::run_group(std::vector<Pending>& group) {
  std::vector<HttpResponse> responses;
  responses.reserve(group.size());
  auto write_group = open_group_ ? open_group_() : nullptr;
  if (!write_group) {
    for (auto& pending : group) responses.push_back(router_.handle(pending.request));
    return responses;
  }
  effects_.hold();
  for (auto& pending : group) responses.push_back(router_.handle(pending.request));
  const auto committed = write_group->commit();
  if (committed) {
    effects_.run_held();
    groups_committed_.inc();
    grouped_requests_.inc(group.size());
    return responses;
  }
  write_group.reset();  // rolls back whatever the failed commit left open
  effects_.drop_held();
  groups_failed_.inc();
  CHORUS_LOG(kError, "rest", "a write group failed to commit", {"requests", std::to_string(group.size())},
             {"error", committed.error().message});
  // None of the group's writes happened: no request may be told it succeeded. Refusals stand.
  for (auto& response : responses) {
    if (response.status() < 400) response = internal_error("the store failed");
  }
  return responses;
}

}  // namespace chorus::rest
