// MediaWorker: one media thread with its own io_context (DESIGN §2). A room lives on one worker:
// its sessions' sockets, SRTP contexts, timers and the engine's packet path all run here, so the
// packet path takes no lock. The control loop talks to a worker only by posting work that names
// a session by id; nothing on this thread calls back into the control loop's objects.
// MediaWorkerPool holds N workers and pins each room to one of them, the least loaded (by rooms)
// when the room gets its first session, for as long as the room has sessions.
// Threading: the public methods are for the control loop (they post); counters() may be read
// from any thread.
//
// Posting goes through the worker's own inbox (a vector under a mutex held only to push or swap,
// and an eventfd to wake the worker), not boost::asio::post: asio wakes the worker with epoll_ctl
// while holding its scheduler's mutex, and a worker at SCHED_RR, woken by that very call, preempted
// the control loop inside it, then blocked on the mutex until the control loop got a CPU again
// (perf trace: futex waits of 1-16 ms on the worker, issue 12's late ticks). The inbox's own mutex
// inherits priority (common/priority_inheritance_mutex.hpp): a control loop preempted while it pushes
// runs at the worker's priority until it lets go, instead of holding the worker up.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "common/asio_timer_queue.hpp"
#include "common/priority_inheritance_mutex.hpp"
#include "media/transport/media_component.hpp"
#include "media/transport/media_counters.hpp"
#include "media/transport/media_session.hpp"
#include "media/transport/media_session_spec.hpp"
#include "media/transport/media_sink.hpp"
#include "media/transport/send_batch.hpp"

namespace chorus::media {

// Makes the engine's sink for a new session; runs on the worker thread.
using SinkFactory = std::function<std::unique_ptr<MediaSink>()>;
// Told, on the worker thread, the id of a session whose peer went silent (MediaSession::timed_out);
// it must only post to the control loop, which hangs the call up. Once per session.
using MediaTimeoutHandler = std::function<void(std::uint64_t session_id)>;

class MediaWorker {
 public:
  MediaWorker(unsigned index, dtls::DtlsContext* dtls);
  MediaWorker(const MediaWorker&) = delete;
  MediaWorker& operator=(const MediaWorker&) = delete;
  // Destroys every session on the worker thread, then joins it.
  ~MediaWorker();

  void add_session(MediaSessionSpec spec, SinkFactory make_sink);
  // A session carrying several streams (BUNDLE): one factory per stream, in the spec's stream
  // order; an empty factory leaves that stream without a sink.
  void add_session(MediaSessionSpec spec, std::vector<SinkFactory> make_sinks);
  void update_session(std::uint64_t id, MediaSessionUpdate update);
  void remove_session(std::uint64_t id);
  void set_media_timeout_handler(MediaTimeoutHandler handler);
  // The DSCP classes sessions added after this send with (issue 15, media/transport/media_marking.hpp).
  void set_marking(MediaMarking marking);
  // Moves the worker's thread to SCHED_RR at `priority` (1-99), with SCHED_RESET_ON_FORK so no
  // thread it starts inherits it (sched(7)). A worker's 20 ms mixer tick then never waits behind the
  // process's other threads (the control loop, the chain thread, REST) for a CPU: at the issue-12 soak
  // those waits made whole ticks late. Needs CAP_SYS_NICE or RLIMIT_RTPRIO >= priority; the
  // kernel's RT throttling (sched_rt_runtime_us) still leaves the rest 5% of each CPU. Blocks until
  // applied. 0 on success, else the errno (EPERM: not allowed).
  int set_realtime_priority(int priority);
  // Grows the worker's Asio reactor state for `sockets` sockets at once, now. The reactor keeps one
  // ~170-byte registration per socket in a pool that reuses its entries and never frees them; grown
  // one call at a time, those entries sat among the calls' short-lived allocations and kept ~3 MB
  // of freed heap resident per 1,000 calls after the calls ended (issue 12). Grown at start (by
  // opening and closing that many sockets), they sit together. Stops early when out of
  // descriptors. Blocks until done; returns how many were opened.
  std::size_t reserve_socket_states(std::size_t sockets);
  // The peer proved it receives at `at`'s IP by other means (its ACK): as when one of its sessions
  // latched there (on_peer_latched), its sessions' signalled addresses at that IP are proven.
  void prove_peer(std::uint64_t peer, TransportAddress at);

  [[nodiscard]] MediaCountersSnapshot counters() const { return counters_.snapshot(); }
  // The session's call quality as of the last publication (once a second); any thread.
  [[nodiscard]] std::optional<StreamQuality> quality(std::uint64_t session_id) const;
  [[nodiscard]] unsigned index() const { return index_; }

