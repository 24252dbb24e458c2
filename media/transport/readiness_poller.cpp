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

ReadinessPoller::ReadinessPoller(boost::asio::io_context& io, TimerQueue& timers)
    : epoll_(io, make_epoll()), tick_epoll_(make_epoll()), timers_(timers) {
  wait();
}

ReadinessPoller::~ReadinessPoller() {
  timers_.cancel(fallback_timer_);
  ::close(tick_epoll_);
  boost::system::error_code ignored;
  epoll_.close(ignored);
}

int ReadinessPoller::set_of(Delivery delivery) {
  return delivery == Delivery::kAtTick ? tick_epoll_ : epoll_.native_handle();
}

ReadinessPoller::Registration ReadinessPoller::add(int fd, ReadableListener& listener, Delivery delivery) {
  const Registration registration = next_registration_++;
  epoll_event event = watched(registration);
  if (::epoll_ctl(set_of(delivery), EPOLL_CTL_ADD, fd, &event) != 0) {
    CHORUS_LOG(kError, "media", "cannot watch socket", {"fd", fd}, {"error", std::strerror(errno)});
    return 0;
  }
  entries_.emplace(registration, Entry{fd, &listener, delivery});
  if (delivery == Delivery::kAtTick && at_tick_++ == 0) schedule_fallback();
  return registration;
}

void ReadinessPoller::remove(Registration registration) {
  const auto entry = entries_.find(registration);
  if (entry == entries_.end()) return;
  ::epoll_ctl(set_of(entry->second.delivery), EPOLL_CTL_DEL, entry->second.fd, nullptr);
  if (entry->second.delivery == Delivery::kAtTick) --at_tick_;
  entries_.erase(entry);
}

void ReadinessPoller::set_delivery(Registration registration, Delivery delivery) {
  const auto entry = entries_.find(registration);
  if (entry == entries_.end() || entry->second.delivery == delivery) return;
  Entry& moved = entry->second;
  ::epoll_ctl(set_of(moved.delivery), EPOLL_CTL_DEL, moved.fd, nullptr);
  epoll_event event = watched(registration);
  // EPOLL_CTL_ADD checks readiness at once: datagrams already waiting are reported by the new set.
  if (::epoll_ctl(set_of(delivery), EPOLL_CTL_ADD, moved.fd, &event) != 0) {
    CHORUS_LOG(kError, "media", "cannot watch socket", {"fd", moved.fd}, {"error", std::strerror(errno)});
    if (moved.delivery == Delivery::kAtTick) --at_tick_;
    entries_.erase(entry);
    return;
  }
  moved.delivery = delivery;
  if (delivery == Delivery::kAtTick) {
    if (at_tick_++ == 0) schedule_fallback();
  } else {
    --at_tick_;
  }
}

void ReadinessPoller::rearm(Registration registration) {
  const auto entry = entries_.find(registration);
  if (entry == entries_.end()) return;
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
  // A pass that filled its array may have left ready sockets: another pass, as many as the set
  // could need. A socket rearmed after its bound may come back in a later pass: that bounds it too.
  const std::size_t passes = at_tick_ / kEventsPerWake + 1;
  for (std::size_t pass = 0; pass < passes; ++pass)
    if (dispatch(tick_epoll_) < kEventsPerWake) break;
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
