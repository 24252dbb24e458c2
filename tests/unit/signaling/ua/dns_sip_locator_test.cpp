// DnsSipLocator (RFC 3263 §4 over c-ares) against a real DNS server on 127.0.0.1 (dns_test_server):
// NAPTR → SRV → A/AAAA with transports, SRV priorities and weights (RFC 2782, with an injected
// draw), default ports, explicit ports and transports, sips, IP literals, the TTL cache with an
// injected clock (the server counts the questions it is asked), negative caching, NXDOMAIN,
// silence (kTimeout), too many lookups (kBusy), malformed and over-long answers.
#include "signaling/ua/dns_sip_locator.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "dns_test_server.hpp"
#include "signaling/message/sip_uri.hpp"

namespace chorus::sip {
namespace dns_sip_locator_test {

using dns::RecordType;
using testing::a_record;
using testing::DnsResponse;
using testing::DnsTestServer;
using testing::naptr_record;
using testing::soa_record;
using testing::srv_record;
using Clock = std::chrono::steady_clock;

std::vector<std::string> describe(const LocateResult& result) {
  std::vector<std::string> out;
  if (!result) return {"error: " + result.error().detail};
  for (const LocatedHop& hop : *result) out.push_back(hop.hop.to_string() + " " + hop.host);
  return out;
}

class DnsSipLocatorTest : public ::testing::Test {
 protected:
  DnsSipLocatorConfig config() {
    DnsSipLocatorConfig config;
    config.servers = {server_.address()};
    config.timeout = std::chrono::milliseconds(1500);
    config.now = [this] { return clock_; };
    config.random_below = [this](std::uint64_t bound) { return draw_last_ ? bound - 1 : 0; };
    return config;
  }

  // Runs the loop until `done` is called (bounded: 10 s).
  LocateResult locate(DnsSipLocator& locator, std::string_view text) {
    auto uri = parse_uri(text);
    EXPECT_TRUE(uri.has_value()) << text;
    std::optional<LocateResult> got;
    locator.locate(*uri, [&](LocateResult result) { got = std::move(result); });
    EXPECT_FALSE(got.has_value()) << "done ran from inside locate()";
    const auto give_up = Clock::now() + std::chrono::seconds(10);
    while (!got && Clock::now() < give_up) {
      if (io_.stopped()) io_.restart();
      io_.run_one_for(std::chrono::milliseconds(50));
    }
    if (!got) return std::unexpected(ResolveError{ResolveError::Kind::kNotFound, "test: no answer within 10 s"});
    return std::move(*got);
  }

