#include "rest-api/event_stream.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chorus::rest {

namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ");
  for (char c : value) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  out.push_back('\n');
}

}  // namespace

std::string format_event(std::string_view event, std::string_view data, std::string_view id) {
  std::string out;
  out.reserve(event.size() + data.size() + id.size() + 32);
  if (!event.empty()) append_field(out, "event", event);
  if (!id.empty()) append_field(out, "id", id);
  // §9.2.6: the receiver joins consecutive data lines with LF, so a multi-line payload is sent as
  // several `data:` lines; CRLF and lone CR count as line ends too.
  std::size_t start = 0;
  while (true) {
    const std::size_t end = data.find_first_of("\r\n", start);
    out.append("data: ").append(data.substr(start, end - start)).push_back('\n');
    if (end == std::string_view::npos) break;
    start = end + (data.compare(end, 2, "\r\n") == 0 ? 2 : 1);
  }
  out.push_back('\n');  // a blank line dispatches the event
  return out;
}

bool EventStreamQueue::push(std::string chunk) {
  std::lock_guard lock(mutex_);
  if (closed_ || finished_) return false;
  if (queue_.size() >= max_queued_) {
    overflowed_ = true;
    finished_ = true;
    queue_.clear();
    wake_locked();
    return false;
  }
  queue_.push_back(std::move(chunk));
  wake_locked();
  return true;
}

void EventStreamQueue::finish() {
  std::lock_guard lock(mutex_);
  finished_ = true;
  wake_locked();
}

void EventStreamQueue::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  queue_.clear();
  // The producer may keep the queue after the server (and its io_context) is gone: the timer must
  // not outlive its context. Destroying it aborts a pending wait, which then sees closed_.
  timer_.reset();
  waiting_ = false;
}

bool EventStreamQueue::ended() const {
  std::lock_guard lock(mutex_);
  return closed_ || overflowed_;
}

bool EventStreamQueue::overflowed() const {
  std::lock_guard lock(mutex_);
  return overflowed_;
}

std::optional<StreamPull> EventStreamQueue::take_locked() {
  if (closed_) return StreamPull{};
  if (!queue_.empty()) {
    StreamPull pull{StreamPull::Kind::kChunk, std::move(queue_.front())};
    queue_.pop_front();
    return pull;
  }
  if (finished_) return StreamPull{};
  return std::nullopt;
}

void EventStreamQueue::wake_locked() {
  if (!waiting_ || !timer_) return;
  // steady_timer is not thread-safe: cancel it on the consumer's executor. The weak reference
  // lets a queue that died meanwhile be skipped.
  boost::asio::post(timer_->get_executor(), [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      std::lock_guard lock(self->mutex_);
      if (self->waiting_ && self->timer_) self->timer_->cancel();
    }
  });
}

boost::asio::awaitable<StreamPull> EventStreamQueue::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto executor = co_await boost::asio::this_coro::executor;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (auto pull = take_locked()) co_return std::move(*pull);
      if (std::chrono::steady_clock::now() >= deadline) co_return StreamPull{StreamPull::Kind::kTimeout, {}};
      if (!timer_) timer_.emplace(executor);
      timer_->expires_at(deadline);
      waiting_ = true;
    }
    // A wake-up is a cancel, a timeout an expiry; either way look again (a late cancel meant for
    // an earlier wait only costs one extra look).
    boost::system::error_code ec;
    co_await timer_->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    std::lock_guard lock(mutex_);
    waiting_ = false;
  }
}

}  // namespace chorus::rest
