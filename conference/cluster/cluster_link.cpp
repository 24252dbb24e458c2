#include "conference/cluster/cluster_link.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <unordered_set>

#include "common/log.hpp"
#include "conference/cluster/placement_table.hpp"

namespace chorus::conference::cluster {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kNotify = "SELECT pg_notify($1, $2), pg_backend_pid()";

}  // namespace

ClusterLink::ClusterLink(LinkSettings settings, Handlers handlers)
    : settings_(std::move(settings)), inbox_(std::make_shared<Inbox>()) {
  inbox_->handlers = std::move(handlers);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

ClusterLink::~ClusterLink() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ClusterLink::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void ClusterLink::stop() {
  inbox_->open.store(false);
  stopping_.store(true);
  wake();
  if (thread_.joinable()) thread_.join();
}

void ClusterLink::wake() {
  const std::uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
}

bool ClusterLink::notify(std::string channel, std::string payload) {
  {
    const std::lock_guard lock(mutex_);
    if (queue_.size() >= settings_.max_outgoing) {
      dropped_outgoing_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back({std::move(channel), std::move(payload)});
  }
  wake();
  return true;
}

void ClusterLink::set_state(LinkState state, bool urgent) {
  {
    const std::lock_guard lock(mutex_);
    state_ = std::move(state);
    urgent_ = urgent_ || urgent;
  }
  if (urgent) wake();
}

LinkCounters ClusterLink::counters() const {
  return {sent_.load(),       dropped_outgoing_.load(),   received_.load(), dropped_incoming_.load(),
          heartbeats_.load(), heartbeat_failures_.load(), resyncs_.load()};
}

void ClusterLink::run() {
  auto next_beat = Clock::now();
  while (!stopping()) {
    ensure_listener();
    send_outgoing();
    bool urgent = false;
    {
      const std::lock_guard lock(mutex_);
      std::swap(urgent, urgent_);
    }
    if (urgent || Clock::now() >= next_beat) {
      beat();
      next_beat = Clock::now() + settings_.heartbeat;
    }
    if (resync_owed_ && inbox_->waiting.load() == 0) post_resync();
    if (!more_to_read_) wait(listener_ ? next_beat : std::min(next_beat, retry_at_));
    read_incoming();
  }
  listener_.reset();
  session_.reset();
}

// The statements' session: opened lazily, and again after it failed; PgConnection reconnects a
// lost one by itself before its next statement.
bool ClusterLink::ensure_session() {
  if (session_) return true;
  if (Clock::now() < retry_at_) return false;
  auto opened = pg::PgConnection::open(settings_.database);
  if (!opened) {
    retry_at_ = Clock::now() + settings_.retry_delay;
    CHORUS_LOG(kWarn, "cluster", "database unreachable", {"error", opened.error().message});
    return false;
  }
  session_ = std::move(*opened);
  return true;
}

void ClusterLink::ensure_listener() {
  if (listener_ || Clock::now() < retry_at_) return;
  std::vector<std::string_view> channels(settings_.channels.begin(), settings_.channels.end());
  auto opened = PgListener::open(settings_.database, channels);
  if (!opened) {
    retry_at_ = Clock::now() + settings_.retry_delay;
    CHORUS_LOG(kWarn, "cluster", "cannot listen for other nodes' notifications", {"error", opened.error().message});
    return;
  }
  listener_ = std::move(*opened);
  // Whatever was notified before this session listened is not coming: the owner re-reads.
  resync_owed_ = true;
  CHORUS_LOG(kInfo, "cluster", "listening", {"node", settings_.node_id}, {"channels", settings_.channels.size()});
}

void ClusterLink::send_outgoing() {
  for (;;) {
    Outgoing next;
    {
      const std::lock_guard lock(mutex_);
      if (queue_.empty()) return;
      next = queue_.front();
    }
    if (stopping() || !ensure_session()) return;
    pg::PgParams params;
    params.bind(1, next.channel).bind(2, next.payload);
    auto done = session_->exec(kNotify, params);
    if (!done && done.error().sqlstate.empty()) done = session_->exec(kNotify, params);  // once more, reconnected
    if (!done && done.error().sqlstate.empty()) {
      // The database is away: keep the queue (bounded) and try again after the delay.
      retry_at_ = Clock::now() + settings_.retry_delay;
      session_.reset();
      return;
    }
    {
      const std::lock_guard lock(mutex_);
      queue_.pop_front();
    }
    if (!done) {  // refused by the server (it never should be): dropped, said once per payload
      CHORUS_LOG(kWarn, "cluster", "notification refused", {"channel", next.channel}, {"error", done.error().message});
      continue;
    }
    if (done->size() == 1) session_pid_ = static_cast<int>((*done)[0].int64(1));
    sent_.fetch_add(1, std::memory_order_relaxed);
  }
}

void ClusterLink::beat() {
  LinkState state;
  {
    const std::lock_guard lock(mutex_);
    state = state_;
  }
  if (state.node.node_id.empty() || !ensure_session()) return;
  auto written = write_heartbeat(*session_, state.node);
  std::optional<std::vector<std::string>> renewed;
  if (written) {
    PlacementTable placements(*session_, settings_.node_id, settings_.lease);
    auto done = placements.renew(state.live_rooms);
    if (done)
      renewed = std::move(*done);
    else
      written = std::unexpected(std::move(done.error()));
  }
  if (!written) {
    heartbeat_failures_.fetch_add(1, std::memory_order_relaxed);
    CHORUS_LOG(kWarn, "cluster", "heartbeat failed", {"node", settings_.node_id}, {"error", written.error().message});
    // The LISTEN session may be as dead and not know it yet: open both again.
    listener_.reset();
    session_.reset();
    retry_at_ = Clock::now() + settings_.retry_delay;
    return;
  }
  heartbeats_.fetch_add(1, std::memory_order_relaxed);
  std::unordered_set<std::string> kept(renewed->begin(), renewed->end());
  std::vector<std::string> lost;
  for (auto& room : state.live_rooms)
    if (!kept.contains(room)) lost.push_back(std::move(room));
  if (lost.empty() || !inbox_->handlers.on_not_renewed) return;
  inbox_->handlers.post([inbox = inbox_, lost = std::move(lost)]() mutable {
    if (inbox->open.load()) inbox->handlers.on_not_renewed(std::move(lost));
  });
}

void ClusterLink::wait(Clock::time_point until) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
  const int timeout = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000));
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {listener_ ? listener_->socket() : -1, POLLIN, 0}};
  const int ready = ::poll(fds, 2, timeout);
  if (ready > 0 && (fds[0].revents & POLLIN) != 0) {
    std::uint64_t count = 0;
    (void)!::read(wake_fd_, &count, sizeof count);
  }
}

