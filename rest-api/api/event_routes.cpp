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

#include "common/log.hpp"
#include "rest-api/connection_guard.hpp"
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
// A caller at its stream cap retries after this long (a stream it closed is swept by then).
constexpr std::chrono::seconds kPerKeyRetryAfter{5};
constexpr std::string_view kRoomsReadScope = "rooms:read";

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
  explicit StreamRegistry(ApiServices& services);

  HttpResponse open(StreamRequest request, const Principal& caller);

 private:
  struct Entry {
    std::shared_ptr<StreamState> state;
    EventLog::Subscription subscription;
    std::string key_id;  // Principal::id: an API key's id, or kAdminId
  };

  // nullopt: the caller may open one more; otherwise the refusal.
  std::optional<HttpResponse> refuse_over_limits(const Principal& caller);
  void replay(StreamState& state, std::uint64_t last_event_id) const;
  void forward(std::uint64_t entry_id, StreamState& state, const Event& event);
  void sweep() {
    std::erase_if(entries_, [](const auto& item) { return item.second.state->queue->ended(); });
    open_gauge_.set(static_cast<double>(entries_.size()));
  }
  // Ends the streams whose API key was deleted (or lost rooms:read) since they opened.
  void revalidate();
  [[nodiscard]] bool key_still_admitted(const std::string& key_id) const;
  void schedule_revalidation();

  conference::Store& store_;
  EventLog& events_;
  EventStreamLimits limits_;
  TimerQueue* timers_;
  std::map<std::uint64_t, Entry> entries_;
  std::uint64_t next_entry_id_ = 1;
  TimerQueue::TimerId revalidation_ = TimerQueue::kNoTimer;
  LogGate refusal_log_;
  Gauge& open_gauge_;
  Counter& refused_per_key_;
  Counter& refused_global_;
  Counter& revoked_;
};

StreamRegistry::StreamRegistry(ApiServices& services)
    : store_(services.store),
      events_(services.events),
      limits_(services.event_streams),
      timers_(services.timers),
      open_gauge_(services.metrics.gauge("chorus_http_event_streams", "Open event streams (GET /v1/events).")),
      refused_per_key_(services.metrics.counter("chorus_http_event_streams_refused_total",
                                                "Event streams refused: 429 at the per-key cap, 503 at the global one.",
                                                {{"reason", "per_key"}})),
      refused_global_(services.metrics.counter("chorus_http_event_streams_refused_total",
                                               "Event streams refused: 429 at the per-key cap, 503 at the global one.",
                                               {{"reason", "global"}})),
      revoked_(services.metrics.counter("chorus_http_event_streams_revoked_total",
                                        "Event streams ended because their API key was deleted or lost rooms:read.")) {}

std::optional<HttpResponse> StreamRegistry::refuse_over_limits(const Principal& caller) {
  if (entries_.size() >= limits_.max_streams) {
    refused_global_.inc();
    return service_unavailable("too many event streams are open", kBusyRetryAfter);
  }
  if (limits_.max_per_key == 0) return std::nullopt;
  const auto held = static_cast<std::size_t>(
      std::ranges::count_if(entries_, [&](const auto& item) { return item.second.key_id == caller.id; }));
  if (held < limits_.max_per_key) return std::nullopt;
  refused_per_key_.inc();
  if (const auto held_back = refusal_log_.pass(std::chrono::steady_clock::now())) {
    CHORUS_LOG(kWarn, "security", "http_event_stream_refused", {"key_id", caller.id}, {"reason", "per_key"},
               {"limit", limits_.max_per_key}, {"held_back", *held_back});
  }
  // RFC 6585 §4: the caller's own limit, not the server's state.
  auto response = problem_response(Problem{
      .status = http::status::too_many_requests,
      .slug = kProblemRateLimited,
      .title = "Too many requests",
      .detail = "this key already has " + std::to_string(held) + " event streams open (the limit per key); close one"});
  response.message.set(http::field::retry_after, std::to_string(kPerKeyRetryAfter.count()));
  return response;
}

bool StreamRegistry::key_still_admitted(const std::string& key_id) const {
  if (key_id == Principal::kAdminId) return true;  // the admin token changes only with a restart
  const auto key = store_.get_api_key(key_id);
  if (!key) {
    // Only a key known to be gone ends its streams; a store that failed to answer is asked again.
    return key.error().kind != conference::StoreErrorKind::kNotFound;
  }
  return std::ranges::find(key->scopes, kRoomsReadScope) != key->scopes.end();
}

void StreamRegistry::revalidate() {
  revalidation_ = TimerQueue::kNoTimer;
  sweep();
  std::map<std::string, bool, std::less<>> admitted;  // one store lookup per key, not per stream
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto known = admitted.find(it->second.key_id);
    if (known == admitted.end()) {
      known = admitted.emplace(it->second.key_id, key_still_admitted(it->second.key_id)).first;
    }
    if (known->second) {
      ++it;
      continue;
    }
    // finish(): the session sends what is queued and the last chunk, then closes (a clean end).
    it->second.state->queue->finish();
    revoked_.inc();
    CHORUS_LOG(kInfo, "rest", "event stream ended: key revoked", {"key_id", it->second.key_id});
    it = entries_.erase(it);
  }
  open_gauge_.set(static_cast<double>(entries_.size()));
  schedule_revalidation();
}

void StreamRegistry::schedule_revalidation() {
  if (timers_ == nullptr || entries_.empty() || revalidation_ != TimerQueue::kNoTimer) return;
  // The weak reference: the registry may go (with the Router) before the timer fires.
  revalidation_ = timers_->schedule(limits_.revalidate_interval, [weak = weak_from_this()] {
    if (const auto self = weak.lock()) self->revalidate();
  });
}

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
    open_gauge_.set(static_cast<double>(entries_.size()));
    return;
  }
  if (event.id <= state.last_sent) return;  // already replayed
  state.last_sent = event.id;
  if (!state.wants(event.type)) return;
  if (!state.queue->push(conference::format_sse(event))) entries_.erase(entry_id);
}

HttpResponse StreamRegistry::open(StreamRequest request, const Principal& caller) {
  sweep();
  if (auto refused = refuse_over_limits(caller)) return std::move(*refused);
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
  entries_.emplace(entry_id, Entry{state, std::move(subscription), caller.id});
  open_gauge_.set(static_cast<double>(entries_.size()));
  schedule_revalidation();
  return response;
}

}  // namespace

void add_event_routes(Router& router, ApiServices& services) {
  auto registry = std::make_shared<StreamRegistry>(services);
  router.add(http::verb::get, "/v1/events",
             {.scope = Scope::kRoomsRead, .summary = "Conference events (Server-Sent Events)"},
             [registry](const RequestContext& context) {
               auto request = parse_stream_request(context);
               if (!request) return std::move(request.error());
               return registry->open(std::move(*request), *context.principal);
             });
}

}  // namespace chorus::rest
