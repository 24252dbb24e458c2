#include "conference/events/event_log.hpp"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <memory_resource>
#include <thread>

namespace chorus::conference {

namespace event_type {
bool is_known(std::string_view type) {
  return std::ranges::find(kAll, type) != std::end(kAll);
}
}  // namespace event_type

std::string format_rfc3339_utc(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const std::size_t length = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(text, length);
}

nlohmann::json event_to_json(const Event& event) {
  auto out = nlohmann::json{
      {"id", event.id}, {"type", event.type}, {"timestamp", format_rfc3339_utc(event.at)}, {"data", event.data}};
  if (!event.node.empty()) out["node"] = event.node;
  return out;
}

std::string format_sse(const Event& event) {
  std::string type = event.type;
  std::ranges::replace_if(type, [](char c) { return c == '\r' || c == '\n'; }, ' ');
  // dump() with no indent is one line; invalid UTF-8 is replaced rather than thrown on.
  const std::string json = event_to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(json.size() + type.size() + 48);
  // WHATWG HTML §9.2.6: `id` sets the last event ID the client sends back as Last-Event-ID.
  out.append("id: ").append(std::to_string(event.id)).append("\n");
  out.append("event: ").append(type).append("\n");
  out.append("data: ").append(json).append("\n\n");
  return out;
}

namespace {

// An event as the ring keeps it: its data as JSON text, where an nlohmann::json tree takes about
// twenty allocations (and ~1.3 KB for a participant event). Its strings come from the ring's own
// pool (EventLog::Shared::storage), never from the general heap: the ring holds up to 10,000 events
// for as long as chorusd runs, and its events made one by one during a call burst, each a few
// hundred bytes between the calls' short-lived allocations, kept ~3 MB of freed heap pages resident
// per 1,000 calls afterwards (issue 12: RSS after the load; bench/RESULTS.md).
struct StoredEvent {
  std::uint64_t id = 0;
  std::chrono::system_clock::time_point at;
  std::pmr::string type;
  std::pmr::string data;  // data.dump(), invalid UTF-8 replaced, so it always parses back
  std::pmr::string node;  // Event::node
};

StoredEvent stored(const Event& event, std::pmr::memory_resource* storage) {
  const std::string data = event.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return StoredEvent{event.id, event.at, std::pmr::string(event.type, storage), std::pmr::string(data, storage),
                     std::pmr::string(event.node, storage)};
}

Event restored(const StoredEvent& event) {
  return Event{.id = event.id,
               .type = std::string(event.type),
               .at = event.at,
               .data = nlohmann::json::parse(event.data),
               .node = std::string(event.node)};
}

// Pool blocks up to 16 KiB (larger events go to the heap as before); chunks grow geometrically, so
// a full ring is a few hundred large blocks that are reused as old events go, bounded by capacity.
std::pmr::pool_options event_pool_options() {
  std::pmr::pool_options options;
  options.largest_required_pool_block = 16 * 1024;
  return options;
}

}  // namespace

struct EventLog::Shared {
  mutable std::mutex mutex;
  // Under mutex. Declared before the ring, whose blocks and strings it holds.
  std::pmr::unsynchronized_pool_resource storage{event_pool_options()};
  std::pmr::deque<StoredEvent> ring{&storage};  // ids contiguous: ring[i].id == ring.front().id + i
  std::uint64_t next_id = 1;
  std::uint64_t dropped = 0;
  std::vector<std::shared_ptr<Subscriber>> subscribers;
};

struct EventLog::Subscriber {
  Callback callback;
  std::weak_ptr<Shared> shared;
  std::mutex call_mutex;                  // held while the callback runs
  std::atomic<bool> active{true};         // false once unsubscribed: never called again
  std::atomic<std::thread::id> caller{};  // the thread inside the callback, if any
};

EventLog::Subscription& EventLog::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    subscriber_ = std::move(other.subscriber_);
  }
  return *this;
}

void EventLog::Subscription::reset() {
  if (!subscriber_) return;
  const std::shared_ptr<Subscriber> subscriber = std::move(subscriber_);
  subscriber_.reset();
  subscriber->active.store(false);
  // Wait out a call in flight on another thread; from inside the callback itself, don't (it would
  // deadlock on call_mutex) — `active` already stops later calls.
  if (subscriber->caller.load() != std::this_thread::get_id()) {
    const std::lock_guard wait_for_call(subscriber->call_mutex);
  }
  if (const auto shared = subscriber->shared.lock()) {
    const std::lock_guard lock(shared->mutex);
    std::erase(shared->subscribers, subscriber);
  }
}

