// DnsSipLocator: SipLocator (sip_locator.hpp) over DNS with c-ares, RFC 3263 §4 step by step.
//
//   - TARGET is the URI's maddr, else its host (§4). An IP literal is one hop, no DNS: the URI's
//     transport (or UDP; TLS for sips) and port (or 5060; 5061 for TLS) (§4.1, §4.2).
//   - ;transport= given: that transport (for sips: tcp/tls mean TLS, udp is refused). A port given:
//     A/AAAA of the name with that port, no NAPTR or SRV (§4.2).
//   - Transport given, no port: SRV on its service name (_sip._udp, _sip._tcp, _sips._tcp for TLS),
//     else A/AAAA with the default port.
//   - Neither: NAPTR on the name. Kept: flags "s", an empty regexp, a service we speak —
//     SIP+D2U (UDP), SIP+D2T (TCP), SIPS+D2T (TLS); a sips URI keeps only SIPS+D2T (§4.1) — then
//     only the lowest order among them (RFC 3403 §4.1: a client "MUST NOT consider records with a
//     different Order"), by preference; each replacement is an SRV name. No usable NAPTR: SRV on
//     _sip._udp then _sip._tcp (_sips._tcp alone for sips).
//   - SRV targets by priority, weighted at random within one (RFC 2782; `order_srv_records`); a
//     target "." is "decidedly not available" and dropped. Each target then A and AAAA (IPv4 first).
//   - No SRV record at all: A/AAAA of the name, the default port and transport (UDP; TLS for sips).
// Hops come out in that order, at most 16; one with no address is skipped. An empty result is
// kNotFound, or kTimeout when a question went unanswered.
//
// Caching (the DNS answers, not the hop lists): each (name, type) answer is kept for its TTL —
// the smallest of its records and of the CNAMEs leading to them — at most `max_ttl`; so a hop
// list built from the cache lives as long as the shortest TTL of its chain. NXDOMAIN/NODATA are
// cached for min(SOA TTL, SOA MINIMUM) (RFC 2308 §5) capped at `max_negative_ttl`, and not at
// all without an SOA; server failures and timeouts never. At most `max_cache_entries` answers:
// when full, the expired go first, then those closest to expiry. The clock is injectable.
//
// Bounds: a lookup ends by `timeout` (kTimeout), at most `max_pending` run at once (more:
// kBusy at once), at most 4 SRV names and 16 targets per lookup; DNS answers as dns_answer.hpp.
//
// Threading: on the control loop (the io_context given): locate() there; `done` runs there, exactly
// once, never from inside locate(). Destroying the locator drops the callbacks of lookups still
// running. Counters may be read from any thread.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/published_counter.hpp"
#include "signaling/ua/dns_answer.hpp"
#include "signaling/ua/sip_locator.hpp"

namespace chorus::sip {

class AresChannel;

struct DnsSipLocatorConfig {
  using Clock = std::chrono::steady_clock;
  std::chrono::milliseconds timeout{2000};  // per locate(), every DNS question included
  std::size_t max_pending = 16;             // locate() calls in progress at once
  std::size_t max_cache_entries = 1024;     // cached answers
  std::chrono::seconds max_ttl{3600};       // a longer TTL is cut to this
  std::chrono::seconds max_negative_ttl{30};
  // DNS servers as "host:port" ("127.0.0.1:5353", "[::1]:53"); empty: /etc/resolv.conf's.
  std::vector<std::string> servers;
  // Tests inject these: the cache's clock, and a uniform draw from [0, bound) for RFC 2782's
  // weighted choice. Empty: steady_clock::now and chorus::random_below (common/random.hpp).
  std::function<Clock::time_point()> now;
  std::function<std::uint64_t(std::uint64_t)> random_below;
};

struct DnsSipLocatorCounters {
  std::atomic<std::uint64_t> lookups{0};     // locate() calls
  std::atomic<std::uint64_t> cache_hits{0};  // DNS questions answered from the cache
  std::atomic<std::uint64_t> queries{0};     // DNS questions sent
  std::atomic<std::uint64_t> failures{0};    // locate() calls that ended in an error (any kind)
  std::atomic<std::uint64_t> timeouts{0};    // ... of which kTimeout
  std::atomic<std::uint64_t> malformed{0};   // DNS answers refused by the parser

