// ReadinessPoller (media/transport/readiness_poller.hpp): real UDP sockets on loopback, one io_context.
#include "media/transport/readiness_poller.hpp"

#include "tests/unit/media/transport/loopback_udp_socket.hpp"

#include "common/asio_timer_queue.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <functional>

namespace chorus::media {
namespace readiness_poller_test {

using UdpSocket = testing::LoopbackUdpSocket;

struct Listener final : ReadableListener {
  std::function<void()> on_call;
  int calls = 0;
  void on_readable() override {
    ++calls;
    if (on_call) on_call();
  }
};

// Runs the loop until `done` or a bound of 2 s; a datagram on loopback is queued when sendto returns.
void run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
}

// Runs what is ready now and whatever that makes ready, without waiting for anything new.
void run_ready(boost::asio::io_context& io) {
  for (int i = 0; i < 10; ++i) {
    io.restart();
    io.poll();
  }
}

// One loop, its poller, a sender and a socket whose listener takes one datagram a call.
class ReadinessPollerTest : public ::testing::Test {
 protected:
  ReadinessPollerTest() {
    listener_.on_call = [this] { socket_.read_one(); };
  }

  boost::asio::io_context io_;
  AsioTimerQueue timers_{io_};
  ReadinessPoller poller_{io_, timers_};
  UdpSocket sender_;
  UdpSocket socket_;
  Listener listener_;
};

TEST_F(ReadinessPollerTest, CallsTheListenerOfEachSocketThatBecameReadable) {
  UdpSocket first;
  UdpSocket second;
  Listener on_first;
  Listener on_second;
  on_first.on_call = [&] { first.read_one(); };
  on_second.on_call = [&] { second.read_one(); };
  ASSERT_NE(poller_.add(first.fd(), on_first), 0U);
  ASSERT_NE(poller_.add(second.fd(), on_second), 0U);
  EXPECT_EQ(poller_.size(), 2U);

  sender_.send_to(second);
  run_until(io_, [&] { return on_second.calls == 1; });
  EXPECT_EQ(on_second.calls, 1);
  EXPECT_EQ(on_first.calls, 0);

  sender_.send_to(first);
  sender_.send_to(second);
  run_until(io_, [&] { return on_first.calls == 1 && on_second.calls == 2; });
  EXPECT_EQ(on_first.calls, 1);
  EXPECT_EQ(on_second.calls, 2);
}

TEST_F(ReadinessPollerTest, ReportsASocketLeftReadableOnlyWhenRearmed) {
  ReadinessPoller::Registration registration = 0;
  bool rearm = false;
  listener_.on_call = [&] {  // one datagram a call, like a drain that stopped at its bound
    socket_.read_one();
    if (rearm) poller_.rearm(registration);
  };
  registration = poller_.add(socket_.fd(), listener_);
  sender_.send_to(socket_);
  sender_.send_to(socket_);
  run_until(io_, [&] { return listener_.calls == 1; });
  run_ready(io_);
  // Edge-triggered: the second datagram raised no new edge, so nothing reports it ...
  EXPECT_EQ(listener_.calls, 1);

  // ... until the listener asks (here, on the next datagram's edge, it rearms after reading one).
  rearm = true;
  sender_.send_to(socket_);
  run_until(io_, [&] { return listener_.calls == 3; });
  run_ready(io_);
  EXPECT_EQ(listener_.calls, 3);     // the one left behind, then the new one: both reported
  EXPECT_FALSE(socket_.read_one());  // and taken
}

TEST_F(ReadinessPollerTest, NeverCallsAListenerRemovedEarlierInTheSameWake) {
  UdpSocket first;
  UdpSocket second;
  Listener on_first;
  Listener on_second;
  std::array<ReadinessPoller::Registration, 2> registrations{};
  // Whichever runs first removes the other (a session torn down by another's packet).
  on_first.on_call = [&] {
    first.read_one();
    poller_.remove(registrations[1]);
  };
  on_second.on_call = [&] {
    second.read_one();
    poller_.remove(registrations[0]);
  };
  registrations[0] = poller_.add(first.fd(), on_first);
  registrations[1] = poller_.add(second.fd(), on_second);
  sender_.send_to(first);
  sender_.send_to(second);
  run_until(io_, [&] { return on_first.calls + on_second.calls >= 1; });
  run_ready(io_);
  EXPECT_EQ(on_first.calls + on_second.calls, 1);
  EXPECT_EQ(poller_.size(), 1U);
}

TEST_F(ReadinessPollerTest, StopsReportingARemovedSocketEvenWhileADuplicateKeepsItOpen) {
  const int duplicate = ::dup(socket_.fd());  // a port lease keeps its own descriptor of the socket
  const auto registration = poller_.add(duplicate, listener_);
  poller_.remove(registration);
  ::close(duplicate);
  sender_.send_to(socket_);
  run_ready(io_);  // loopback queues the datagram before sendto returns: it would be reported now
  EXPECT_EQ(listener_.calls, 0);
  EXPECT_EQ(poller_.size(), 0U);
}

TEST_F(ReadinessPollerTest, ReadsATickSocketOnlyWhenTheTickPolls) {
  ASSERT_NE(poller_.add(socket_.fd(), listener_, Delivery::kAtTick), 0U);
  sender_.send_to(socket_);
  run_ready(io_);
  EXPECT_EQ(listener_.calls, 0);  // the worker's loop did not wake for it
  poller_.poll_tick_set();
  EXPECT_EQ(listener_.calls, 1);
  poller_.poll_tick_set();
  EXPECT_EQ(listener_.calls, 1);  // drained: nothing to report
}

TEST_F(ReadinessPollerTest, AMovedSocketIsReportedByItsNewSetWithWhatWaits) {
  const auto registration = poller_.add(socket_.fd(), listener_, Delivery::kAtTick);
  sender_.send_to(socket_);
  poller_.set_delivery(registration, Delivery::kOnArrival);
  run_until(io_, [&] { return listener_.calls == 1; });
  EXPECT_EQ(listener_.calls, 1);

  poller_.set_delivery(registration, Delivery::kAtTick);
  sender_.send_to(socket_);
  run_ready(io_);
  EXPECT_EQ(listener_.calls, 1);
  poller_.poll_tick_set();
  EXPECT_EQ(listener_.calls, 2);
}

TEST_F(ReadinessPollerTest, ATickSetNoTickPollsIsDrainedByTheFallbackTimer) {
  poller_.add(socket_.fd(), listener_, Delivery::kAtTick);
  sender_.send_to(socket_);
  run_until(io_, [&] { return listener_.calls == 1; });  // within kTickSetFallback, bounded at 2 s
  EXPECT_EQ(listener_.calls, 1);
}

TEST_F(ReadinessPollerTest, RefusesADescriptorEpollCannotWatch) {
  EXPECT_EQ(poller_.add(-1, listener_), 0U);
  EXPECT_EQ(poller_.size(), 0U);
}

}  // namespace readiness_poller_test
}  // namespace chorus::media
