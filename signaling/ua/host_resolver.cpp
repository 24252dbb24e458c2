#include "signaling/ua/host_resolver.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace chorus::sip {

namespace asio = boost::asio;

// One lookup: the resolver (whose private thread runs getaddrinfo), its deadline, and the caller's
// callback, called by whichever of the two ends first. Kept alive by both handlers.
struct AsioHostResolver::Lookup {
  Lookup(asio::io_context& io, Done callback, std::shared_ptr<Counters> shared)
      : resolver(io), deadline(io), done(std::move(callback)), counters(std::move(shared)) {}

  void finish(ResolveResult result) {
    if (finished) return;
    finished = true;
    --counters->pending;
    Done callback = std::move(done);
    callback(std::move(result));
  }

  asio::ip::udp::resolver resolver;
  asio::steady_timer deadline;
  Done done;
  std::shared_ptr<Counters> counters;
  std::string host;
  bool finished = false;
};

AsioHostResolver::AsioHostResolver(asio::io_context& control, AsioHostResolverConfig config)
    : control_(control), config_(config) {}

std::size_t AsioHostResolver::pending() const {
  return counters_->pending;
}

std::uint64_t AsioHostResolver::timeouts() const {
  return counters_->timeouts;
}

void AsioHostResolver::resolve(const std::string& host, Done done) {
  if (counters_->pending >= config_.max_pending) {
    ResolveError busy{ResolveError::Kind::kBusy,
                      std::to_string(config_.max_pending) + " DNS lookups are in progress already"};
    asio::post(control_, [done = std::move(done), busy = std::move(busy)] { done(std::unexpected(busy)); });
    return;
  }
  auto lookup = std::make_shared<Lookup>(control_, std::move(done), counters_);
  lookup->host = host;
  ++counters_->pending;
  lookup->deadline.expires_after(config_.timeout);
  lookup->deadline.async_wait([lookup, timeout = config_.timeout](const boost::system::error_code& ec) {
    if (ec || lookup->finished) return;  // cancelled: the answer came first
    ++lookup->counters->timeouts;
    lookup->resolver.cancel();  // the handler then sees operation_aborted; getaddrinfo runs on, unheard
    lookup->finish(
        std::unexpected(ResolveError{ResolveError::Kind::kTimeout, "no DNS answer for " + lookup->host + " within " +
                                                                       std::to_string(timeout.count()) + " ms"}));
  });
  // Flags 0, not address_configured: see the header.
  lookup->resolver.async_resolve(
      host, "", asio::ip::resolver_base::flags{},
      [lookup](const boost::system::error_code& ec, const asio::ip::udp::resolver::results_type& results) {
        lookup->deadline.cancel();
        if (lookup->finished) return;
        std::vector<asio::ip::address> addresses;
        if (!ec)
          for (const auto& entry : results) addresses.push_back(entry.endpoint().address());
        if (addresses.empty()) {
          lookup->finish(std::unexpected(ResolveError{
              ResolveError::Kind::kNotFound,
              "host " + lookup->host + " does not resolve" + (ec ? " (" + ec.message() + ")" : std::string())}));
          return;
        }
        lookup->finish(std::move(addresses));
      });
}

}  // namespace chorus::sip