  [[nodiscard]] std::array<PublishedCounter, 6> published() const {
    return {PublishedCounter{"chorus_sip_dns_lookups_total", "RFC 3263 server locations started", "sip_dns_lookups",
                             &lookups},
            PublishedCounter{"chorus_sip_dns_cache_hits_total", "DNS questions answered from the locator's cache",
                             "sip_dns_cache_hits", &cache_hits},
            PublishedCounter{"chorus_sip_dns_queries_total", "DNS questions sent by the SIP locator", "sip_dns_queries",
                             &queries},
            PublishedCounter{"chorus_sip_dns_failures_total",
                             "RFC 3263 server locations that found no hop (not found, timeout or busy)",
                             "sip_dns_failures", &failures},
            PublishedCounter{"chorus_sip_dns_timeouts_total", "RFC 3263 server locations that timed out",
                             "sip_dns_timeouts", &timeouts},
            PublishedCounter{"chorus_sip_dns_malformed_answers_total", "DNS answers the SIP locator could not read",
                             "sip_dns_malformed_answers", &malformed}};
  }
};

// RFC 2782's order: ascending priority; within a priority, repeatedly a record chosen at random
// with probability proportional to its weight (weight-0 records first in the running sums, so
// they are picked only when the draw is 0). `random_below(n)` draws uniformly from [0, n).
std::vector<dns::SrvRecord> order_srv_records(std::vector<dns::SrvRecord> records,
                                              const std::function<std::uint64_t(std::uint64_t)>& random_below);

class DnsSipLocator final : public SipLocator {
 public:
  static constexpr std::size_t kMaxHops = 16;
  static constexpr std::size_t kMaxSrvNames = 4;

  // Throws std::runtime_error when c-ares cannot start (or a server is not "host:port").
  DnsSipLocator(boost::asio::io_context& control, DnsSipLocatorConfig config);
  ~DnsSipLocator() override;
  DnsSipLocator(const DnsSipLocator&) = delete;
  DnsSipLocator& operator=(const DnsSipLocator&) = delete;

  void locate(const SipUri& uri, Done done) override;

  [[nodiscard]] const DnsSipLocatorCounters& counters() const { return counters_; }
  [[nodiscard]] std::size_t pending() const { return lookups_.size(); }
  [[nodiscard]] std::size_t cache_size() const { return cache_.size(); }

 private:
  struct Lookup;
  struct Target;
  using Clock = DnsSipLocatorConfig::Clock;
  struct CacheEntry {
    Clock::time_point expires;
    dns::DnsAnswer answer;  // no records: a cached negative answer
  };

  // The outcome of one question, from the cache or the network.
  struct Outcome {
    enum class Kind : std::uint8_t { kRecords, kNone, kTimeout, kFailed } kind = Kind::kNone;
    dns::DnsAnswer answer;
    std::string detail;
  };
  using Then = std::function<void(Lookup&, Outcome)>;

  void ask(Lookup& lookup, const std::string& name, dns::RecordType type, Then then);
  Outcome interpret(int status, std::span<const std::uint8_t> raw, const std::string& name, dns::RecordType type);
  void remember(const std::string& key, const Outcome& outcome);
  void start_naptr(Lookup& lookup);
  void start_srv(Lookup& lookup);
  void start_addresses(Lookup& lookup);
  void fall_back_to_host(Lookup& lookup);
  void question_done(Lookup& lookup);
  void finish(std::uint64_t id, LocateResult result);
  [[nodiscard]] Clock::time_point now() const;

  boost::asio::io_context& control_;
  DnsSipLocatorConfig config_;
  DnsSipLocatorCounters counters_;
  std::unordered_map<std::string, CacheEntry> cache_;  // key: "<type>/<name>"
  std::map<std::uint64_t, std::unique_ptr<Lookup>> lookups_;
  std::uint64_t next_id_ = 1;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // timer handlers hold a weak_ptr
  std::unique_ptr<AresChannel> channel_;                   // last: destroyed first, its callbacks dropped
};

}  // namespace chorus::sip
