#include "media/transport/readiness_poller.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/log.hpp"

namespace chorus::media {
namespace {

// What every socket is watched for: readable, edge-triggered, named by its registration.
epoll_event watched(ReadinessPoller::Registration registration) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLET;
  event.data.u64 = registration;
  return event;
}

int make_epoll() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  return fd;
}

}  // namespace

ReadinessPoller::ReadinessPoller(boost::asio::io_context& io, TimerQueue& timers, TickReading tick_reading)
    : epoll_(io, make_epoll()), tick_epoll_(make_epoll()), timers_(timers), tick_reading_(tick_reading) {
  wait();
}

ReadinessPoller::~ReadinessPoller() {
  timers_.cancel(fallback_timer_);
  ring_.reset();  // its receives let go of the sockets before their owners close them
  ::close(tick_epoll_);
  boost::system::error_code ignored;
  epoll_.close(ignored);
}

int ReadinessPoller::set_of(Delivery delivery) {
  return delivery == Delivery::kAtTick ? tick_epoll_ : epoll_.native_handle();
}

TickSetRing* ReadinessPoller::ring() {
  if (!ring_tried_ && tick_reading_ == TickReading::kRingWhenAvailable) {
    ring_tried_ = true;
    ring_ = TickSetRing::open();
  }
  return ring_.get();
}

bool ReadinessPoller::watch(Registration registration, Entry& entry) {
  entry.in_ring = false;
  if (entry.delivery == Delivery::kAtTick) {
    TickSetRing* tick_ring = ring();
    if (tick_ring != nullptr && tick_ring->arm(entry.fd, registration)) {
      entry.in_ring = true;
      return true;
    }
  }
  return watch_by_epoll(registration, entry);
}

bool ReadinessPoller::watch_by_epoll(Registration registration, Entry& entry) {
  epoll_event event = watched(registration);
  // EPOLL_CTL_ADD checks readiness at once: datagrams already waiting are reported.
  if (::epoll_ctl(set_of(entry.delivery), EPOLL_CTL_ADD, entry.fd, &event) != 0) {
    CHORUS_LOG(kError, "media", "cannot watch socket", {"fd", entry.fd}, {"error", std::strerror(errno)});
    return false;
  }
  if (entry.delivery == Delivery::kAtTick) ++at_tick_epoll_;
  return true;
}

void ReadinessPoller::unwatch(Registration registration, const Entry& entry) {
  if (entry.in_ring) {
    ring_->disarm(registration);
    return;
  }
  ::epoll_ctl(set_of(entry.delivery), EPOLL_CTL_DEL, entry.fd, nullptr);
  if (entry.delivery == Delivery::kAtTick) --at_tick_epoll_;
}

ReadinessPoller::Registration ReadinessPoller::add(int fd, ReadableListener& listener, Delivery delivery) {
  const Registration registration = next_registration_++;
  Entry entry{fd, &listener, delivery};
  if (!watch(registration, entry)) return 0;
  entries_.emplace(registration, entry);
  if (delivery == Delivery::kAtTick && at_tick_++ == 0) schedule_fallback();
  return registration;
}

void ReadinessPoller::remove(Registration registration) {
  const auto entry = entries_.find(registration);
  if (entry == entries_.end()) return;
  unwatch(registration, entry->second);
  if (entry->second.delivery == Delivery::kAtTick) --at_tick_;
  entries_.erase(entry);
}

void ReadinessPoller::set_delivery(Registration registration, Delivery delivery) {
  const auto entry = entries_.find(registration);
  if (entry == entries_.end() || entry->second.delivery == delivery) return;
  Entry& moved = entry->second;
  unwatch(registration, moved);
  if (moved.delivery == Delivery::kAtTick) --at_tick_;
  moved.delivery = delivery;
  if (!watch(registration, moved)) {
    entries_.erase(entry);
    return;
  }
  if (delivery == Delivery::kAtTick && at_tick_++ == 0) schedule_fallback();
}

void ReadinessPoller::rearm(Registration registration) {
  const auto entry = entries_.find(registration);
  if (entry == entries_.end() || entry->second.in_ring) return;  // the ring takes every datagram
  epoll_event event = watched(registration);
  ::epoll_ctl(set_of(entry->second.delivery), EPOLL_CTL_MOD, entry->second.fd, &event);
}

void ReadinessPoller::wait() {
  epoll_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& error) {
    if (error) return;  // the worker is stopping
    dispatch(epoll_.native_handle());
    wait();
  });
}

void ReadinessPoller::poll_tick_set() {
  last_tick_poll_ = timers_.now();
  if (ring_) poll_ring();
  if (at_tick_epoll_ == 0) return;  // an empty set: not even the one epoll_wait
  // A pass that filled its array may have left ready sockets: another pass, as many as the set
  // could need. A socket rearmed after its bound may come back in a later pass: that bounds it too.
  const std::size_t passes = at_tick_epoll_ / kEventsPerWake + 1;
  for (std::size_t pass = 0; pass < passes; ++pass)
    if (dispatch(tick_epoll_) < kEventsPerWake) break;
}

void ReadinessPoller::poll_ring() {
  ring_->poll([this](TickSetRing::Key key, const TakenDatagram& datagram) {
    // Looked up for each datagram: an earlier listener of this poll may have removed it.
    const auto entry = entries_.find(key);
    if (entry != entries_.end()) entry->second.listener->on_taken(datagram);
  });
  // A socket whose receive failed for good is read through the epoll tick set from now on.
  for (const TickSetRing::Key key : ring_->take_failed()) {
    const auto entry = entries_.find(key);
    if (entry == entries_.end() || !entry->second.in_ring) continue;
    entry->second.in_ring = false;
    if (!watch_by_epoll(key, entry->second)) {
      if (entry->second.delivery == Delivery::kAtTick) --at_tick_;
      entries_.erase(entry);
    }
  }
}

void ReadinessPoller::schedule_fallback() {
  if (fallback_timer_ != TimerQueue::kNoTimer) return;  // the one running reschedules itself
  fallback_timer_ = timers_.schedule(kTickSetFallback, [this] {
    fallback_timer_ = TimerQueue::kNoTimer;
    if (at_tick_ == 0) return;  // rescheduled by the next add
    if (timers_.now() - last_tick_poll_ >= kTickSetFallback / 2) poll_tick_set();
    schedule_fallback();
  });
}

// One wake of one set: the sockets that became readable, each listener called once. More than
// kEventsPerWake ready sockets leave the set readable: the next wait (or pass) takes the rest.
std::size_t ReadinessPoller::dispatch(int epoll_fd) {
  std::array<epoll_event, kEventsPerWake> events;
  const int ready = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 0);
  for (int i = 0; i < ready; ++i) {
    // Looked up, not carried as a pointer: an earlier listener of this wake may have removed it.
    // Copied out first: epoll_event is packed on x86-64, so its u64 is misaligned and find() must
    // not bind a reference to it (UBSan: misaligned reference binding).
    const std::uint64_t key = events[static_cast<std::size_t>(i)].data.u64;
    const auto entry = entries_.find(key);
    if (entry != entries_.end()) entry->second.listener->on_readable();
  }
  return ready > 0 ? static_cast<std::size_t>(ready) : 0;
}

}  // namespace chorus::media