void ClusterLink::read_incoming() {
  more_to_read_ = false;
  if (!listener_) return;
  auto arrived = listener_->read(settings_.max_read);
  if (!arrived) {
    CHORUS_LOG(kWarn, "cluster", "LISTEN session lost", {"error", arrived.error().message});
    listener_.reset();
    retry_at_ = Clock::now() + settings_.retry_delay;
    return;
  }
  more_to_read_ = arrived->size() == settings_.max_read;
  for (auto& notification : *arrived) {
    if (notification.sender_pid == session_pid_) continue;  // ours, sent by this link
    deliver(std::move(notification));
  }
}

void ClusterLink::deliver(PgNotification notification) {
  if (inbox_->waiting.load() >= settings_.max_incoming) {
    dropped_incoming_.fetch_add(1, std::memory_order_relaxed);
    resync_owed_ = true;  // a store change may be among them
    return;
  }
  received_.fetch_add(1, std::memory_order_relaxed);
  inbox_->waiting.fetch_add(1);
  inbox_->handlers.post([inbox = inbox_, notification = std::move(notification)] {
    inbox->waiting.fetch_sub(1);
    if (inbox->open.load()) inbox->handlers.on_notification(notification);
  });
}

void ClusterLink::post_resync() {
  resync_owed_ = false;
  if (!inbox_->handlers.on_resync) return;
  resyncs_.fetch_add(1, std::memory_order_relaxed);
  inbox_->handlers.post([inbox = inbox_] {
    if (inbox->open.load()) inbox->handlers.on_resync();
  });
}

}  // namespace chorus::conference::cluster
