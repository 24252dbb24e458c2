// parse_dns_answer (signaling/ua/dns_answer.hpp): records and TTLs of the asked type, CNAME chains,
// RFC 2308 negative TTLs, and hostile answers (pointer loops, lengths past the end, too many
// records, odd bytes in names) refused or bounded without a crash.
#include "signaling/ua/dns_answer.hpp"

#include <gtest/gtest.h>

#include "dns_test_server.hpp"

namespace chorus::sip::dns {
namespace dns_answer_test {

using testing::a_record;
using testing::cname_record;
using testing::DnsResponse;
using testing::encode_name;
using testing::encode_response;
using testing::naptr_record;
using testing::soa_record;
using testing::srv_record;

TEST(DnsAnswer, ReadsAddressesWithTheSmallestTtl) {
  auto wire =
      encode_response(7, "host.test", RecordType::kA,
                      {.answers = {a_record("host.test", "192.0.2.1", 300), a_record("host.test", "192.0.2.2", 90),
                                   a_record("other.test", "192.0.2.99", 5)}});
  auto answer = parse_dns_answer(wire, "HOST.test.", RecordType::kA);
  ASSERT_TRUE(answer.has_value()) << answer.error();
  ASSERT_EQ(answer->addresses.size(), 2u);
  EXPECT_EQ(answer->addresses[0].to_string(), "192.0.2.1");
  EXPECT_EQ(answer->addresses[1].to_string(), "192.0.2.2");
  EXPECT_EQ(answer->ttl, 90u);     // the other name's 5 s does not count
  EXPECT_EQ(answer->ignored, 1u);  // other.test's record
}

TEST(DnsAnswer, ReadsSrvAndNaptrRecords) {
  auto srv = parse_dns_answer(
      encode_response(1, "_sip._udp.example.test", RecordType::kSrv,
                      {.answers = {srv_record("_sip._udp.example.test", 10, 60, 5070, "Sip1.Example.Test")}}),
      "_sip._udp.example.test", RecordType::kSrv);
  ASSERT_TRUE(srv.has_value()) << srv.error();
  ASSERT_EQ(srv->srv.size(), 1u);
  EXPECT_EQ(srv->srv[0], (SrvRecord{10, 60, 5070, "sip1.example.test"}));

  auto naptr = parse_dns_answer(
      encode_response(2, "example.test", RecordType::kNaptr,
                      {.answers = {naptr_record("example.test", 10, 20, "S", "SIPS+D2T", "_sips._tcp.example.test")}}),
      "example.test", RecordType::kNaptr);
  ASSERT_TRUE(naptr.has_value()) << naptr.error();
  ASSERT_EQ(naptr->naptr.size(), 1u);
  EXPECT_EQ(naptr->naptr[0], (NaptrRecord{10, 20, "s", "sips+d2t", "", "_sips._tcp.example.test"}));
}

TEST(DnsAnswer, FollowsACnameChainAndTakesItsSmallestTtl) {
  auto wire = encode_response(
      3, "alias.test", RecordType::kA,
      {.answers = {cname_record("alias.test", "middle.test", 40), cname_record("middle.test", "real.test", 400),
                   a_record("real.test", "198.51.100.7", 100)}});
  auto answer = parse_dns_answer(wire, "alias.test", RecordType::kA);
  ASSERT_TRUE(answer.has_value()) << answer.error();
  EXPECT_EQ(answer->name, "real.test");
  ASSERT_EQ(answer->addresses.size(), 1u);
  EXPECT_EQ(answer->ttl, 40u);
}

TEST(DnsAnswer, RefusesACnameLoop) {
  auto wire = encode_response(4, "a.test", RecordType::kA,
                              {.answers = {cname_record("a.test", "b.test"), cname_record("b.test", "a.test"),
                                           a_record("a.test", "192.0.2.1")}});
  auto answer = parse_dns_answer(wire, "a.test", RecordType::kA);
  ASSERT_FALSE(answer.has_value());
  EXPECT_NE(answer.error().find("CNAME"), std::string::npos) << answer.error();
}

TEST(DnsAnswer, NegativeTtlIsTheSmallerOfSoaTtlAndMinimum) {
  DnsResponse nx{.rcode = kRcodeNxDomain, .authority = {soa_record("test", 3600, 45)}};
  auto answer =
      parse_dns_answer(encode_response(5, "gone.test", RecordType::kNaptr, nx), "gone.test", RecordType::kNaptr);
  ASSERT_TRUE(answer.has_value()) << answer.error();
  EXPECT_EQ(answer->rcode, kRcodeNxDomain);
  EXPECT_FALSE(answer->has_records());
  EXPECT_EQ(answer->negative_ttl, 45u);

  DnsResponse nodata{.authority = {soa_record("test", 20, 45)}};
  answer = parse_dns_answer(encode_response(6, "x.test", RecordType::kSrv, nodata), "x.test", RecordType::kSrv);
  ASSERT_TRUE(answer.has_value()) << answer.error();
  EXPECT_EQ(answer->negative_ttl, 20u);
}

TEST(DnsAnswer, TtlWithTheTopBitSetIsZero) {  // RFC 2181 §8
  auto wire = encode_response(8, "h.test", RecordType::kA, {.answers = {a_record("h.test", "192.0.2.1", 0x80000010U)}});
  auto answer = parse_dns_answer(wire, "h.test", RecordType::kA);
  ASSERT_TRUE(answer.has_value()) << answer.error();
  EXPECT_EQ(answer->ttl, 0u);
}

// The header, the question for h.test/A, then `sections` claiming `ancount` records.
std::vector<std::uint8_t> hostile(std::vector<std::uint8_t> sections, std::uint16_t ancount) {
  return encode_response(9, "h.test", RecordType::kA,
                         DnsResponse{.raw_sections = std::move(sections), .raw_ancount = ancount});
}

TEST(DnsAnswer, RefusesCompressionPointerLoops) {
  const std::size_t answer_at = 12 + encode_name("h.test").size() + 4;
  // A pointer to itself, and a pointer forward (to a pointer back to it).
  std::vector<std::uint8_t> self = {0xC0, static_cast<std::uint8_t>(answer_at)};
  EXPECT_FALSE(parse_dns_answer(hostile(self, 1), "h.test", RecordType::kA).has_value());
  std::vector<std::uint8_t> forward = {0xC0, static_cast<std::uint8_t>(answer_at + 2), 0xC0,
                                       static_cast<std::uint8_t>(answer_at)};
  EXPECT_FALSE(parse_dns_answer(hostile(forward, 1), "h.test", RecordType::kA).has_value());
  // A label, then a pointer back to that label: the name grows past 255 octets and is refused.
  std::vector<std::uint8_t> growing = {3, 'a', 'b', 'c', 0xC0, static_cast<std::uint8_t>(answer_at)};
  EXPECT_FALSE(parse_dns_answer(hostile(growing, 1), "h.test", RecordType::kA).has_value());
}

TEST(DnsAnswer, RefusesLengthsPastTheEnd) {
  std::vector<std::uint8_t> record = {0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0};  // RDLENGTH 4, 2 bytes
  EXPECT_FALSE(parse_dns_answer(hostile(record, 1), "h.test", RecordType::kA).has_value());
  EXPECT_FALSE(parse_dns_answer(hostile({}, 3), "h.test", RecordType::kA).has_value());  // records promised, none
  std::vector<std::uint8_t> header_only(11, 0);
  EXPECT_FALSE(parse_dns_answer(header_only, "h.test", RecordType::kA).has_value());
}

TEST(DnsAnswer, BoundsTheRecordsKept) {
  DnsResponse many;
  for (int i = 0; i < 300; ++i) many.answers.push_back(a_record("h.test", "10.0.0." + std::to_string(i % 250)));
  auto answer = parse_dns_answer(encode_response(10, "h.test", RecordType::kA, many), "h.test", RecordType::kA);
  ASSERT_TRUE(answer.has_value()) << answer.error();
  EXPECT_EQ(answer->addresses.size(), DnsAnswerLimits{}.max_records);
  EXPECT_EQ(answer->ignored, 300u - DnsAnswerLimits{}.max_records);
}

TEST(DnsAnswer, IgnoresRecordsWithOddBytesInNames) {
  auto wire = encode_response(11, "_sip._udp.e.test", RecordType::kSrv,
                              {.answers = {srv_record("_sip._udp.e.test", 1, 1, 5060, "bad\nname.test"),
                                           srv_record("_sip._udp.e.test", 2, 1, 5060, "good.test")}});
  auto answer = parse_dns_answer(wire, "_sip._udp.e.test", RecordType::kSrv);
  ASSERT_TRUE(answer.has_value()) << answer.error();
  ASSERT_EQ(answer->srv.size(), 1u);
  EXPECT_EQ(answer->srv[0].target, "good.test");
  EXPECT_EQ(answer->ignored, 1u);
}

}  // namespace dns_answer_test
}  // namespace chorus::sip::dns
