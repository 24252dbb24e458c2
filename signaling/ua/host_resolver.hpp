// Host name resolution for dial-out, off the control loop (issue 12). getaddrinfo blocks for as
// long as the DNS server takes to answer (or not: glibc's default is 5 s per try, 2 tries per
// server); run on the control loop, one slow or hostile name would stall every SIP transaction and
// REST request. A HostResolver answers later, through a callback, within a bounded time.
//
// AsioHostResolver: boost::asio::ip::udp::resolver::async_resolve runs getaddrinfo on Asio's private
// resolver thread; a steady_timer on the control loop gives up on it after `timeout` (the lookup
// itself cannot be interrupted: its late answer is dropped). At most `max_pending` lookups at once
// (more fail at once with kBusy). No AI_ADDRCONFIG: "localhost" resolves in a network namespace
// that has only loopback.
// Threading: resolve() on the control loop (the io_context given); `done` runs there too, exactly
// once, never from inside resolve().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chorus::sip {

struct ResolveError {
  enum class Kind : std::uint8_t {
    kNotFound,  // the name has no A/AAAA record, or the lookup failed
    kTimeout,   // no answer within the resolver's bound
    kBusy,      // max_pending lookups in progress already
  };
  Kind kind = Kind::kNotFound;
  std::string detail;
};

using ResolveResult = std::expected<std::vector<boost::asio::ip::address>, ResolveError>;

class HostResolver {
 public:
  using Done = std::function<void(ResolveResult)>;
  virtual ~HostResolver() = default;
  // Looks `host` up; `done` gets its addresses (in the resolver's order) or why not.
  virtual void resolve(const std::string& host, Done done) = 0;
};

struct AsioHostResolverConfig {
  std::chrono::milliseconds timeout{2000};  // dial_out_dns_timeout
  std::size_t max_pending = 16;             // lookups in progress at once
};

class AsioHostResolver final : public HostResolver {
 public:
  AsioHostResolver(boost::asio::io_context& control, AsioHostResolverConfig config);
  void resolve(const std::string& host, Done done) override;
  [[nodiscard]] std::size_t pending() const;
  [[nodiscard]] std::uint64_t timeouts() const;

 private:
  struct Lookup;
  struct Counters {
    std::size_t pending = 0;
    std::uint64_t timeouts = 0;
  };
  boost::asio::io_context& control_;
  AsioHostResolverConfig config_;
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();  // shared with lookups in flight
};

}  // namespace chorus::sip
