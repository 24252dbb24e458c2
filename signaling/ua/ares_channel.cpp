#include "signaling/ua/ares_channel.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <mutex>
#include <stdexcept>

namespace chorus::sip {

namespace asio = boost::asio;

// One c-ares socket: what c-ares wants of it, and which waits are armed.
struct AresChannel::Watcher {
  Watcher(asio::io_context& io, ares_socket_t socket) : fd(socket), descriptor(io) {}
  ares_socket_t fd;
  asio::posix::stream_descriptor descriptor;
  bool want_read = false;
  bool want_write = false;
  bool reading = false;
  bool writing = false;
  bool closed = false;
};

namespace {

void library_init() {
  // ares_library_init is not thread-safe and only does work on Windows; once per process.
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

}  // namespace

AresChannel::AresChannel(asio::io_context& io, const AresChannelOptions& options) : io_(io), timer_(io) {
  library_init();
  ares_options opts{};
  // EDNS0 (RFC 6891) with 1232 bytes: NAPTR and SRV sets fit a datagram without a TCP retry.
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_EDNS;
  opts.ednspsz = 1232;
  opts.timeout = static_cast<int>(std::max<std::chrono::milliseconds::rep>(options.try_timeout.count(), 10));
  opts.tries = std::max(options.tries, 1);
  opts.sock_state_cb = &AresChannel::on_socket_state;
  opts.sock_state_cb_data = this;
  const int mask = ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  if (int status = ares_init_options(&channel_, &opts, mask); status != ARES_SUCCESS) {
    throw std::runtime_error(std::string("c-ares: ") + ares_strerror(status));
  }
  if (!options.servers.empty()) {
    std::string csv;
    for (const std::string& server : options.servers) csv += (csv.empty() ? "" : ",") + server;
    if (int status = ares_set_servers_ports_csv(channel_, csv.c_str()); status != ARES_SUCCESS) {
      ares_destroy(channel_);
      throw std::runtime_error("c-ares: DNS servers \"" + csv + "\": " + ares_strerror(status));
    }
  }
}

AresChannel::~AresChannel() {
  destroying_ = true;      // pending callbacks (ARES_EDESTRUCTION) are dropped, not called
  ares_destroy(channel_);  // announces each socket's close: watchers released there
  for (auto& [fd, watcher] : watchers_) {
    watcher->closed = true;
    boost::system::error_code ignored;
    watcher->descriptor.cancel(ignored);
    watcher->descriptor.release();
  }
}

void AresChannel::query(const std::string& name, std::uint16_t type, Answer done) {
  ++in_flight_;
  ares_query(channel_, name.c_str(), 1 /* C_IN */, type, &AresChannel::on_answer, new Pending{this, std::move(done)});
  schedule_timer();
}

void AresChannel::on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(arg));
  AresChannel& self = *pending->channel;
  --self.in_flight_;
  if (self.destroying_ || status == ARES_EDESTRUCTION) return;
  std::span<const std::uint8_t> answer;
  if (abuf != nullptr && alen > 0) answer = {abuf, static_cast<std::size_t>(alen)};
  pending->done(status, answer);
}

void AresChannel::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto& self = *static_cast<AresChannel*>(data);
  auto found = self.watchers_.find(fd);
  if (readable == 0 && writable == 0) {  // c-ares closes the socket right after this
    if (found == self.watchers_.end()) return;
    const std::shared_ptr<Watcher> watcher = found->second;
    self.watchers_.erase(found);
    watcher->closed = true;
    boost::system::error_code ignored;
    watcher->descriptor.cancel(ignored);
    watcher->descriptor.release();
    return;
  }
  if (found == self.watchers_.end()) {
    auto watcher = std::make_shared<Watcher>(self.io_, fd);
    boost::system::error_code ec;
    watcher->descriptor.assign(fd, ec);
    if (ec) return;  // its questions then end by c-ares's own timeout
    found = self.watchers_.emplace(fd, std::move(watcher)).first;
  }
  found->second->want_read = readable != 0;
  found->second->want_write = writable != 0;
  self.arm(found->second);
}

void AresChannel::arm(const std::shared_ptr<Watcher>& watcher) {
  using Wait = asio::posix::descriptor_base::wait_type;
  auto start = [this, &watcher](Wait wait, bool Watcher::* armed) {
    (*watcher).*armed = true;
    watcher->descriptor.async_wait(
        wait, [this, watcher, armed, wait, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
          (*watcher).*armed = false;
          if (alive.expired() || watcher->closed || ec) return;
          if (wait == Wait::wait_read) {
            process(watcher->fd, ARES_SOCKET_BAD);
          } else {
            process(ARES_SOCKET_BAD, watcher->fd);
          }
          if (!watcher->closed) arm(watcher);
        });
  };
  if (watcher->want_read && !watcher->reading) start(Wait::wait_read, &Watcher::reading);
  if (watcher->want_write && !watcher->writing) start(Wait::wait_write, &Watcher::writing);
}

void AresChannel::process(ares_socket_t read_fd, ares_socket_t write_fd) {
  ares_process_fd(channel_, read_fd, write_fd);
  schedule_timer();
}

// c-ares retransmits and gives up only when called: wake it at the time it names.
void AresChannel::schedule_timer() {
  timeval tv{};
  if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
    timer_.cancel();
    return;
  }
  timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
  timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  });
}

}  // namespace chorus::sip