  boost::asio::io_context io_;
  DnsTestServer server_;
  Clock::time_point clock_ = Clock::now();
  bool draw_last_ = false;
};

TEST_F(DnsSipLocatorTest, NaptrThenSrvThenAddressesInOrderWithTheirTransports) {
  server_.set("example.test", RecordType::kNaptr,
              {naptr_record("example.test", 10, 30, "s", "SIP+D2U", "_sip._udp.example.test"),
               naptr_record("example.test", 10, 10, "s", "SIPS+D2T", "_sips._tcp.example.test"),
               naptr_record("example.test", 10, 20, "s", "SIP+D2T", "_sip._tcp.example.test"),
               naptr_record("example.test", 10, 5, "u", "E2U+sip", "ignored.example.test"),    // not ours
               naptr_record("example.test", 20, 1, "s", "SIP+D2U", "_sip._udp.later.test")});  // higher order
  server_.set("_sips._tcp.example.test", RecordType::kSrv,
              {srv_record("_sips._tcp.example.test", 1, 0, 5061, "tls.example.test")});
  server_.set("_sip._tcp.example.test", RecordType::kSrv,
              {srv_record("_sip._tcp.example.test", 1, 0, 5060, "tcp.example.test")});
  server_.set("_sip._udp.example.test", RecordType::kSrv,
              {srv_record("_sip._udp.example.test", 1, 0, 5062, "udp.example.test")});
  server_.set("tls.example.test", RecordType::kA, {a_record("tls.example.test", "192.0.2.1")});
  server_.set("tls.example.test", RecordType::kAaaa, {a_record("tls.example.test", "2001:db8::1")});
  server_.set("tcp.example.test", RecordType::kA, {a_record("tcp.example.test", "192.0.2.2")});
  server_.set("udp.example.test", RecordType::kA, {a_record("udp.example.test", "192.0.2.3")});
  DnsSipLocator locator(io_, config());

  auto result = locate(locator, "sip:room@example.test");
  EXPECT_EQ(describe(result),
            (std::vector<std::string>{"tls:192.0.2.1:5061 tls.example.test", "tls:[2001:db8::1]:5061 tls.example.test",
                                      "tcp:192.0.2.2:5060 tcp.example.test", "udp:192.0.2.3:5062 udp.example.test"}));
  EXPECT_EQ(server_.queries("_sip._udp.later.test", RecordType::kSrv), 0u);  // RFC 3403: one Order only
  EXPECT_EQ(server_.queries("ignored.example.test", RecordType::kSrv), 0u);
  EXPECT_EQ(locator.counters().lookups.load(), 1u);
  EXPECT_EQ(locator.counters().failures.load(), 0u);
  EXPECT_EQ(locator.pending(), 0u);
}

TEST_F(DnsSipLocatorTest, SrvPrioritiesComeInOrderAndATargetWithoutAddressIsSkipped) {
  // No NAPTR (NXDOMAIN): _sip._udp then _sip._tcp. The record listed first has the worse priority.
  server_.set("_sip._udp.prio.test", RecordType::kSrv,
              {srv_record("_sip._udp.prio.test", 20, 100, 5070, "backup.prio.test"),
               srv_record("_sip._udp.prio.test", 10, 0, 5080, "primary.prio.test"),
               srv_record("_sip._udp.prio.test", 15, 0, 5090, "down.prio.test")});  // no address
  server_.set("primary.prio.test", RecordType::kA, {a_record("primary.prio.test", "192.0.2.10")});
  server_.set("backup.prio.test", RecordType::kA, {a_record("backup.prio.test", "192.0.2.20")});
  DnsSipLocator locator(io_, config());

  auto result = locate(locator, "sip:prio.test");
  EXPECT_EQ(describe(result), (std::vector<std::string>{"udp:192.0.2.10:5080 primary.prio.test",
                                                        "udp:192.0.2.20:5070 backup.prio.test"}));
  EXPECT_EQ(server_.queries("prio.test", RecordType::kNaptr), 1u);
  EXPECT_EQ(server_.queries("_sip._tcp.prio.test", RecordType::kSrv), 1u);
  EXPECT_EQ(server_.queries("down.prio.test", RecordType::kA), 1u);
}

TEST_F(DnsSipLocatorTest, EqualPrioritiesAreOrderedByTheWeightedDraw) {
  server_.set("_sip._udp.w.test", RecordType::kSrv,
              {srv_record("_sip._udp.w.test", 10, 10, 5060, "light.w.test"),
               srv_record("_sip._udp.w.test", 10, 90, 5060, "heavy.w.test")});
  server_.set("light.w.test", RecordType::kA, {a_record("light.w.test", "192.0.2.1")});
  server_.set("heavy.w.test", RecordType::kA, {a_record("heavy.w.test", "192.0.2.2")});
  {
    draw_last_ = false;  // draw 0: the first running sum (10) reaches it
    DnsSipLocator locator(io_, config());
    EXPECT_EQ(describe(locate(locator, "sip:w.test")),
              (std::vector<std::string>{"udp:192.0.2.1:5060 light.w.test", "udp:192.0.2.2:5060 heavy.w.test"}));
  }
  {
    draw_last_ = true;  // draw 100 of [0, 100]: only the second running sum (100) reaches it
    DnsSipLocator locator(io_, config());
    EXPECT_EQ(describe(locate(locator, "sip:w.test")),
              (std::vector<std::string>{"udp:192.0.2.2:5060 heavy.w.test", "udp:192.0.2.1:5060 light.w.test"}));
  }
}

TEST(OrderSrvRecords, ZeroWeightsFirstThenByWeightedDraw) {
  std::vector<dns::SrvRecord> records = {{10, 5, 1, "a"}, {10, 0, 2, "zero"}, {5, 3, 3, "first"}, {10, 5, 4, "b"}};
  std::vector<std::uint64_t> bounds;
  auto ordered = order_srv_records(records, [&](std::uint64_t bound) {
    bounds.push_back(bound);
    return std::min<std::uint64_t>(6, bound - 1);
  });
  std::vector<std::string> targets;
  for (const auto& r : ordered) targets.push_back(r.target);
  // Priority 5: "first" alone (draw 3 of [0, 3]). Priority 10, zero weight first: [zero 0, a 5, b 5],
  // draw 6 of [0, 10] → b (running sum 10); [zero, a], draw 5 of [0, 5] → a; then zero.
  EXPECT_EQ(targets, (std::vector<std::string>{"first", "b", "a", "zero"}));
  EXPECT_EQ(bounds, (std::vector<std::uint64_t>{4, 11, 6, 1}));
}

TEST_F(DnsSipLocatorTest, OnlyAnAddressRecordMeansTheDefaultPort) {
  server_.set("aonly.test", RecordType::kA, {a_record("aonly.test", "192.0.2.30")});
  DnsSipLocator locator(io_, config());
  EXPECT_EQ(describe(locate(locator, "sip:aonly.test")), (std::vector<std::string>{"udp:192.0.2.30:5060 aonly.test"}));
  EXPECT_EQ(describe(locate(locator, "sips:aonly.test")), (std::vector<std::string>{"tls:192.0.2.30:5061 aonly.test"}));
  EXPECT_EQ(server_.queries("_sips._tcp.aonly.test", RecordType::kSrv), 1u);
}

TEST_F(DnsSipLocatorTest, AnExplicitPortSkipsNaptrAndSrv) {
  server_.set("port.test", RecordType::kA, {a_record("port.test", "192.0.2.40")});
  server_.set("_sip._udp.port.test", RecordType::kSrv, {srv_record("_sip._udp.port.test", 1, 0, 7000, "port.test")});
  DnsSipLocator locator(io_, config());
  EXPECT_EQ(describe(locate(locator, "sip:port.test:5099")),
            (std::vector<std::string>{"udp:192.0.2.40:5099 port.test"}));
  EXPECT_EQ(describe(locate(locator, "sip:port.test:5098;transport=tcp")),
            (std::vector<std::string>{"tcp:192.0.2.40:5098 port.test"}));
  EXPECT_EQ(server_.queries("port.test", RecordType::kNaptr), 0u);
  EXPECT_EQ(server_.queries("_sip._udp.port.test", RecordType::kSrv), 0u);
}

TEST_F(DnsSipLocatorTest, TransportTcpAsksSipTcpOnly) {
  server_.set("_sip._tcp.t.test", RecordType::kSrv, {srv_record("_sip._tcp.t.test", 1, 0, 5070, "pbx.t.test")});
  server_.set("pbx.t.test", RecordType::kA, {a_record("pbx.t.test", "192.0.2.50")});
  DnsSipLocator locator(io_, config());
  EXPECT_EQ(describe(locate(locator, "sip:t.test;transport=TCP")),
            (std::vector<std::string>{"tcp:192.0.2.50:5070 pbx.t.test"}));
  EXPECT_EQ(server_.queries("t.test", RecordType::kNaptr), 0u);
  EXPECT_EQ(server_.queries("_sip._udp.t.test", RecordType::kSrv), 0u);
}

TEST_F(DnsSipLocatorTest, SipsUsesOnlySipsD2tAndTls) {
  server_.set("s.test", RecordType::kNaptr,
              {naptr_record("s.test", 10, 1, "s", "SIP+D2U", "_sip._udp.s.test"),
               naptr_record("s.test", 10, 2, "s", "SIPS+D2T", "_sips._tcp.s.test")});
  server_.set("_sips._tcp.s.test", RecordType::kSrv, {srv_record("_sips._tcp.s.test", 1, 0, 5071, "edge.s.test")});
  server_.set("edge.s.test", RecordType::kA, {a_record("edge.s.test", "192.0.2.60")});
  DnsSipLocator locator(io_, config());
  EXPECT_EQ(describe(locate(locator, "sips:s.test")), (std::vector<std::string>{"tls:192.0.2.60:5071 edge.s.test"}));
  EXPECT_EQ(server_.queries("_sip._udp.s.test", RecordType::kSrv), 0u);
  EXPECT_EQ(describe(locate(locator, "sips:s.test;transport=tcp")),
            (std::vector<std::string>{"tls:192.0.2.60:5071 edge.s.test"}));
  auto udp = locate(locator, "sips:s.test;transport=udp");
  ASSERT_FALSE(udp.has_value());
  EXPECT_EQ(udp.error().kind, ResolveError::Kind::kNotFound);
}

TEST_F(DnsSipLocatorTest, AnIpLiteralIsOneHopWithoutDns) {
  DnsSipLocator locator(io_, config());
  EXPECT_EQ(describe(locate(locator, "sip:192.0.2.1")), (std::vector<std::string>{"udp:192.0.2.1:5060 192.0.2.1"}));
  EXPECT_EQ(describe(locate(locator, "sips:[2001:db8::5]:5071")),
            (std::vector<std::string>{"tls:[2001:db8::5]:5071 2001:db8::5"}));
  EXPECT_EQ(describe(locate(locator, "sip:198.51.100.1;transport=tcp")),
            (std::vector<std::string>{"tcp:198.51.100.1:5060 198.51.100.1"}));
  // RFC 3263 §4: maddr, when present, is the TARGET.
  EXPECT_EQ(describe(locate(locator, "sip:room@ignored.test;maddr=192.0.2.9")),
            (std::vector<std::string>{"udp:192.0.2.9:5060 192.0.2.9"}));
  auto websocket = locate(locator, "sip:192.0.2.1;transport=ws");  // never dialled (signaling/README.md)
  ASSERT_FALSE(websocket.has_value());
  EXPECT_EQ(websocket.error().kind, ResolveError::Kind::kNotFound);
  EXPECT_EQ(server_.total_queries(), 0u);
}

TEST_F(DnsSipLocatorTest, AnswersAreCachedForTheirTtlThenAskedAgain) {
  server_.set("_sip._udp.c.test", RecordType::kSrv, {srv_record("_sip._udp.c.test", 1, 0, 5060, "h.c.test", 300)});
  server_.set("h.c.test", RecordType::kA, {a_record("h.c.test", "192.0.2.70", 60)});
  const DnsResponse nodata{.authority = {soa_record("c.test", 600, 600)}};  // cached 30 s (max_negative_ttl)
  server_.set("c.test", RecordType::kNaptr, nodata);
  server_.set("_sip._tcp.c.test", RecordType::kSrv, nodata);
  server_.set("h.c.test", RecordType::kAaaa, nodata);
  DnsSipLocator locator(io_, config());
  const std::vector<std::string> expected{"udp:192.0.2.70:5060 h.c.test"};
  EXPECT_EQ(describe(locate(locator, "sip:c.test")), expected);
  const std::size_t asked = server_.total_queries();
  EXPECT_EQ(server_.queries("h.c.test", RecordType::kA), 1u);

  clock_ += std::chrono::seconds(29);  // within every TTL (the NODATA one is capped at 30 s)
  EXPECT_EQ(describe(locate(locator, "sip:c.test")), expected);
  EXPECT_EQ(server_.total_queries(), asked);  // nothing asked again, even the NODATA
  EXPECT_EQ(locator.counters().cache_hits.load(), 5u);

  clock_ += std::chrono::seconds(32);  // past A's 60 s and the negative 30 s; SRV's 300 s still holds
  EXPECT_EQ(describe(locate(locator, "sip:c.test")), expected);
  EXPECT_EQ(server_.queries("h.c.test", RecordType::kA), 2u);
  EXPECT_EQ(server_.queries("c.test", RecordType::kNaptr), 2u);
  EXPECT_EQ(server_.queries("_sip._udp.c.test", RecordType::kSrv), 1u);
}

TEST_F(DnsSipLocatorTest, NxdomainIsNotFoundAndCachedNegatively) {
  const DnsResponse nx{.rcode = dns::kRcodeNxDomain, .authority = {soa_record("test", 300, 300)}};
  for (const char* name : {"nx.test", "_sip._udp.nx.test", "_sip._tcp.nx.test"}) {
    server_.set(name, name == std::string("nx.test") ? RecordType::kNaptr : RecordType::kSrv, nx);
  }
  server_.set("nx.test", RecordType::kA, nx);
  server_.set("nx.test", RecordType::kAaaa, nx);
  DnsSipLocator locator(io_, config());
  auto result = locate(locator, "sip:nx.test");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, ResolveError::Kind::kNotFound);
  EXPECT_EQ(locator.counters().failures.load(), 1u);
  const std::size_t asked = server_.total_queries();
  EXPECT_EQ(asked, 5u);  // NAPTR, 2 SRV, A, AAAA
  result = locate(locator, "sip:nx.test");
  EXPECT_FALSE(result.has_value());
  EXPECT_EQ(server_.total_queries(), asked);
  clock_ += std::chrono::seconds(31);  // the SOA's 300 s is capped at max_negative_ttl (30 s)
  EXPECT_FALSE(locate(locator, "sip:nx.test").has_value());
  EXPECT_EQ(server_.total_queries(), 2 * asked);
}

TEST_F(DnsSipLocatorTest, ASilentServerEndsInTimeout) {
  server_.set_silent_for_all(true);
  auto settings = config();
  settings.timeout = std::chrono::milliseconds(200);
  DnsSipLocator locator(io_, settings);
  auto result = locate(locator, "sip:silent.test");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, ResolveError::Kind::kTimeout) << result.error().detail;
  EXPECT_EQ(locator.counters().timeouts.load(), 1u);
  EXPECT_EQ(locator.pending(), 0u);
  EXPECT_EQ(locator.cache_size(), 0u);  // silence is never cached
}