  using Job = std::move_only_function<void()>;

  // Runs `work` on the worker thread, after what was posted before it (for engines and tests).
  template <typename Work>
  void post(Work&& work) {
    enqueue(Job(std::forward<Work>(work)));
  }
  // Runs `work` on the worker's thread and waits for its result. Never from the worker itself.
  template <typename Work>
  auto run_and_wait(Work&& work) {
    std::packaged_task<std::invoke_result_t<Work>()> task(std::forward<Work>(work));
    auto result = task.get_future();
    enqueue([&task] { task(); }, WakeNow::kAlways);  // a deferred wake would never come: we wait here
    return result.get();
  }

 private:
  // kIfNoBatch: inside a WakeBatch on this thread the wake waits for the batch's end.
  enum class WakeNow { kIfNoBatch, kAlways };
  void enqueue(Job job, WakeNow wake_now = WakeNow::kIfNoBatch);
  void wake();                           // writes the eventfd: the worker runs its inbox
  static void wake_thunk(void* worker);  // wake() for WakeBatch::defer
  void wait_for_inbox();                 // worker thread (or before it starts)
  void run_inbox();                      // worker thread
  void run();
  MediaEnvironment environment();
  void publish_quality();       // worker thread, every kQualityInterval
  void check_media_timeouts();  // worker thread, with publish_quality
  // A session latched at `source`: the same peer's other sessions, and those it adds later, are
  // proven there (MediaSessionSpec::peer).
  void on_peer_latched(const MediaSession& from, const TransportAddress& source);
  void prove_peer_sessions(std::uint64_t peer, const TransportAddress& at, const MediaSession* except);

  unsigned index_;
  dtls::DtlsContext* dtls_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  AsioTimerQueue timers_;
  PriorityInheritanceMutex inbox_mutex_;  // held only to push or to swap: never across a syscall
  std::vector<Job> inbox_;
  std::vector<Job> running_;                    // worker thread only
  boost::asio::posix::stream_descriptor wake_;  // an eventfd: readable while the inbox has work
  ReadinessPoller poller_;                      // the sessions' sockets: declared before, outlives them
  MediaCounters counters_;
  SendBatch send_batch_{counters_};  // the audio tick's and each read round's sends, one submission each
  alignas(16) std::array<std::uint8_t, kReceiveSlotSize * kReceiveBatch> scratch_{};
  std::unordered_map<std::uint64_t, std::unique_ptr<MediaSession>> sessions_;  // worker thread only
  MediaTimeoutHandler on_media_timeout_;                                       // worker thread only
  MediaMarking marking_;                                                       // worker thread only
  std::vector<std::uint64_t> timed_out_;  // sessions already reported (worker thread only)
  // The last address each peer latched at, while it has sessions here (worker thread only).
  std::unordered_map<std::uint64_t, TransportAddress> peer_latched_at_;
  // What publish_quality() copied out for other threads; not on the packet path.
  mutable std::mutex quality_mutex_;
  std::unordered_map<std::uint64_t, StreamQuality> quality_;
  std::thread thread_;
};

class MediaWorkerPool {
 public:
  // `count` 0 means one per hardware thread.
  MediaWorkerPool(unsigned count, dtls::DtlsContext* dtls);

  // The worker serving `room_id`; pins the room on first use. Pair each acquire with a release.
  MediaWorker& acquire(std::string_view room_id);
  void release(std::string_view room_id);

  [[nodiscard]] MediaCountersSnapshot counters() const;
  [[nodiscard]] std::size_t size() const { return workers_.size(); }
  // Every worker reports silent sessions to `handler` (on its own thread; see MediaTimeoutHandler).
  void set_media_timeout_handler(const MediaTimeoutHandler& handler);
  // MediaWorker::set_marking on every worker.
  void set_marking(const MediaMarking& marking);
  // MediaWorker::set_realtime_priority on every worker; 0, or the first worker's errno.
  int set_realtime_priority(int priority);
  // MediaWorker::reserve_socket_states on every worker.
  void reserve_socket_states(std::size_t sockets);

 private:
  struct Pin {
    std::size_t worker = 0;
    std::size_t sessions = 0;
  };
  std::vector<std::unique_ptr<MediaWorker>> workers_;
  std::vector<std::size_t> rooms_per_worker_;
  std::map<std::string, Pin, std::less<>> pins_;
};

}  // namespace chorus::media
