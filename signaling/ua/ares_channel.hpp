// A c-ares channel driven by an Asio io_context (the control loop): DNS questions sent and answered
// without a thread of their own and without blocking the loop. Used by DnsSipLocator.
//
// Why on the control loop, not on a thread of its own: c-ares is non-blocking and tells us which of
// its sockets it waits on (ARES_OPT_SOCK_STATE_CB), so each socket becomes a
// posix::stream_descriptor whose async_wait calls ares_process_fd, and one steady_timer calls it
// at ares_timeout() for retransmissions. Answers then arrive on the loop that owns the locator's
// cache and lookups (DESIGN §2: no locks inside it), with no cross-thread posting, no second
// thread to start and stop, and nothing to synchronise at shutdown. The cost is a few microseconds
// of parsing per answer on the loop, which is nothing beside a SIP transaction.
//
// The descriptors never own c-ares's sockets: c-ares announces a socket's close (readable and
// writable both 0) just before closing it, and the descriptor is released then (and its waits
// cancelled), so Asio never closes or watches a number c-ares reuses.
//
// Threading: everything on the io_context's thread. `query`'s callback may run from inside
// query() (c-ares fails some questions at once) or from inside a later ares_process_fd; it may
// call query() again. Destroying the channel drops every pending callback without calling it.
#pragma once

#include <ares.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace chorus::sip {

struct AresChannelOptions {
  // "host:port" or "[v6]:port" servers; empty: the system's (/etc/resolv.conf).
  std::vector<std::string> servers;
  std::chrono::milliseconds try_timeout{500};  // the first try's; c-ares doubles it each round
  int tries = 3;
};

class AresChannel {
 public:
  // status: an ARES_* code; answer: the raw response when one came (also with ARES_ENOTFOUND and
  // ARES_ENODATA), else empty.
  using Answer = std::function<void(int status, std::span<const std::uint8_t> answer)>;

  // Throws std::runtime_error when c-ares cannot be set up or a server is not "host:port".
  AresChannel(boost::asio::io_context& io, const AresChannelOptions& options);
  ~AresChannel();
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  // One question (class IN) for `name` of type `type`, recursion desired, no search domains.
  void query(const std::string& name, std::uint16_t type, Answer done);
  [[nodiscard]] std::size_t in_flight() const { return in_flight_; }

 private:
  struct Watcher;
  struct Pending {
    AresChannel* channel;
    Answer done;
  };
  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
  static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  void arm(const std::shared_ptr<Watcher>& watcher);
  void process(ares_socket_t read_fd, ares_socket_t write_fd);
  void schedule_timer();

  boost::asio::io_context& io_;
  ares_channel channel_ = nullptr;
  std::unordered_map<ares_socket_t, std::shared_ptr<Watcher>> watchers_;
  boost::asio::steady_timer timer_;
  std::size_t in_flight_ = 0;
  bool destroying_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // handlers hold a weak_ptr: gone → do nothing
};

}  // namespace chorus::sip