TEST_F(DnsSipLocatorTest, LookupsBeyondMaxPendingAreBusy) {
  server_.set_silent_for_all(true);
  auto settings = config();
  settings.timeout = std::chrono::milliseconds(200);
  settings.max_pending = 1;
  DnsSipLocator locator(io_, settings);
  std::optional<LocateResult> first;
  locator.locate(*parse_uri("sip:one.test"), [&](LocateResult result) { first = std::move(result); });
  auto second = locate(locator, "sip:two.test");
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().kind, ResolveError::Kind::kBusy);
  const auto give_up = Clock::now() + std::chrono::seconds(10);
  while (!first && Clock::now() < give_up) {
    if (io_.stopped()) io_.restart();
    io_.run_one_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->error().kind, ResolveError::Kind::kTimeout);
}

TEST_F(DnsSipLocatorTest, MalformedAnswersFailTheQuestionNotTheProcess) {
  const std::size_t answer_at = 12 + testing::encode_name("bad.test").size() + 4;
  // The A answer's owner is a compression pointer to itself; the AAAA one's data runs past the end.
  server_.set("bad.test", RecordType::kA,
              DnsResponse{.raw_sections = std::vector<std::uint8_t>{0xC0, static_cast<std::uint8_t>(answer_at)},
                          .raw_ancount = 1});
  server_.set("bad.test", RecordType::kAaaa,
              DnsResponse{.raw_sections = std::vector<std::uint8_t>{0xC0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0x20, 1},
                          .raw_ancount = 1});
  DnsSipLocator locator(io_, config());
  auto result = locate(locator, "sip:bad.test:5060");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, ResolveError::Kind::kNotFound);
  EXPECT_NE(result.error().detail.find("malformed"), std::string::npos) << result.error().detail;
  EXPECT_EQ(locator.counters().malformed.load(), 2u);
  EXPECT_EQ(locator.cache_size(), 0u);
}

