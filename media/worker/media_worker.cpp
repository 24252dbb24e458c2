#include "media/worker/media_worker.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include <boost/asio/ip/udp.hpp>

#include "common/log.hpp"
#include "common/wake_batch.hpp"

namespace chorus::media {

namespace {
constexpr Millis kQualityInterval{1000};

int make_eventfd() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::runtime_error("media worker: eventfd failed");
  return fd;
}
}  // namespace

MediaWorker::MediaWorker(unsigned index, dtls::DtlsContext* dtls)
    : index_(index),
      dtls_(dtls),
      work_(boost::asio::make_work_guard(io_)),
      timers_(io_),
      wake_(io_, make_eventfd()),
      poller_(io_, timers_) {
  wait_for_inbox();  // before the thread starts: nothing else touches wake_ yet
  thread_ = std::thread([this] { run(); });
  post([this] { timers_.schedule(kQualityInterval, [this] { publish_quality(); }); });
}

void MediaWorker::enqueue(Job job, WakeNow wake_now) {
  bool was_empty = false;
  {
    const std::lock_guard lock(inbox_mutex_);
    was_empty = inbox_.empty();
    inbox_.push_back(std::move(job));
  }
  // Outside the lock: the worker this wakes may preempt us right here, and finds the lock free.
  // Inside a burst of SIP input the wake waits for the burst's end (common/wake_batch.hpp).
  // kAlways wakes even behind queued jobs: their wake may be one a batch is still keeping.
  if (wake_now == WakeNow::kAlways) {
    wake();
  } else if (was_empty && !WakeBatch::defer(this, &MediaWorker::wake_thunk)) {
    wake();
  }
}

void MediaWorker::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(wake_.native_handle(), &one, sizeof one);
}

void MediaWorker::wake_thunk(void* worker) {
  static_cast<MediaWorker*>(worker)->wake();
}

void MediaWorker::wait_for_inbox() {
  wake_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& error) {
    if (error) return;  // the worker is stopping
    run_inbox();
    wait_for_inbox();
  });
}

void MediaWorker::run_inbox() {
  // Reset the eventfd before taking the jobs: a push after the swap signals it again.
  std::uint64_t signals = 0;
  [[maybe_unused]] const auto read = ::read(wake_.native_handle(), &signals, sizeof signals);
  {
    const std::lock_guard lock(inbox_mutex_);
    running_.swap(inbox_);
  }
  for (Job& job : running_) job();
  running_.clear();
}

void MediaWorker::publish_quality() {
  std::unordered_map<std::uint64_t, StreamQuality> fresh;
  fresh.reserve(sessions_.size());
  for (const auto& [id, session] : sessions_) fresh.emplace(id, session->quality());
  {
    // Only tried: a reader preempted while it holds the lock must not hold up the worker's tick.
    // A busy lock leaves the last second's figures up until the next publication.
    const std::unique_lock lock(quality_mutex_, std::try_to_lock);
    if (lock.owns_lock()) quality_.swap(fresh);
  }
  check_media_timeouts();
  timers_.schedule(kQualityInterval, [this] { publish_quality(); });
}

void MediaWorker::check_media_timeouts() {
  const auto now = timers_.now();
  for (const auto& [id, session] : sessions_) {
    if (!session->timed_out(now) || std::ranges::find(timed_out_, id) != timed_out_.end()) continue;
    timed_out_.push_back(id);
    MediaCounters::bump(counters_.media_timeouts);
    CHORUS_LOG(kInfo, "media", "media timeout: peer sent nothing", {"session", session->spec().label},
               {"timeout_ms",
                (session->spec().send_enabled ? session->spec().media_timeout : session->spec().hold_timeout).count()});
    if (on_media_timeout_) on_media_timeout_(id);
  }
}

void MediaWorker::set_media_timeout_handler(MediaTimeoutHandler handler) {
  post([this, handler = std::move(handler)]() mutable { on_media_timeout_ = std::move(handler); });
}

void MediaWorker::set_marking(MediaMarking marking) {
  post([this, marking] { marking_ = marking; });
}

std::optional<StreamQuality> MediaWorker::quality(std::uint64_t session_id) const {
  const std::lock_guard lock(quality_mutex_);
  auto it = quality_.find(session_id);
  if (it == quality_.end()) return std::nullopt;
  return it->second;
}

int MediaWorker::set_realtime_priority(int priority) {
  return run_and_wait([priority] {
    sched_param param{};
    param.sched_priority = priority;
    // 0: the calling thread (sched_setscheduler(2) takes a thread id on Linux).
    return ::sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &param) == 0 ? 0 : errno;
  });
}

std::size_t MediaWorker::reserve_socket_states(std::size_t sockets) {
  return run_and_wait([this, sockets] {
    std::vector<boost::asio::ip::udp::socket> held;
    held.reserve(sockets);
    boost::system::error_code error;
    for (std::size_t i = 0; i < sockets; ++i) {
      boost::asio::ip::udp::socket socket(io_);
      socket.open(boost::asio::ip::udp::v4(), error);
      if (error) break;  // out of descriptors: enough
      held.push_back(std::move(socket));
    }
    return held.size();  // `held` closes them all: their registrations go back to the reactor's pool, together
  });
}

