// libFuzzer target: DNS answers as the RFC 3263 locator reads them (signaling/ua/dns_answer.hpp).
// An answer is attacker-controlled: any bytes must end as an error or a bounded answer.
//
// The first byte picks the asked type (A, AAAA, SRV, NAPTR) and whether tiny limits are used; the
// rest is the response, asked about "h.test" (the seeds' name). Checks, besides no crash or
// sanitizer report: at most `max_records` records kept and, with `ignored`, no more than the
// resource records read; only records of the asked type; every kept name plain (lower-case
// letters, digits, '-', '_', '.') and at most 255 octets; the TTL is 0 without records and fits in
// 31 bits (RFC 2181 §8); a negative TTL only when there are no records; parsing is deterministic.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "fuzz_check.hpp"
#include "signaling/ua/dns_answer.hpp"

namespace {

using chorus::fuzz::check;
namespace dns = chorus::sip::dns;

bool plain_name(std::string_view name) {
  if (name.size() > 255) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  constexpr dns::RecordType kTypes[] = {dns::RecordType::kA, dns::RecordType::kAaaa, dns::RecordType::kSrv,
                                        dns::RecordType::kNaptr};
  const dns::RecordType type = kTypes[data[0] & 3];
  dns::DnsAnswerLimits limits;
  if ((data[0] & 4) != 0) limits = {.max_records = 2, .max_resource_records = 4, .max_cname_chain = 1};
  const std::span<const std::uint8_t> message(data + 1, size - 1);

  auto answer = dns::parse_dns_answer(message, "h.test", type, limits);
  auto again = dns::parse_dns_answer(message, "H.TEST.", type, limits);
  check(answer.has_value() == again.has_value());
  if (!answer) {
    check(!answer.error().empty());
    return 0;
  }
  check(again->addresses == answer->addresses && again->srv == answer->srv && again->naptr == answer->naptr &&
        again->ttl == answer->ttl && again->ignored == answer->ignored);

  const std::size_t kept = answer->addresses.size() + answer->srv.size() + answer->naptr.size();
  check(kept <= limits.max_records);
  // Every kept or ignored record was one of the header's resource records.
  const std::size_t promised =
      message.size() >= 10 ? std::size_t((message[6] << 8) | message[7]) + ((message[8] << 8) | message[9]) : 0;
  check(kept + answer->ignored <= promised);
  switch (type) {
    case dns::RecordType::kA:
      for (const auto& address : answer->addresses) check(address.is_v4());
      check(answer->srv.empty() && answer->naptr.empty());
      break;
    case dns::RecordType::kAaaa:
      for (const auto& address : answer->addresses) check(address.is_v6());
      check(answer->srv.empty() && answer->naptr.empty());
      break;
    case dns::RecordType::kSrv:
      check(answer->addresses.empty() && answer->naptr.empty());
      for (const auto& srv : answer->srv) check(plain_name(srv.target));
      break;
    default:
      check(answer->addresses.empty() && answer->srv.empty());
      for (const auto& naptr : answer->naptr) {
        check(plain_name(naptr.replacement) && naptr.flags.size() <= 255 && naptr.service.size() <= 255);
      }
      break;
  }
  check(plain_name(answer->name));
  check(answer->ttl <= 0x7FFFFFFFU);
  if (kept == 0) check(answer->ttl == 0);
  if (kept > 0) check(!answer->negative_ttl.has_value());
  if (answer->negative_ttl) check(*answer->negative_ttl <= 0x7FFFFFFFU);
  return 0;
}