TEST_F(DnsSipLocatorTest, OverLongAnswersAreBounded) {
  DnsResponse srv;
  for (int i = 0; i < 40; ++i) {
    const std::string target = "t" + std::to_string(i) + ".big.test";
    srv.answers.push_back(srv_record("_sip._udp.big.test", static_cast<std::uint16_t>(i), 0, 5060, target));
    server_.set(target, RecordType::kA, {a_record(target, "10.0.0." + std::to_string(i + 1))});
  }
  server_.set("_sip._udp.big.test", RecordType::kSrv, srv);
  DnsResponse many_a;
  for (int i = 0; i < 2000; ++i) {  // ~50 KB: over EDNS's 1232 bytes, so c-ares asks again over TCP
    many_a.answers.push_back(a_record("wide.test", "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250)));
  }
  server_.set("wide.test", RecordType::kA, many_a);
  DnsSipLocator locator(io_, config());

  auto result = locate(locator, "sip:big.test");
  ASSERT_TRUE(result.has_value()) << result.error().detail;
  EXPECT_EQ(result->size(), DnsSipLocator::kMaxHops);
  EXPECT_EQ(result->front().host, "t0.big.test");
  EXPECT_EQ(server_.queries("_sip._udp.big.test", RecordType::kSrv), 2u);  // over UDP, then TCP (> 1232 bytes)
  EXPECT_EQ(server_.queries("t15.big.test", RecordType::kA), 1u);
  for (int i = 16; i < 40; ++i) {  // only the first 16 targets are looked up
    EXPECT_EQ(server_.queries("t" + std::to_string(i) + ".big.test", RecordType::kA), 0u) << i;
  }

  result = locate(locator, "sip:wide.test:5060");
  ASSERT_TRUE(result.has_value()) << result.error().detail;
  EXPECT_EQ(result->size(), DnsSipLocator::kMaxHops);
}

TEST_F(DnsSipLocatorTest, AFullCacheDropsTheEntryClosestToExpiry) {
  auto settings = config();
  settings.max_cache_entries = 2;
  server_.set("one.test", RecordType::kA, {a_record("one.test", "192.0.2.1", 100)});
  server_.set("two.test", RecordType::kA, {a_record("two.test", "192.0.2.2", 50)});
  server_.set("three.test", RecordType::kA, {a_record("three.test", "192.0.2.3", 200)});
  DnsSipLocator locator(io_, settings);
  for (const char* uri : {"sip:one.test:5060", "sip:two.test:5060", "sip:three.test:5060"}) {
    ASSERT_TRUE(locate(locator, uri).has_value());
  }
  EXPECT_EQ(locator.cache_size(), 2u);
  ASSERT_TRUE(locate(locator, "sip:one.test:5060").has_value());
  EXPECT_EQ(server_.queries("one.test", RecordType::kA), 1u);  // still cached
  ASSERT_TRUE(locate(locator, "sip:two.test:5060").has_value());
  EXPECT_EQ(server_.queries("two.test", RecordType::kA), 2u);  // was dropped
}

}  // namespace dns_sip_locator_test
}  // namespace chorus::sip
