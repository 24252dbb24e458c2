// Server-Sent Events (WHATWG HTML §9.2, "text/event-stream") as the REST server sees them: a
// handler answers with HttpResponse::event_stream(source) and the session then pulls framed event
// text from the source, sending `: keepalive` comments while it is quiet.
//
// EventStreamSource is the pull interface the session uses. EventStreamQueue is the ready-made
// source: producers on any thread (the control loop publishing domain events) push framed events;
// the session awaits them on the REST thread.
//
// Threading: next() and close() are called on the REST thread only (the session's). For
// EventStreamQueue, push() and finish() may be called from any thread.
#pragma once

#include <utility>  // before Boost 1.74 awaitable.hpp, which uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace chorus::rest {

// How many event streams may be open (issue 12: one key must not hold every stream), and how soon
// a stream ends once its API key is gone. Used by GET /v1/events (api/event_routes.hpp).
struct EventStreamLimits {
  std::size_t max_per_key = 4;    // per API key, and for the admin token; one more gets 429; 0: no cap
  std::size_t max_streams = 256;  // all callers together; one more gets 503
  // Open streams' keys are looked up again this often; a deleted key's streams then end.
  std::chrono::milliseconds revalidate_interval{1'000};
};

// One pull from a stream: a chunk of event-stream text, nothing within the timeout, or the end.
struct StreamPull {
  enum class Kind { kChunk, kTimeout, kEnd };
  Kind kind = Kind::kEnd;
  std::string chunk;  // kChunk: one or more complete events ("event: x\ndata: y\n\n")
};

class EventStreamSource {
 public:
  virtual ~EventStreamSource() = default;
  // Waits at most `timeout` for the next chunk. After close() it completes promptly with kEnd.
  virtual boost::asio::awaitable<StreamPull> next(std::chrono::milliseconds timeout) = 0;
  // The client went away or the server is stopping; nothing more will be pulled. The source must
  // drop anything bound to the session's executor here (the producer may outlive the server).
  virtual void close() = 0;
};

// Frames one event: optional `event:` and `id:` fields, and one `data:` line per line of `data`
// (§9.2.6). CR and LF are not allowed in `event`/`id`; they are replaced by spaces.
std::string format_event(std::string_view event, std::string_view data, std::string_view id = {});

// A bounded queue of framed events. A consumer that falls `max_queued` chunks behind is cut off
// (the stream ends; the client reconnects and re-reads state) rather than letting the queue grow.
class EventStreamQueue final : public EventStreamSource, public std::enable_shared_from_this<EventStreamQueue> {
 public:
  static constexpr std::size_t kDefaultMaxQueued = 256;

  explicit EventStreamQueue(std::size_t max_queued = kDefaultMaxQueued) : max_queued_(max_queued) {}

  // Any thread. false when the stream has ended (closed, finished or overflowed): stop publishing.
  bool push(std::string chunk);
  // Any thread. The consumer gets what is queued, then kEnd.
  void finish();
  // Any thread. True once the consumer is gone or the stream was cut off.
  [[nodiscard]] bool ended() const;
  [[nodiscard]] bool overflowed() const;

  boost::asio::awaitable<StreamPull> next(std::chrono::milliseconds timeout) override;
  void close() override;

 private:
  std::optional<StreamPull> take_locked();  // a chunk, or kEnd, or nothing yet
  void wake_locked();                       // cancels the consumer's wait on its own executor

  const std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::deque<std::string> queue_;
  bool finished_ = false;                           // producer: no more chunks
  bool closed_ = false;                             // consumer gone
  bool overflowed_ = false;                         // cut off
  bool waiting_ = false;                            // the consumer is parked on timer_
  std::optional<boost::asio::steady_timer> timer_;  // created on the consumer's executor at first wait
};

}  // namespace chorus::rest
