#include "conference/cluster/notify_codec.hpp"

namespace chorus::conference::cluster {
namespace {

using nlohmann::json;

// One line, invalid UTF-8 replaced rather than thrown on (the event log's own rule, event_log.cpp).
std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<json> parse_object(std::string_view payload) {
  if (payload.size() > kMaxNotifyPayload) return std::nullopt;
  json value = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return std::nullopt;
  return value;
}

const std::string* string_field(const json& object, const char* key) {
  const auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return nullptr;
  return found->get_ptr<const std::string*>();
}

}  // namespace

EncodedEvent encode_event(std::string_view node, const Event& event) {
  json envelope{{"node", node}, {"event", event_to_json(event)}};
  std::string whole = dump(envelope);
  if (whole.size() <= kMaxNotifyPayload) return {std::move(whole), false};
  // Too big for one notification: the other nodes learn that it happened, not what it carried.
  envelope["event"].erase("data");
  envelope["truncated"] = true;
  return {dump(envelope), true};
}

std::optional<RemoteEvent> decode_event(std::string_view payload) {
  const auto envelope = parse_object(payload);
  if (!envelope) return std::nullopt;
  const std::string* node = string_field(*envelope, "node");
  const auto event = envelope->find("event");
  if (node == nullptr || node->empty() || node->size() > kMaxNodeIdLength || event == envelope->end() ||
      !event->is_object())
    return std::nullopt;
  const std::string* type = string_field(*event, "type");
  const auto id = event->find("id");
  if (type == nullptr || type->empty() || type->size() > kMaxEventTypeLength || id == event->end() ||
      !id->is_number_unsigned())
    return std::nullopt;
  RemoteEvent remote{.node = *node, .id = id->get<std::uint64_t>(), .type = *type};
  const auto truncated = envelope->find("truncated");
  remote.truncated = truncated != envelope->end() && truncated->is_boolean() && truncated->get<bool>();
  if (remote.truncated) {
    remote.data = json{{"truncated", true}};
    return remote;
  }
  const auto data = event->find("data");
  if (data == event->end() || !data->is_object()) return std::nullopt;
  remote.data = *data;
  return remote;
}

std::string encode_store_change(const StoreChange& change) {
  const json payload{{"kind", change.kind == StoreKind::kRoom ? "room" : "meeting"},
                     {"id", change.id},
                     {"op", change.op == StoreOp::kUpsert ? "upsert" : "delete"}};
  std::string text = dump(payload);
  if (text.size() > kMaxNotifyPayload) return dump(json{{"kind", payload["kind"]}, {"id", ""}, {"op", payload["op"]}});
  return text;
}

std::optional<StoreChange> decode_store_change(std::string_view payload) {
  const auto object = parse_object(payload);
  if (!object) return std::nullopt;
  const std::string* kind = string_field(*object, "kind");
  const std::string* id = string_field(*object, "id");
  const std::string* op = string_field(*object, "op");
  if (kind == nullptr || id == nullptr || op == nullptr || id->empty()) return std::nullopt;
  StoreChange change{.id = *id};
  if (*kind == "room") {
    change.kind = StoreKind::kRoom;
  } else if (*kind == "meeting") {
    change.kind = StoreKind::kMeeting;
  } else {
    return std::nullopt;
  }
  if (*op == "upsert") {
    change.op = StoreOp::kUpsert;
  } else if (*op == "delete") {
    change.op = StoreOp::kDelete;
  } else {
    return std::nullopt;
  }
  return change;
}

}  // namespace chorus::conference::cluster
