#include "signaling/ua/dns_sip_locator.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <set>
#include <utility>

#include "common/random.hpp"
#include "signaling/ua/ares_channel.hpp"

namespace chorus::sip {

namespace asio = boost::asio;
using dns::RecordType;

namespace {

constexpr std::uint16_t kSipPort = 5060;
constexpr std::uint16_t kSipsPort = 5061;

// RFC 3263 §4.2: "the default port for the particular transport protocol" (RFC 3261 §19.1.2).
std::uint16_t default_port(TransportKind kind) {
  return kind == TransportKind::kTls ? kSipsPort : kSipPort;
}

// RFC 3263 §4.1: the SRV service and protocol for a transport; TLS is "_sips._tcp".
std::string srv_prefix(TransportKind kind) {
  switch (kind) {
    case TransportKind::kTcp:
      return "_sip._tcp.";
    case TransportKind::kTls:
      return "_sips._tcp.";
    default:
      return "_sip._udp.";
  }
}

// RFC 3263 §4.1: the NAPTR services a client speaking UDP, TCP and TLS keeps; a sips URI only
// SIPS+D2T.
std::optional<TransportKind> naptr_transport(std::string_view service, bool sips) {
  if (service == "sips+d2t") return TransportKind::kTls;
  if (sips) return std::nullopt;
  if (service == "sip+d2u") return TransportKind::kUdp;
  if (service == "sip+d2t") return TransportKind::kTcp;
  return std::nullopt;
}

std::optional<asio::ip::address> ip_literal(const std::string& host) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  return address;
}

std::string type_name(RecordType type) {
  switch (type) {
    case RecordType::kA:
      return "A";
    case RecordType::kAaaa:
      return "AAAA";
    case RecordType::kSrv:
      return "SRV";
    case RecordType::kNaptr:
      return "NAPTR";
    default:
      return std::to_string(static_cast<int>(type));
  }
}

}  // namespace

// A name to resolve and where, once resolved, to send to.
struct DnsSipLocator::Target {
  std::string host;
  std::uint16_t port = 0;
  TransportKind transport = TransportKind::kUdp;
};

// One locate() in progress. Its questions run in stages (NAPTR, SRV, addresses); each stage asks
// its questions at once and `next` runs when the last is answered (`outstanding` back to 0).
struct DnsSipLocator::Lookup {
  explicit Lookup(asio::io_context& io) : deadline(io) {}

  std::uint64_t id = 0;
  Done done;
  std::string host;  // TARGET (§4): maddr or the URI's host
  bool sips = false;
  std::optional<TransportKind> transport;  // from ;transport=
  asio::steady_timer deadline;
  std::size_t outstanding = 0;
  std::function<void(Lookup&)> next;
  bool unanswered = false;   // a question timed out
  std::string last_problem;  // the last failed question, for the error's detail

  std::vector<std::pair<std::string, TransportKind>> srv_names;  // in the order to use them
  std::vector<std::vector<dns::SrvRecord>> srv_records;          // per srv_names entry, RFC 2782 order
  bool any_srv = false;
  std::vector<Target> targets;
  std::unordered_map<std::string, std::pair<std::vector<asio::ip::address>, std::vector<asio::ip::address>>>
      addresses;  // host → (A, AAAA)
};

std::vector<dns::SrvRecord> order_srv_records(std::vector<dns::SrvRecord> records,
                                              const std::function<std::uint64_t(std::uint64_t)>& random_below) {
  std::ranges::stable_sort(records, {}, &dns::SrvRecord::priority);
  std::vector<dns::SrvRecord> ordered;
  ordered.reserve(records.size());
  for (auto begin = records.begin(); begin != records.end();) {
    auto end = std::find_if(begin, records.end(), [&](const auto& r) { return r.priority != begin->priority; });
    std::vector<dns::SrvRecord> group(std::make_move_iterator(begin), std::make_move_iterator(end));
    begin = end;
    // RFC 2782: "all those with weight 0 are placed at the beginning of the list", then a number
    // uniform in [0, sum of weights] picks the first record whose running sum reaches it.
    std::ranges::stable_partition(group, [](const auto& r) { return r.weight == 0; });
    while (!group.empty()) {
      std::uint64_t sum = 0;
      for (const auto& r : group) sum += r.weight;
      const std::uint64_t pick = random_below(sum + 1);
      std::size_t chosen = group.size() - 1;
      std::uint64_t running = 0;
      for (std::size_t i = 0; i < group.size(); ++i) {
        running += group[i].weight;
        if (running >= pick) {
          chosen = i;
          break;
        }
      }
      ordered.push_back(std::move(group[chosen]));
      group.erase(group.begin() + static_cast<std::ptrdiff_t>(chosen));
    }
  }
  return ordered;
}

