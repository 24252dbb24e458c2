#include "rest-api/api/webhook_fanout.hpp"

#include <atomic>
#include <boost/asio/post.hpp>
#include <map>
#include <string>
#include <utility>

#include "common/log.hpp"
#include "rest-api/api/api_services.hpp"

namespace chorus::rest {

namespace {

conference::DeliveryStatus stored_status(AttemptStatus status) {
  switch (status) {
    case AttemptStatus::kDelivered:
      return conference::DeliveryStatus::kDelivered;
    case AttemptStatus::kRetrying:
      return conference::DeliveryStatus::kPending;  // this attempt failed, another is scheduled
    case AttemptStatus::kFailed:
      return conference::DeliveryStatus::kFailed;
  }
  return conference::DeliveryStatus::kFailed;
}

}  // namespace

WebhookFanout::WebhookFanout(conference::Store& store, conference::EventLog& events, WebhookDispatcher& dispatcher)
    : store_(store), dispatcher_(dispatcher) {
  if (auto loaded = reload(); !loaded) {
    CHORUS_LOG(kError, "webhooks", "could not load webhooks", {"error", loaded.error().message});
  }
  subscription_ = events.subscribe([this](const conference::Event& event) { on_event(event); });
}

WebhookFanout::~WebhookFanout() = default;

conference::StoreResult<void> WebhookFanout::reload() {
  std::vector<WebhookTarget> targets;
  std::string after;
  for (;;) {
    auto page = store_.list_webhooks(after, kMaxPageSize);
    if (!page) return std::unexpected(std::move(page.error()));
    for (auto& webhook : *page) {
      targets.push_back({.id = std::move(webhook.id),
                         .url = std::move(webhook.url),
                         .secret = std::move(webhook.secret),
                         .event_types = std::move(webhook.event_types)});
    }
    if (page->size() < kMaxPageSize) break;
    after = targets.back().id;
  }
  targets_ = std::move(targets);
  return {};
}

void WebhookFanout::on_event(const conference::Event& event) {
  // Issue 14: another node's event, relayed here for the event stream; that node delivers it.
  if (!event.node.empty()) return;
  for (const auto& target : targets_) {
    if (!webhook_wants(target, event.type)) continue;
    const EnqueueResult result = dispatcher_.enqueue(target, event);
    if (result == EnqueueResult::kQueued) {
      ++enqueued_;
    } else if (result != EnqueueResult::kNotSubscribed) {
      ++refused_;
    }
  }
}

// Touched on the control loop only, except `alive`, which the destructor may clear elsewhere.
struct StoreDeliveryRecorder::State {
  conference::Store* store = nullptr;
  std::atomic<bool> alive{true};
  // (webhook id, event id) → the row of a delivery still being retried.
  std::map<std::pair<std::string, std::uint64_t>, std::int64_t> rows;

  void record(const DeliveryAttempt& attempt);
};

void StoreDeliveryRecorder::State::record(const DeliveryAttempt& attempt) {
  conference::WebhookDelivery row{.id = 0,
                                  .webhook_id = attempt.webhook_id,
                                  .event_id = std::to_string(attempt.event_id),
                                  .attempt = attempt.attempt,
                                  .status = stored_status(attempt.status),
                                  .http_status = attempt.http_status,
                                  .error = attempt.error,
                                  .at = attempt.at};
  const bool final = attempt.status != AttemptStatus::kRetrying;
  const auto key = std::make_pair(attempt.webhook_id, attempt.event_id);
  const auto it = rows.find(key);
  if (it != rows.end()) {
    row.id = it->second;
    if (final) rows.erase(it);
    if (auto updated = store->update_delivery(row); !updated) {
      CHORUS_LOG(kDebug, "webhooks", "delivery not updated", {"webhook_id", row.webhook_id},
                 {"error", updated.error().message});
    }
    return;
  }
  auto added = store->add_delivery(row);
  if (!added) {
    // kNotFound: the webhook was deleted while the delivery was under way.
    CHORUS_LOG(kDebug, "webhooks", "delivery not recorded", {"webhook_id", row.webhook_id},
               {"error", added.error().message});
    return;
  }
  if (!final) rows.emplace(key, *added);
}

StoreDeliveryRecorder::StoreDeliveryRecorder(conference::Store& store, boost::asio::any_io_executor control)
    : state_(std::make_shared<State>()), control_(std::move(control)) {
  state_->store = &store;
}

StoreDeliveryRecorder::~StoreDeliveryRecorder() {
  state_->alive.store(false);
}

void StoreDeliveryRecorder::on_attempt(const DeliveryAttempt& attempt) {
  boost::asio::post(control_, [state = state_, attempt] {
    if (state->alive.load()) state->record(attempt);
  });
}

}  // namespace chorus::rest