EventLog::EventLog(std::size_t capacity, std::uint64_t first_id, std::chrono::seconds max_age)
    : capacity_(std::max<std::size_t>(capacity, 1)),
      max_age_(std::max(max_age, std::chrono::seconds::zero())),
      shared_(std::make_shared<Shared>()) {
  shared_->next_id = std::max<std::uint64_t>(first_id, 1);
}

EventLog::~EventLog() = default;

Event EventLog::publish(std::string_view type, nlohmann::json data, std::string_view node) {
  Event event{.id = 0,
              .type = std::string(type),
              .at = std::chrono::system_clock::now(),
              .data = std::move(data),
              .node = std::string(node)};
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  {
    const std::lock_guard lock(shared_->mutex);
    event.id = shared_->next_id++;
    shared_->ring.push_back(stored(event, &shared_->storage));
    if (shared_->ring.size() > capacity_) {
      shared_->ring.pop_front();
      ++shared_->dropped;
    }
    prune_locked(event.at);
    subscribers = shared_->subscribers;
  }
  // The log's mutex is released: callbacks may call since() or subscribe().
  for (const auto& subscriber : subscribers) {
    if (!subscriber->active.load()) continue;
    const std::lock_guard call(subscriber->call_mutex);
    if (!subscriber->active.load()) continue;
    subscriber->caller.store(std::this_thread::get_id());
    subscriber->callback(event);
    subscriber->caller.store(std::thread::id{});
  }
  return event;
}

EventBatch EventLog::since(std::uint64_t last_id, std::size_t max) const {
  EventBatch batch;
  const std::lock_guard lock(shared_->mutex);
  const std::uint64_t newest = shared_->next_id - 1;
  if (last_id > newest) {
    batch.lost = true;  // a position this log never reached: an id from an earlier run
    last_id = 0;
  }
  if (shared_->ring.empty()) return batch;  // nothing published yet (capacity ≥ 1 keeps the newest)
  const std::uint64_t oldest = shared_->ring.front().id;
  if (last_id + 1 < oldest) {
    // Events last_id+1 .. oldest-1 are gone; unless they were never in this log (first_id > 1
    // and last_id == 0 means a fresh client, which only asks for what is here).
    batch.lost = batch.lost || shared_->dropped > 0 || last_id != 0;
    last_id = oldest - 1;
  }
  const std::size_t start = static_cast<std::size_t>(last_id + 1 - oldest);
  const std::size_t end = std::min(shared_->ring.size(), start + std::min(max, shared_->ring.size()));
  batch.events.reserve(end > start ? end - start : 0);
  for (std::size_t i = start; i < end; ++i) batch.events.push_back(restored(shared_->ring[i]));
  return batch;
}

std::uint64_t EventLog::last_id() const {
  const std::lock_guard lock(shared_->mutex);
  return shared_->next_id - 1;
}

std::size_t EventLog::size() const {
  const std::lock_guard lock(shared_->mutex);
  return shared_->ring.size();
}

std::size_t EventLog::prune(std::chrono::system_clock::time_point now) {
  const std::lock_guard lock(shared_->mutex);
  return prune_locked(now);
}

std::size_t EventLog::prune_locked(std::chrono::system_clock::time_point now) {
  if (max_age_ == std::chrono::seconds::zero()) return 0;
  std::size_t pruned = 0;
  // The newest stays: since() and Last-Event-ID need one retained id to tell "lost" apart.
  while (shared_->ring.size() > 1 && shared_->ring.front().at < now - max_age_) {
    shared_->ring.pop_front();
    ++pruned;
  }
  shared_->dropped += pruned;
  return pruned;
}

std::uint64_t EventLog::dropped() const {
  const std::lock_guard lock(shared_->mutex);
  return shared_->dropped;
}

EventLog::Subscription EventLog::subscribe(Callback callback) {
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->callback = std::move(callback);
  subscriber->shared = shared_;
  const std::lock_guard lock(shared_->mutex);
  shared_->subscribers.push_back(subscriber);
  return Subscription(std::move(subscriber));
}

}  // namespace chorus::conference
