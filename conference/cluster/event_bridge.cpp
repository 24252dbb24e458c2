#include "conference/cluster/event_bridge.hpp"

#include "common/log.hpp"
#include "conference/cluster/notify_codec.hpp"

namespace chorus::conference::cluster {

EventBridge::EventBridge(EventLog& events, std::string node_id, Send send)
    : events_(events), node_id_(std::move(node_id)), send_(std::move(send)) {
  subscription_ = events_.subscribe([this](const Event& event) { on_local(event); });
}

void EventBridge::on_local(const Event& event) {
  if (!event.node.empty()) return;  // relayed from another node: it sent it to everyone already
  auto encoded = encode_event(node_id_, event);
  if (encoded.truncated) {
    ++counters_.truncated;
    CHORUS_LOG(kDebug, "cluster", "event too big for a notification: sent without its data", {"type", event.type},
               {"id", event.id});
  }
  if (send_(std::move(encoded.payload))) {
    ++counters_.sent;
  } else {
    ++counters_.unsent;
  }
}

void EventBridge::on_payload(std::string_view payload) {
  auto remote = decode_event(payload);
  if (!remote) {
    ++counters_.malformed;
    return;
  }
  if (remote->node == node_id_) return;  // our own, back from the database
  ++counters_.relayed;
  events_.publish(remote->type, std::move(remote->data), remote->node);
}

}  // namespace chorus::conference::cluster