DnsSipLocator::DnsSipLocator(asio::io_context& control, DnsSipLocatorConfig config)
    : control_(control), config_(std::move(config)) {
  if (!config_.random_below) config_.random_below = [](std::uint64_t bound) { return chorus::random_below(bound); };
  // c-ares retries within the lookup's bound: tries at 1/4, then 1/2 (c-ares doubles each round).
  AresChannelOptions options{.servers = config_.servers,
                             .try_timeout = std::max(config_.timeout / 4, std::chrono::milliseconds(20)),
                             .tries = 3};
  channel_ = std::make_unique<AresChannel>(control_, options);
}

DnsSipLocator::~DnsSipLocator() {
  channel_.reset();  // first: its pending callbacks are dropped, never reach a lookup half-destroyed
}

DnsSipLocator::Clock::time_point DnsSipLocator::now() const {
  return config_.now ? config_.now() : Clock::now();
}

void DnsSipLocator::locate(const SipUri& uri, Done done) {
  bump(counters_.lookups);
  auto fail = [&](ResolveError::Kind kind, std::string detail) {
    bump(counters_.failures);
    asio::post(control_, [done = std::move(done), error = ResolveError{kind, std::move(detail)}] {
      done(std::unexpected(error));
    });
  };
  if (!uri.is_sip()) return fail(ResolveError::Kind::kNotFound, "not a sip: or sips: URI");
  const bool sips = uri.scheme == "sips";
  const std::string host = uri.param_value("maddr") ? std::string(*uri.param_value("maddr")) : uri.host;
  std::optional<TransportKind> transport;
  if (auto param = uri.param_value("transport")) {
    auto kind = transport_from_name(*param);
    if (!kind || (*kind != TransportKind::kUdp && *kind != TransportKind::kTcp && *kind != TransportKind::kTls)) {
      return fail(ResolveError::Kind::kNotFound, "transport=" + std::string(*param) + " cannot be dialled");
    }
    if (sips && *kind == TransportKind::kUdp) {
      return fail(ResolveError::Kind::kNotFound, "a sips: URI is only reached over TLS, not transport=udp");
    }
    transport = sips ? TransportKind::kTls : *kind;  // RFC 3261 §26.2.2: sips means TLS all the way
  }
  const TransportKind plain = transport.value_or(sips ? TransportKind::kTls : TransportKind::kUdp);

  // RFC 3263 §4.1, §4.2: an IP address is its own hop.
  if (auto address = ip_literal(host)) {
    LocatedHop hop{PeerAddress{plain, *address, uri.port.value_or(default_port(plain))}, host};
    asio::post(control_, [done = std::move(done), hop = std::move(hop)] { done(std::vector<LocatedHop>{hop}); });
    return;
  }
  if (host.empty() || host.size() > 253) return fail(ResolveError::Kind::kNotFound, "no host name to look up");
  if (lookups_.size() >= config_.max_pending) {
    return fail(ResolveError::Kind::kBusy,
                std::to_string(config_.max_pending) + " SIP server lookups are in progress already");
  }

  const std::uint64_t id = next_id_++;
  auto owned = std::make_unique<Lookup>(control_);
  Lookup& lookup = *owned;
  lookup.id = id;
  lookup.done = std::move(done);
  lookup.host = dns::normalize_dns_name(host);
  lookup.sips = sips;
  lookup.transport = transport;
  lookups_.emplace(id, std::move(owned));
  lookup.deadline.expires_after(config_.timeout);
  lookup.deadline.async_wait([this, id, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    auto it = lookups_.find(id);
    if (it == lookups_.end()) return;
    finish(id, std::unexpected(ResolveError{ResolveError::Kind::kTimeout,
                                            "no SIP server found for " + it->second->host + " within " +
                                                std::to_string(config_.timeout.count()) + " ms"}));
  });

  if (uri.port) {  // §4.2: a port given, A/AAAA only
    lookup.targets.push_back(Target{lookup.host, *uri.port, plain});
    start_addresses(lookup);
  } else if (transport) {  // §4.2: the transport's SRV, no NAPTR
    lookup.srv_names.emplace_back(srv_prefix(*transport) + lookup.host, *transport);
    start_srv(lookup);
  } else {
    start_naptr(lookup);
  }
}

