// From the event log to the webhooks, and from delivery attempts back to the store.
//
// WebhookFanout subscribes to the EventLog and hands each event to the WebhookDispatcher once per
// stored webhook that wants its type (webhook_wants: listed, or "*"). The webhook list is cached
// and re-read from the store by reload(), which the webhook routes call after a create or delete,
// so an event costs no store read.
//
// StoreDeliveryRecorder is the dispatcher's DeliveryRecorder: each attempt is posted to the
// control loop and written there — the first attempt of a delivery adds a row (add_delivery),
// later ones update it (update_delivery), so GET /v1/webhooks/{id}/deliveries shows one row per
// (webhook, event) with its last attempt. A retry in progress is "pending".
//
// Threading:
// - WebhookFanout lives on the control loop: construction, reload() and destruction happen there,
//   and its EventLog callback runs there too, because EventLog::publish() is control-loop only and
//   calls subscribers on the publishing thread (event_log.hpp). So the cache needs no lock.
// - StoreDeliveryRecorder::on_attempt runs on the dispatcher thread and only posts; the writes
//   run on `control`. Destroy the recorder on the control loop (or after it stopped) and after
//   the dispatcher's stop(): writes still queued then are dropped, never run against a store that
//   may be gone.
// Limits: the recorder tracks one row id per delivery still being retried, so the dispatcher's
// max_pending bounds it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "conference/events/event_log.hpp"
#include "conference/store/store.hpp"
#include "rest-api/webhooks/webhook_dispatcher.hpp"

namespace chorus::rest {

class WebhookFanout {
 public:
  // Control loop. Loads the webhooks (a store failure is logged; reload() can retry) and
  // subscribes. `store`, `events` and `dispatcher` outlive the fan-out.
  WebhookFanout(conference::Store& store, conference::EventLog& events, WebhookDispatcher& dispatcher);
  ~WebhookFanout();
  WebhookFanout(const WebhookFanout&) = delete;
  WebhookFanout& operator=(const WebhookFanout&) = delete;

  // Control loop. Re-reads every webhook; on failure the previous list stays.
  conference::StoreResult<void> reload();

  [[nodiscard]] std::size_t webhook_count() const { return targets_.size(); }
  [[nodiscard]] std::uint64_t enqueued() const { return enqueued_; }
  // Deliveries the dispatcher refused (queue full, stopped, bad URL); it counts drops too.
  [[nodiscard]] std::uint64_t refused() const { return refused_; }

 private:
  void on_event(const conference::Event& event);

  conference::Store& store_;
  WebhookDispatcher& dispatcher_;
  std::vector<WebhookTarget> targets_;
  std::uint64_t enqueued_ = 0;
  std::uint64_t refused_ = 0;
  conference::EventLog::Subscription subscription_;  // last: released first
};

class StoreDeliveryRecorder final : public DeliveryRecorder {
 public:
  StoreDeliveryRecorder(conference::Store& store, boost::asio::any_io_executor control);
  ~StoreDeliveryRecorder() override;
  StoreDeliveryRecorder(const StoreDeliveryRecorder&) = delete;
  StoreDeliveryRecorder& operator=(const StoreDeliveryRecorder&) = delete;

  // Dispatcher thread: posts the write to the control loop.
  void on_attempt(const DeliveryAttempt& attempt) override;

 private:
  struct State;
  std::shared_ptr<State> state_;
  boost::asio::any_io_executor control_;
};

}  // namespace chorus::rest
