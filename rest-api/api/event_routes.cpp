#include "rest-api/api/event_routes.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rest-api/event_stream.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {

namespace {

namespace http = boost::beast::http;
using conference::Event;
using conference::EventLog;

// Replay chunks never exceed this count, whatever the log's capacity: half the queue stays free.
constexpr std::size_t kMaxReplayChunks = EventStreamQueue::kDefaultMaxQueued / 2;
constexpr std::chrono::seconds kBusyRetryAfter{5};

struct StreamRequest {
  std::optional<std::uint64_t> last_event_id;
  std::vector<std::string> types;  // empty: every type
};

// One open stream's state; touched on the control loop only (the queue is thread-safe).
struct StreamState {
  std::shared_ptr<EventStreamQueue> queue = std::make_shared<EventStreamQueue>();
  std::vector<std::string> types;
  std::uint64_t last_sent = 0;  // the id of the newest event handed to the queue (or skipped)

  [[nodiscard]] bool wants(std::string_view type) const {
    return types.empty() || std::ranges::find(types, type) != types.end();
  }
};

std::optional<std::uint64_t> parse_event_id(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [next, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc{} || next != end) return std::nullopt;
  return value;
}

std::expected<StreamRequest, HttpResponse> parse_stream_request(const RequestContext& context) {
  StreamRequest out;
  // §9.2.4: the browser sends the header on reconnection; the query form is for other clients.
  std::string_view field = "Last-Event-ID";
  std::string_view text = context.header(field);
  if (text.empty()) {
    field = "last_event_id";
    text = context.query.get(field).value_or(std::string_view{});
  }
  if (!text.empty()) {
    out.last_event_id = parse_event_id(text);
    if (!out.last_event_id) {
      const std::string message = "must be an event id (a decimal number)";
      return std::unexpected(bad_request(std::string(field) + " " + message, {{std::string(field), message}}));
    }
  }
  for (std::string_view list : context.query.all("types")) {
    while (!list.empty()) {
      const auto comma = list.find(',');
      const std::string_view type = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      if (type.empty()) continue;
      if (!conference::event_type::is_known(type)) {
        return std::unexpected(
            bad_request("unknown event type " + std::string(type), {{"types", "unknown event type"}}));
      }
      if (std::ranges::find(out.types, type) == out.types.end()) out.types.emplace_back(type);
    }
  }
  return out;
}

// The open streams and their subscriptions, owned by the route (see event_routes.hpp).
class StreamRegistry : public std::enable_shared_from_this<StreamRegistry> {
 public:
  explicit StreamRegistry(EventLog& events) : events_(events) {}

  HttpResponse open(StreamRequest request);

 private:
  struct Entry {
    std::shared_ptr<StreamState> state;
    EventLog::Subscription subscription;
  };

  void replay(StreamState& state, std::uint64_t last_event_id) const;
  void forward(std::uint64_t entry_id, StreamState& state, const Event& event);
  void sweep() {
    std::erase_if(entries_, [](const auto& item) { return item.second.state->queue->ended(); });
  }

  EventLog& events_;
  std::map<std::uint64_t, Entry> entries_;
  std::uint64_t next_entry_id_ = 1;
};

// The backlog after `last_event_id`, chunked; a stream.reset first when some of it is lost.
void StreamRegistry::replay(StreamState& state, std::uint64_t last_event_id) const {
  const conference::EventBatch batch = events_.since(last_event_id, events_.capacity());
  if (batch.lost) {
    const nlohmann::json data{{"reason", "events after the last event id are no longer available; re-read state"},
                              {"last_event_id", last_event_id}};
    state.queue->push(format_event(kStreamResetEvent, data.dump()));
  }
  state.last_sent = batch.events.empty() ? events_.last_id() : batch.events.back().id;
  const std::size_t per_chunk =
      std::max(kReplayEventsPerChunk, (batch.events.size() + kMaxReplayChunks - 1) / kMaxReplayChunks);
  std::string chunk;
  std::size_t in_chunk = 0;
  for (const Event& event : batch.events) {
    if (!state.wants(event.type)) continue;
    chunk += conference::format_sse(event);
    if (++in_chunk == per_chunk) {
      state.queue->push(std::move(chunk));
      chunk.clear();
      in_chunk = 0;
    }
  }
  if (!chunk.empty()) state.queue->push(std::move(chunk));
}

// The subscription's callback, on the control loop (the publishing thread).
void StreamRegistry::forward(std::uint64_t entry_id, StreamState& state, const Event& event) {
  if (state.queue->ended()) {
    entries_.erase(entry_id);  // releases this very subscription: allowed from its own callback
    return;
  }
  if (event.id <= state.last_sent) return;  // already replayed
  state.last_sent = event.id;
  if (!state.wants(event.type)) return;
  if (!state.queue->push(conference::format_sse(event))) entries_.erase(entry_id);
}

HttpResponse StreamRegistry::open(StreamRequest request) {
  sweep();
  if (entries_.size() >= kMaxEventStreams) {
    return service_unavailable("too many event streams are open", kBusyRetryAfter);
  }
  auto state = std::make_shared<StreamState>();
  state->types = std::move(request.types);
  // Both here and publish() run on the control loop, so no event can fall between the replay
  // and the subscription; `last_sent` would drop a duplicate anyway.
  if (request.last_event_id) {
    replay(*state, *request.last_event_id);
  } else {
    state->last_sent = events_.last_id();
  }
  auto response = HttpResponse::event_stream(state->queue);
  if (state->queue->ended()) return response;  // cut off already: nothing to subscribe for
  const std::uint64_t entry_id = next_entry_id_++;
  auto subscription = events_.subscribe([weak = weak_from_this(), entry_id, state](const Event& event) {
    if (const auto self = weak.lock()) self->forward(entry_id, *state, event);
  });
  entries_.emplace(entry_id, Entry{state, std::move(subscription)});
  return response;
}

}  // namespace

void add_event_routes(Router& router, ApiServices& services) {
  auto registry = std::make_shared<StreamRegistry>(services.events);
  router.add(http::verb::get, "/v1/events",
             {.scope = Scope::kRoomsRead, .summary = "Conference events (Server-Sent Events)"},
             [registry](const RequestContext& context) {
               auto request = parse_stream_request(context);
               if (!request) return std::move(request.error());
               return registry->open(std::move(*request));
             });
}

}  // namespace chorus::rest