void DnsSipLocator::start_naptr(Lookup& lookup) {
  lookup.next = [this](Lookup& l) {
    if (l.srv_names.empty()) {  // §4.1: no NAPTR, SRV for each transport we speak
      if (l.sips) {
        l.srv_names.emplace_back(srv_prefix(TransportKind::kTls) + l.host, TransportKind::kTls);
      } else {
        l.srv_names.emplace_back(srv_prefix(TransportKind::kUdp) + l.host, TransportKind::kUdp);
        l.srv_names.emplace_back(srv_prefix(TransportKind::kTcp) + l.host, TransportKind::kTcp);
      }
    }
    start_srv(l);
  };
  ++lookup.outstanding;
  ask(lookup, lookup.host, RecordType::kNaptr, [](Lookup& l, Outcome outcome) {
    if (outcome.kind != Outcome::Kind::kRecords) return;
    std::vector<std::pair<const dns::NaptrRecord*, TransportKind>> usable;
    for (const dns::NaptrRecord& record : outcome.answer.naptr) {
      // RFC 3263 §4.1: the "s" flag (an SRV lookup follows) and a replacement, no regexp.
      if (record.flags != "s" || !record.regexp.empty() || record.replacement.empty()) continue;
      if (auto kind = naptr_transport(record.service, l.sips)) usable.emplace_back(&record, *kind);
    }
    if (usable.empty()) return;
    // RFC 3403 §4.1: the lowest Order only, then by Preference.
    const std::uint16_t order = std::ranges::min(usable, {}, [](const auto& u) { return u.first->order; }).first->order;
    std::erase_if(usable, [&](const auto& u) { return u.first->order != order; });
    std::ranges::stable_sort(usable, {}, [](const auto& u) { return u.first->preference; });
    for (const auto& [record, kind] : usable) {
      std::pair<std::string, TransportKind> name{record->replacement, kind};
      if (std::ranges::find(l.srv_names, name) != l.srv_names.end()) continue;
      if (l.srv_names.size() >= kMaxSrvNames) break;
      l.srv_names.push_back(std::move(name));
    }
  });
  question_done(lookup);
}

void DnsSipLocator::start_srv(Lookup& lookup) {
  lookup.srv_records.assign(lookup.srv_names.size(), {});
  lookup.next = [this](Lookup& l) {
    if (!l.any_srv) return fall_back_to_host(l);  // §4.2: no SRV, the name's A/AAAA
    for (std::size_t i = 0; i < l.srv_names.size(); ++i) {
      for (const dns::SrvRecord& record : l.srv_records[i]) {
        if (l.targets.size() >= kMaxHops) break;
        // RFC 2782: a Target of "." means the service is decidedly not available here.
        if (record.target.empty()) continue;
        l.targets.push_back(Target{record.target, record.port, l.srv_names[i].second});
      }
    }
    start_addresses(l);
  };
  ++lookup.outstanding;
  for (std::size_t i = 0; i < lookup.srv_names.size(); ++i) {
    ask(lookup, lookup.srv_names[i].first, RecordType::kSrv, [this, i](Lookup& l, Outcome outcome) {
      if (outcome.kind != Outcome::Kind::kRecords) return;
      l.any_srv = true;
      l.srv_records[i] = order_srv_records(std::move(outcome.answer.srv), config_.random_below);
    });
  }
  question_done(lookup);
}

void DnsSipLocator::fall_back_to_host(Lookup& lookup) {
  const TransportKind kind = lookup.transport.value_or(lookup.sips ? TransportKind::kTls : TransportKind::kUdp);
  lookup.targets = {Target{lookup.host, default_port(kind), kind}};
  start_addresses(lookup);
}

void DnsSipLocator::start_addresses(Lookup& lookup) {
  lookup.next = [this](Lookup& l) {
    std::vector<LocatedHop> hops;
    for (const Target& target : l.targets) {
      const auto found = l.addresses.find(target.host);
      if (found == l.addresses.end()) continue;
      for (const auto* family : {&found->second.first, &found->second.second}) {
        for (const asio::ip::address& address : *family) {
          if (hops.size() >= kMaxHops) break;
          hops.push_back(LocatedHop{PeerAddress{target.transport, address, target.port}, target.host});
        }
      }
    }
    if (!hops.empty()) return finish(l.id, std::move(hops));
    std::string detail = "no SIP server found for " + l.host;
    if (!l.last_problem.empty()) detail += " (" + l.last_problem + ")";
    finish(l.id, std::unexpected(ResolveError{
                     l.unanswered ? ResolveError::Kind::kTimeout : ResolveError::Kind::kNotFound, std::move(detail)}));
  };
  ++lookup.outstanding;
  std::set<std::string> asked;
  for (const Target& target : lookup.targets) {
    if (!asked.insert(target.host).second) continue;
    if (auto address = ip_literal(target.host)) {  // not RFC 2782's, but harmless: no question needed
      lookup.addresses[target.host].first.push_back(*address);
      continue;
    }
    for (RecordType type : {RecordType::kA, RecordType::kAaaa}) {
      ask(lookup, target.host, type, [host = target.host, type](Lookup& l, Outcome outcome) {
        if (outcome.kind != Outcome::Kind::kRecords) return;
        auto& slot = type == RecordType::kA ? l.addresses[host].first : l.addresses[host].second;
        slot = std::move(outcome.answer.addresses);
      });
    }
  }
  question_done(lookup);
}

