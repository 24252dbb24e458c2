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
// The tick set is read through the worker's TickSetRing (tick_set_ring.hpp) when the kernel has one:
// the poller takes the datagrams itself, all of a tick's in one system call, and hands each to its
// socket's listener (on_taken) instead of telling the listener to read (on_readable). Without a ring
// (or for a socket the ring gave back) the tick set is the epoll set described above.
//
// Threading: the worker's thread only (construction and destruction included).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "common/timer_queue.hpp"
#include "media/transport/tick_set_ring.hpp"

namespace chorus::media {

class ReadableListener {
 public:
  // The socket has datagrams: read them (all, or call rearm() when stopping at a bound).
  virtual void on_readable() = 0;
  // A datagram the poller's TickSetRing took from the socket.
  virtual void on_taken(const TakenDatagram& datagram) = 0;

 protected:
  ~ReadableListener() = default;
};

// When a socket's datagrams are read: as they arrive, or at its engine's next tick.
enum class Delivery : std::uint8_t { kOnArrival, kAtTick };

// How the kAtTick set is read: through a TickSetRing when the kernel allows, or always by epoll
// (the tests of that path).
enum class TickReading : std::uint8_t { kRingWhenAvailable, kEpoll };

class ReadinessPoller {
 public:
  static constexpr std::size_t kEventsPerWake = 256;
  static constexpr std::chrono::milliseconds kTickSetFallback{100};
  using Registration = std::uint64_t;  // 0: none

  ReadinessPoller(boost::asio::io_context& io, TimerQueue& timers,
                  TickReading tick_reading = TickReading::kRingWhenAvailable);
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
  // The tick set's ring once a kAtTick socket asked for it and the kernel had one; else null.
  [[nodiscard]] const TickSetRing* tick_ring() const { return ring_.get(); }

 private:
  struct Entry {
    int fd;
    ReadableListener* listener;
    Delivery delivery;
    bool in_ring = false;  // a kAtTick socket read by the TickSetRing, not by tick_epoll_
  };

  // Starts watching `entry`'s socket in its delivery's set; false (logged) when the kernel refuses.
  bool watch(Registration registration, Entry& entry);
  void unwatch(Registration registration, const Entry& entry);
  bool watch_by_epoll(Registration registration, Entry& entry);
  TickSetRing* ring();  // opened at the first kAtTick socket
  void poll_ring();
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
  std::size_t at_tick_ = 0;        // entries in the kAtTick set
  std::size_t at_tick_epoll_ = 0;  // of them, read through tick_epoll_
  TickReading tick_reading_;
  bool ring_tried_ = false;
  std::unique_ptr<TickSetRing> ring_;
  std::unordered_map<Registration, Entry> entries_;
  Registration next_registration_ = 1;
};

}  // namespace chorus::media
