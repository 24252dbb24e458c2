// EventBridge: the event logs of nodes sharing one database, joined (issue 14). Every event this
// node publishes goes out on chorus_events (notify_codec.hpp: {"node","event"}, truncated to an
// envelope when too big), and every event another node sent is published into this node's log
// marked with that node (Event::node), so an event stream (GET /v1/events) on any node shows what
// happens on all of them. Webhooks are not delivered twice: each node delivers its own events
// only (rest-api/api/webhook_fanout.cpp skips relayed ones). Relayed events are not sent on again.
// Bounded: the log is a bounded ring; the link bounds what waits to be sent and delivered.
// Threading: control loop (the log's publisher); `send` must not block (ClusterLink::notify queues).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "conference/events/event_log.hpp"

namespace chorus::conference::cluster {

struct EventBridgeCounters {
  std::uint64_t sent = 0;       // handed to `send`
  std::uint64_t truncated = 0;  // of those, sent without their data (too big for a notification)
  std::uint64_t unsent = 0;     // `send` refused (its queue was full)
  std::uint64_t relayed = 0;    // other nodes' events published here
  std::uint64_t malformed = 0;  // payloads that were not an event envelope
};

class EventBridge {
 public:
  using Send = std::function<bool(std::string payload)>;
  // Subscribes to `events` at once; unsubscribes when destroyed.
  EventBridge(EventLog& events, std::string node_id, Send send);

  // A chorus_events payload: another node's event into the log; this node's own is ignored.
  void on_payload(std::string_view payload);

  [[nodiscard]] const EventBridgeCounters& counters() const { return counters_; }

 private:
  void on_local(const Event& event);

  EventLog& events_;
  std::string node_id_;
  Send send_;
  EventBridgeCounters counters_;
  EventLog::Subscription subscription_;  // last: released first
};

}  // namespace chorus::conference::cluster