void DnsSipLocator::ask(Lookup& lookup, const std::string& name, RecordType type, Then then) {
  ++lookup.outstanding;
  const std::string key = std::to_string(static_cast<int>(type)) + "/" + name;
  if (auto cached = cache_.find(key); cached != cache_.end()) {
    if (now() < cached->second.expires) {
      bump(counters_.cache_hits);
      const dns::DnsAnswer& answer = cached->second.answer;
      then(lookup, Outcome{answer.has_records() ? Outcome::Kind::kRecords : Outcome::Kind::kNone, answer, {}});
      question_done(lookup);
      return;
    }
    cache_.erase(cached);
  }
  bump(counters_.queries);
  channel_->query(
      name, static_cast<std::uint16_t>(type),
      [this, id = lookup.id, name, type, key, then = std::move(then)](int status, std::span<const std::uint8_t> raw) {
        Outcome outcome = interpret(status, raw, name, type);
        remember(key, outcome);
        auto it = lookups_.find(id);
        if (it == lookups_.end()) return;  // ended meanwhile (its deadline): the answer is cached
        Lookup& l = *it->second;
        if (outcome.kind == Outcome::Kind::kTimeout) l.unanswered = true;
        if (outcome.kind == Outcome::Kind::kTimeout || outcome.kind == Outcome::Kind::kFailed) {
          l.last_problem = outcome.detail;
        }
        then(l, std::move(outcome));
        question_done(l);
      });
}

DnsSipLocator::Outcome DnsSipLocator::interpret(int status, std::span<const std::uint8_t> raw, const std::string& name,
                                                RecordType type) {
  const std::string question = type_name(type) + " " + name;
  if (status == ARES_ETIMEOUT) return Outcome{Outcome::Kind::kTimeout, {}, "no answer to " + question};
  // ares_query hands over the response with NXDOMAIN (ENOTFOUND) and NODATA too: its SOA says
  // how long the "no" holds.
  if (!raw.empty() && (status == ARES_SUCCESS || status == ARES_ENODATA || status == ARES_ENOTFOUND)) {
    auto parsed = dns::parse_dns_answer(raw, name, type);
    if (!parsed) {
      bump(counters_.malformed);
      return Outcome{Outcome::Kind::kFailed, {}, "malformed answer to " + question + ": " + parsed.error()};
    }
    const bool records = parsed->has_records();
    return Outcome{records ? Outcome::Kind::kRecords : Outcome::Kind::kNone, std::move(*parsed), {}};
  }
  return Outcome{Outcome::Kind::kFailed, {}, question + ": " + ares_strerror(status)};
}

void DnsSipLocator::remember(const std::string& key, const Outcome& outcome) {
  std::chrono::seconds ttl{0};
  if (outcome.kind == Outcome::Kind::kRecords) {
    ttl = std::min(std::chrono::seconds(outcome.answer.ttl), config_.max_ttl);
  } else if (outcome.kind == Outcome::Kind::kNone && outcome.answer.negative_ttl) {
    ttl = std::min(std::chrono::seconds(*outcome.answer.negative_ttl), config_.max_negative_ttl);
  }
  if (ttl.count() <= 0 || config_.max_cache_entries == 0) return;  // failures and timeouts are never cached
  const Clock::time_point at = now();
  if (cache_.size() >= config_.max_cache_entries && !cache_.contains(key)) {
    std::erase_if(cache_, [&](const auto& entry) { return entry.second.expires <= at; });
    while (cache_.size() >= config_.max_cache_entries) {
      cache_.erase(std::ranges::min_element(cache_, {}, [](const auto& entry) { return entry.second.expires; }));
    }
  }
  cache_.insert_or_assign(key, CacheEntry{at + ttl, outcome.answer});
}

void DnsSipLocator::question_done(Lookup& lookup) {
  if (--lookup.outstanding != 0) return;
  auto next = std::move(lookup.next);  // it may end the lookup (and destroy `lookup`)
  lookup.next = nullptr;
  next(lookup);
}

void DnsSipLocator::finish(std::uint64_t id, LocateResult result) {
  auto it = lookups_.find(id);
  if (it == lookups_.end()) return;
  std::unique_ptr<Lookup> lookup = std::move(it->second);
  lookups_.erase(it);
  lookup->deadline.cancel();
  if (!result) {
    bump(counters_.failures);
    if (result.error().kind == ResolveError::Kind::kTimeout) bump(counters_.timeouts);
  }
  asio::post(control_,
             [done = std::move(lookup->done), result = std::move(result)]() mutable { done(std::move(result)); });
}

}  // namespace chorus::sip
