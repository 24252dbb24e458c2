// ReadinessPoller: one epoll set per media worker holding its sessions' sockets, itself waited on
// by the worker's io_context as a single descriptor.
//
// Why not a boost::asio async_wait per socket: asio's epoll reactor re-registers the descriptor
// (epoll_ctl EPOLL_CTL_MOD, which also polls the socket) every time a wait is started that cannot
// complete at once, i.e. after every datagram a member sends. At 800 G.711 members that was 8% of
// the worker (`perf record` on bench/mixer_capacity.py, issue 13). Here a socket is added once,
// edge-triggered (EPOLLIN | EPOLLET), and one asio wait covers every socket of the worker: each
// wake takes up to kEventsPerWake ready sockets in one epoll_wait(2).
//
// Edge-triggered means a listener must drain its socket (read until a read comes back short)
// before it returns, or call rearm() when it stops early on purpose (a bound per wake): the set is
// then asked to report the socket again if it is still readable.
//
// Two sets. A socket is read either on arrival (the SFU forwards each packet at once, DTLS and
// STUN answer at once) or at the tick of the engine that consumes it: the audio MCU only uses a
// member's packets when its 20 ms tick decodes them, so its members' sockets sit in a second set
// that the tick drains, just before it decodes, with poll_tick_set(). The worker then wakes once a
// tick instead of once a packet: each wake of an idle vCPU costs more than the packet's read
// (issue 13). A timer drains that set every kTickSetFallback too, so a socket left in it by
// mistake is late, never deaf.
//
// Threading: the worker's thread only (construction and destruction included).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "common/timer_queue.hpp"

namespace chorus::media {

class ReadableListener {
 public:
  virtual void on_readable() = 0;

 protected:
  ~ReadableListener() = default;
};

// When a socket's datagrams are read: as they arrive, or at its engine's next tick.
enum class Delivery : std::uint8_t { kOnArrival, kAtTick };

class ReadinessPoller {
 public:
  static constexpr std::size_t kEventsPerWake = 256;
  static constexpr std::chrono::milliseconds kTickSetFallback{100};
  using Registration = std::uint64_t;  // 0: none

  ReadinessPoller(boost::asio::io_context& io, TimerQueue& timers);
  ReadinessPoller(const ReadinessPoller&) = delete;
  ReadinessPoller& operator=(const ReadinessPoller&) = delete;
  ~ReadinessPoller();

  // Starts reporting `fd` to `listener` (which must stay valid until remove()); 0 when the kernel
  // refuses (the error is logged).
  Registration add(int fd, ReadableListener& listener, Delivery delivery = Delivery::kOnArrival);
  // Moves a socket to the other set; what is waiting in it is reported by the new one.
  void set_delivery(Registration registration, Delivery delivery);
  // Calls the listener of every socket of the kAtTick set that is readable (at most kEventsPerWake
  // a pass, as many passes as the set needs). The engines that tick call it before they consume.
  void poll_tick_set();
  // Before the descriptor is closed: a socket whose descriptor was duplicated would otherwise stay
  // in the set (epoll tracks the open file, not the number). A removed listener is never called
  // again, even for an event of the wake in progress.
  void remove(Registration registration);
  // Report the socket again if it is still readable (after a drain stopped at its bound).
  void rearm(Registration registration);

  [[nodiscard]] std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    int fd;
    ReadableListener* listener;
    Delivery delivery;
  };

  void wait();
  // One epoll_wait(2) on `epoll_fd` and the listeners of what it returned; how many it returned.
  std::size_t dispatch(int epoll_fd);
  [[nodiscard]] int set_of(Delivery delivery);  // the set's epoll descriptor
  void schedule_fallback();

  boost::asio::posix::stream_descriptor epoll_;  // kOnArrival: the worker's loop waits on it
  int tick_epoll_;                               // kAtTick: drained by poll_tick_set
  TimerQueue& timers_;
  TimerQueue::TimerId fallback_timer_ = TimerQueue::kNoTimer;
  TimePoint last_tick_poll_{};
  std::size_t at_tick_ = 0;  // entries in the kAtTick set
  std::unordered_map<Registration, Entry> entries_;
  Registration next_registration_ = 1;
};

}  // namespace chorus::media