MediaWorker::~MediaWorker() {
  post([this] {
    sessions_.clear();
    peer_latched_at_.clear();
    counters_.sessions.store(0, std::memory_order_relaxed);
    work_.reset();
    io_.stop();
  });
  if (thread_.joinable()) thread_.join();
  flush_deferred_logs();  // what the worker logged last reaches the log before the process goes on
}

void MediaWorker::run() {
  const std::string name = "media-" + std::to_string(index_);
  ::pthread_setname_np(::pthread_self(), name.c_str());  // shown in /proc/PID/task/*/comm and top -H
  defer_this_thread_logs();                              // the tick never waits for a write(2) (common/log.hpp)
  io_.run();
}

MediaEnvironment MediaWorker::environment() {
  return MediaEnvironment{
      io_,
      timers_,
      poller_,
      counters_,
      dtls_,
      std::span(scratch_),
      [this](const MediaSession& from, const TransportAddress& source) { on_peer_latched(from, source); },
      marking_,
      &send_batch_};
}

void MediaWorker::on_peer_latched(const MediaSession& from, const TransportAddress& source) {
  prove_peer_sessions(from.spec().peer, source, &from);
}

void MediaWorker::prove_peer(std::uint64_t peer, TransportAddress at) {
  post([this, peer, at] { prove_peer_sessions(peer, at, nullptr); });
}

void MediaWorker::prove_peer_sessions(std::uint64_t peer, const TransportAddress& at, const MediaSession* except) {
  if (peer == 0) return;
  peer_latched_at_.insert_or_assign(peer, at);
  for (const auto& [id, session] : sessions_)
    if (session.get() != except && session->spec().peer == peer) session->on_peer_proven(at);
}

void MediaWorker::add_session(MediaSessionSpec spec, SinkFactory make_sink) {
  std::vector<SinkFactory> sinks;
  sinks.push_back(std::move(make_sink));
  add_session(std::move(spec), std::move(sinks));
}

void MediaWorker::add_session(MediaSessionSpec spec, std::vector<SinkFactory> make_sinks) {
  post([this, spec = std::move(spec), make_sinks = std::move(make_sinks)]() mutable {
    const auto id = spec.id;
    auto session = std::make_unique<MediaSession>(std::move(spec), environment());
    for (std::size_t stream = 0; stream < make_sinks.size(); ++stream)
      if (make_sinks[stream]) session->set_sink(stream, make_sinks[stream]());
    if (auto latched = peer_latched_at_.find(session->spec().peer); latched != peer_latched_at_.end())
      session->on_peer_proven(latched->second);
    session->start();
    sessions_[id] = std::move(session);
    counters_.sessions.store(sessions_.size(), std::memory_order_relaxed);
  });
}

void MediaWorker::update_session(std::uint64_t id, MediaSessionUpdate update) {
  post([this, id, update = std::move(update)] {
    if (auto it = sessions_.find(id); it != sessions_.end()) it->second->update(update);
  });
}

void MediaWorker::remove_session(std::uint64_t id) {
  post([this, id] {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    const auto peer = it->second->spec().peer;
    sessions_.erase(it);
    std::erase(timed_out_, id);
    if (std::ranges::none_of(sessions_, [peer](const auto& entry) { return entry.second->spec().peer == peer; }))
      peer_latched_at_.erase(peer);
    counters_.sessions.store(sessions_.size(), std::memory_order_relaxed);
  });
}

MediaWorkerPool::MediaWorkerPool(unsigned count, dtls::DtlsContext* dtls) {
  if (count == 0) count = std::max(1U, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < count; ++i) workers_.push_back(std::make_unique<MediaWorker>(i, dtls));
  rooms_per_worker_.assign(count, 0);
}

MediaWorker& MediaWorkerPool::acquire(std::string_view room_id) {
  auto it = pins_.find(room_id);
  if (it == pins_.end()) {
    const auto least = static_cast<std::size_t>(std::min_element(rooms_per_worker_.begin(), rooms_per_worker_.end()) -
                                                rooms_per_worker_.begin());
    it = pins_.emplace(std::string(room_id), Pin{least, 0}).first;
    ++rooms_per_worker_[least];
  }
  ++it->second.sessions;
  return *workers_[it->second.worker];
}

void MediaWorkerPool::release(std::string_view room_id) {
  auto it = pins_.find(room_id);
  if (it == pins_.end()) return;
  if (--it->second.sessions == 0) {
    --rooms_per_worker_[it->second.worker];
    pins_.erase(it);
  }
}

void MediaWorkerPool::set_media_timeout_handler(const MediaTimeoutHandler& handler) {
  for (auto& worker : workers_) worker->set_media_timeout_handler(handler);
}

void MediaWorkerPool::set_marking(const MediaMarking& marking) {
  for (auto& worker : workers_) worker->set_marking(marking);
}

int MediaWorkerPool::set_realtime_priority(int priority) {
  int first_error = 0;
  for (auto& worker : workers_) {
    const int error = worker->set_realtime_priority(priority);
    if (first_error == 0) first_error = error;
  }
  return first_error;
}

void MediaWorkerPool::reserve_socket_states(std::size_t sockets) {
  for (auto& worker : workers_) worker->reserve_socket_states(sockets);
}

MediaCountersSnapshot MediaWorkerPool::counters() const {
  MediaCountersSnapshot total;
  for (const auto& worker : workers_) total += worker->counters();
  return total;
}

}  // namespace chorus::media
